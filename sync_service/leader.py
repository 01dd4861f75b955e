"""Leadership among service processes on one store, and what they tell each other.

Some work must happen once per store, not once per process: escalation, offline detection,
metrics, retention, and rule evaluation (alerts/routing.py). The process holding a PostgreSQL
session-level advisory lock (LEADER_LOCK_KEY) on a dedicated connection is the leader and does
it; the others are followers. SQLite has one process: it is always the leader.

- Followers try `pg_try_advisory_lock` every heartbeat (HEARTBEAT_S). The lock lives as long as
  the leader's session: a leader that exits, is killed or loses its connection releases it at
  once (the server ends the session when the socket closes) and a follower takes over within
  about a heartbeat. A hung leader (stopped process, network gone) stops talking to the server;
  the session's idle_session_timeout (IDLE_KILL_S) ends it server-side, so the lock is free
  after at most that long.
- A leader whose heartbeat fails or takes over CALL_TIMEOUT_S steps down at once and closes the
  connection (releasing the lock if the server still holds it), then competes again.
- Every process NOTIFYs a heartbeat on MEMBERS_CHANNEL each HEARTBEAT_S: its member id, whether
  it leads, its offline-window floor (below) and its figures (readings, backlog... for the
  leader's metrics.tick). The PgListener (scaleout.py) hands them to `on_heartbeat`: members
  heard within MEMBER_TTL_S are live.
- Hooks (`on_change`) run when this process gains (before it announces itself as leader) and
  loses leadership: the leader-only components take over or drop their duties there.

The floor: offline windows run from max(a device's last reading, the floor). A leader that
finds no predecessor (a cold start) uses the time it gained leadership: nobody was watching
before, so every device gets a whole window (docs/ingest.md, offline detection). A takeover -
a leader heard within LEADER_GAP_S before, or this process itself having led until then (its
connection dropped) - inherits that leader's floor: the store holds what it saw, and the new
leader's view continues it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

from sync_service.context import ServiceContext

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 7_240_002  # next to the event log's transaction lock (eventlog.EVENT_LOCK_KEY)
MEMBERS_CHANNEL = "ioc_members"
HEARTBEAT_S = 1.0
MEMBER_TTL_S = 3.5
CALL_TIMEOUT_S = 3.0
IDLE_KILL_S = 10
LEADER_GAP_S = 10.0

Hook = Callable[[bool], Awaitable[None]]


@dataclass
class Member:
    id: str
    server_id: str
    leader: bool
    floor: float | None
    t: float  # its clock when it sent the heartbeat
    heard: float  # our monotonic clock when it arrived
    figures: dict[str, Any] = field(default_factory=dict)
    routes: bool = False  # it forwards rule input to the leader when it follows (alerts/routing.py)


def rules_channel(member_id: str) -> str:
    """The channel a member receives forwarded rule input on (alerts/routing.py)."""
    return f"ioc_rules_{member_id}"


class Leadership:
    def __init__(self, ctx: ServiceContext, *, heartbeat_s: float = HEARTBEAT_S, routes: bool = False) -> None:
        self.ctx = ctx
        self.heartbeat_s = heartbeat_s
        self.shared = ctx.db.engine.dialect.name == "postgresql"
        self.member_id = "m" + uuid.uuid4().hex[:12]
        self.is_leader = not self.shared
        self.floor: float | None = time.time() if not self.shared else None
        self.takeover = False  # the last gain continued a predecessor's view
        self.gains = 0
        self.losses = 0
        self.members: dict[str, Member] = {}
        self.figures: Callable[[], dict[str, Any]] | None = None  # set by metrics
        # Whether this process forwards rule input when it follows (alerts/routing.py), said in
        # every heartbeat from the first: a leader waits for a follower's forwarding from its start.
        self.routes = routes
        self._hooks: list[Hook] = []
        self._last_leader: Member | None = None
        self._lost_at: float | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # ---- what others use ----------------------------------------------------------------------

    def on_change(self, hook: Hook) -> None:
        """hook(True) after gaining (before is_leader is set), hook(False) after losing."""
        self._hooks.append(hook)

    def others(self) -> list[Member]:
        """The other live members (heard within MEMBER_TTL_S)."""
        now = time.monotonic()
        return [m for m in self.members.values() if m.id != self.member_id and now - m.heard <= MEMBER_TTL_S]

    def leader_member(self) -> Member | None:
        """The live member that says it leads (newest heard), if it is not us."""
        leaders = [m for m in self.others() if m.leader]
        return max(leaders, key=lambda m: m.heard) if leaders else None

    def on_heartbeat(self, payload: str) -> None:
        try:
            d = orjson.loads(payload)
            m = Member(str(d["id"]), str(d.get("sid", "")), bool(d.get("leader")),
                       float(d["floor"]) if d.get("floor") is not None else None, float(d.get("t", 0.0)),
                       time.monotonic(), d.get("f") if isinstance(d.get("f"), dict) else {}, bool(d.get("r")))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("ignored a malformed heartbeat: %.80r", payload)
            return
        self.members[m.id] = m
        if m.leader and m.id != self.member_id:
            self._last_leader = m
        if len(self.members) > 16:  # forget members gone a while (every restart is a new one)
            gone = time.monotonic() - 10 * MEMBER_TTL_S
            self.members = {k: v for k, v in self.members.items() if v.heard >= gone}

    def status(self) -> dict[str, Any]:
        return {"member": self.member_id, "leader": self.is_leader, "members": 1 + len(self.others()),
                "gains": self.gains, "losses": self.losses}

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.ctx.components["leader"] = self
        if not self.shared:
            return
        # One attempt now, so the first process of a store leads before its parts start.
        with contextlib.suppress(Exception):
            await self._connect()
            await self._attempt()
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._close()  # ends the session: the lock is free for a follower at once
        if self.shared:
            self.is_leader = False

    # ---- the connection -------------------------------------------------------------------------

    async def _connect(self) -> None:
        conn = await pg_connect(self.ctx, f"ioc-sync {self.member_id}")
        try:
            await conn.execute(f"SET idle_session_timeout = '{IDLE_KILL_S}s'")  # PostgreSQL 14+
        except psycopg.Error:
            log.info("the server has no idle_session_timeout: a hung leader holds the lock until "
                     "its TCP connection times out")
        self._conn = conn

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CALL_TIMEOUT_S):
                    await conn.close()

    async def _attempt(self) -> None:
        assert self._conn is not None
        async with asyncio.timeout(CALL_TIMEOUT_S):
            cur = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,))
            row = await cur.fetchone()
        if row and row[0]:
            await self._gain()

    async def _beat(self) -> None:
        assert self._conn is not None
        beat = {"id": self.member_id, "sid": self.ctx.server_id, "leader": self.is_leader, "floor": self.floor,
                "t": time.time(), "r": self.routes}
        if self.figures is not None:
            try:
                beat["f"] = self.figures()
            except Exception:
                log.exception("member figures failed")
        await notify(self._conn, MEMBERS_CHANNEL, [orjson.dumps(beat).decode()])

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                if self._conn is None or self._conn.closed:
                    await self._connect()
                delay = 0.5
                while not self._stopping:
                    if not self.is_leader:
                        await self._attempt()
                    await self._beat()
                    await asyncio.sleep(self.heartbeat_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("leadership connection lost (%s: %s)%s", type(exc).__name__, exc,
                            "; stepping down" if self.is_leader else "")
            if self._stopping:
                return  # stop() closes the connection; the parts have stopped, no duties to drop
            await self._close()
            if self.is_leader:
                await self._lose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    # ---- gain and loss --------------------------------------------------------------------------

    async def _hooks_run(self, gained: bool) -> None:
        for hook in self._hooks:
            try:
                await hook(gained)
            except Exception:
                log.exception("%s leader duties: %r failed", "taking over" if gained else "dropping", hook)

    async def _gain(self) -> None:
        now = time.monotonic()
        prev = self._last_leader
        if self._lost_at is not None and now - self._lost_at <= LEADER_GAP_S and self.floor is not None:
            self.takeover = True  # this process led until a moment ago (its connection dropped)
            source = "its own earlier leadership"
        elif prev is not None and now - prev.heard <= LEADER_GAP_S and prev.floor is not None:
            self.takeover, self.floor = True, prev.floor
            source = prev.id
        else:
            self.takeover, self.floor = False, time.time()
            source = ""
        self.gains += 1
        # The hooks read the whole city (seconds at 100k devices): keep the session busy meanwhile,
        # or idle_session_timeout would end it - and the lock with it.
        work = asyncio.ensure_future(self._hooks_run(True))
        try:
            while not work.done():
                done, _ = await asyncio.wait({work}, timeout=self.heartbeat_s)
                if not done and self._conn is not None:
                    async with asyncio.timeout(CALL_TIMEOUT_S):
                        await self._conn.execute("SELECT 1")
        except BaseException:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            await self._lose()  # undo what the hooks began; the caller reconnects
            raise
        self.is_leader = True
        log.info("this process (%s) leads the store%s", self.member_id, f" (continuing {source})" if source else "")

    async def _lose(self) -> None:
        self.is_leader = False
        self._lost_at = time.monotonic()  # its floor is kept: regained soon, it continues its view
        self.losses += 1
        await self._hooks_run(False)
        log.warning("this process (%s) no longer leads the store", self.member_id)


async def pg_connect(ctx: ServiceContext, name: str) -> psycopg.AsyncConnection[Any]:
    """A dedicated autocommit connection to the store's PostgreSQL, with TCP keepalives (a dead
    peer is noticed in ~10 s rather than the system's two hours)."""
    dsn = ctx.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=5, application_name=name,
                                                 keepalives=1, keepalives_idle=5, keepalives_interval=2,
                                                 keepalives_count=2)


async def notify(conn: psycopg.AsyncConnection[Any] | None, channel: str, payloads: list[str]) -> None:
    """NOTIFY each payload on channel, in one transaction (one round trip)."""
    if conn is None or conn.closed:
        raise ConnectionError("no connection to the store")
    if not payloads:
        return
    sql = "SELECT " + ", ".join("pg_notify(%s, %s)" for _ in payloads)
    args: list[str] = []
    for p in payloads:
        args += [channel, p]
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
    # arrives as the call completes, and the cancelled task would go on running
    async with asyncio.timeout(CALL_TIMEOUT_S):
        await conn.execute(sql, args)


def leadership(ctx: ServiceContext) -> Leadership | None:
    return ctx.components.get("leader")


def leading(ctx: ServiceContext) -> bool:
    """Whether this process does the once-per-store work: the leader, or a process without a
    Leadership component (tests that start components directly, as a single process)."""
    lead = leadership(ctx)
    return lead is None or lead.is_leader
