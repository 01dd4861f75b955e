"""Headline indicators for the consoles' KPI tiles, town map and device-health panel.

Every TICK_S: one metrics.tick event (small: it goes to every console)
    {"ts", "city": {...}, "towns": {code: {...}}, "candidates": [...]}
and, only when they changed, devices.stats (the full health table) and dq.counts.
City keys: readings_per_s, values_per_s, devices_total, devices_online_pct, devices_offline,
devices_faulty, alerts_open, alerts_red/orange/yellow/blue, alerts_unacked, incident_candidates,
pm25_avg, rain_1h_max, water_level_max, gas_pressure_min, ingest_pending, mqtt_dropped, alerts_pending
and alerts_shed (the alert manager's backlog and what overload shed).
Town keys (towns with data only): pm25, rain_1h, level, alerts_open, alerts_red.
Readings come from the devices' last values in memory (online devices only); alert counts
from the store (open alerts are few and indexed by state).

Once per store: only the leader ticks (sync_service/leader.py), from the whole city. Its
registry merges the devices' state other processes flushed (alerts/offline.py); readings_per_s,
values_per_s, ingest_pending, mqtt_dropped, alerts_pending and alerts_shed add up every live
process's figures, which each sends in its heartbeat (`figures`); on PostgreSQL dq.counts come
from the store (every process adds its counts there), on SQLite from memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import AlertSource, AlertState, DeviceHealth, Level
from protocol.events import DEVICES_STATS, DQ_COUNTS, METRICS_TICK
from sync_service.alerts.state import shared
from sync_service.alerts.store import OPEN_STATES
from sync_service.context import ServiceContext
from sync_service.db.models import Alert, DataQualityCount
from sync_service.eventlog import NewEvent
from sync_service.leader import leadership, leading

log = logging.getLogger(__name__)
TICK_S = 5.0
CANDIDATE_WINDOW_S = 600.0  # alerts of one building/area raised within this form a candidate
MAX_CANDIDATES = 20
_LEVEL_KEYS = {Level.RED: "alerts_red", Level.ORANGE: "alerts_orange", Level.YELLOW: "alerts_yellow",
               Level.BLUE: "alerts_blue"}
# (device type, metric, city key, town key, aggregate)
_READINGS = (("air_station", "pm25", "pm25_avg", "pm25", "avg"),
             ("rain_gauge", "rain_1h", "rain_1h_max", "rain_1h", "max"),
             ("water_level", "level", "water_level_max", "level", "max"),
             ("gas_pressure", "pressure", "gas_pressure_min", None, "min"))


def _alert_rows(s: Session) -> list[Any]:
    return list(s.execute(select(Alert.id, Alert.level, Alert.town, Alert.domain, Alert.state, Alert.source,
                                 Alert.group_key, Alert.first_ts, Alert.incident_id, Alert.silenced,
                                 Alert.building_id).where(Alert.state.in_(OPEN_STATES))))


def candidates(rows: list[Any]) -> list[dict[str, Any]]:
    """Open alerts not yet in an incident, sharing a group_key, raised within the window of the
    group's newest: one incident candidate per group."""
    groups: dict[str, list[Any]] = {}
    for r in rows:
        if r.incident_id is None and r.source != AlertSource.OFFLINE.value and r.group_key:
            groups.setdefault(r.group_key, []).append(r)
    out = []
    for key, rs in groups.items():
        newest = max(r.first_ts for r in rs)
        near = [r for r in rs if r.first_ts >= newest - CANDIDATE_WINDOW_S]
        if len(near) < 2:
            continue
        near.sort(key=lambda r: (-r.level, r.id))
        out.append({"group_key": key, "count": len(near), "level": near[0].level, "town": near[0].town,
                    "domain": near[0].domain, "building_id": near[0].building_id,
                    "alert_ids": [r.id for r in near[:20]], "first_ts": min(r.first_ts for r in near)})
    out.sort(key=lambda c: (-c["level"], -c["count"], c["group_key"]))
    return out[:MAX_CANDIDATES]


