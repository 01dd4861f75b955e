"""Query readings.series: one device's metric, or an aggregate over a type/town, bucketed.

Answers from the raw readings for the recent part of the range and from readings_hourly for
the part older than the raw retention (pruned there; hourly resolution). Flagged readings
(quality 1) are left out. A bureau operator sees only devices of their domains.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from protocol.commands import ReadingsSeries
from protocol.enums import ErrorCode
from sync_service.commands.registry import CommandContext, CommandFailed, query
from sync_service.db.models import Device, Reading, ReadingHourly
from sync_service.retention import HOUR, raw_cutoff

MAX_POINTS = 5000
DEFAULT_RAW_RETENTION_S = 2 * 24 * 3600


def _bucket(s: Session, col: Any, b: float) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        return func.floor(col / b) * b
    return cast(col / b, Integer) * b


def _raw_retention(ctx: CommandContext) -> float:
    for comp in ctx.services.values():
        cfg = getattr(getattr(comp, "ctx", None), "config", None)
        if cfg is not None and hasattr(cfg, "raw_retention_s"):
            return float(cfg.raw_retention_s)
    return DEFAULT_RAW_RETENTION_S


@query("readings.series")
def readings_series(s: Session, ctx: CommandContext, args: ReadingsSeries) -> dict[str, Any]:
    until = args.until_ts if args.until_ts is not None else ctx.now
    if until <= args.since_ts:
        raise CommandFailed(ErrorCode.BAD_ARGS, "until_ts must be after since_ts")
    if (until - args.since_ts) / args.bucket_s > MAX_POINTS:
        raise CommandFailed(ErrorCode.BAD_ARGS, f"more than {MAX_POINTS} points: raise bucket_s")
    pks: Any = None
    if args.device_id is not None:
        dev = s.scalar(select(Device).where(Device.uid == args.device_id))
        if dev is None:
            ctx.not_found("device", args.device_id)
        ctx.check_domain(dev.domain)
        pks = [dev.pk]
    else:
        cond = []
        if args.device_type is not None:
            cond.append(Device.device_type == args.device_type)
        if args.town is not None:
            cond.append(Device.town == args.town)
        if ctx.actor.domains is not None:
            cond.append(Device.domain.in_(sorted(ctx.actor.domains)))
        if cond:
            pks = select(Device.pk).where(*cond).scalar_subquery()
    cut = raw_cutoff(ctx.now, _raw_retention(ctx))
    points: dict[float, float] = {}
    sources = {"raw": 0, "hourly": 0}
    if args.since_ts < cut:
        b = max(float(args.bucket_s), HOUR)
        t = _bucket(s, ReadingHourly.hour_ts, b).label("t")
        agg = {"avg": func.sum(ReadingHourly.vsum) / func.sum(ReadingHourly.n), "max": func.max(ReadingHourly.vmax),
               "min": func.min(ReadingHourly.vmin), "count": func.sum(ReadingHourly.n)}[args.agg]
        q = select(t, agg).where(ReadingHourly.metric == args.metric, ReadingHourly.hour_ts >= args.since_ts // HOUR * HOUR,
                                 ReadingHourly.hour_ts < min(until, cut))
        if pks is not None:
            q = q.where(ReadingHourly.device_pk.in_(pks))
        for row in s.execute(q.group_by(t).order_by(t)):
            points[float(row[0])] = float(row[1])
            sources["hourly"] += 1
    if until > cut:
        b = float(args.bucket_s)
        t = _bucket(s, Reading.ts, b).label("t")
        agg = {"avg": func.avg(Reading.value), "max": func.max(Reading.value), "min": func.min(Reading.value),
               "count": func.count()}[args.agg]
        q = select(t, agg).where(Reading.metric == args.metric, Reading.quality == 0,
                                 Reading.ts >= max(args.since_ts, cut), Reading.ts < until)
        if pks is not None:
            q = q.where(Reading.device_pk.in_(pks))
        for row in s.execute(q.group_by(t).order_by(t)):
            points[float(row[0])] = float(row[1])
            sources["raw"] += 1
    return {"metric": args.metric, "agg": args.agg, "bucket_s": args.bucket_s,
            "points": [[k, points[k]] for k in sorted(points)], "sources": sources}
