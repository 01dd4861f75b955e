"""Raw readings retention and hourly downsampling.

Every RUN_EVERY_S: raw readings older than raw_retention_s (cut at an hour boundary) are
summarised per device, metric and hour into readings_hourly (n, min, max, sum) and deleted, in
CHUNK_S slices so the single writer is never held for long (commands interleave between
slices). A slice merges into existing hourly rows (ON CONFLICT add), so late readings landing
in an hour already summarised are folded in on the next run. Flagged readings (quality 1,
stuck sensors) are not summarised. Hourly rows older than hourly_retention_s are deleted.
Once per store: only the leader runs it (sync_service/leader.py); a new leader's first run is
within FIRST_RUN_S of taking over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sync_service.context import ServiceContext
from sync_service.db.models import Reading
from sync_service.leader import leading

log = logging.getLogger(__name__)
HOUR = 3600.0
CHUNK_S = 600.0
RUN_EVERY_S = 3600.0
FIRST_RUN_S = 60.0

_SUMMARY = {
    "sqlite": """
        INSERT INTO readings_hourly (device_pk, metric, hour_ts, n, vmin, vmax, vsum)
        SELECT device_pk, metric, CAST(ts / 3600 AS INTEGER) * 3600.0, count(*), min(value), max(value), sum(value)
        FROM readings WHERE ts >= :lo AND ts < :hi AND quality = 0
        GROUP BY device_pk, metric, CAST(ts / 3600 AS INTEGER)
        ON CONFLICT (device_pk, metric, hour_ts) DO UPDATE SET
            n = readings_hourly.n + excluded.n, vmin = min(readings_hourly.vmin, excluded.vmin),
            vmax = max(readings_hourly.vmax, excluded.vmax), vsum = readings_hourly.vsum + excluded.vsum""",
    "postgresql": """
        INSERT INTO readings_hourly (device_pk, metric, hour_ts, n, vmin, vmax, vsum)
        SELECT device_pk, metric, floor(ts / 3600) * 3600.0, count(*), min(value), max(value), sum(value)
        FROM readings WHERE ts >= :lo AND ts < :hi AND quality = 0
        GROUP BY device_pk, metric, floor(ts / 3600)
        ON CONFLICT (device_pk, metric, hour_ts) DO UPDATE SET
            n = readings_hourly.n + excluded.n, vmin = least(readings_hourly.vmin, excluded.vmin),
            vmax = greatest(readings_hourly.vmax, excluded.vmax), vsum = readings_hourly.vsum + excluded.vsum""",
}


def raw_cutoff(now: float, raw_retention_s: float) -> float:
    """Raw readings before this (an hour boundary) are summarised and pruned."""
    return (now - raw_retention_s) // HOUR * HOUR


def _slice(s: Session, lo: float, hi: float) -> tuple[int, int]:
    dialect = s.get_bind().dialect.name
    summarised = s.execute(text(_SUMMARY["postgresql" if dialect == "postgresql" else "sqlite"]),
                           {"lo": lo, "hi": hi}).rowcount
    deleted = s.execute(text("DELETE FROM readings WHERE ts >= :lo AND ts < :hi"), {"lo": lo, "hi": hi}).rowcount
    return summarised or 0, deleted or 0


class Retention:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None
        self.last: dict[str, Any] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(FIRST_RUN_S)
        while True:
            if not leading(self.ctx):
                await asyncio.sleep(FIRST_RUN_S)  # a follower: look again (a new leader runs soon)
                continue
            try:
                self.last = await self.run_once(time.time())
                if self.last.get("deleted"):
                    log.info("retention: %s", self.last)
            except Exception:
                log.exception("retention run failed")
            await asyncio.sleep(RUN_EVERY_S)

    async def run_once(self, now: float) -> dict[str, Any]:
        cfg = self.ctx.config
        cutoff = raw_cutoff(now, cfg.raw_retention_s)
        oldest = await self.ctx.db.read(lambda s: s.scalar(select(func.min(Reading.ts))))
        summarised = deleted = slices = 0
        if oldest is not None and oldest < cutoff:
            lo = oldest // CHUNK_S * CHUNK_S
            while lo < cutoff:
                hi = min(lo + CHUNK_S, cutoff)
                a, b = await self.ctx.db.write(lambda s, lo=lo, hi=hi: _slice(s, lo, hi))
                summarised, deleted, slices = summarised + a, deleted + b, slices + 1
                lo = hi
        hourly_cut = now - cfg.hourly_retention_s
        hourly_deleted = await self.ctx.db.write(lambda s: s.execute(
            text("DELETE FROM readings_hourly WHERE hour_ts < :c"), {"c": hourly_cut}).rowcount or 0)
        return {"cutoff": cutoff, "slices": slices, "summarised_rows": summarised, "deleted": deleted,
                "hourly_deleted": hourly_deleted}
