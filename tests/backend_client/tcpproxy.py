"""A loopback TCP proxy whose existing connections can be frozen: a half-open link on demand.

Frozen connections stay open at the TCP level but nothing is forwarded either way (like a
laptop whose Wi-Fi changed under a NAT); connections made afterwards work normally, so a
client that notices the dead link can reconnect through the same proxy.
"""

from __future__ import annotations

import asyncio
import contextlib


class FreezableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._frozen: set[int] = set()  # connection numbers that no longer forward
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze_existing(self) -> None:
        self._frozen.update(range(1, self.connections + 1))

    async def _on_client(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        self.connections += 1
        n = self.connections
        try:
            sr, sw = await asyncio.open_connection(*self.target)
        except OSError:
            cw.close()
            return
        self._writers += [cw, sw]
        for a, b in ((cr, sw), (sr, cw)):
            t = asyncio.get_running_loop().create_task(self._pipe(n, a, b))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _pipe(self, n: int, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    break
                if n in self._frozen:
                    continue  # swallowed: the peer hears nothing, and no FIN or RST either
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if n not in self._frozen:
                w.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._tasks):
            t.cancel()
        for w in self._writers:
            w.close()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._server is not None:
            await self._server.wait_closed()
