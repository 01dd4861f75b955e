"""Escalation of unacknowledged red/orange alerts, silences, and offline detection."""

from __future__ import annotations

import time

import pytest

from protocol.commands import AlertAck, AlertEscalate, SilenceCancel, SilenceCreate
from protocol.enums import ErrorCode, SilenceScope
from sync_service.commands import alerts as ac
from sync_service.commands import silences as sc
from sync_service.commands.registry import CommandFailed
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import Running, running

FIRE, WATER, EDU = Bureau("fire", "gw"), Bureau("water", "gw"), Bureau("education", "gw")


def feed(r: Running, bureau: Bureau, device: str, ts: float, values: dict, now: float | None = None) -> None:
    out = r.c["ingest"].ingest([{"device": device, "ts": ts, "values": values}], bureau=bureau, door="test", now=now)
    assert out.accepted == 1, out.rejected


def alert_of(r: Running, device: str, source: str = "rule") -> dict:
    return [e.data for e in r.kinds("alert.upsert") if e.data["device_id"] == device and e.data["source"] == source][-1]


async def test_escalation_steps_and_roles(sqlite_url: str) -> None:
    async with running(sqlite_url, escalate_after_s=60.0) as r:
        now = time.time()
        feed(r, WATER, "RG-1", now, {"rain_1h": 60})  # orange
        feed(r, FIRE, "SD-1", now, {"smoke": 0.5})  # red
        feed(r, WATER, "WL-1", now - 400, {"level": 4.6})
        feed(r, WATER, "WL-1", now, {"level": 4.7})  # blue: never escalates
        await r.settle()
        esc = r.c["escalator"]
        assert await esc.run_once(now + 30) == 0
        assert await esc.run_once(now + 61) == 2
        rain, smoke = alert_of(r, "RG-1"), alert_of(r, "SD-1")
        assert (rain["level"], rain["escalations"]) == (4, 1)  # orange -> red
        assert (smoke["level"], smoke["escalations"]) == (4, 1)
        notices = [e for e in r.kinds("system.notice") if e.data.get("alert_id") == smoke["id"]]
        assert notices[-1].data["notify_role"] == "duty_officer"
        assert "值班主任" in notices[-1].data["text"]
        assert notices[-1].domain == "fire"
        assert await esc.run_once(now + 62) == 0  # the next step waits another period
        await r.command(ac.alert_ack, AlertAck(alert_id=rain["id"]))
        assert await esc.run_once(now + 121) == 1  # only the unacknowledged one
        smoke = alert_of(r, "SD-1")
        assert smoke["escalations"] == 2
        assert r.kinds("system.notice")[-1].data["notify_role"] == "leader"
        assert alert_of(r, "WL-1")["escalations"] == 0
        # by hand, with a reason
        res = await r.command(ac.alert_escalate, AlertEscalate(alert_id=rain["id"], reason="水浸严重"))
        assert res["escalations"] == 2
        assert "水浸严重" in alert_of(r, "RG-1")["notes"][-1]["text"]


