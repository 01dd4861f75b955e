"""Offline grace at start: a device is counted offline, and raises an offline alert, only after
its whole offline window has passed since max(its last reading, service start).

The store here looks like a city after a restart: devices the previous run left offline, one
left online with an old reading, and devices that never reported since provisioning."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_service.db import models as m
from sync_service.ingest.auth import Bureau
from sync_service.ingest.registry import DeviceInfo
from tests.sync_service.ingest_support import DEVICES, running, seed

WATER, FIRE = Bureau("water", "gw"), Bureau("fire", "gw")
# water_level and rain_gauge: period 300 s, health window 3 periods, offline rule 4 periods
WL_HEALTH, WL_ALERT = 3 * 300, 4 * 300
SD_HEALTH = 3 * 300  # smoke detector: period 300 s, no offline rule


def previous_run(s: Session) -> None:
    """Seed, then what a previous run left: WL-1 offline with an hour-old reading, RG-1 online
    with an hour-old reading; the rest never reported (stored offline, no reading)."""
    seed(s, {uid: DEVICES[uid] for uid in ("WL-1", "WL-2", "RG-1", "SD-1", "SD-2")})
    old = time.time() - 3600
    for uid, health in (("WL-1", "offline"), ("RG-1", "online")):
        d = s.scalar(select(m.Device).where(m.Device.uid == uid))
        assert d is not None
        d.health, d.last_ts, d.last_values = health, old, {"level": 2.0} if uid == "WL-1" else {"rain_1h": 0.0}


def offline_alerts(r: object) -> list[str]:
    return sorted(e.data["device_id"] for e in r.kinds("alert.upsert")  # type: ignore[attr-defined]
                  if e.data["source"] == "offline")


async def test_fresh_start_counts_nobody_offline_until_their_window_passes(sqlite_url: str) -> None:
    before = time.time()
    async with running(sqlite_url, seed_fn=previous_run, metrics=True) as r:
        after = time.time()
        reg, off = r.c["devices"], r.c["offline"]
        started = reg.devices["SD-2"].last_seen
        assert before <= started <= after
        # the stored health (offline) is not what the consoles see: nobody had a chance to report
        tick = (await r.c["metrics"].tick(after))
        assert tick[0].data["city"]["devices_online_pct"] == 100.0
        assert tick[0].data["city"]["devices_offline"] == 0
        stats = next(e for e in tick if e.kind == "devices.stats").data["items"]
        assert sum(x["offline"] for x in stats) == 0
        assert sum(x["online"] for x in stats) == 5
        # ... and the store says so too (device lists agree with the counts)
        await r.settle()
        rows = dict(r.ctx.db.run_sync(lambda s: list(s.execute(select(m.Device.uid, m.Device.health)))))
        assert set(rows.values()) == {"online"}

        # half-way through the window: WL-2 and SD-1 report; the others stay silent
        mid = started + 600
        for uid, bureau, vals in (("WL-2", WATER, {"level": 2.5}), ("SD-1", FIRE, {"smoke": 0.0})):
            assert r.c["ingest"].ingest([{"device": uid, "ts": mid, "values": vals}], bureau=bureau,
                                        door="test", now=mid).accepted == 1
        assert await off.sweep(started + 1) == {"offline": 0, "alerts": 0, "outage": 0}
        assert await off.sweep(started + WL_HEALTH - 1) == {"offline": 0, "alerts": 0, "outage": 0}
        await r.settle()
        assert offline_alerts(r) == []

        # one health window after start: the three silent ones (the hour-old readings do not count)
        res = await off.sweep(started + WL_HEALTH + 1)
        assert res == {"offline": 3, "alerts": 0, "outage": 0}
        assert {u for u, d in reg.devices.items() if d.health == "offline"} == {"WL-1", "RG-1", "SD-2"}
        tick = await r.c["metrics"].tick(started + WL_HEALTH + 2)
        assert tick[0].data["city"]["devices_online_pct"] == 40.0
        # the offline rule's window (4 periods) from start: alerts for the two silent water devices
        assert (await off.sweep(started + WL_ALERT - 1))["alerts"] == 0
        assert (await off.sweep(started + WL_ALERT + 1))["alerts"] == 2
        await r.settle()
        assert offline_alerts(r) == ["RG-1", "WL-1"]
        # those that reported half-way go offline one window after their reading, not after start
        assert (await off.sweep(mid + SD_HEALTH - 1))["offline"] == 0
        res = await off.sweep(mid + WL_ALERT + 1)
        assert (res["offline"], res["alerts"]) == (2, 1)
        await r.settle()
        assert offline_alerts(r) == ["RG-1", "WL-1", "WL-2"]


async def test_a_device_registered_later_gets_its_window_from_registration(sqlite_url: str) -> None:
    async with running(sqlite_url, seed_fn=lambda s: seed(s, {"WL-1": DEVICES["WL-1"]})) as r:
        reg, off = r.c["devices"], r.c["offline"]
        started = reg.devices["WL-1"].last_seen
        later = started + 2000  # WL-1 is long past its windows by then
        reg.add(DeviceInfo(999, "WL-9", "water_level", "water", "hongmei", 113.6, 23.0, None, "x" * 64, False,
                           "offline", None, {}), later)
        assert reg.devices["WL-9"].health == "online"
        res = await off.sweep(later + 1)
        assert (res["offline"], res["alerts"]) == (1, 1)  # WL-1 only
        res = await off.sweep(later + WL_ALERT + 1)
        assert (res["offline"], res["alerts"]) == (1, 1)  # now WL-9
        await r.settle()
        assert offline_alerts(r) == ["WL-1", "WL-9"]


async def test_revoked_devices_stay_offline_and_never_alert(sqlite_url: str) -> None:
    def revoked(s: Session) -> None:
        seed(s, {"WL-1": DEVICES["WL-1"]})
        d = s.scalar(select(m.Device).where(m.Device.uid == "WL-1"))
        assert d is not None
        d.revoked = True

    async with running(sqlite_url, seed_fn=revoked, metrics=True) as r:
        assert r.c["devices"].devices["WL-1"].health == "offline"
        assert r.c["devices"].online_pct() == 0.0
        assert await r.c["offline"].sweep(time.time() + 10 * WL_ALERT) == {"offline": 0, "alerts": 0, "outage": 0}
