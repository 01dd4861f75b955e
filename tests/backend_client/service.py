"""The REAL sync service for the client's integration tests: in-process or as a child process.

In-process (`running_service`) is quick and lets a test reach the service's database and
sessions; the child process (`ServiceProcess`) can be killed with SIGKILL mid-stream and
restarted on the same database and port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from sync_service.config import ServiceConfig
from sync_service.seed import DEMO_PASSWORD
from sync_service.service import SyncService
from tests.backend_client.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-test-pw"
PASSWORD = DEMO_PASSWORD


def service_config(db_url: str, **over: Any) -> ServiceConfig:
    base: dict[str, Any] = dict(db_url=db_url, host="127.0.0.1", ws_port=0, http_port=0,
                                demo_users=True, admin_password=ADMIN_PASSWORD, mqtt_enabled=False,
                                heartbeat_s=2.0)
    base.update(over)
    return ServiceConfig(**base)


@contextlib.asynccontextmanager
async def running_service(db_url: str, **over: Any) -> AsyncIterator[SyncService]:
    svc = SyncService(service_config(db_url, **over), parts=())
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


def sql(db_url: str, query: str, **params: Any) -> list[Any]:
    """Read the service's database directly (what was really stored)."""
    eng = create_engine(db_url)
    try:
        with eng.connect() as c:
            return list(c.execute(text(query), params).fetchall())
    finally:
        eng.dispose()


class ServiceProcess:
    """`python -m sync_service` as a child: start(), kill() (SIGKILL), stop() (SIGTERM)."""

    def __init__(self, db_url: str, *, heartbeat_s: float = 2.0, log_path: Path | None = None) -> None:
        self.db_url = db_url
        self.ws_port = free_port()
        self.http_port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "IOC_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "IOC_CONFIG": "/nonexistent/ioc-client-test.json",
                    "IOC_HEARTBEAT_S": str(heartbeat_s)}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def _start_blocking(self, timeout: float) -> None:
        cmd = [sys.executable, "-m", "sync_service", "--db-url", self.db_url,
               "--ws-port", str(self.ws_port), "--http-port", str(self.http_port),
               "--demo-users", "--no-mqtt", "--log-level", "WARNING"]
        err = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=self.env, cwd=ROOT)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"service exited with {self.proc.wait()} before it was ready")
            if line.startswith(b"ioc-sync ready"):
                return
        raise TimeoutError("service not ready in time")

    async def start(self, within: float = 60.0) -> None:
        # in a thread: the client under test keeps running on the loop meanwhile
        await asyncio.to_thread(self._start_blocking, within)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
