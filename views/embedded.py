"""`--embedded`: a local sync service as a child process (SQLite, simulated city, demo users)
on free ports, stopped when the console exits. Used by `make run`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DEMO_PASSWORDS_ENV = "IOC_CONSOLE_DEMO_PASSWORD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedService:
    def __init__(self, extra_args: list[str] | None = None, log_path: Path | None = None) -> None:
        self.ws_port = free_port()
        self.http_port = free_port()
        self.extra_args = extra_args or []
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def command(self) -> list[str]:
        exe = shutil.which("ioc-sync", path=str(Path(sys.executable).parent))
        base = [exe] if exe else [sys.executable, "-m", "sync_service.cli"]
        return [*base, "--simulate", "--demo-users", *self.extra_args]

    def start(self, timeout_s: float = 60.0) -> None:
        env = dict(os.environ, IOC_WS_PORT=str(self.ws_port), IOC_HTTP_PORT=str(self.http_port),
                   IOC_HOST="127.0.0.1")
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), env=env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local sync service exited with code {self.proc.returncode}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
            try:
                with socket.create_connection(("127.0.0.1", self.ws_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the local sync service did not open port {self.ws_port} in {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
