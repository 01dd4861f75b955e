"""PostgreSQL: the core path on the real server, and two service instances on one database -
a console on each sees every event of both, in the same order."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from sync_service.db.models import EventRecord
from tests.sync_service.data_helpers import alerts_with_events, notices
from tests.sync_service.server_helpers import Client, ServiceProcess, cid, service

pytestmark = pytest.mark.postgres


async def test_core_on_postgresql(pg_url: str) -> None:
    same = cid()
    async with service(pg_url) as svc:
        [fire_a, water_a], _ = await svc.ctx.db.write_events(alerts_with_events(["fire", "water"]))
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "bureau_fire") as bf:
            assert {a["domain"] for a in op.snapshot["alerts"]} == {"fire", "water"}
            assert {a["domain"] for a in bf.snapshot["alerts"]} == {"fire"}
            r1 = await op.command("incident.open", {"alert_ids": [water_a]}, id=same)
            r2 = await op.command("incident.open", {"alert_ids": [water_a]}, id=same)
            assert r1["ok"]
            assert r2["duplicate"]
            assert r2["data"] == r1["data"]
            await op.wait_seq(r1["seq"])
            r = await bf.command("incident.open", {"alert_ids": [fire_a]})
            await bf.wait_seq(r["seq"])
            assert {e["domain"] for e in bf.events} == {"fire"}
            last = op.seqs()[-1]
        await svc.ctx.db.write_events(notices(5))
    async with service(pg_url) as svc2:
        r = None
        async with Client.open(svc2.url, "operator", last_seq=last) as op:
            assert op.welcome["mode"] == "resume"
            await op.wait_seq(svc2.hub.last_seq)
            assert [e["kind"] for e in op.events][-5:] == ["system.notice"] * 5
            r = await op.command("incident.open", {"alert_ids": [water_a]}, id=same)
            assert r["duplicate"]
            assert r["data"] == r1["data"]


async def test_two_instances_one_database_same_order(pg_url: str) -> None:
    async with service(pg_url, server_id="a") as a, service(pg_url, server_id="b") as b:
        async with Client.open(a.url, "operator") as ca, Client.open(b.url, "operator") as cb:
            # both instances write at once: commands over each socket, and direct log writes
            async def burst(svc, client, tag: str) -> None:  # noqa: ANN001
                for i in range(30):
                    await svc.ctx.db.write_events(notices(3, i * 3))
                    r = await client.command("focus.set", {"incident_id": None})
                    assert r["ok"], (tag, r)

            await asyncio.gather(burst(a, ca, "a"), burst(b, cb, "b"))
            log = await a.ctx.db.read(lambda s: list(s.execute(
                select(EventRecord.seq, EventRecord.origin).order_by(EventRecord.seq))))
            head = log[-1][0]
            await ca.wait_seq(head, 20)
            await cb.wait_seq(head, 20)
            assert ca.seqs() == cb.seqs() == [seq for seq, _ in log]
            assert {o for _, o in log} == {"a", "b"}
            assert len(log) == 2 * 30 * 4
            assert ca.events == cb.events  # same events, same content, same order
            listener = a.ctx.components["pg_listener"]
            assert listener.notifications > 0


async def test_two_service_processes_one_database(pg_url: str, tmp_path) -> None:  # noqa: ANN001
    """The same with two real `python -m sync_service` processes (no shared memory at all)."""
    procs = [ServiceProcess(pg_url, log_path=tmp_path / f"svc{i}.log", extra=["--server-id", f"p{i}"])
             for i in range(2)]
    for p in procs:
        await asyncio.to_thread(p.start)
    try:
        async with Client.open(procs[0].url, "operator") as c0, Client.open(procs[1].url, "leader") as c1:
            async def burst(c: Client) -> list[int]:
                seqs = []
                for _ in range(40):
                    r = await c.command("focus.set", {"incident_id": None})
                    assert r["ok"], r
                    seqs.append(r["seq"])
                return seqs

            s0, s1 = await asyncio.gather(burst(c0), burst(c1))
            head = max(s0 + s1)
            await c0.wait_seq(head, 20)
            await c1.wait_seq(head, 20)
            # the services' own events (metrics, device stats) may land between the two snapshots
            since = max(c0.snapshot_seq or 0, c1.snapshot_seq or 0)
            assert [q for q in c0.seqs() if q > since] == [q for q in c1.seqs() if q > since]
            assert set(s0) | set(s1) <= set(c0.seqs())  # each sees the other's commands too
            assert {e["data"]["by"] for e in c0.events} == {"operator", "leader"}
    finally:
        for p in procs:
            p.stop()
