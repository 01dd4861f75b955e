"""The websocket server (websockets asyncio API): handshake, auth, sessions, heartbeats.

Authentication happens DURING the handshake (process_request), before any websocket frame:
`Authorization: Basic base64(user:pass)`, `Authorization: Bearer <session token>`, or
`?token=<session token>` in the URL (for clients that cannot set headers). Anything else is
answered with HTTP 401 and audited; a disallowed Origin with 403. The Welcome frame then
carries the session token to reconnect with.

Limits: max message size (config.max_frame_bytes; larger closes with 1009), no compression,
websocket ping every 0.8 x heartbeat_s with a timeout of 0.6 x heartbeat_s (a half-open
connection is dropped within 1.4 heartbeats + the 2 s close timeout: 9 s with the default 5 s),
and a Heartbeat frame every heartbeat_s so clients can watch the link too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from sync_service import auth
from sync_service.auth import AuthFailed, Login
from sync_service.commands.dispatch import Dispatcher
from sync_service.context import ServiceContext
from sync_service.hub import Hub
from sync_service.server.session import CLOSE_SESSION_ENDED, ClientSession

log = logging.getLogger(__name__)

FAIL_LIMIT = 20  # failed logins from one address within FAIL_WINDOW_S -> 429 until they age out
FAIL_WINDOW_S = 60.0
# After a flood cut-off (1008) the same user from the same address, or the same session token,
# is refused with 429 before any check for FLOOD_COOLDOWN_S, doubled for each further cut-off
# up to FLOOD_COOLDOWN_MAX_S; forgotten after FLOOD_FORGET_S without one. A flooder that comes
# straight back would otherwise cost a password hash (scrypt), a session row and a snapshot
# per reconnect, all on the machine the other consoles are served from.
FLOOD_COOLDOWN_S = 5.0
FLOOD_COOLDOWN_MAX_S = 60.0
FLOOD_FORGET_S = 600.0


class SyncServer:
    """Component: start() binds the port (config.ws_port; 0 picks a free one, see .port)."""

    def __init__(self, ctx: ServiceContext, hub: Hub, dispatcher: Dispatcher) -> None:
        self.ctx = ctx
        self.hub = hub
        self.dispatcher = dispatcher
        self.sessions: set[ClientSession] = set()
        self.port = 0
        self._server: Server | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._audit_tasks: set[asyncio.Task[Any]] = set()
        cfg = ctx.config
        self._origins = {o for o in cfg.origins}
        # counters (metrics, tests)
        self.auth_failures = 0
        self.logins = 0
        self.bad_frames = 0
        self.slow_disconnects = 0
        self.flood_disconnects = 0
        self.snapshot_reloads = 0  # asked to resume, got a snapshot
        self.throttled = 0  # handshakes refused with 429 after repeated failed logins
        self.flood_refused = 0  # handshakes refused with 429 in a flood cool-down
        self._failures: dict[str, deque[float]] = {}  # peer address -> failed login times
        # (peer, "user:" name | "token:" hash) -> (refused until, cut-offs so far, last cut-off)
        self._flooders: dict[tuple[str, str], tuple[float, int, float]] = {}

    async def start(self) -> None:
        cfg = self.ctx.config
        self._server = await serve(
            self._handler, cfg.host, cfg.ws_port,
            process_request=self._process_request,
            compression=None,
            max_size=cfg.max_frame_bytes,
            max_queue=32,
            # half-open links: a ping every 0.8 hb, dead after 0.6 hb without pong, then up to
            # close_timeout for the close handshake: gone within 1.4 hb + 2 s (9 s at hb = 5 s)
            ping_interval=cfg.heartbeat_s * 0.8,
            ping_timeout=cfg.heartbeat_s * 0.6,
            close_timeout=2.0,
            server_header="ioc-sync",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeat_loop())
        self.ctx.components["server"] = self
        log.info("websocket server on ws://%s:%d", cfg.host, self.port)

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._server is not None:
            self._server.close(close_connections=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5.0)
        for t in list(self._audit_tasks):
            with contextlib.suppress(Exception):
                await t

    # ---- handshake ------------------------------------------------------------------------------
    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        peer = str(connection.remote_address[0]) if connection.remote_address else ""
        if self._throttled(peer):
            # password guessing: refuse without checking (no scrypt, no audit row per attempt)
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "too many failed logins; wait a minute\n")
        wait = self._flood_wait(peer, request)
        if wait > 0:
            self.flood_refused += 1
            secs = math.ceil(wait)
            resp = connection.respond(HTTPStatus.TOO_MANY_REQUESTS,
                                      f"flooding: cut off for sending too many frames; retry in {secs} s\n")
            resp.headers["Retry-After"] = str(secs)
            return resp
        origin = request.headers.get("Origin", "")
        if origin not in self._origins:
            self._audit_failure(f"origin not allowed: {origin[:100]}", "", connection)
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        try:
            login = await self._authenticate(request)
        except AuthFailed as exc:
            self.auth_failures += 1
            self._failures.setdefault(peer, deque()).append(time.monotonic())
            self._audit_failure(exc.reason, exc.username, connection)
            resp = connection.respond(HTTPStatus.UNAUTHORIZED, f"{exc.reason}\n")
            resp.headers["WWW-Authenticate"] = 'Basic realm="ioc", charset="UTF-8"'
            return resp
        except Exception:
            log.exception("authentication failed unexpectedly")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "service not ready\n")
        connection.ioc_login = login  # type: ignore[attr-defined]
        self.logins += 1
        return None

    async def _authenticate(self, request: Request) -> Login:
        db = self.ctx.db
        ttl = self.ctx.config.session_ttl_s
        kind, value = _credentials(request.headers, request.path)
        if kind == "basic":
            username, password = auth.parse_basic(value)
            user = await db.read(lambda s: auth.check_password(s, username, password))
            return await db.write(lambda s: auth.open_session(s, user, ttl))
        if kind == "bearer":
            user, th = await db.read(lambda s: auth.check_token(s, value))
            return await db.write(lambda s: auth.resume_session(s, user, value, th))
        raise AuthFailed("no credentials: send Authorization Basic or Bearer")

    def _throttled(self, peer: str) -> bool:
        q = self._failures.get(peer)
        if not q:
            return False
        cutoff = time.monotonic() - FAIL_WINDOW_S
        while q and q[0] < cutoff:
            q.popleft()
        if not q:
            del self._failures[peer]
            return False
        if len(q) >= FAIL_LIMIT:
            self.throttled += 1
            return True
        return False

    def on_flood(self, sess: ClientSession) -> None:
        """A session was cut off for flooding: refuse its user from its address, and its token,
        for a while (see FLOOD_COOLDOWN_S)."""
        self.flood_disconnects += 1
        peer = str(sess.ws.remote_address[0]) if sess.ws.remote_address else ""
        now = time.monotonic()
        for key in ((peer, "user:" + sess.actor.username), (peer, "token:" + sess.login.token_hash)):
            _, strikes, last = self._flooders.get(key, (0.0, 0, 0.0))
            if now - last > FLOOD_FORGET_S:
                strikes = 0
            cooldown = min(FLOOD_COOLDOWN_MAX_S, FLOOD_COOLDOWN_S * 2 ** strikes)
            self._flooders[key] = (now + cooldown, strikes + 1, now)
        log.warning("session %s@%s cut off for flooding; refused for %.0f s", sess.actor.username, peer, cooldown)
        if len(self._flooders) > 10_000:  # many addresses: drop the long-forgotten
            self._flooders = {k: v for k, v in self._flooders.items() if now - v[2] <= FLOOD_FORGET_S}

    def _flood_wait(self, peer: str, request: Request) -> float:
        """Seconds this handshake's user (from this address) or token is still refused for."""
        if not self._flooders:
            return 0.0
        try:
            kind, value = _credentials(request.headers, request.path)
            if kind == "basic":
                key = (peer, "user:" + auth.parse_basic(value)[0])
            elif kind == "bearer":
                key = (peer, "token:" + auth.token_hash(value))
            else:
                return 0.0
        except AuthFailed:
            return 0.0  # malformed: the normal path answers it
        hit = self._flooders.get(key)
        return 0.0 if hit is None else hit[0] - time.monotonic()

    def _audit_failure(self, reason: str, username: str, connection: ServerConnection) -> None:
        peer = str(connection.remote_address[0]) if connection.remote_address else ""
        detail = {"reason": reason, "peer": peer}
        task = asyncio.get_running_loop().create_task(self.ctx.db.write(
            lambda s: auth.audit(s, username or "anonymous", "auth.failed", username, ok=False, detail=detail)))
        self._audit_tasks.add(task)
        task.add_done_callback(self._audit_tasks.discard)

    # ---- sessions ------------------------------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        login: Login = ws.ioc_login  # type: ignore[attr-defined]
        sess = ClientSession(self, ws, login)
        self.sessions.add(sess)
        try:
            await sess.run()
        finally:
            self.sessions.discard(sess)

    def on_session_live(self, sess: ClientSession, ts: float) -> None:
        log.debug("session %s live (%s %s)", sess.actor.username, sess.mode, sess.reason)

    async def logout(self, sess: ClientSession) -> None:
        th, user = sess.login.token_hash, sess.actor.username
        await self.ctx.db.write(lambda s: auth.revoke(s, th, user))
        for other in list(self.sessions):
            if other is not sess and other.login.token_hash == th:
                other.close(CLOSE_SESSION_ENDED, "session ended: logged out")

    async def _heartbeat_loop(self) -> None:
        hb = self.ctx.config.heartbeat_s
        while True:
            await asyncio.sleep(hb)
            head, now = self.hub.last_seq, time.time()
            for sess in list(self.sessions):
                sess.heartbeat(head, now)  # per session: each has its own synced_seq


def _credentials(headers: Headers, path: str) -> tuple[str, str]:
    value = headers.get("Authorization", "")
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() == "basic" and rest:
        return "basic", rest.strip()
    if scheme.lower() == "bearer" and rest:
        return "bearer", rest.strip()
    if value:
        raise AuthFailed("unsupported Authorization scheme")
    token = parse_qs(urlsplit(path).query).get("token")
    if token and token[0]:
        return "bearer", token[0]
    return "", ""
