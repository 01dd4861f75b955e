"""One websocket connection to the sync service (asyncio, no Qt, no store).

`Transport.open()` does the handshake (authentication travels in its headers), `frames()`
yields decoded server frames and watches the link: when nothing at all arrives for
`dead_after_s` (the service sends heartbeats every few seconds) the connection is taken to be
half-open - a laptop that changed network, a NAT that forgot us - and is aborted without
waiting for a close handshake that would never come.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from protocol.frames import MAX_FRAME_BYTES, ProtocolError, decode_server_frame, encode_frame

log = logging.getLogger(__name__)


class TransportError(Exception):
    """The connection could not be made or was lost; the caller reconnects."""


class HandshakeRejected(TransportError):
    """The service answered the websocket handshake with an HTTP error (401, 403...)."""

    def __init__(self, status: int, body: str = "") -> None:
        super().__init__(f"handshake rejected with HTTP {status}" + (f": {body}" if body else ""))
        self.status = status
        self.body = body


class HalfOpen(TransportError):
    """No frame for too long: the link is presumed dead."""


class Closed(TransportError):
    """The service closed the connection (code and reason as sent)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed ({code}) {reason}".strip())
        self.code = code
        self.reason = reason


class Transport:
    def __init__(self, url: str, *, open_timeout_s: float, dead_after_s: float,
                 origin: str | None = None) -> None:
        self.url = url
        self.open_timeout_s = open_timeout_s
        self.dead_after_s = dead_after_s
        self.origin = origin
        self._ws: ClientConnection | None = None
        self.frames_in = 0
        self.bad_frames = 0

    @property
    def is_open(self) -> bool:
        return self._ws is not None

    async def open(self, headers: Sequence[tuple[str, str]]) -> None:
        try:
            self._ws = await connect(
                self.url,
                additional_headers=list(headers),
                origin=self.origin,  # type: ignore[arg-type]
                compression=None,  # the protocol asks for compression off (CPU, CRIME-style leaks)
                max_size=MAX_FRAME_BYTES,
                open_timeout=self.open_timeout_s,
                close_timeout=2.0,
                proxy=None,  # a local service: never route it through an environment proxy
                user_agent_header="ioc-console",
            )
        except InvalidStatus as exc:
            body = (exc.response.body or b"")[:200].decode("utf-8", "replace")
            raise HandshakeRejected(exc.response.status_code, body) from None
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect to {self.url}: {exc!r}") from None
        except Exception as exc:  # InvalidHandshake, InvalidURI, ... : a bad peer, retry later
            raise TransportError(f"handshake with {self.url} failed: {exc!r}") from None

    async def send(self, frame: BaseModel) -> None:
        ws = self._ws
        if ws is None:
            raise TransportError("not connected")
        try:
            await ws.send(encode_frame(frame).decode("utf-8"))
        except ConnectionClosed as exc:
            raise Closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None

    async def frames(self) -> AsyncIterator[Any]:
        """Decoded server frames until the connection ends; always ends by raising."""
        ws = self._ws
        if ws is None:
            raise TransportError("not connected")
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=self.dead_after_s)
            except TimeoutError:
                self.abort()
                raise HalfOpen(f"no frame for {self.dead_after_s:.1f} s") from None
            except ConnectionClosed as exc:
                self._ws = None
                rcvd = exc.rcvd
                raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
            self.frames_in += 1
            try:
                frame = decode_server_frame(raw)
            except ProtocolError as exc:
                # a newer service or a bug: skip the frame, keep the connection
                self.bad_frames += 1
                log.warning("ignoring undecodable frame from service: %s", exc)
                continue
            yield frame

    def set_dead_after(self, seconds: float) -> None:
        self.dead_after_s = seconds

    def abort(self) -> None:
        """Drop the TCP connection now (no close handshake): for a link presumed dead."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.transport.abort()

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await ws.close()
            except Exception:  # closing a broken link: nothing left to do
                ws.transport.abort()