async def test_silences_store_alerts_silenced_and_scope_by_domain(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        now = time.time()
        duty = r.actor_ctx("duty", "duty_officer")
        res = await r.command(sc.silence_create, SilenceCreate(scope=SilenceScope.BUILDING, target="5001",
                                                              ends_ts=now + 3600, reason="消防系统年检"), duty)
        ev = r.kinds("silence.upsert")[-1]
        assert (ev.data["target"], ev.data["created_by"], ev.data["cancelled"]) == ("5001", "duty", False)
        feed(r, FIRE, "SD-1", now, {"smoke": 0.5})
        feed(r, WATER, "RG-1", now, {"rain_1h": 25})
        await r.settle()
        assert alert_of(r, "SD-1")["silenced"] is True  # stored and sent, not announced
        assert alert_of(r, "RG-1")["silenced"] is False
        await r.command(sc.silence_cancel, SilenceCancel(silence_id=res["silence_id"]), duty)
        assert r.kinds("silence.upsert")[-1].data["cancelled"] is True
        feed(r, FIRE, "SD-2", now, {"smoke": 0.5})
        await r.settle()
        assert alert_of(r, "SD-2")["silenced"] is False
        # type@town, and a bureau's silence never hides another bureau's alerts
        water = r.actor_ctx("wb", "bureau_operator", frozenset({"water"}))
        await r.command(sc.silence_create, SilenceCreate(scope=SilenceScope.DEVICE_TYPE, target="water_level@hongmei",
                                                        ends_ts=now + 600, reason="河道清淤"), water)
        await r.command(sc.silence_create, SilenceCreate(scope=SilenceScope.TOWN, target="changan",
                                                        ends_ts=now + 600, reason="演练"), water)
        feed(r, WATER, "WL-2", now - 400, {"level": 5.0})
        feed(r, WATER, "WL-2", now, {"level": 5.0})
        feed(r, EDU, "SA-1", now, {"alarm": 1})
        await r.settle()
        assert alert_of(r, "WL-2")["silenced"] is True
        assert alert_of(r, "SA-1")["silenced"] is False  # changan silenced for water only
        for args, code in ((SilenceCreate(scope=SilenceScope.DEVICE, target="SD-1", ends_ts=now + 60, reason="x"),
                            ErrorCode.FORBIDDEN),
                           (SilenceCreate(scope=SilenceScope.DEVICE, target="NOPE", ends_ts=now + 60, reason="x"),
                            ErrorCode.NOT_FOUND),
                           (SilenceCreate(scope=SilenceScope.TOWN, target="humen", ends_ts=now - 1, reason="x"),
                            ErrorCode.BAD_ARGS)):
            with pytest.raises(CommandFailed) as e:
                await r.command(sc.silence_create, args, water)
            assert e.value.code == code


async def test_silenced_alerts_do_not_escalate(sqlite_url: str) -> None:
    async with running(sqlite_url, escalate_after_s=10.0) as r:
        now = time.time()
        await r.command(sc.silence_create, SilenceCreate(scope=SilenceScope.DEVICE, target="SD-1", ends_ts=now + 600,
                                                        reason="维护"), r.actor_ctx("duty", "duty_officer"))
        feed(r, FIRE, "SD-1", now, {"smoke": 0.9})
        await r.settle()
        assert await r.c["escalator"].run_once(now + 100) == 0


async def test_offline_alert_then_resolved_when_data_returns(sqlite_url: str) -> None:
    from tests.sync_service.ingest_support import DEVICES, seed

    three = {uid: DEVICES[uid] for uid in ("WL-1", "RG-1", "SD-1")}
    async with running(sqlite_url, seed_fn=lambda s: seed(s, three)) as r:
        now = time.time()
        off = r.c["offline"]
        feed(r, WATER, "WL-1", now, {"level": 3.0}, now=now)
        feed(r, WATER, "RG-1", now, {"rain_1h": 1.0}, now=now)
        feed(r, FIRE, "SD-1", now, {"smoke": 0.0}, now=now)
        assert (await off.sweep(now + 3 * 300 - 1)) == {"offline": 0, "alerts": 0, "outage": 0}
        # 3 periods: health offline for all three; water level and rain gauge have 4-period offline rules
        res = await off.sweep(now + 3 * 300 + 1)
        assert res["offline"] == 3
        assert res["alerts"] == 0
        assert r.c["devices"].devices["SD-1"].health == "offline"
        res = await off.sweep(now + 4 * 300 + 1)
        assert res["alerts"] == 2
        await r.settle()
        a = alert_of(r, "WL-1", "offline")
        assert (a["level"], a["state"], a["title"], a["group_key"]) == (1, "new", "水位计离线", "offline:hongmei:water_level")
        assert (await off.sweep(now + 5 * 300)) ["alerts"] == 0  # raised once
        later = now + 5 * 300
        feed(r, WATER, "WL-1", later, {"level": 3.1}, now=later)
        await r.settle()
        a = alert_of(r, "WL-1", "offline")
        assert a["state"] == "resolved"
        assert r.c["devices"].devices["WL-1"].health == "online"


async def test_mass_outage_is_one_notice_not_thousands_of_alerts(sqlite_url: str) -> None:
    from tests.sync_service.ingest_support import seed

    many = {f"WL-{i}": ("water_level", "hongmei", None, 113.6, 23.0) for i in range(120)}
    async with running(sqlite_url, seed_fn=lambda s: seed(s, many)) as r:
        now = time.time()
        items = [{"device": uid, "ts": now, "values": {"level": 2.0 + i / 1000}} for i, uid in enumerate(many)]
        assert r.c["ingest"].ingest(items, bureau=WATER, door="test", now=now).accepted == 120
        res = await r.c["offline"].sweep(now + 4 * 300 + 1)
        assert res == {"offline": 120, "alerts": 0, "outage": 120}
        await r.settle()
        assert not [e for e in r.kinds("alert.upsert") if e.data["source"] == "offline"]
        assert "大面积设备离线" in r.kinds("system.notice")[-1].data["text"]
