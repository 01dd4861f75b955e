"""The same ingest path on the real PostgreSQL (pg_url: a fresh database per test): batched
inserts, device-state flush, dq upserts, alerts, escalation, metrics, retention and series use
dialect-specific SQL, so they are exercised here as well as on SQLite."""

from __future__ import annotations

import time

import aiohttp
import orjson
from sqlalchemy import func, select

from protocol.commands import ReadingsSeries
from sync_service.commands.readings import readings_series
from sync_service.db.models import DataQualityCount, Device, Reading, ReadingHourly
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import bureau_key, running


async def test_ingest_alerts_metrics_retention_on_postgres(pg_url: str) -> None:
    async with running(pg_url, metrics=True, escalate_after_s=60.0) as r:
        now = time.time()
        readings = [{"device": "WL-1", "ts": now - 600 + i, "values": {"level": 3.0 + i / 1000}} for i in range(500)]
        readings += [{"device": "RG-1", "ts": now, "values": {"rain_1h": 90.0}},  # red
                     {"device": "WL-2", "ts": now, "values": {"level": -9999}},
                     {"device": "SD-1", "ts": now, "values": {"smoke": 0.1}}]  # fire's device: refused
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{r.c['http'].port}/ingest/v1/readings", data=orjson.dumps({"readings": readings}),
                headers={"Authorization": f"Bearer {bureau_key('water')}"}) as resp:
            assert resp.status == 200
            assert await resp.json() == {"accepted": 501, "rejected": {"sentinel": 1, "auth_domain": 1}}
        await r.settle()
        assert await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) == 501
        dev = await r.ctx.db.read(lambda s: s.scalar(select(Device).where(Device.uid == "WL-1")))
        assert dev.health == "online"
        assert dev.last_values == {"level": 3.499}
        r.c["ingest"].ingest([{"device": "WL-2", "ts": now, "values": {"level": -9999}}], bureau=Bureau("water", "gw"), door="t")
        await r.settle()  # the second flush adds to the stored count (ON CONFLICT DO UPDATE)
        dq = await r.ctx.db.read(lambda s: {(c.domain, c.reason): c.count for c in s.scalars(select(DataQualityCount))})
        assert dq[("water", "sentinel")] == 2
        assert dq[("water", "auth_domain")] == 1
        # the red one is written first (news), the yellow water-level one after it
        alert = next(e.data for e in reversed(r.kinds("alert.upsert")) if e.data["device_id"] == "RG-1")
        assert (alert["level"], alert["title"]) == (4, "短时强降雨")
        assert await r.c["escalator"].run_once(now + 61) == 1
        tick = (await r.c["metrics"].tick(now))[0].data
        assert tick["city"]["alerts_red"] == 1
        assert tick["city"]["water_level_max"] == 3.5  # rounded to 2 places for the tiles
        # retention and series with PostgreSQL's floor()
        res = await r.c["retention"].run_once(now + r.ctx.config.raw_retention_s + 7200)
        assert res["deleted"] == 501
        n_hourly = await r.ctx.db.read(lambda s: s.scalar(select(func.sum(ReadingHourly.n))))
        assert n_hourly == 501
        cctx = r.actor_ctx()
        cctx.now = now + r.ctx.config.raw_retention_s + 7200
        series = await r.ctx.db.read(lambda s: readings_series(s, cctx, ReadingsSeries(
            metric="level", device_id="WL-1", since_ts=now - 7200, until_ts=now + 3600, bucket_s=3600, agg="count")))
        assert sum(p[1] for p in series["points"]) == 500
        assert series["sources"]["hourly"] >= 1
