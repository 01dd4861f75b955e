"""Test helpers: a small HTTP receiver standing in for the service's ingest door, and a TCP
proxy that can cut and restore the link to the MQTT broker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    path: str
    auth: str | None
    ctype: str
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers like the ingest door (accepted = items). `busy` first
    readings requests get a 503 with Retry-After, to exercise the retry."""

    port: int = 0
    busy: int = 0
    got: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/ingest/v1/{kind}", self._on_post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _on_post(self, request: web.Request) -> web.Response:
        body = await request.read()
        kind = request.match_info["kind"]
        if kind == "readings" and self.busy > 0:
            self.busy -= 1
            return web.json_response({"error": "busy"}, status=503, headers={"Retry-After": "0.1"})
        self.got.append(Received(request.path, request.headers.get("Authorization"),
                                 request.headers.get("Content-Type", ""), body))
        if kind in ("readings", "events", "positions"):
            n = len(orjson.loads(body).get(kind, []))
            return web.json_response({"accepted": n, "rejected": {}})
        return web.json_response({"status": "created", "alert_ids": [1]})

    def of(self, kind: str) -> list[Received]:
        return [r for r in self.got if r.path == f"/ingest/v1/{kind}"]


class CuttableProxy:
    """Forwards a local port to (host, port); cut() drops every connection and stops
    listening, restore() listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in self._writers:
            w.close()
        self._writers.clear()
        for t in list(self._tasks):
            t.cancel()

    async def _on_client(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            sr, sw = await asyncio.open_connection(*self.target)
        except OSError:
            cw.close()
            return
        self._writers += [cw, sw]
        for a, b in ((cr, sw), (sr, cw)):
            t = asyncio.get_running_loop().create_task(self._pipe(a, b))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        w.close()
