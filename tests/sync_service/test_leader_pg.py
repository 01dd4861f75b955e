"""Leadership (sync_service/leader.py) and what hangs on it, in one test process with several
service instances on one PostgreSQL (separate connections, no shared state but the store):
the lock, a dropped connection handing over, concurrent escalation passes, the leader's merge of
the devices' state other processes flushed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from protocol.enums import AlertSource, AlertState
from sync_service.alerts import store
from sync_service.alerts.escalation import Escalator
from sync_service.config import ServiceConfig
from sync_service.context import ServiceContext
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Alert, Device, EventRecord
from sync_service.ingest.auth import Bureau
from sync_service.leader import Leadership, leading
from sync_service.service import SyncService
from tests.sync_service.ingest_support import seed
from tests.sync_service.server_helpers import config

PARTS = ("sync_service.ingest", "sync_service.alerts", "sync_service.metrics")
WATER = Bureau("water", "gw")


def _ctx(url: str, sid: str) -> ServiceContext:
    engine = make_engine(url)
    migrate(engine)
    return ServiceContext(config=ServiceConfig(db_url=url), db=Database(engine, origin=sid), server_id=sid)


async def _until(pred: Callable[[], bool], within: float, label: str) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > within:
            raise AssertionError(f"not within {within} s: {label}")
        await asyncio.sleep(0.05)
    return time.monotonic() - t0


async def test_sqlite_is_always_the_leader(sqlite_url: str) -> None:
    ctx = _ctx(sqlite_url, "one")
    lead = Leadership(ctx)
    await lead.start()
    assert lead.is_leader
    assert leading(ctx)
    assert lead.floor is not None
    await lead.stop()
    assert lead.is_leader  # nothing to hand over to
    ctx.db.close()


async def test_one_leader_and_a_dropped_connection_hands_over(pg_url: str) -> None:
    ctxs = [_ctx(pg_url, f"s{i}") for i in range(3)]
    leads = [Leadership(c, heartbeat_s=0.2) for c in ctxs]
    calls: dict[int, list[bool]] = {i: [] for i in range(3)}
    for i, lead in enumerate(leads):
        async def hook(gained: bool, i: int = i) -> None:
            calls[i].append(gained)
        lead.on_change(hook)
    for lead in leads:
        await lead.start()
    # heartbeats are relayed by each process's PgListener; here by hand, from the members' dict
    relay = asyncio.create_task(_relay(pg_url, leads))
    try:
        assert [lead.is_leader for lead in leads] == [True, False, False]  # the first to start
        await _until(lambda: all(len(lead.others()) == 2 for lead in leads), 5, "everyone hears everyone")
        assert all(lead.leader_member() is not None for lead in leads[1:])
        first_floor = leads[0].floor
        # the server drops the leader's lock connection (a network failure, an admin's kill)
        await _terminate(pg_url, leads[0])
        took = await _until(lambda: sum(lead.is_leader for lead in leads[1:]) == 1, 5, "a follower takes over")
        await _until(lambda: not leads[0].is_leader, 5, "the old leader steps down")
        new = next(lead for lead in leads if lead.is_leader)
        print(f"a dropped leader connection: taken over in {took:.2f} s")
        assert new.takeover
        assert new.floor == first_floor  # it continues the predecessor's view
        assert calls[0] == [True, False]  # led from its start, then lost it
        assert calls[leads.index(new)] == [True]
        await asyncio.sleep(1.0)
        assert sum(lead.is_leader for lead in leads) == 1  # the old one came back as a follower
    finally:
        relay.cancel()
        for lead in leads:
            await lead.stop()
        for c in ctxs:
            c.db.close()


async def test_a_leader_whose_connection_drops_and_regains_continues_its_view(pg_url: str) -> None:
    """A PostgreSQL restart drops every connection: the lone leader steps down, and leads again
    with the same offline floor (no new grace window, no false detection either)."""
    ctx = _ctx(pg_url, "alone")
    lead = Leadership(ctx, heartbeat_s=0.2)
    await lead.start()
    try:
        assert lead.is_leader
        floor = lead.floor
        await _terminate(pg_url, lead)
        await _until(lambda: lead.losses == 1, 5, "it notices")
        await _until(lambda: lead.is_leader, 5, "it leads again")
        assert (lead.gains, lead.takeover, lead.floor) == (2, True, floor)
    finally:
        await lead.stop()
        ctx.db.close()


async def _terminate(pg_url: str, lead: Leadership) -> None:
    async with await psycopg.AsyncConnection.connect(pg_url.replace("+psycopg", ""), autocommit=True) as c:
        await c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (f"ioc-sync {lead.member_id}",))


async def _relay(pg_url: str, leads: list[Leadership]) -> None:
    from sync_service.leader import MEMBERS_CHANNEL

    async with await psycopg.AsyncConnection.connect(pg_url.replace("+psycopg", ""), autocommit=True) as c:
        await c.execute(f"LISTEN {MEMBERS_CHANNEL}")
        async for n in c.notifies():
            for lead in leads:
                lead.on_heartbeat(n.payload)


async def test_two_escalation_passes_at_once_escalate_each_alert_once(pg_url: str) -> None:
    """A leader that has not yet noticed it lost the lock may run a pass while the new one does:
    the rows are locked and re-checked, so each step happens once."""
    a, b = _ctx(pg_url, "a"), _ctx(pg_url, "b")
    a.db.run_sync(seed)
    now = time.time()

    def add(s: Any) -> None:
        for i in range(200):
            store.raise_alert(s, store.AlertSpec(source=AlertSource.PLATFORM, dedup_key=f"platform:fire:{i}",
                                                 level=4, domain="fire", title="火警", ts=now - 100), now - 100)

    a.db.run_sync(add)
    ea, eb = Escalator(a), Escalator(b)
    for step in range(1, 4):
        t = now - 100 + step * 300 + 1  # escalate_after_s 300: step n is due n periods after
        na, nb = await asyncio.gather(ea.run_once(t), eb.run_once(t))
        assert na + nb == 200, (step, na, nb)
    rows = a.db.run_sync(lambda s: [(x.escalations, x.level) for x in s.scalars(select(Alert))])
    assert rows == [(3, 4)] * 200
    notices = a.db.run_sync(lambda s: [e.data["escalations"] for e in s.scalars(
        select(EventRecord).where(EventRecord.kind == "system.notice"))])
    assert sorted(notices) == sorted([1, 2, 3] * 200)
    a.db.close()
    b.db.close()


@asynccontextmanager
async def _two(pg_url: str, **over: Any) -> AsyncIterator[tuple[SyncService, SyncService]]:
    engine = make_engine(pg_url)
    migrate(engine)
    db = Database(engine)
    db.run_sync(seed)
    db.close()
    svcs = []
    try:
        for sid in ("lead", "follow"):
            svc = SyncService(config(pg_url, server_id=sid, state_flush_s=0.3, leader_merge_s=0.3, **over), parts=PARTS)
            await svc.start()
            svcs.append(svc)
        yield svcs[0], svcs[1]
    finally:
        for svc in reversed(svcs):
            await svc.stop()


async def test_the_leader_merges_what_the_follower_saw_and_resolves_offline_alerts(pg_url: str) -> None:
    async with _two(pg_url) as (lead, follow):
        lc, fc = lead.ctx, follow.ctx
        assert lc is not None
        assert fc is not None
        assert lc.components["leader"].is_leader
        assert not fc.components["leader"].is_leader
        off = lc.components["offline"]
        assert off.margin_s == pytest.approx(0.3 + 0.3 + 2.0)
        reg = lc.components["devices"]
        wl = reg.devices["WL-1"]
        # an offline alert from before, open; the follower's registry leaves health alone
        spec = lc.components["alerts"]._device_spec(wl, AlertSource.OFFLINE, "offline:WL-1", 1, "离线", "offline",
                                                    "", time.time(), time.time())
        await lc.db.write(lambda s: store.raise_alert(s, spec, time.time()))
        await off._load_alerted()
        assert wl.offline_alerted
        assert not fc.components["devices"].watching
        now = time.time()
        res = fc.components["ingest"].ingest([{"device": "WL-1", "ts": now, "values": {"level": 3.25}}],
                                             bureau=WATER, door="t")
        assert res.accepted == 1
        # within a flush and a merge the leader knows: seen, values, and the alert is resolved
        took = await _until(lambda: wl.last_values.get("level") == 3.25, 5, "the leader merges the follower's state")
        assert wl.last_seen >= now
        assert not wl.offline_alerted
        await lc.components["alerts"].drain()
        [a] = await lc.db.read(lambda s: [(x.state, x.source) for x in s.scalars(
            select(Alert).where(Alert.device_id == "WL-1"))])
        assert a == (AlertState.RESOLVED.value, AlertSource.OFFLINE.value)
        print(f"follower's reading in the leader's view after {took:.2f} s")
        # the store has the follower's report; the leader's later flushes do not set it back
        await lc.components["ingest"].flush_state(audit=False)
        row = await lc.db.read(lambda s: s.scalar(select(Device).where(Device.uid == "WL-1")))
        assert (row.seen_ts >= now, row.last_values, row.health) == (True, {"level": 3.25}, "online")
        # a sweep long after, but within the window of the merged seen time: nothing offline
        assert (await off.sweep(wl.last_seen + 3 * 300 - 1))["offline"] == 0
