"""Domain isolation (分权分域): a bureau operator sees nothing of another domain - not in the
snapshot, not in live or replayed events, not in query results - and cannot touch it."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from protocol.events import DEVICES_STATS, DQ_COUNTS, RULE_UPSERT
from sync_service.db.models import Device
from sync_service.eventlog import NewEvent
from tests.sync_service.data_helpers import alerts_with_events
from tests.sync_service.server_helpers import Client, service


def _city_tables(s: Session) -> tuple[None, list[NewEvent]]:
    stats = [{"domain": d, "device_type": t, "town": "nancheng", "total": 10, "online": 9, "offline": 1, "faulty": 0}
             for d, t in (("fire", "smoke_detector"), ("water", "water_level"), ("urban", "gas_pressure"))]
    dq = {"ts": time.time(), "total": {"nan": 7, "sentinel": 3},
          "by_domain": {"fire": {"nan": 2}, "water": {"nan": 5, "sentinel": 3}}}
    rules = [NewEvent(RULE_UPSERT, {"id": 900 + i, "device_type": t, "metric": m, "thresholds": {"1": 1.0}})
             for i, (t, m) in enumerate((("smoke_detector", "smoke"), ("water_level", "level")))]
    return None, [*rules, NewEvent(DEVICES_STATS, {"items": stats, "ts": time.time()}), NewEvent(DQ_COUNTS, dq)]


def _devices(s: Session) -> None:
    for uid, t, d in (("SD-1", "smoke_detector", "fire"), ("WL-1", "water_level", "water")):
        s.add(Device(uid=uid, device_type=t, domain=d, town="nancheng", lon=113.75, lat=23.0,
                     credential_hash="0" * 64, health="online", last_values={}))


def _domains_in(events: list[dict]) -> set[str | None]:
    return {e["domain"] for e in events}


async def test_bureau_operator_sees_only_its_domain(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        db = svc.ctx.db
        (fire_a, water_a), _ = await db.write_events(alerts_with_events(["fire", "water"]))
        await db.write_events(_city_tables)
        await db.write(_devices)
        async with Client.open(svc.url, "operator") as op:
            r = await op.command("incident.open", {"alert_ids": [water_a]})
            water_inc = r["data"]["incident_id"]
            await op.command("focus.set", {"incident_id": water_inc})
        async with Client.open(svc.url, "bureau_fire") as bf, Client.open(svc.url, "operator") as op:
            assert bf.welcome["domains"] == ["fire"]
            snap = bf.snapshot
            assert {a["domain"] for a in snap["alerts"]} == {"fire"}
            assert [d["code"] for d in snap["domains"]] == ["fire"]
            assert {t["domain"] for t in snap["device_types"]} == {"fire"}
            fire_types = {t["code"] for t in snap["device_types"]}
            assert snap["rules"]
            assert {r["device_type"] for r in snap["rules"]} <= fire_types
            assert snap["incidents"] == []  # the water incident is not theirs
            # nor which incident has the focus: only that it is elsewhere
            assert [{k: f[k] for k in ("incident_id", "elsewhere")} for f in snap["focus"]] == [
                {"incident_id": None, "elsewhere": True}]
            assert {s["domain"] for s in snap["devices_stats"]} == {"fire"}
            assert snap["dq"][0]["by_domain"] == {"fire": {"nan": 2}}
            assert snap["dq"][0]["total"] == {"nan": 2}
            assert len(towns := snap["towns"]) == 34  # geography is for everyone
            assert towns[0]["name_zh"]
            # the operator (all domains) sees everything
            assert {a["domain"] for a in op.snapshot["alerts"]} == {"fire", "water"}
            assert len(op.snapshot["devices_stats"]) == 3

            # live: events of both domains; the bureau gets only its own
            _, evs = await db.write_events(alerts_with_events(["water", "fire", "urban", "water", "fire"]))
            await db.write_events(_city_tables)
            await op.wait_seq(svc.hub.last_seq)
            await bf.until(lambda f: f["type"] == "events" and f["items"][-1]["kind"] == DQ_COUNTS)
            assert _domains_in(op.events) == {"fire", "water", "urban", None}
            assert _domains_in(bf.events) == {"fire", None}
            stats = [e for e in bf.events if e["kind"] == DEVICES_STATS][0]
            assert {i["domain"] for i in stats["data"]["items"]} == {"fire"}
            rules = [e["data"]["device_type"] for e in bf.events if e["kind"] == RULE_UPSERT]
            assert rules == ["smoke_detector"]  # the water rule is the water bureau's
            assert len([e for e in op.events if e["kind"] == RULE_UPSERT]) == 2
            dq = [e for e in bf.events if e["kind"] == DQ_COUNTS][0]
            assert set(dq["data"]["by_domain"]) == {"fire"}

            # queries: scoped results, forbidden when asking for another domain
            r = await bf.query("devices.list", {})
            assert [d["id"] for d in r["data"]["items"]] == ["SD-1"]
            r = await bf.query("devices.list", {"domain": "water"})
            assert r["error"]["code"] == "forbidden"
            r = await bf.query("device.get", {"device_id": "WL-1"})
            assert r["error"]["code"] == "forbidden"
            r = await bf.query("alerts.history", {})
            assert {a["domain"] for a in r["data"]["items"]} == {"fire"}
            r = await op.query("alerts.history", {"limit": 100})
            assert {a["domain"] for a in r["data"]["items"]} == {"fire", "water", "urban"}
            # commands on another domain's objects are refused
            r = await bf.command("incident.open", {"alert_ids": [water_a]})
            assert r["error"]["code"] == "forbidden"
            r = await bf.command("incident.update", {"incident_id": water_inc, "note": "x"})
            assert r["error"]["code"] == "forbidden"
            r = await bf.command("task.create", {"title": "越权", "domain": "water"})
            assert r["error"]["code"] == "forbidden"
            r = await bf.command("incident.open", {"alert_ids": [fire_a]})
            assert r["ok"]
        async with Client.open(svc.url, "bureau_water") as bw:
            r = await bw.query("keyunits.list", {})
            assert r["error"]["code"] == "forbidden"  # the fire brigade's key units
            assert {a["domain"] for a in bw.snapshot["alerts"]} == {"water"}
            assert bw.snapshot["focus"][0]["incident_id"] == water_inc
        # replay (resume from 0) is filtered the same way
        async with Client.open(svc.url, "bureau_water", last_seq=0) as bw2:
            assert bw2.welcome["mode"] == "resume"
            await bw2.until(lambda f: f["type"] == "events" and any(e["kind"] == DQ_COUNTS for e in f["items"]))
            assert _domains_in(bw2.events) <= {"water", None}
            assert "water" in _domains_in(bw2.events)


def _candidate_alerts(s: Session) -> tuple[dict[str, list[int]], list[NewEvent]]:
    """Two alerts of one group in fire and two in water: one incident candidate per domain."""
    from tests.sync_service.data_helpers import add_alert

    ids: dict[str, list[int]] = {}
    for domain, key in (("fire", "bldg:5001"), ("water", "town:hongmei:water_level")):
        alerts = [add_alert(s, domain, level=3) for _ in range(2)]
        for a in alerts:
            a.group_key = key
        ids[domain] = [a.id for a in alerts]
    return ids, []


async def test_metrics_tick_candidates_are_scoped(sqlite_url: str) -> None:
    """metrics.tick carries incident candidates (alert ids, group keys) of every domain: a bureau
    operator gets only its own domains' ones - live, in the snapshot and in a replay."""
    from protocol.events import METRICS_TICK

    async with service(sqlite_url, parts=("sync_service.metrics",)) as svc:
        ids, _ = await svc.ctx.db.write_events(_candidate_alerts)
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "bureau_fire") as bf:
            await svc.ctx.components["metrics"].tick()
            f = await op.until(lambda f: f["type"] == "events" and any(e["kind"] == METRICS_TICK for e in f["items"]))
            seq = next(e["seq"] for e in f["items"] if e["kind"] == METRICS_TICK)
            await bf.wait_seq(seq)
            full = next(e["data"] for e in op.events if e["seq"] == seq)
            mine = next(e["data"] for e in bf.events if e["seq"] == seq)
        assert {c["domain"] for c in full["candidates"]} == {"fire", "water"}
        assert full["city"]["incident_candidates"] == 2
        assert [c["domain"] for c in mine["candidates"]] == ["fire"]
        assert sorted(mine["candidates"][0]["alert_ids"]) == sorted(ids["fire"])
        assert mine["city"]["incident_candidates"] == 1
        assert "town:hongmei:water_level" not in str(mine)
        assert mine["city"]["alerts_open"] == full["city"]["alerts_open"] == 4  # city aggregate: unchanged
        async with Client.open(svc.url, "bureau_fire") as bf2, \
                Client.open(svc.url, "bureau_water", last_seq=seq - 1) as bw:
            snap_tick = bf2.snapshot["metrics"][-1]
            assert [c["domain"] for c in snap_tick["candidates"]] == ["fire"]
            assert snap_tick["city"]["incident_candidates"] == 1
            assert bw.welcome["mode"] == "resume"
            await bw.wait_seq(seq)
            replayed = next(e["data"] for e in bw.events if e["seq"] == seq)
            assert [c["domain"] for c in replayed["candidates"]] == ["water"]
            assert sorted(replayed["candidates"][0]["alert_ids"]) == sorted(ids["water"])


