"""Scale-out: several service processes on one PostgreSQL database.

Every writer NOTIFYs `ioc_events` in the transaction that appends events (eventlog.py), so the
notification arrives after the commit. The PgListener holds a dedicated autocommit connection
with LISTEN ioc_events and kicks the hub, which reads the log after its last delivered seq: a
console on either process sees every event of both, in seq order (= commit order, by the log
lock). If the listening connection drops, it reconnects with backoff; meanwhile the hub's poll
keeps events flowing (at poll latency), so nothing is lost, only slower.

The same connection listens for the processes' heartbeats (leader.MEMBERS_CHANNEL, to the
Leadership) and for rule input other processes forward to this one when it leads
(leader.rules_channel, to alerts/routing.py). Those are transient: what arrives while the
connection is down is lost (heartbeats repeat; see routing.py for rule input).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from sync_service.context import ServiceContext
from sync_service.eventlog import NOTIFY_CHANNEL
from sync_service.hub import Hub
from sync_service.leader import MEMBERS_CHANNEL, leadership, rules_channel

log = logging.getLogger(__name__)


class PgListener:
    def __init__(self, ctx: ServiceContext, hub: Hub) -> None:
        self.ctx = ctx
        self.hub = hub
        self.notifications = 0
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _dsn(self) -> str:
        url = self.ctx.db.engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == NOTIFY_CHANNEL:
            self.notifications += 1
            self.hub.kick()
        elif channel == MEMBERS_CHANNEL:
            lead = leadership(self.ctx)
            if lead is not None:
                lead.on_heartbeat(payload)
        else:
            router = self.ctx.components.get("rule_router")
            if router is not None:
                router.on_forwarded(payload)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pg-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10.0)
        self.ctx.components["pg_listener"] = self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._dsn(), autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    lead = leadership(self.ctx)
                    if lead is not None:
                        await conn.execute(f"LISTEN {MEMBERS_CHANNEL}")
                        await conn.execute(f"LISTEN {rules_channel(lead.member_id)}")
                    self.connected.set()
                    delay = 0.5
                    self.hub.kick()  # anything committed while we were not listening
                    async for n in conn.notifies():
                        try:
                            self._dispatch(n.channel, n.payload)
                        except Exception:
                            log.exception("handling a notification on %s failed", n.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("LISTEN %s lost (%s); retrying in %.1f s", NOTIFY_CHANNEL, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
