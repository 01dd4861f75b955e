"""Helpers for the sync service tests: a real service on port 0 and a raw websocket client.

The client speaks the wire protocol directly (no backend_client): these tests check what the
service sends, frame by frame.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from sync_service.config import ServiceConfig
from sync_service.seed import DEMO_PASSWORD
from sync_service.service import SyncService

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-test-pw"


def config(db_url: str, **over: Any) -> ServiceConfig:
    base: dict[str, Any] = dict(db_url=db_url, host="127.0.0.1", ws_port=0, http_port=0, demo_users=True,
                                admin_password=ADMIN_PASSWORD, mqtt_enabled=False, heartbeat_s=5.0)
    base.update(over)
    return ServiceConfig(**base)


@contextlib.asynccontextmanager
async def service(db_url: str, *, parts: tuple[str, ...] = (), **over: Any) -> AsyncIterator[SyncService]:
    svc = SyncService(config(db_url, **over), parts=parts)
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


def basic(user: str, password: str = DEMO_PASSWORD) -> tuple[str, str]:
    raw = f"{user}:{password}".encode()
    return ("Authorization", "Basic " + base64.b64encode(raw).decode())


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def cid() -> str:
    return uuid.uuid4().hex


class Client:
    """A console connection: hello, snapshot/replay and live events gathered by seq."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.snapshot: dict[str, list[Any]] = {}
        self.snapshot_seq: int | None = None
        self.events: list[dict[str, Any]] = []
        self.others: list[dict[str, Any]] = []  # results, errors, heartbeats...
        self.asked_seq: int | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, user: str = "operator", password: str = DEMO_PASSWORD, *,
                   headers: list[tuple[str, str]] | None = None, hello: bool = True,
                   last_seq: int | None = None, **kw: Any) -> AsyncIterator[Client]:
        hdrs = headers if headers is not None else [basic(user, password)]
        async with connect(url, additional_headers=hdrs, compression=None, max_size=1 << 22,
                           proxy=None, **kw) as ws:
            c = cls(ws)
            if hello:
                await c.hello(last_seq)
            yield c

    async def send(self, obj: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else orjson.dumps(obj).decode())

    async def recv(self, wait_s: float = 10.0) -> dict[str, Any]:
        f = orjson.loads(await asyncio.wait_for(self.ws.recv(), wait_s))
        if f["type"] == "events":
            self.events.extend(f["items"])
        elif f["type"] not in ("snapshot_part",):
            self.others.append(f)
        return f

    async def hello(self, last_seq: int | None = None, **extra: Any) -> dict[str, Any]:
        self.asked_seq = last_seq
        await self.send({"type": "hello", "client": "test", "last_seq": last_seq, **extra})
        while True:
            f = await self.recv()
            if f["type"] == "welcome":
                self.welcome = f
                if f["mode"] == "resume":
                    return f
            elif f["type"] == "snapshot_begin":
                self.snapshot = {}
            elif f["type"] == "snapshot_part":
                self.snapshot.setdefault(f["collection"], []).extend(f["items"])
            elif f["type"] == "snapshot_end":
                self.snapshot_seq = f["seq"]
                return self.welcome

    async def until(self, pred: Any, wait_s: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + wait_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("expected frame did not arrive")
            f = await self.recv(left)
            if pred(f):
                return f

    async def command(self, name: str, args: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        cmd_id = id or cid()
        await self.send({"type": "command", "id": cmd_id, "name": name, "args": args})
        return await self.until(lambda f: f["type"] in ("result", "error") and
                                (f.get("id") == cmd_id or f.get("ref") == cmd_id))

    async def query(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        qid = "q-" + cid()
        await self.send({"type": "query", "id": qid, "name": name, "args": args})
        return await self.until(lambda f: f["type"] in ("result", "error") and
                                (f.get("id") == qid or f.get("ref") == qid))

    async def wait_seq(self, seq: int, wait_s: float = 10.0) -> None:
        if self.events and self.events[-1]["seq"] >= seq:
            return
        await self.until(lambda f: f["type"] == "events" and f["items"][-1]["seq"] >= seq, wait_s)

    async def closed_code(self, wait_s: float = 15.0) -> int | None:
        """Read (and keep) frames until the service closes the connection; its close code."""
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(wait_s):
                while True:
                    await self.recv(wait_s)
        return self.ws.close_code

    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events]


# ---- a service in a child process (restarts, kill -9, two instances) ----------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """`python -m sync_service` as a child: start(), kill() (SIGKILL), stop() (SIGTERM)."""

    def __init__(self, db_url: str, ws_port: int | None = None, *, extra: list[str] | None = None,
                 env: dict[str, str] | None = None, log_path: Path | None = None, mqtt: bool = False) -> None:
        self.db_url = db_url
        self.ws_port = ws_port or free_port()
        self.http_port = free_port()
        self.extra = extra or []
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "IOC_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "IOC_CONFIG": "/nonexistent/ioc-test.json", **(env or {})}
        self.log_path = log_path
        self.mqtt = mqtt  # connect to the broker of IOC_MQTT_HOST/PORT (env) instead of --no-mqtt
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def start(self, timeout: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "sync_service", "--db-url", self.db_url, "--ws-port", str(self.ws_port),
               "--http-port", str(self.http_port), "--demo-users", *([] if self.mqtt else ["--no-mqtt"]),
               "--log-level", "WARNING", *self.extra]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out, env=self.env, cwd=ROOT)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"service exited with {self.proc.wait()} before it was ready")
            if line.startswith(b"ioc-sync ready"):
                return
        raise TimeoutError("service not ready in time")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
