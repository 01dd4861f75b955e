"""Hello/resume: replay after a service restart with nothing lost or duplicated, no gap at the
switch from replay to live, and a counted snapshot when the client's seq is too old."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select

from sync_service.db.models import EventRecord
from tests.sync_service.data_helpers import metrics_tick, notices
from tests.sync_service.server_helpers import Client, service


async def _log_seqs(svc) -> list[int]:  # noqa: ANN001
    return await svc.ctx.db.read(lambda s: list(s.scalars(select(EventRecord.seq).order_by(EventRecord.seq))))


async def test_resume_after_restart_nothing_lost_or_duplicated(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        await svc.ctx.db.write_events(notices(5))
        async with Client.open(svc.url) as c:
            first_token = c.welcome["session"]
            assert c.snapshot_seq == 5
            await svc.ctx.db.write_events(notices(10, 5))
            await c.wait_seq(15)
            last = c.seqs()[-1]
    # the service restarts; meanwhile more events are committed
    async with service(sqlite_url) as svc2:
        await svc2.ctx.db.write_events(notices(20, 15))
        async with Client.open(svc2.url, headers=[("Authorization", f"Bearer {first_token}")],
                               last_seq=last) as c2:
            assert c2.welcome["mode"] == "resume"
            assert c2.welcome["head_seq"] == 35
            await c2.wait_seq(35)
            await svc2.ctx.db.write_events(notices(3, 35))  # and live after the replay
            await c2.wait_seq(38)
            assert c2.seqs() == list(range(16, 39))
            assert [e["data"]["i"] for e in c2.events] == list(range(15, 38))
        assert svc2.server.snapshot_reloads == 0


async def test_no_gap_no_duplicate_at_switch_over_under_load(sqlite_url: str) -> None:
    """Clients join (snapshot and resume) while events are committed continuously."""
    async with service(sqlite_url) as svc:
        db = svc.ctx.db
        await db.write_events(notices(50))
        stop = asyncio.Event()

        async def writer() -> None:
            i = 50
            while not stop.is_set():
                await db.write_events(notices(7, i))
                await db.write_events(metrics_tick(i))
                i += 8
                await asyncio.sleep(0.002)

        task = asyncio.create_task(writer())
        try:
            clients = []
            async with contextlib.AsyncExitStack() as stack:
                for k in range(6):
                    last = None if k % 2 == 0 else 10 * k
                    clients.append(await stack.enter_async_context(Client.open(svc.url, last_seq=last)))
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)
                stop.set()
                await task
                head = svc.hub.last_seq
                for c in clients:
                    await c.wait_seq(head)
                log = await _log_seqs(svc)
                for c in clients:
                    start = c.snapshot_seq if c.welcome["mode"] == "snapshot" else c.asked_seq
                    assert c.seqs() == [s for s in log if s > start], c.welcome["mode"]
                    if c.welcome["mode"] == "snapshot":
                        ticks = c.snapshot["metrics"]
                        assert ticks  # recent metrics ticks in the snapshot, oldest first
                        assert [t["city"]["i"] for t in ticks] == sorted(t["city"]["i"] for t in ticks)
                modes = [c.welcome["mode"] for c in clients]
                assert modes == ["snapshot", "resume"] * 3
        finally:
            stop.set()
            await task


async def test_too_old_gets_a_counted_snapshot(sqlite_url: str) -> None:
    async with service(sqlite_url, replay_window=100) as svc:
        await svc.ctx.db.write_events(notices(150))
        async with Client.open(svc.url, last_seq=10) as c:
            assert c.welcome["mode"] == "snapshot"
            assert c.welcome["reason"] == "too_old"
            assert c.snapshot_seq == 150
        async with Client.open(svc.url, last_seq=60) as c:
            assert c.welcome["mode"] == "resume"
            await c.wait_seq(150)
            assert c.seqs() == list(range(61, 151))
        async with Client.open(svc.url, last_seq=10_000) as c:  # ahead of this store
            assert (c.welcome["mode"], c.welcome["reason"]) == ("snapshot", "unknown_seq")
        assert svc.server.snapshot_reloads == 2
        # events pruned from the log (retention): a client behind the oldest kept event reloads
        await svc.ctx.db.write(lambda s: s.execute(EventRecord.__table__.delete().where(EventRecord.seq <= 120)))
        async with Client.open(svc.url, last_seq=100) as c:
            assert (c.welcome["mode"], c.welcome["reason"]) == ("snapshot", "too_old")
        async with Client.open(svc.url, last_seq=120) as c:
            assert c.welcome["mode"] == "resume"
