"""Core commands over a real server: exactly once (also across a restart), incidents, tasks with
a leader's decision, focus, resources, and the stored refusal."""

from __future__ import annotations

from sqlalchemy import func, select

from sync_service.db.models import AuditEntry, CommandRecord, EventRecord, Incident
from tests.sync_service.data_helpers import add_resource, alerts_with_events
from tests.sync_service.server_helpers import Client, cid, service


async def test_exactly_once_by_id_also_after_restart(sqlite_url: str) -> None:
    same = cid()
    async with service(sqlite_url) as svc:
        [fire_alert], _ = await svc.ctx.db.write_events(alerts_with_events(["fire"]))
        async with Client.open(svc.url, "operator") as c:
            r1 = await c.command("incident.open", {"alert_ids": [fire_alert], "title": "南城高层火灾"}, id=same)
            assert r1["ok"]
            assert not r1["duplicate"]
            r2 = await c.command("incident.open", {"alert_ids": [fire_alert], "title": "南城高层火灾"}, id=same)
            assert r2["ok"]
            assert r2["duplicate"]
            assert r2["data"] == r1["data"]
            assert r2["seq"] == r1["seq"]
            # a refusal is stored too: the retry gets the same refusal
            bad = cid()
            r3 = await c.command("incident.update", {"incident_id": 424242}, id=bad)
            r4 = await c.command("incident.update", {"incident_id": 424242}, id=bad)
            assert r3["error"]["code"] == r4["error"]["code"] == "not_found"
            assert r4["duplicate"]
        # another user cannot reuse the id
        async with Client.open(svc.url, "duty") as d:
            r = await d.command("incident.open", {"alert_ids": [fire_alert]}, id=same)
            assert not r["ok"]
            assert r["error"]["code"] == "conflict"
    async with service(sqlite_url) as svc2, Client.open(svc2.url, "operator") as c:
        r5 = await c.command("incident.open", {"alert_ids": [fire_alert], "title": "南城高层火灾"}, id=same)
        assert r5["ok"]
        assert r5["duplicate"]
        assert r5["data"] == r1["data"]

        def counts(s):  # noqa: ANN001, ANN202
            return (s.scalar(select(func.count()).select_from(Incident)),
                    s.scalar(select(func.count()).select_from(CommandRecord).where(CommandRecord.id == same)),
                    s.scalar(select(func.count()).select_from(EventRecord).where(EventRecord.command_id == same)),
                    s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "incident.open")))
        assert await svc2.ctx.db.read(counts) == (1, 1, 2, 1)  # incident + alert events, one audit


async def test_incident_task_decide_flow_with_events(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        [a1, a2], _ = await svc.ctx.db.write_events(alerts_with_events(["fire", "fire"]))
        res = await svc.ctx.db.write(lambda s: add_resource(s, "fire").id)
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "leader") as lead:
            r = await op.command("incident.open", {"alert_ids": [a1]})
            inc = r["data"]["incident_id"]
            await op.wait_seq(r["seq"])
            kinds = [e["kind"] for e in op.events]
            assert len(op.snapshot["alerts"]) == 2  # made before we connected: in the snapshot
            assert kinds == ["incident.upsert", "alert.upsert"]
            assert op.events[-1]["data"]["incident_id"] == inc
            r = await op.command("incident.update", {"incident_id": inc, "state": "active", "note": "到场",
                                                     "add_alert_ids": [a2], "commander": "leader"})
            assert r["ok"], r
            r = await op.command("incident.update", {"incident_id": inc, "state": "open"})
            assert r["error"]["code"] == "conflict"  # no going back
            # a task that needs a leader's approval
            r = await op.command("task.create", {"title": "增派云梯车", "incident_id": inc,
                                                 "resource_ids": [res], "requires_approval": True})
            task = r["data"]["task_id"]
            assert r["data"]["state"] == "proposed"
            r = await op.command("task.update", {"task_id": task, "state": "dispatched"})
            assert r["error"]["code"] == "conflict"  # waits for the leader
            r = await op.command("task.decide", {"task_id": task, "approve": True})
            assert r["error"]["code"] == "forbidden"
            r = await lead.command("task.decide", {"task_id": task, "approve": True, "comment": "同意"})
            assert r["ok"]
            assert r["data"]["state"] == "approved"
            r = await lead.command("task.decide", {"task_id": task, "approve": False})
            assert r["error"]["code"] == "conflict"  # already decided
            r = await op.command("task.update", {"task_id": task, "state": "dispatched"})
            assert r["ok"]
            await op.wait_seq(r["seq"])
            res_ev = [e for e in op.events if e["kind"] == "resource.upsert"][-1]
            assert res_ev["data"]["status"] == "dispatched"
            r = await op.command("task.update", {"task_id": task, "state": "done"})
            assert r["ok"]
            await op.wait_seq(r["seq"])
            assert [e for e in op.events if e["kind"] == "resource.upsert"][-1]["data"]["status"] == "available"
            # reject path
            r = await op.command("task.create", {"title": "疏散", "incident_id": inc, "requires_approval": True})
            r = await lead.command("task.decide", {"task_id": r["data"]["task_id"], "approve": False})
            assert r["data"]["state"] == "rejected"
            # focus.set reaches every hall, with who set it
            r = await lead.command("focus.set", {"incident_id": inc})
            await op.wait_seq(r["seq"])
            f = op.events[-1]
            assert f["kind"] == "focus.set"
            assert f["data"]["incident_id"] == inc
            assert f["data"]["by"] == "leader"
            r = await op.command("resource.update", {"resource_id": res, "status": "out_of_service"})
            assert r["ok"]
            r = await op.command("resource.update", {"resource_id": res})
            assert r["error"]["code"] == "bad_args"
            seqs = op.seqs()
            assert seqs == sorted(set(seqs))  # strictly increasing, no duplicates
