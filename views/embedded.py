"""`--embedded`: a local sync service as a child process (SQLite, simulated city, demo users)
on free ports, stopped when the console exits. Used by `make run`."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DEMO_PASSWORDS_ENV = "IOC_CONSOLE_DEMO_PASSWORD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedService:
    """The child prints "ioc-sync ready ws://host:port http://..." on stdout when it listens;
    its log (stderr) goes to log_path."""

    def __init__(self, extra_args: list[str] | None = None, log_path: Path | None = None,
                 db_url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.extra_args = extra_args or []
        self.log_path = log_path
        self.db_url = db_url
        self.url = ""
        self.http_url = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        exe = shutil.which("ioc-sync", path=str(Path(sys.executable).parent))
        base = [exe] if exe else [sys.executable, "-m", "sync_service.cli"]
        db = ["--db-url", self.db_url] if self.db_url else []
        return [*base, "--simulate", "--demo-users", "--ws-port", "0", "--http-port", "0", *db, *self.extra_args]

    def start(self, timeout_s: float = 90.0, on_wait: Callable[[str, int], None] | None = None) -> str:
        """Start the child and wait for its ready line. Each `ioc-sync starting STEP N` line (a
        slow first-start step: generating the CIM city takes a minute) restarts the timeout;
        on_wait(step, n) is called with the current step ("" before the first) every poll, so a
        window can keep painting while it waits."""
        err = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        # cwd: the project root, so `python -m sync_service.cli` works from a source checkout too
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=err, start_new_session=True,
                                     cwd=Path(__file__).resolve().parents[1],
                                     env={**os.environ, **(self.env or {})})
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        buf = b""
        step, n = "", 0
        while time.monotonic() < deadline:
            if on_wait is not None:
                on_wait(step, n)
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local sync service exited with code {self.proc.returncode}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if not ready:
                continue
            buf += os.read(self.proc.stdout.fileno(), 4096)
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                parts = raw.decode(errors="replace").split()
                if parts[:2] == ["ioc-sync", "ready"] and len(parts) >= 3:
                    self.url = parts[2]
                    self.http_url = parts[3] if len(parts) > 3 else ""
                    return self.url
                if parts[:2] == ["ioc-sync", "starting"] and len(parts) >= 3:
                    step = parts[2]
                    n = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0
                    deadline = time.monotonic() + timeout_s
        self.stop()
        raise RuntimeError(f"the local sync service was not ready within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 15.0) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
