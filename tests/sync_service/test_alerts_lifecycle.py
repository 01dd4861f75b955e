"""Alerts from readings through the real pipeline and store: dedup, grouping, auto-resolve,
the lifecycle commands and their refusals, manual alerts, rules as data, device commands."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from protocol.commands import (
    AlertAck,
    AlertAssign,
    AlertNote,
    AlertRaise,
    AlertRef,
    DeviceRegister,
    DeviceRevoke,
    RuleDelete,
    RuleUpsert,
)
from protocol.enums import ErrorCode, Level
from sync_service.commands import alerts as ac
from sync_service.commands import devices as dc
from sync_service.commands import rules as rc
from sync_service.commands.registry import CommandFailed
from sync_service.db.models import Alert, AlertRule
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import Running, running

WATER = Bureau("water", "water-gw")
FIRE = Bureau("fire", "fire-gw")


def feed(r: Running, bureau: Bureau, *items: tuple[str, float, dict]) -> None:
    out = r.c["ingest"].ingest([{"device": d, "ts": ts, "values": v} for d, ts, v in items], bureau=bureau, door="test")
    assert not out.rejected, out.rejected


def last_alert(r: Running) -> dict:
    return r.kinds("alert.upsert")[-1].data


async def test_smoke_alarm_raises_red_alert_with_chinese_title_and_building_group(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        now = time.time()
        feed(r, FIRE, ("SD-1", now - 5, {"smoke": 0.01}), ("SD-1", now, {"smoke": 0.4}))
        await r.settle()
        a = last_alert(r)
        assert (a["level"], a["state"], a["source"], a["title"], a["title_en"]) == (4, "new", "rule", "烟感报警", "Smoke alarm")
        assert a["group_key"] == "bldg:5001"
        assert a["device_id"] == "SD-1"
        assert a["threshold"] == 0.25
        assert a["value"] == 0.4
        assert "南城街道" in a["message"]
        assert "红色阈值" in a["message"]
        assert a["silenced"] is False


async def test_dedup_same_source_updates_one_alert(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        t = time.time() - 100
        # smoke up, down (red alerts stay open when the condition clears), up again: one alert, count 2
        feed(r, FIRE, ("SD-1", t, {"smoke": 0.5}), ("SD-1", t + 10, {"smoke": 0.0}), ("SD-1", t + 20, {"smoke": 0.6}))
        await r.settle()
        ids = {e.data["id"] for e in r.kinds("alert.upsert")}
        assert len(ids) == 1
        a = last_alert(r)
        assert a["count"] == 2
        assert a["value"] == 0.6
        assert a["state"] == "new"
        assert any("恢复正常" in n["text"] for n in a["notes"])
        # a second detector in the same building: its own alert, same group
        feed(r, FIRE, ("SD-2", t + 30, {"smoke": 0.5}))
        await r.settle()
        b = last_alert(r)
        assert b["id"] != a["id"]
        assert b["group_key"] == a["group_key"] == "bldg:5001"


async def test_level_rises_within_open_alert_and_low_alerts_resolve_themselves(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        t = time.time() - 1000
        feed(r, WATER, ("RG-1", t, {"rain_1h": 21}))
        await r.settle()
        first = last_alert(r)
        assert first["level"] == Level.BLUE
        feed(r, WATER, ("RG-1", t + 10, {"rain_1h": 55}))
        await r.settle()
        up = last_alert(r)
        assert (up["id"], up["level"], up["count"]) == (first["id"], Level.ORANGE, 1)  # a rise is not a new occurrence
        # orange: stays open when it clears (a person decides)
        feed(r, WATER, ("RG-1", t + 20, {"rain_1h": 0}))
        await r.settle()
        assert last_alert(r)["state"] == "new"
        # a blue one nobody acknowledged resolves itself when the rain stops
        feed(r, WATER, ("WL-1", t, {"level": 4.6}))
        feed(r, WATER, ("WL-1", t + 400, {"level": 4.7}))  # min_duration 300 s
        await r.settle()
        blue = last_alert(r)
        assert (blue["device_id"], blue["level"], blue["state"]) == ("WL-1", 1, "new")
        feed(r, WATER, ("WL-1", t + 500, {"level": 3.0}))
        await r.settle()
        assert (last_alert(r)["id"], last_alert(r)["state"]) == (blue["id"], "resolved")


async def test_lifecycle_commands_and_refusals(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        feed(r, FIRE, ("SD-1", time.time(), {"smoke": 0.5}))
        await r.settle()
        aid = last_alert(r)["id"]
        res = await r.command(ac.alert_ack, AlertAck(alert_id=aid, note="收到"))
        assert res == {"alert_id": aid, "state": "acknowledged"}
        a = last_alert(r)
        assert a["acknowledged_by"] == "op"
        assert a["acknowledged_ts"] is not None
        assert a["updated_by"] == "op"
        assert a["notes"][-1]["text"] == "已确认 / acknowledged：收到"
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_ack, AlertAck(alert_id=aid))
        assert e.value.code == ErrorCode.CONFLICT
        await r.command(ac.alert_dispatch, AlertRef(alert_id=aid))
        await r.command(ac.alert_note, AlertNote(alert_id=aid, text="消防车已出发"))
        await r.command(ac.alert_assign, AlertAssign(alert_id=aid, assignee="op"))
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_assign, AlertAssign(alert_id=aid, assignee="nobody"))
        assert e.value.code == ErrorCode.NOT_FOUND
        await r.command(ac.alert_resolve, AlertRef(alert_id=aid))
        await r.command(ac.alert_reopen, AlertRef(alert_id=aid))
        assert last_alert(r)["state"] == "new"
        assert last_alert(r)["acknowledged_by"] is None
        await r.command(ac.alert_close, AlertRef(alert_id=aid))
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_reopen, AlertRef(alert_id=aid))
        assert e.value.code == ErrorCode.CONFLICT
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_ack, AlertAck(alert_id=99999))
        assert e.value.code == ErrorCode.NOT_FOUND
        water_only = r.actor_ctx("wb", "bureau_operator", frozenset({"water"}))
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_note, AlertNote(alert_id=aid, text="x"), water_only)
        assert e.value.code == ErrorCode.FORBIDDEN
        states = [e.data["state"] for e in r.kinds("alert.upsert") if e.data["id"] == aid]
        assert states == ["new", "acknowledged", "dispatched", "dispatched", "dispatched", "resolved", "new", "closed"]
        row = await r.ctx.db.read(lambda s: s.get(Alert, aid))
        assert row.state == "closed"
        assert row.assignee == "op"
        # a closed alert is history: the same detector raising again opens a new alert
        feed(r, FIRE, ("SD-1", time.time(), {"smoke": 0.0}), ("SD-1", time.time() + 1, {"smoke": 0.5}))
        await r.settle()
        assert last_alert(r)["id"] != aid


async def test_refire_after_resolve_goes_back_to_new(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        t = time.time() - 50
        feed(r, FIRE, ("SD-1", t, {"smoke": 0.5}))
        await r.settle()
        aid = last_alert(r)["id"]
        await r.command(ac.alert_ack, AlertAck(alert_id=aid))
        await r.command(ac.alert_resolve, AlertRef(alert_id=aid))
        feed(r, FIRE, ("SD-1", t + 1, {"smoke": 0.0}), ("SD-1", t + 2, {"smoke": 0.7}))
        await r.settle()
        a = last_alert(r)
        assert (a["id"], a["state"], a["count"], a["acknowledged_by"]) == (aid, "new", 2, None)


async def test_manual_raise(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        res = await r.command(ac.alert_raise, AlertRaise(level=Level.ORANGE, domain="emergency", title="群众来电：路面塌陷",
                                                         town="humen", lon=113.67, lat=22.82))
        a = last_alert(r)
        assert (a["id"], a["source"], a["level"], a["group_key"]) == (res["alert_id"], "manual", 3, "area:humen:manual")
        with pytest.raises(CommandFailed) as e:
            await r.command(ac.alert_raise, AlertRaise(level=Level.RED, domain="fire", title="x"),
                            r.actor_ctx("wb", "bureau_operator", frozenset({"water"})))
        assert e.value.code == ErrorCode.FORBIDDEN
        with pytest.raises(CommandFailed):
            await r.command(ac.alert_raise, AlertRaise(level=Level.RED, domain="nope", title="x"))


async def test_rules_are_data_and_reload_on_commit(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        admin = r.actor_ctx("admin", "admin")
        rule_id = await r.ctx.db.read(lambda s: s.scalar(select(AlertRule.id).where(AlertRule.device_type == "rain_gauge")))
        await r.command(rc.rule_upsert, RuleUpsert(id=rule_id, device_type="rain_gauge", metric="rain_1h",
                                                   thresholds={4: 10.0}, title_zh="测试暴雨", title_en="Test rain"), admin)
        assert r.kinds("rule.upsert")[-1].data["thresholds"] == {"4": 10.0}
        feed(r, WATER, ("RG-1", time.time(), {"rain_1h": 12}))
        await r.settle()
        assert (last_alert(r)["level"], last_alert(r)["title"]) == (4, "测试暴雨")
        for bad in ({"thresholds": {1: 50.0, 2: 20.0}}, {"thresholds": {7: 1.0}}, {"metric": "nope", "thresholds": {1: 1.0}}):
            with pytest.raises(CommandFailed):
                await r.command(rc.rule_upsert, RuleUpsert(device_type="rain_gauge", **{"metric": "rain_1h", **bad}), admin)
        await r.command(rc.rule_delete, RuleDelete(id=rule_id), admin)
        assert rule_id not in r.c["rules"].rules
        assert r.kinds("rule.deleted")[-1].data == {"id": rule_id}


async def test_device_register_and_revoke(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        water = r.actor_ctx("wb", "bureau_operator", frozenset({"water"}))
        res = await r.command(dc.device_register, DeviceRegister(device_id="WL-NEW", device_type="water_level",
                                                                 town="machong", lon=113.58, lat=23.05), water)
        key = res["key"]
        assert len(key) == 32
        await __import__("asyncio").sleep(0)  # the registry is updated on the loop
        out = r.c["ingest"].ingest([{"device": "WL-NEW", "key": key, "ts": time.time(), "values": {"level": 2.0}}],
                                   bureau=None, door="test")
        assert out.accepted == 1
        with pytest.raises(CommandFailed) as e:
            await r.command(dc.device_register, DeviceRegister(device_id="SD-X", device_type="smoke_detector",
                                                               town="machong", lon=113.58, lat=23.05), water)
        assert e.value.code == ErrorCode.FORBIDDEN
        await r.command(dc.device_revoke, DeviceRevoke(device_id="WL-NEW"), water)
        out = r.c["ingest"].ingest([{"device": "WL-NEW", "key": key, "ts": time.time(), "values": {"level": 2.0}}],
                                   bureau=None, door="test")
        assert out.rejected == {"auth_revoked": 1}


async def test_revocation_by_another_process_is_picked_up(sqlite_url: str) -> None:
    from sqlalchemy import update

    from sync_service.db.models import Device

    async with running(sqlite_url) as r:
        assert r.c["ingest"].ingest([{"device": "WL-1", "ts": time.time(), "values": {"level": 2.0}}],
                                    bureau=WATER, door="test").accepted == 1
        await r.ctx.db.write(lambda s: s.execute(update(Device).where(Device.uid == "WL-1").values(revoked=True)))
        await r.c["_ingest_alerts_shared"].loader.refresh()  # what the periodic refresh does
        out = r.c["ingest"].ingest([{"device": "WL-1", "ts": time.time(), "values": {"level": 2.0}}],
                                   bureau=WATER, door="test")
        assert out.rejected == {"auth_revoked": 1}
