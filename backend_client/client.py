"""ConsoleClient: keeps the console connected, in sync, and usable offline.

    client = ConsoleClient("ws://127.0.0.1:8765", store)
    client.login("duty1", "password")   # starts the connection loop (returns a task: await
    ...                                  # it to wait until the offline cache is applied)
    await client.stop()                  # or await client.logout()

The loop: connect (Basic with the password the first time, the session token after) -> Hello
with the last applied seq -> Welcome -> snapshot or replay into the store -> live events; on any
loss, back off with jitter and do it again. At start the offline cache (if any) is loaded
first - read and validated in a worker thread, so the window paints meanwhile - so the console
shows the last known state while it connects and resumes from the cached seq. Implements
app.commandbus.CommandSink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from app.commandbus import CommandResult
from app.signals import Signal
from app.store import Connection, PreparedState, SessionInfo, StateStore
from backend_client import localdb
from backend_client.auth import (
    FORBIDDEN,
    LOGIN_NEEDED,
    Credentials,
    LoginFailed,
    check_verifier,
    make_verifier,
    token_digest,
)
from backend_client.cache import CachedState, OfflineCache
from backend_client.dispatch import CommandDispatcher
from backend_client.feeder import StoreFeeder
from backend_client.outbox import Outbox
from backend_client.timings import Backoff, ClientTimings
from backend_client.transport import Closed, HandshakeRejected, Transport, TransportError
from protocol.frames import (
    Error,
    Events,
    Heartbeat,
    Hello,
    Logout,
    Pong,
    Result,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotPart,
    Welcome,
)

log = logging.getLogger(__name__)

CLIENT_NAME = "ioc-console/0.1"
_AUTH_CLOSE_CODES = {4001, 4401}
_PW_VERIFIER = "password_verifier"
_TOKEN_DIGEST = "token_sha256"  # service closing after the handshake because the session ended


def _cache_allowed(cache: OfflineCache, password: str | None, token: str | None) -> bool:
    """Whether these credentials may open the offline cache: the password matches the scrypt
    verifier kept after the last online login, or the token its digest (worker thread)."""
    verifier = cache.get_meta(_PW_VERIFIER)
    return (password is not None and verifier is not None and check_verifier(password, verifier)) or (
        bool(token) and cache.get_meta(_TOKEN_DIGEST) == token_digest(token or ""))


class ConsoleClient:
    """Signals: login_failed(code: str, message: str), command_finished(id: str, CommandResult).
    Connection state is the store's (store.connection, store.connection_changed)."""

    def __init__(self, url: str, store: StateStore, *, hall: str | None = None,
                 timings: ClientTimings | None = None, origin: str | None = None,
                 local_dir: str | None = None) -> None:
        self.url = url
        self.store = store
        self.hall = hall
        self.timings = timings or ClientTimings.from_env()
        self.origin = origin
        self._local_dir = local_dir
        self.creds: Credentials | None = None
        self.backoff = Backoff(self.timings)
        self.feeder = StoreFeeder(store)
        self.login_failed = Signal("login_failed")
        self.command_finished = Signal("command_finished")
        self.cache: OfflineCache | None = None
        self.dispatcher: CommandDispatcher | None = None
        self.last_error: LoginFailed | None = None
        self.connects = 0
        self.cache_loaded_seq: int | None = None
        self._transport: Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._cache_task: asyncio.Task[None] | None = None
        self._login_task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._synced = False  # we hold state at store.seq (snapshot or cache): resume from it
        self._saved_seq = -1
        self._welcomed = False  # the current connection got as far as Welcome
        self._bg: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------------------------
    def login(self, user: str, password: str) -> asyncio.Task[None]:
        """Start (or restart) with these credentials. Must be called on the running loop.

        Returns at once, the store "connecting" and commands already queueing in the outbox.
        The offline cache is checked (scrypt) and read (decompressed, every item validated:
        seconds for a big city) in a worker thread and applied to the store on the loop, then
        the connection starts: the returned task is done then (await it to see the cache)."""
        return self._begin(Credentials(user=user, password=password), password=password)

    def resume_with_token(self, user: str, token: str) -> asyncio.Task[None]:
        """Start with a session token only (a rejected token then means "login needed")."""
        return self._begin(Credentials(user=user, token=token), token=token)

    def _begin(self, creds: Credentials, *, password: str | None = None, token: str | None = None) -> asyncio.Task[None]:
        self._open_local(creds.user)
        self.creds = creds
        self.last_error = None
        if self._task is None or self._task.done():
            self.store.set_connection(Connection.CONNECTING)
        if self._login_task is not None and not self._login_task.done():
            self._login_task.cancel()  # superseded: its worker's result is dropped
        self._login_task = asyncio.get_running_loop().create_task(
            self._load_cache_then_start(creds, password, token), name="ioc-login")
        return self._login_task

    def _open_local(self, user: str) -> None:
        if self.creds is not None and self.creds.user == user and self.cache is not None:
            return
        if self.creds is not None and self.creds.user != user:
            if self._task is not None and not self._task.done():
                raise RuntimeError("log out before logging in as another user")
            # another account: its data and outbox must never mix with the previous one's
            self.store.load({"seq": 0, "data_ts": None})
            self.store.set_session(SessionInfo())
            self._synced = False
        base = localdb.client_dir() if self._local_dir is None else Path(self._local_dir)
        path = localdb.db_path(self.url, user, base)
        localdb.init(path, self.url, user)
        if self.dispatcher is not None:
            self.dispatcher.outbox.close()
        self.cache = OfflineCache(path)
        self.dispatcher = CommandDispatcher(Outbox(path), window=self.timings.outbox_window,
                                            query_timeout_s=self.timings.query_timeout_s,
                                            retry_after_s=self.timings.retry_after_s,
                                            send_rate_per_s=self.timings.send_rate_per_s)
        self.dispatcher.command_finished.connect(self._on_dispatcher_finished)

    async def _load_cache_then_start(self, creds: Credentials, password: str | None, token: str | None) -> None:
        """Show the last known state first - but only to whoever proves to be the user who
        saved it (the service cannot check while it is unreachable). Resumes from its seq."""
        cache = self.cache
        if not self._synced and cache is not None:
            def work() -> tuple[CachedState, PreparedState] | None:
                return cache.read_prepared() if _cache_allowed(cache, password, token) else None

            got = await asyncio.to_thread(work)
            if self.creds is not creds or self.cache is not cache:
                return  # another login came in meanwhile: it decides
            if got is not None and not self._synced:
                cached = OfflineCache.install(self.store, got)
                self._synced = True
                self._saved_seq = cached.seq
                self.cache_loaded_seq = cached.seq
        self._start()

    def _remember_login(self, password: str | None, token: str) -> None:
        """After a Welcome (worker thread): what lets this user reopen the cache offline."""
        if self.cache is None:
            return
        if password is not None:
            old = self.cache.get_meta(_PW_VERIFIER)
            if old is None or not check_verifier(password, old):
                self.cache.set_meta(_PW_VERIFIER, make_verifier(password))
        self.cache.set_meta(_TOKEN_DIGEST, token_digest(token))

    def _on_dispatcher_finished(self, cid: str, res: CommandResult) -> None:
        self.command_finished.emit(cid, res)

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self.store.set_connection(Connection.CONNECTING)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ioc-client")
        else:
            self.reconnect_now()
        if self._cache_task is None or self._cache_task.done():
            self._cache_task = asyncio.get_running_loop().create_task(self._cache_loop())

    def reconnect_now(self) -> None:
        """Skip the current backoff wait (e.g. the user pressed "retry" or the network returned)."""
        self._kick.set()

    async def stop(self) -> None:
        """Close the connection and write the offline cache (clean exit)."""
        if self._login_task is not None:  # a cache still being read is dropped
            self._login_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._login_task
        for task in (self._task, self._cache_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._cache_task = self._login_task = None
        for bg in list(self._bg):
            with contextlib.suppress(Exception):
                await bg
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        if self.dispatcher is not None:
            self.dispatcher.detach()
        self.store.set_connection(Connection.OFFLINE)
        await self.save_cache()

    async def logout(self) -> None:
        """End the session on the service, forget the password and token, stop."""
        t = self._transport
        if t is not None:
            with contextlib.suppress(TransportError):
                await t.send(Logout())
        await self.stop()
        if self.creds is not None:
            self.creds.forget()
        # nothing of this user stays on screen; the next login reopens the cache after checking
        self.store.load({"seq": 0, "data_ts": None})
        self.store.set_session(SessionInfo())
        self._synced = False

    def close(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.outbox.close()

    # ---- CommandSink ---------------------------------------------------------------------
    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        return self.submit(name, args)[1]

    def submit(self, name: str, args: dict[str, Any]) -> tuple[str | None, asyncio.Future[CommandResult]]:
        """Like send(), also returning the command id (None if refused locally)."""
        if self.dispatcher is None:
            fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
            fut.set_result(CommandResult(ok=False, error_code=LOGIN_NEEDED, error_message="not logged in"))
            return None, fut
        perms = self.store.session.permissions if self.store.session.role else None
        return self.dispatcher.submit(name, args, perms)

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        if self.dispatcher is None:
            fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
            fut.set_result(CommandResult(ok=False, error_code="offline", error_message="not logged in"))
            return fut
        return self.dispatcher.query(name, args)

    # ---- the connection loop ----------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            self._welcomed = False
            try:
                await self._session()
            except LoginFailed as exc:
                self._report_login_failed(exc)
                return
            except HandshakeRejected as exc:
                if exc.status == 401:
                    try:
                        self._creds().on_rejected()  # token -> password, or raises
                    except LoginFailed as lf:
                        self._report_login_failed(lf)
                        return
                    continue  # retry at once with the password
                if exc.status == 403:
                    # Origin not allowed or account barred: retrying cannot fix it, the user must
                    self._report_login_failed(LoginFailed(
                        FORBIDDEN, f"服务拒绝连接 / the service refused this console: {exc.body.strip()}"))
                    return
                log.warning("service refused the connection: %s", exc)
            except TransportError as exc:
                log.info("connection to %s ended: %s", self.url, exc)
            except Exception:
                # a frame we could not apply (a service newer than this console, or a bug):
                # never a dead client - drop the connection, back off, resync from our seq
                log.exception("connection to %s dropped after an unexpected error", self.url)
            # a link that just dropped is "reconnecting"; a service we cannot reach is "offline"
            was_online = self._welcomed
            self.store.set_connection(Connection.RECONNECTING if was_online else Connection.OFFLINE)
            if was_online:
                await self.save_cache()  # the freshest state, before a possibly long outage
            await self._sleep(self.backoff.next_delay())

    async def _sleep(self, delay: float) -> None:
        self._kick.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._kick.wait(), timeout=delay)

    def _creds(self) -> Credentials:
        if self.creds is None:
            raise LoginFailed(LOGIN_NEEDED, "请登录 / not logged in")
        return self.creds

    def _report_login_failed(self, exc: LoginFailed) -> None:
        self.last_error = exc
        self.store.set_connection(Connection.OFFLINE)
        self.login_failed.emit(exc.code, exc.message)

    async def _session(self) -> None:
        """One connection, from handshake to loss (always ends by raising)."""
        creds = self._creds()
        header = creds.header()
        if header is None:
            raise LoginFailed(LOGIN_NEEDED, "请登录 / no password or session token")
        t = Transport(self.url, open_timeout_s=self.timings.open_timeout_s,
                      dead_after_s=self.timings.dead_after_s, origin=self.origin)
        await t.open([header])
        self._transport = t
        asked_resume = self._synced
        self.feeder.start_session()
        self.store.drop_unfinished_snapshot()  # cut off mid-snapshot last time: resume or reload
        try:
            await t.send(Hello(client=CLIENT_NAME, last_seq=self.store.seq if asked_resume else None,
                               hall=self.hall))
            async for frame in t.frames():
                if isinstance(frame, Welcome):
                    self._welcomed = True
                    self._on_welcome(t, frame, asked_resume)
                else:
                    self._on_frame(frame)
        except Closed as exc:
            if exc.code in _AUTH_CLOSE_CODES:
                creds.token = None  # the session ended on the service side
                if creds.password is None:
                    raise LoginFailed(LOGIN_NEEDED, exc.reason or "session ended") from None
            raise
        finally:
            if self._transport is t:
                self._transport = None
            if self.dispatcher is not None and self.dispatcher.attached_to(t):
                self.dispatcher.detach()
            t.abort()

    def _on_welcome(self, t: Transport, w: Welcome, asked_resume: bool) -> None:
        self.connects += 1
        self.backoff.reset()
        creds = self._creds()
        creds.token = w.session
        task = asyncio.get_running_loop().create_task(
            asyncio.to_thread(self._remember_login, creds.password, w.session))
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)
        # never declare a link dead faster than the service promises to speak
        t.set_dead_after(max(self.timings.dead_after_s, 1.5 * w.heartbeat_s))
        self.feeder.on_welcome(w, asked_resume)
        if w.mode == "resume":
            self.store.set_connection(Connection.ONLINE)
        if self.dispatcher is not None:
            self.dispatcher.attach(t)

    def _on_frame(self, f: Any) -> None:
        match f:
            case Events():
                self.feeder.on_events(f)
            case SnapshotBegin():
                self.feeder.on_snapshot_begin(f)
            case SnapshotPart():
                self.feeder.on_snapshot_part(f)
            case SnapshotEnd():
                self.feeder.on_snapshot_end(f)
                self._synced = True
                self.store.set_connection(Connection.ONLINE)
            case Result():
                if self.dispatcher is not None:
                    self.dispatcher.on_result(f)
            case Error():
                if self.dispatcher is None or not self.dispatcher.on_error(f):
                    log.warning("service error: %s %s", f.code, f.message)
            case Heartbeat() | Pong():
                # their arrival already fed the watchdog; synced_seq lets a quiet scope keep up
                if self._synced and f.synced_seq is not None:
                    self.feeder.on_synced(f.synced_seq)
            case _:
                pass

    # ---- offline cache -----------------------------------------------------------------------
    async def save_cache(self) -> None:
        if self.cache is None or not self._synced or self.store.seq == self._saved_seq:
            return
        seq = self.store.seq
        try:
            await self.cache.save(self.store)
            self._saved_seq = seq
        except Exception:  # a full disk must not take the console down
            log.exception("could not write the offline cache")

    async def _cache_loop(self) -> None:
        while True:
            await asyncio.sleep(self.timings.cache_every_s)
            if self.store.connection == Connection.ONLINE:
                await self.save_cache()

    def data_age_s(self) -> float | None:
        return None if self.store.data_ts is None else max(0.0, time.time() - self.store.data_ts)