async def test_focus_moving_away_reaches_the_bureau_redacted(sqlite_url: str) -> None:
    """focus.set goes to everyone; a session outside the focused incident's domain learns that
    the focus moved elsewhere (incident_id null, elsewhere: true), nothing about where."""
    from protocol.events import FOCUS_SET

    async with service(sqlite_url) as svc:
        (fire_a, water_a), _ = await svc.ctx.db.write_events(alerts_with_events(["fire", "water"]))
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "bureau_fire") as bf, \
                Client.open(svc.url, "bureau_water") as bw:
            fire_inc = (await op.command("incident.open", {"alert_ids": [fire_a]}))["data"]["incident_id"]
            water_inc = (await op.command("incident.open", {"alert_ids": [water_a]}))["data"]["incident_id"]
            seqs = []
            for inc in (fire_inc, water_inc, None):
                r = await op.command("focus.set", {"incident_id": inc})
                assert r["ok"], r
                seqs.append(r["seq"])
            for c in (op, bf, bw):
                await c.wait_seq(seqs[-1])

            def focus(c: Client) -> list[dict]:
                return [e for e in c.events if e["kind"] == FOCUS_SET]

            assert [e["data"]["incident_id"] for e in focus(op)] == [fire_inc, water_inc, None]
            assert [e["seq"] for e in focus(bf)] == seqs  # every move, none left out
            on_fire, moved, cleared = focus(bf)
            assert (on_fire["data"]["incident_id"], on_fire["domain"]) == (fire_inc, "fire")
            assert moved["data"] == {"incident_id": None, "by": "operator", "hall": None,
                                     "ts": moved["data"]["ts"], "elsewhere": True}
            assert (moved["domain"], moved["town"]) == (None, None)
            assert cleared["data"]["incident_id"] is None
            assert "elsewhere" not in cleared["data"]  # cleared, not moved: nothing to hide
            assert [e["data"].get("elsewhere", False) for e in focus(bw)] == [True, False, False]
            assert focus(bw)[1]["data"]["incident_id"] == water_inc
        # a replay is redacted the same way
        async with Client.open(svc.url, "bureau_fire", last_seq=seqs[0]) as bf2:
            await bf2.wait_seq(seqs[-1])
            assert [e["data"].get("elsewhere", False) for e in bf2.events if e["kind"] == FOCUS_SET] == [True, False]
