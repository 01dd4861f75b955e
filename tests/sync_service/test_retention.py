"""Raw readings summarised per device, metric and hour into readings_hourly, then pruned;
readings.series answers from raw and hourly data alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from protocol.commands import ReadingsSeries
from protocol.enums import ErrorCode
from sync_service.commands.readings import readings_series
from sync_service.commands.registry import CommandFailed
from sync_service.db.models import Device, Reading, ReadingHourly
from sync_service.retention import HOUR
from tests.sync_service.ingest_support import running

RAW_S = 2 * 86400


async def _pks(r) -> dict[str, int]:  # noqa: ANN001
    return dict(await r.ctx.db.read(lambda s: s.execute(select(Device.uid, Device.pk)).all()))


async def _insert(r, rows: list[dict]) -> None:  # noqa: ANN001
    await r.ctx.db.write(lambda s: s.execute(insert(Reading), rows))


async def test_summarise_prune_and_merge_late_readings(sqlite_url: str) -> None:
    async with running(sqlite_url, raw_retention_s=RAW_S, metrics=True) as r:
        pk = (await _pks(r))["WL-1"]
        now = 1_800_000_000.0
        old_hour = (now - RAW_S) // HOUR * HOUR - 3 * HOUR  # three hours past the cut
        rows = [{"device_pk": pk, "metric": "level", "ts": old_hour + i * 600, "value": 2.0 + i, "quality": 0}
                for i in range(12)]  # two hours, six readings each
        rows.append({"device_pk": pk, "metric": "level", "ts": old_hour + 30, "value": 99.0, "quality": 1})  # flagged
        rows.append({"device_pk": pk, "metric": "level", "ts": now - 3600, "value": 5.0, "quality": 0})  # recent: kept
        await _insert(r, rows)
        res = await r.c["retention"].run_once(now)
        assert res["deleted"] == 13
        hourly = await r.ctx.db.read(lambda s: s.execute(select(ReadingHourly.hour_ts, ReadingHourly.n, ReadingHourly.vmin,
                                                                ReadingHourly.vmax, ReadingHourly.vsum)
                                                         .order_by(ReadingHourly.hour_ts)).all())
        assert [tuple(h) for h in hourly] == [(old_hour, 6, 2.0, 7.0, 27.0), (old_hour + HOUR, 6, 8.0, 13.0, 63.0)]
        assert await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) == 1
        # a late reading in an hour already summarised is folded in on the next run
        await _insert(r, [{"device_pk": pk, "metric": "level", "ts": old_hour + 100, "value": 1.0, "quality": 0}])
        await r.c["retention"].run_once(now)
        first = await r.ctx.db.read(lambda s: s.get(ReadingHourly, (pk, "level", old_hour)))
        assert (first.n, first.vmin, first.vsum) == (7, 1.0, 28.0)
        # hourly rows past their own retention go too
        r.ctx.config.hourly_retention_s = now - old_hour - HOUR / 2
        assert (await r.c["retention"].run_once(now))["hourly_deleted"] == 1


async def test_series_from_raw_and_hourly_with_scope(sqlite_url: str) -> None:
    async with running(sqlite_url, raw_retention_s=RAW_S, metrics=True) as r:
        pks = await _pks(r)
        now = 1_800_000_000.0
        base = (now - RAW_S) // HOUR * HOUR - 2 * HOUR
        rows = [{"device_pk": pks[uid], "metric": "level", "ts": base + i * 900, "value": v + i, "quality": 0}
                for uid, v in (("WL-1", 1.0), ("WL-2", 3.0)) for i in range(8)]
        rows += [{"device_pk": pks["WL-1"], "metric": "level", "ts": now - 1800 + i * 300, "value": 10.0 + i, "quality": 0}
                 for i in range(6)]
        await _insert(r, rows)
        await r.c["retention"].run_once(now)
        cctx = r.actor_ctx()
        cctx.now = now

        def q(**kw):  # noqa: ANN202
            return r.ctx.db.read(lambda s: readings_series(s, cctx, ReadingsSeries(metric="level", **kw)))

        one = await q(device_id="WL-1", since_ts=base, until_ts=now, bucket_s=3600, agg="max")
        assert one["sources"] == {"raw": 1, "hourly": 2}
        assert one["points"] == [[base, 4.0], [base + HOUR, 8.0], [(now - 1800) // 3600 * 3600, 15.0]]
        town = await q(device_type="water_level", town="hongmei", since_ts=base, until_ts=base + 2 * HOUR, bucket_s=7200)
        expect: dict[float, list[float]] = {}
        for row in rows[:16]:  # the summarised ones, both gauges in hongmei
            expect.setdefault(row["ts"] // 7200 * 7200, []).append(row["value"])
        assert town["points"] == [[k, pytest.approx(sum(v) / len(v))] for k, v in sorted(expect.items())]
        recent = await q(device_id="WL-1", since_ts=now - 1800, until_ts=now, bucket_s=600, agg="count")
        assert [p[1] for p in recent["points"]] == [2.0, 2.0, 2.0]
        assert recent["sources"]["hourly"] == 0
        water = r.actor_ctx("wb", "bureau_operator", frozenset({"fire"}))
        water.now = now
        with pytest.raises(CommandFailed) as e:
            await r.ctx.db.read(lambda s: readings_series(s, water, ReadingsSeries(metric="level", device_id="WL-1",
                                                                                  since_ts=base)))
        assert e.value.code == ErrorCode.FORBIDDEN
        scoped = await r.ctx.db.read(lambda s: readings_series(s, water, ReadingsSeries(
            metric="level", since_ts=now - 1800, until_ts=now, bucket_s=600)))
        assert scoped["points"] == []  # a fire user aggregating water levels sees nothing of water's
        with pytest.raises(CommandFailed) as e:
            await q(device_id="WL-1", since_ts=now - 86400 * 30, until_ts=now, bucket_s=60)
        assert e.value.code == ErrorCode.BAD_ARGS
