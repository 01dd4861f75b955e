"""Pure data-quality checks for one reading: timestamp, metric, value. No I/O.

The hot path calls these per value (20,000+ per second), so they return a DQReason or None
instead of raising, and avoid allocating on the good path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from protocol.enums import DQReason
from sync_service.catalog import SENTINELS


@dataclass(frozen=True, slots=True)
class MetricRange:
    name: str
    min: float
    max: float
    stuck: bool  # exact repeats of this metric are suspicious (continuous, noisy quantity)


def parse_ts(raw: object) -> float | None:
    """Unix seconds (int/float) or an ISO 8601 string; naive ISO times are taken as UTC.
    None when it is neither (the caller counts it as malformed)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and 10 <= len(raw) <= 40:
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    return None


def check_ts(ts: float, now: float, max_past_s: float, max_future_s: float) -> DQReason | None:
    if not math.isfinite(ts):
        return DQReason.MALFORMED
    if ts < now - max_past_s:
        return DQReason.TS_PAST
    if ts > now + max_future_s:
        return DQReason.TS_FUTURE
    return None


def check_value(raw: object, spec: MetricRange) -> DQReason | None:
    """NaN/Inf, sentinels (-9999 and friends), then the metric's physical range. JSON has no
    NaN: devices and gateways send null for it, so null counts as NaN."""
    if raw is None:
        return DQReason.NAN
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return DQReason.MALFORMED
    v = float(raw)
    if v != v or v in (math.inf, -math.inf):
        return DQReason.NAN
    if v in SENTINELS:
        return DQReason.SENTINEL
    if v < spec.min or v > spec.max:
        return DQReason.OUT_OF_RANGE
    return None


def stuck_update(last: dict[str, float], repeats: dict[str, int], name: str, v: float, spec: MetricRange,
                 threshold: int) -> bool:
    """Feed one value of a device's metric; True when the metric is now considered stuck.

    A noisy physical quantity (a water level, a temperature) never repeats to the last bit ten
    times running; a frozen sensor does. Values at the range's ends are exempt: 0 mm of rain or
    0 smoke is a normal, stable state. The state is kept in two plain dicts per device (last
    value, repeats): dicts of floats and ints are invisible to the cyclic garbage collector,
    which would otherwise walk an object per device and metric in every full collection."""
    if last.get(name) == v:  # NaN never equals: a missing entry reads as "different"
        n = repeats[name] = repeats.get(name, 0) + 1
    else:
        last[name] = v
        n = repeats[name] = 0
    return spec.stuck and n >= threshold and spec.min < v < spec.max


@dataclass(slots=True)
class StuckTracker:
    """One metric's stuck state on its own (the ingest path keeps it per device, stuck_update)."""

    last: dict[str, float] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)

    def update(self, v: float, spec: MetricRange, threshold: int) -> bool:
        """Feed a value; True when the metric is now considered stuck."""
        return stuck_update(self.last, self.repeats, spec.name, v, spec, threshold)