class Metrics:
    def __init__(self, ctx: ServiceContext, interval_s: float = TICK_S) -> None:
        self.ctx = ctx
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, tuple[float, int, int]] = {}  # member -> (t, readings, values) at the last tick
        self._last_stats: list[dict[str, Any]] | None = None
        self._last_dq: dict[str, Any] | None = None
        self.ticks = 0

    async def start(self) -> None:
        lead = leadership(self.ctx)
        if lead is not None:
            lead.figures = self.figures
            lead.on_change(self._on_leadership)
        self._task = asyncio.create_task(self._loop(), name="metrics")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _on_leadership(self, _gained: bool) -> None:
        # A new leader sends the tables at its first tick, and takes rates from there on.
        self._last, self._last_stats, self._last_dq = {}, None, None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not leading(self.ctx):
                continue
            try:
                await self.tick()
            except Exception:
                log.exception("metrics tick failed")

    def figures(self) -> dict[str, Any]:
        """This process's counters, for its heartbeat and the leader's sums."""
        c = self.ctx.components
        p, mqtt = c.get("ingest"), c.get("mqtt")
        ind = getattr(c.get("alerts"), "indicators", dict)()
        return {"r": p.readings_total if p is not None else 0, "v": p.values_total if p is not None else 0,
                "p": p.pending if p is not None else 0, "md": getattr(mqtt, "dropped", 0),
                "ap": ind.get("alerts_pending", 0), "as": ind.get("alerts_shed", 0)}

    def _members(self, now: float) -> dict[str, tuple[float, dict[str, Any]]]:
        """(time, figures) of this process (now) and of every other live one (its last heartbeat)."""
        lead = leadership(self.ctx)
        out = {lead.member_id if lead else "": (now, self.figures())}
        for m in lead.others() if lead is not None else ():
            if m.figures:
                out[m.id] = (m.t, m.figures)
        return out

    def _rates(self, members: dict[str, tuple[float, dict[str, Any]]]) -> tuple[float, float]:
        last, self._last = self._last, {k: (t, int(f.get("r", 0)), int(f.get("v", 0))) for k, (t, f) in members.items()}
        rps = vps = 0.0
        for k, (t, r, v) in self._last.items():
            p = last.get(k)
            if p is None or t <= p[0] or r < p[1]:  # new member, no newer heartbeat, or it restarted
                continue
            rps += (r - p[1]) / (t - p[0])
            vps += (v - p[2]) / (t - p[0])
        return round(rps, 1), round(vps, 1)

    async def _dq(self, pipeline: Any, shared: bool) -> dict[str, Any]:
        """dq.counts data: on a shared store from the store (every process adds its counts there
        within a state flush; never above the truth: a process that started later has not
        loaded what others counted since), else this process's own totals. Counts only grow:
        each is kept at least what was sent last (no dip when a new leader starts)."""
        if not shared:
            snap = pipeline.dq.snapshot()
        else:
            rows = await self.ctx.db.read(lambda s: list(s.execute(
                select(DataQualityCount.domain, DataQualityCount.reason, DataQualityCount.count))))
            total: dict[str, int] = {}
            by_domain: dict[str, dict[str, int]] = {}
            for domain, reason, n in rows:
                total[reason] = total.get(reason, 0) + int(n)
                by_domain.setdefault(domain, {})[reason] = int(n)
            snap = {"total": total, "by_domain": by_domain}
        last = self._last_dq
        if last is not None:
            for k, n in last["total"].items():
                snap["total"][k] = max(n, snap["total"].get(k, 0))
            for dom, counts in last["by_domain"].items():
                mine = snap["by_domain"].setdefault(dom, {})
                for k, n in counts.items():
                    mine[k] = max(n, mine.get(k, 0))
        return snap

    def _readings(self, city: dict[str, Any], towns: dict[str, dict[str, Any]]) -> None:
        reg = shared(self.ctx).registry
        wanted = {typ: (metric, ckey, tkey) for typ, metric, ckey, tkey, _ in _READINGS}
        by_city: dict[str, list[float]] = {}
        by_town: dict[tuple[str, str], list[float]] = {}
        for d in reg.devices.values():
            w = wanted.get(d.device_type)
            if w is None or d.revoked or d.health == DeviceHealth.OFFLINE:
                continue
            v = d.last_values.get(w[0])
            if v is None:
                continue
            by_city.setdefault(w[1], []).append(v)
            if w[2] is not None:
                by_town.setdefault((w[2], d.town), []).append(v)
        aggs = {ckey: agg for _, _, ckey, _, agg in _READINGS} | {tkey: agg for *_, tkey, agg in _READINGS if tkey}
        for ckey, vals in by_city.items():
            city[ckey] = round(_agg(vals, aggs[ckey]), 2)
        for (tkey, town), vals in by_town.items():
            towns.setdefault(town, {})[tkey] = round(_agg(vals, aggs[tkey]), 2)

    async def tick(self, now: float | None = None) -> list[NewEvent]:
        now = time.time() if now is None else now
        sh = shared(self.ctx)
        reg = sh.registry
        rows = await self.ctx.db.read(_alert_rows)
        members = self._members(now)
        rps, vps = self._rates(members)
        figs = [f for _, f in members.values()]
        stats = reg.stats()
        offline = sum(r["offline"] for r in stats)
        faulty = sum(r["faulty"] for r in stats)
        pipeline = self.ctx.components.get("ingest")
        city: dict[str, Any] = {
            "mqtt_dropped": sum(int(f.get("md", 0)) for f in figs),
            "readings_per_s": rps, "values_per_s": vps, "devices_total": len(reg.devices),
            "devices_online_pct": reg.online_pct(), "devices_offline": offline, "devices_faulty": faulty,
            "alerts_open": len(rows), "ingest_pending": sum(int(f.get("p", 0)) for f in figs),
            "alerts_unacked": sum(1 for r in rows if r.state == AlertState.NEW.value and not r.silenced),
            # the alert managers' backlog and what overload shed
            "alerts_pending": sum(int(f.get("ap", 0)) for f in figs),
            "alerts_shed": sum(int(f.get("as", 0)) for f in figs),
        }
        for key in _LEVEL_KEYS.values():
            city[key] = 0
        towns: dict[str, dict[str, Any]] = {}
        for r in rows:
            key = _LEVEL_KEYS.get(Level(r.level)) if 1 <= r.level <= 4 else None
            if key:
                city[key] += 1
            if r.town:
                t = towns.setdefault(r.town, {"alerts_open": 0, "alerts_red": 0})
                t["alerts_open"] = t.get("alerts_open", 0) + 1
                t["alerts_red"] = t.get("alerts_red", 0) + (r.level == Level.RED)
        cands = candidates(rows)
        city["incident_candidates"] = len(cands)
        self._readings(city, towns)
        events = [NewEvent(METRICS_TICK, {"ts": now, "city": city, "towns": towns, "candidates": cands})]
        if stats != self._last_stats:
            events.append(NewEvent(DEVICES_STATS, {"ts": now, "items": stats}))
        lead = leadership(self.ctx)
        dq = await self._dq(pipeline, lead is not None and lead.shared) if pipeline is not None else None
        if dq is not None and dq != self._last_dq:
            events.append(NewEvent(DQ_COUNTS, {"ts": now, **dq}))
        await self.ctx.db.write_events(lambda s: (None, events))
        self._last_stats = stats
        self._last_dq = dq
        self.ticks += 1
        return events


def _agg(vals: list[float], agg: str) -> float:
    if agg == "avg":
        return sum(vals) / len(vals)
    return max(vals) if agg == "max" else min(vals)


def build_components(ctx: ServiceContext) -> list[Any]:
    from sync_service.retention import Retention

    m = Metrics(ctx)
    r = Retention(ctx)
    ctx.components.update({"metrics": m, "retention": r})
    return [m, r]
