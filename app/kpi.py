"""KPI derivations from metrics ticks, Qt-free: current value, trend and threshold band.

A tick is {"ts", "city": {name: value}, "towns": {code: {name: value}}} (protocol.events).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KpiState:
    value: float | None
    previous: float | None
    trend: int  # -1 falling, 0 steady, +1 rising
    band: str  # "ok" | "warn" | "alarm" | "none"
    history: tuple[float, ...]


def metric_value(tick: dict[str, Any] | None, key: str, town: str | None = None) -> float | None:
    """A value from a tick: "city" by default, or one town's. Non-numbers count as missing."""
    if not tick:
        return None
    src = (tick.get("towns") or {}).get(town, {}) if town else tick.get("city") or {}
    v = src.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def series(history: Iterable[dict[str, Any]], key: str, town: str | None = None) -> tuple[list[float], list[float]]:
    """(timestamps, values) of a metric over the kept ticks, skipping ticks without it."""
    xs: list[float] = []
    ys: list[float] = []
    for t in history:
        v = metric_value(t, key, town)
        if v is not None and isinstance(t.get("ts"), int | float):
            xs.append(float(t["ts"]))
            ys.append(v)
    return xs, ys


def band(value: float | None, warn: float | None, alarm: float | None, higher_is_worse: bool = True) -> str:
    if value is None:
        return "none"
    def beyond(limit: float | None) -> bool:
        return limit is not None and (value >= limit if higher_is_worse else value <= limit)
    if beyond(alarm):
        return "alarm"
    if beyond(warn):
        return "warn"
    return "ok"


def trend(values: Sequence[float], window: int = 6, tolerance: float = 0.005) -> int:
    """Compare the newest value with the mean of the `window` before it; changes within
    `tolerance` (relative) are steady, so noise does not make the arrow flicker."""
    if len(values) < 2:
        return 0
    now = values[-1]
    before = values[-1 - window:-1] or values[:-1]
    ref = sum(before) / len(before)
    scale = max(abs(ref), 1e-9)
    if (now - ref) / scale > tolerance:
        return 1
    if (ref - now) / scale > tolerance:
        return -1
    return 0


def kpi_state(history: Sequence[dict[str, Any]], key: str, *, warn: float | None = None,
              alarm: float | None = None, higher_is_worse: bool = True, town: str | None = None,
              points: int = 60) -> KpiState:
    _, ys = series(history, key, town)
    value = ys[-1] if ys else None
    prev = ys[-2] if len(ys) > 1 else None
    return KpiState(value, prev, trend(ys), band(value, warn, alarm, higher_is_worse), tuple(ys[-points:]))


def device_totals(stats: dict[Any, Any], town: str | None = None, domain: str | None = None) -> dict[str, int]:
    """Sum device health counts, optionally for one town or domain."""
    out = {"total": 0, "online": 0, "offline": 0, "faulty": 0}
    for s in stats.values():
        if (town and s.town != town) or (domain and s.domain != domain):
            continue
        out["total"] += s.total
        out["online"] += s.online
        out["offline"] += s.offline
        out["faulty"] += s.faulty
    return out


def derived_value(store: Any, source: str, town: str | None = None) -> float | None:
    """Indicators computed from the store's collections rather than sent in metrics ticks."""
    from app.alert_filter import OPEN_STATES
    from protocol.enums import IncidentState, TaskState

    counts = getattr(store, "open_alert_counts", None)  # kept by StateStore: no scan of every alert
    match source:
        case "alerts_open" | "alerts_red" if counts is not None:
            lv = 4 if source == "alerts_red" else 1
            return float(sum(n for (level, t, _d), n in counts.items() if level >= lv and (town is None or t == town)))
        case "alerts_open":
            return float(sum(1 for a in store.alerts.values()
                             if a.state in OPEN_STATES and (town is None or a.town == town)))
        case "alerts_red":
            return float(sum(1 for a in store.alerts.values() if a.level == 4 and a.state in OPEN_STATES
                             and (town is None or a.town == town)))
        case "incidents_active":
            return float(sum(1 for i in store.incidents.values() if i.state != IncidentState.CLOSED))
        case "decisions_waiting":
            return float(sum(1 for t in store.tasks.values()
                             if t.requires_approval and t.state == TaskState.PROPOSED))
        case "devices_online_pct":
            tot = device_totals(store.device_stats, town)
            return 100.0 * tot["online"] / tot["total"] if tot["total"] else None
        case "devices_total":
            tot = device_totals(store.device_stats, town)
            return float(tot["total"]) if tot["total"] else None
    return None
