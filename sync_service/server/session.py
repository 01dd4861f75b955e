"""One console connection after a successful handshake: hello, sync, live events, commands.

States: "new" (waiting for Hello) -> "syncing" (Welcome sent; snapshot or replay being sent,
live events buffered) -> "live" (hub batches go straight to the send queue) -> "closing".

No gap, no duplicate at the switch-over: the session subscribes to the hub BEFORE reading the
store, at the hub's delivered seq H0. Every event after H0 reaches the buffer. The replay sends
the log (last_seq, H0]; a snapshot is consistent with a seq N >= H0. Going live flushes the
buffer's events above what was sent - in one loop step, so nothing slips in between.

Outbound: one queue, one writer task. A live events frame that finds the queue empty and the
socket's write buffer under DIRECT_MAX_BUFFERED is written at once, from the hub's flush (as
websockets.broadcast does), instead of waking the writer task: one fewer task switch per
session per batch. Otherwise it is queued behind the rest. Event frames queued count against
send_queue_max; a client that cannot keep up (queue or sync buffer over the limit) is closed
with 1013 and resumes from its last seq on reconnect. The hub and the other clients never wait
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

import orjson
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from protocol.commands import PERMISSIONS
from protocol.enums import ErrorCode, Role
from protocol.frames import (
    Command,
    Error,
    Heartbeat,
    Hello,
    Logout,
    Ping,
    Pong,
    ProtocolError,
    Query,
    Welcome,
    decode_client_frame,
    encode_frame,
    error_frame,
)
from sync_service import snapshot
from sync_service.auth import Login
from sync_service.eventlog import head_seq, oldest_seq, read_after
from sync_service.hub import Batch, encode_events
from sync_service.server.ratelimit import TokenBucket
from sync_service.server.scope import filter_events

if TYPE_CHECKING:
    from sync_service.server.app import SyncServer

log = logging.getLogger(__name__)

_RATE_MSG = "over the frame rate limit; slow down and resend"
_RATE_LIMITED = encode_frame(Error(code=ErrorCode.RATE_LIMITED, message=_RATE_MSG))

DIRECT_MAX_BUFFERED = 64 * 1024  # bytes in the socket's write buffer up to which frames skip the queue
MAX_IN_FLIGHT = 64  # commands + queries being processed for one connection
REPLAY_CHUNK = 2000
REFUSED_PAUSE_S = 0.002  # after a refused frame: at most ~500 refusals/s per connection
CLOSE_SLOW = 1013
CLOSE_POLICY = 1008
CLOSE_SESSION_ENDED = 4001  # the console client treats it as "log in again"


class ClientSession:
    def __init__(self, server: SyncServer, ws: ServerConnection, login: Login) -> None:
        self.server = server
        self.ws = ws
        self.login = login
        self.actor = login.actor
        self.scope = login.actor.domains
        cfg = server.ctx.config
        self.queue_max = cfg.send_queue_max
        self.bucket = TokenBucket(cfg.rate_per_s, cfg.rate_burst)
        self.state = "new"
        self.mode = ""
        self.hall: str | None = None
        self.reason = ""
        self._queue: deque[tuple[bytes, int]] = deque()
        self._queued_events = 0
        self._wake = asyncio.Event()
        self._buffer: list[Batch] = []
        self._buffer_events = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.sent_events = 0
        self.direct_frames = 0  # events frames written from the hub's flush, not via the queue
        self.close_code: int | None = None
        # Live: every event this session may see with seq <= synced_seq is in its queue (or
        # sent). Told to the client in heartbeats and pongs, so a bureau console whose domain
        # is quiet advances its last seq with the log instead of lagging behind other domains.
        self.synced_seq: int | None = None

    # ---- lifecycle ------------------------------------------------------------------------------
    async def run(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        try:
            async for raw in self.ws:
                if self.state == "closing":
                    break  # stop reading: the close handshake (or its timeout) ends the link
                await self._on_ws_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            self.state = "closing"
            self.server.hub.unsubscribe(self)
            pending = [*self._tasks, self._writer]
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            if self._closer is not None:  # let our close code reach the client
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._closer

    def close(self, code: int, reason: str, *, wait_s: float = 3.0) -> None:
        """Stop sending and close the socket (in the background: never blocks the caller);
        a peer that does not answer the close within wait_s is cut off."""
        if self.state == "closing":
            return
        self.state = "closing"
        self.close_code = code
        self.server.hub.unsubscribe(self)
        self._queue.clear()
        self._buffer.clear()
        self._queued_events = self._buffer_events = 0
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason, wait_s))

    async def _close(self, code: int, reason: str, wait_s: float) -> None:
        try:
            await asyncio.wait_for(self.ws.close(code, reason[:120]), timeout=wait_s)
        except Exception:
            self.ws.transport.abort()

    def _spawn(self, coro: object) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- outbound ------------------------------------------------------------------------------
    def send_frame(self, data: bytes) -> None:
        """A control frame (result, error, heartbeat, pong): queued, not counted as events."""
        if self.state == "closing":
            return
        self._queue.append((data, 0))
        self._wake.set()
        if len(self._queue) > self.queue_max:  # pongs/errors to a client that never reads
            self._slow()

    def _send_events(self, data: bytes, n: int) -> None:
        if not self._queue and self.ws.transport.get_write_buffer_size() < DIRECT_MAX_BUFFERED:
            # Nothing queued: everything before this frame is in the transport already (the writer
            # task hands what it takes from the queue to the transport before it awaits anything;
            # at most it is awaiting that frame's drain). The buffer bound keeps what bypasses the
            # queue's accounting small. A connection no longer open is skipped: the client resumes
            # from its last seq.
            try:
                broadcast((self.ws,), data, text=True, raise_exceptions=True)
            except Exception:  # a failed socket write: the connection is closing
                log.debug("session %s: direct send failed", self.actor.username, exc_info=True)
            else:
                self.sent_events += n
                self.direct_frames += 1
            return
        self._queue.append((data, n))
        self._queued_events += n
        self._wake.set()
        if self._queued_events > self.queue_max:
            self._slow()

    def _slow(self) -> None:
        self.server.slow_disconnects += 1
        log.warning("session %s@%s: slow consumer cut off", self.actor.username, self.ws.remote_address)
        self.close(CLOSE_SLOW, f"slow consumer: over {self.queue_max} events queued; resume from your last seq")

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                while self._queue:
                    data, n = self._queue.popleft()
                    self._queued_events -= n
                    await self.ws.send(data, text=True)
                    self.sent_events += n
                self._wake.clear()
                await self._wake.wait()

    async def _send_now(self, data: bytes) -> None:
        """During sync: sent directly, paced by the socket (a big replay must not fill the queue)."""
        await self.ws.send(data, text=True)

    # ---- hub ----------------------------------------------------------------------------------
    def on_hub_batch(self, batch: Batch) -> None:
        if self.state == "live":
            for data, n in batch.frames_for(self.scope):
                self._send_events(data, n)
                if self.state != "live":
                    return
            self.synced_seq = batch.last_seq
        elif self.state == "syncing":
            self._buffer.append(batch)
            self._buffer_events += len(batch.events)
            if self._buffer_events > self.queue_max:
                self._slow()

    # ---- inbound ------------------------------------------------------------------------------
    async def _on_ws_frame(self, raw: str | bytes) -> None:
        if not self.bucket.take():
            if self.bucket.flooding():
                self.server.on_flood(self)
                self.close(CLOSE_POLICY, "flooding: too many frames over the rate limit", wait_s=0.5)
                return
            ref = _ref_of(raw)
            self.send_frame(_RATE_LIMITED if ref is None else encode_frame(
                Error(code=ErrorCode.RATE_LIMITED, ref=ref, message=_RATE_MSG)))
            # read this connection slower while it is over its rate: TCP backpressure then holds
            # a flooding client back, so it cannot take the loop from the other consoles
            await asyncio.sleep(REFUSED_PAUSE_S)
            return
        try:
            frame = decode_client_frame(raw)
        except ProtocolError as exc:
            self.server.bad_frames += 1
            self.send_frame(encode_frame(error_frame(exc)))
            return
        match frame:
            case Hello():
                if self.state != "new":
                    self._error(ErrorCode.BAD_FRAME, "hello was already received on this connection")
                else:
                    self.state = "syncing"
                    self.hall = frame.hall
                    self._spawn(self._on_client_hello(frame))
            case Command() | Query():
                if self.state not in ("syncing", "live") or not self.mode:
                    self._error(ErrorCode.NOT_READY, "send hello first", frame.id)
                elif len(self._tasks) >= MAX_IN_FLIGHT:
                    self._error(ErrorCode.RATE_LIMITED, "too many commands in flight", frame.id)
                else:
                    self._spawn(self._on_client_request(frame))
            case Ping():
                self.send_frame(encode_frame(Pong(t=frame.t, synced_seq=self._synced())))
            case Logout():
                await self._on_client_logout()

    def _synced(self) -> int | None:
        return self.synced_seq if self.state == "live" else None

    def heartbeat(self, head_seq: int, t: float) -> None:
        """Queue a heartbeat (behind every event queued so far: synced_seq holds for it)."""
        if self.state in ("syncing", "live"):
            self.send_frame(encode_frame(Heartbeat(head_seq=head_seq, t=t, synced_seq=self._synced())))

    def _error(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        self.send_frame(encode_frame(Error(code=str(code), message=message, ref=ref)))

    async def _on_client_request(self, frame: Command | Query) -> None:
        d = self.server.dispatcher
        if isinstance(frame, Command):
            res = await d.command(self.actor, frame, hall=self.hall)
            await asyncio.sleep(0)  # let the hub flush this command's events first
        else:
            res = await d.query(self.actor, frame)
        self.send_frame(encode_frame(res))

    async def _on_client_logout(self) -> None:
        await self.server.logout(self)
        self.close(1000, "logged out")

    # ---- hello: snapshot or replay, then live ---------------------------------------------------
    async def _on_client_hello(self, hello: Hello) -> None:
        try:
            await self._sync(hello)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("session %s: sync failed", self.actor.username)
            self.close(1011, "internal error while syncing; reconnect")

    async def _sync(self, hello: Hello) -> None:
        hub = self.server.hub
        db = self.server.ctx.db
        h0 = hub.subscribe(self)
        cached_state = hub.state_events(h0)
        cached_metrics = hub.metrics_ticks(h0)
        head, oldest = await db.read(lambda s: (head_seq(s), oldest_seq(s)))
        last = hello.last_seq
        window = self.server.ctx.config.replay_window
        if last is None:
            mode, reason = "snapshot", "first"
        elif last > max(head, h0):
            mode, reason = "snapshot", "unknown_seq"  # ahead of this store: another database?
        elif max(head, h0) - last > window or (oldest > last + 1 and head > last):
            mode, reason = "snapshot", "too_old"
        else:
            mode, reason = "resume", ""
        if mode == "snapshot" and last is not None:
            self.server.snapshot_reloads += 1
        self.mode, self.reason = mode, reason
        u = self.login.user
        welcome = Welcome(
            session=self.login.token, user=u.username, display_name=u.display_name, role=u.role,
            domains=None if self.scope is None else sorted(self.scope),
            server_id=self.server.ctx.server_id, head_seq=max(head, h0), mode=mode, reason=reason,
            heartbeat_s=self.server.ctx.config.heartbeat_s,
            permissions=sorted(PERMISSIONS.get(Role(u.role), frozenset())),
        )
        await self._send_now(encode_frame(welcome))
        if mode == "snapshot":
            snap = await db.read(lambda s: snapshot.build(s, self.actor, h0, cached_state, cached_metrics))
            for data in snap.frames():
                if self.state == "closing":
                    return
                await self._send_now(data)
            sent = snap.seq
        else:
            cursor = last or 0
            scope = self.scope
            while cursor < h0 and self.state == "syncing":
                # other domains' events are skipped in the store: a bureau's replay over a gap
                # full of them reads only what it may see
                evs = await db.read(lambda s, c=cursor: read_after(s, c, REPLAY_CHUNK, upto=h0, domains=scope))
                if not evs:
                    break
                cursor = evs[-1].seq
                for data, _n in encode_events(filter_events(evs, self.scope)):
                    await self._send_now(data)
            sent = max(h0, last or 0)
        if self.state != "syncing":
            return
        self._go_live(sent)

    def _go_live(self, sent: int) -> None:
        """Flush buffered live events above `sent`, then switch to live (one loop step)."""
        buffered, self._buffer = self._buffer, []
        self._buffer_events = 0
        self.state = "live"
        synced = sent
        for batch in buffered:
            if batch.first_seq > sent:
                for data, n in batch.frames_for(self.scope):
                    self._send_events(data, n)
            elif batch.last_seq > sent:
                evs = [e for e in batch.events_for(self.scope) if e.seq > sent]
                for data, n in encode_events(evs):
                    self._send_events(data, n)
            if self.state != "live":
                return
            synced = max(synced, batch.last_seq)
        self.synced_seq = synced
        if self.mode == "resume":
            # at once, not at the next heartbeat: a replay that ended far above the client's last
            # visible event (a gap of other domains' events) is not read again on a quick
            # reconnect. (A snapshot's seq is the head already.)
            self.heartbeat(self.server.hub.last_seq, time.time())
        self.server.on_session_live(self, time.time())


def _ref_of(raw: str | bytes) -> str | None:
    """The id of a frame we will not process, for the error's ref (cheap; never raises)."""
    if len(raw) > 4096 or '"id"' not in (raw if isinstance(raw, str) else raw.decode("utf-8", "replace")):
        return None  # pings and junk have no id worth parsing for
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    ref = obj.get("id") if isinstance(obj, dict) else None
    return ref if isinstance(ref, str) and len(ref) <= 64 else None
