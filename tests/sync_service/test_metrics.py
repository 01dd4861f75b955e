"""metrics.tick, devices.stats and dq.counts: contents, and emitted only when changed."""

from __future__ import annotations

import time

from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import running

WATER, FIRE, ENV = Bureau("water", "gw"), Bureau("fire", "gw"), Bureau("environment", "gw")


async def test_tick_contents_stats_and_dq_only_when_changed(sqlite_url: str) -> None:
    async with running(sqlite_url, metrics=True) as r:
        m = r.c["metrics"]
        now = time.time()
        pipe = r.c["ingest"]
        first = await m.tick(now)
        assert [e.kind for e in first] == ["metrics.tick", "devices.stats", "dq.counts"]
        assert first[0].data["city"]["devices_total"] == 10
        # none has reported yet, but none has been silent for its window since start either
        assert first[0].data["city"]["devices_online_pct"] == 100.0
        pipe.ingest([{"device": "AQ-1", "ts": now, "values": {"pm25": 80.0}},
                     {"device": "AQ-2", "ts": now, "values": {"pm25": 40.0}}], bureau=ENV, door="t", now=now)
        pipe.ingest([{"device": "RG-1", "ts": now, "values": {"rain_1h": 31.0}},
                     {"device": "WL-1", "ts": now, "values": {"level": 3.5}},
                     {"device": "WL-2", "ts": now, "values": {"level": 4.0}}], bureau=WATER, door="t", now=now)
        pipe.ingest([{"device": "SD-1", "ts": now, "values": {"smoke": 0.5}},
                     {"device": "SD-2", "ts": now, "values": {"smoke": 0.6}},
                     {"device": "FD-1", "ts": now, "values": {"alarm": 1}}], bureau=FIRE, door="t", now=now)
        await r.settle()
        evs = await m.tick(now + 5)
        tick = evs[0].data
        city = tick["city"]
        assert city["readings_per_s"] == 8 / 5
        assert city["devices_online_pct"] == 100.0  # GP-1 and SA-1 silent, still within their window
        assert city["pm25_avg"] == 60.0
        assert city["rain_1h_max"] == 31.0
        assert city["water_level_max"] == 4.0
        assert city["alerts_open"] == 4
        assert (city["alerts_red"], city["alerts_yellow"]) == (3, 1)
        assert city["alerts_unacked"] == 4
        assert (city["alerts_pending"], city["alerts_shed"]) == (0, 0)  # all written, nothing shed
        assert tick["towns"]["songshanhu"]["pm25"] == 80.0
        assert tick["towns"]["nancheng"] == {"alerts_open": 3, "alerts_red": 3}
        assert tick["towns"]["hongmei"]["level"] == 4.0
        # three detectors in one building within minutes: one incident candidate
        assert city["incident_candidates"] == 1
        cand = tick["candidates"][0]
        assert (cand["group_key"], cand["count"], cand["level"], cand["town"]) == ("bldg:5001", 3, 4, "nancheng")
        assert len(cand["alert_ids"]) == 3
        # health unchanged (online before, in the start grace; online now, reporting): no new table
        assert "devices.stats" not in [e.kind for e in evs]
        stats = next(e for e in first if e.kind == "devices.stats").data["items"]
        row = next(x for x in stats if x["device_type"] == "smoke_detector")
        assert (row["domain"], row["town"], row["total"], row["online"], row["offline"]) == ("fire", "nancheng", 2, 2, 0)
        # nothing changed: only the tick
        assert [e.kind for e in await m.tick(now + 10)] == ["metrics.tick"]
        pipe.ingest([{"device": "NOPE", "ts": now, "values": {"x": 1}}], bureau=WATER, door="t", now=now)
        evs = await m.tick(now + 15)
        assert [e.kind for e in evs] == ["metrics.tick", "dq.counts"]
        assert evs[1].data["by_domain"]["water"]["unknown_device"] == 1
        assert evs[1].data["total"]["unknown_device"] == 1
        assert evs[0].data["city"]["readings_per_s"] == 0.0


async def test_ticks_are_small(sqlite_url: str) -> None:
    """They go to every console every few seconds: a city of alerts must not bloat them."""
    import orjson

    async with running(sqlite_url, metrics=True) as r:
        now = time.time()
        r.c["ingest"].ingest([{"device": "SD-1", "ts": now, "values": {"smoke": 0.5}}], bureau=FIRE, door="t")
        await r.settle()
        tick = (await r.c["metrics"].tick(now))[0]
        assert len(orjson.dumps(tick.data)) < 4000
