"""End to end through the real service (core server, hub, dispatcher) with ingest, alerts and
metrics: a reading over HTTP becomes a live alert at a console, which acknowledges it over the
websocket; scopes hold; rules edited by an admin apply at once; CAP export with the session
token the console was given."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import aiohttp
import orjson

from sync_service.db.models import BureauCredential, Device
from tests.sync_service.ingest_support import bureau_key, sha
from tests.sync_service.server_helpers import ADMIN_PASSWORD, Client, service


async def event(c: Client, pred: Any, wait_s: float = 30.0) -> dict[str, Any]:
    """The first event matching pred, among those already received or still to come (a command's
    events may arrive before its result, while `command` reads frames)."""
    deadline = time.monotonic() + wait_s
    while True:
        hit = next((e for e in c.events if pred(e)), None)
        if hit is not None:
            return hit
        await c.recv(max(0.1, deadline - time.monotonic()))


def _provision(s) -> None:  # noqa: ANN001
    s.add(BureauCredential(domain="fire", name="fire-gw", key_hash=sha(bureau_key("fire")), revoked=False,
                           created_ts=time.time()))
    s.add(Device(uid="SD-E2E", device_type="smoke_detector", domain="fire", town="nancheng", lon=113.74, lat=23.01,
                 building_id=9001, name="烟感", credential_hash=hashlib.sha256(b"k").hexdigest(), revoked=False,
                 health="offline", last_ts=None, last_values={}))


async def test_reading_to_alert_to_ack_over_the_wire(sqlite_url: str) -> None:
    async with service(sqlite_url, parts=("sync_service.ingest", "sync_service.alerts", "sync_service.metrics")) as svc:
        await svc.ctx.db.write(_provision)
        await svc.ctx.components["_ingest_alerts_shared"].loader.refresh()  # the new device and key
        http = f"http://127.0.0.1:{svc.ctx.components['http'].port}"
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "bureau_water") as water, \
                Client.open(svc.url, "admin", ADMIN_PASSWORD) as admin, aiohttp.ClientSession() as web:
            async with web.post(f"{http}/ingest/v1/readings", headers={"Authorization": f"Bearer {bureau_key('fire')}"},
                                data=orjson.dumps({"readings": [{"device": "SD-E2E", "ts": time.time(),
                                                                 "values": {"smoke": 0.6, "battery": 80}}]})) as resp:
                assert resp.status == 200
                assert await resp.json() == {"accepted": 1, "rejected": {}}
            alert = (await event(op, lambda e: e["kind"] == "alert.upsert"))["data"]
            assert (alert["title"], alert["level"], alert["group_key"]) == ("烟感报警", 4, "bldg:9001")
            res = await op.command("alert.ack", {"alert_id": alert["id"], "note": "已通知消防"})
            assert res["type"] == "result"
            assert res["ok"] is True
            acked = (await event(op, lambda e: e["kind"] == "alert.upsert" and e["data"]["state"] == "acknowledged"))["data"]
            assert acked["acknowledged_by"] == "operator"
            # the water bureau never sees the fire alert, and may not touch it
            res = await water.command("alert.note", {"alert_id": alert["id"], "text": "x"})
            assert res["ok"] is False
            assert res["error"]["code"] == "forbidden"
            assert not [e for e in water.events if e["kind"] == "alert.upsert"]
            # an admin edits the smoke rule; the engine has it at once
            rules = {r["metric"]: r for r in admin.snapshot.get("rules", []) if r["device_type"] == "smoke_detector"}
            res = await admin.command("rule.upsert", {**{k: rules["smoke"][k] for k in (
                "id", "device_type", "metric", "direction", "hysteresis")}, "thresholds": {"3": 0.1, "4": 0.9}})
            assert res["ok"] is True
            await event(admin, lambda e: e["kind"] == "rule.upsert")
            engine_rule = svc.ctx.components["rules"].rules[rules["smoke"]["id"]]
            assert engine_rule.levels == ((3, 0.1), (4, 0.9))
            # CAP export with the session token from the Welcome frame
            async with web.get(f"{http}/api/v1/alerts/{alert['id']}/cap",
                               headers={"Authorization": f"Bearer {op.welcome['session']}"}) as resp:
                assert resp.status == 200
                assert "urn:oasis:names:tc:emergency:cap:1.2" in await resp.text()
            # readings over the wire
            res = await op.query("readings.series", {"metric": "smoke", "device_id": "SD-E2E",
                                                     "since_ts": time.time() - 600, "bucket_s": 60, "agg": "max"})
            assert res["ok"] is True
            assert [p[1] for p in res["data"]["points"]] == [0.6]
