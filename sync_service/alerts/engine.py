"""Rule evaluation on reading sequences: four-level thresholds, direction, hysteresis, minimum
duration and rate of change. Pure and synchronous: the ingest pipeline calls `on_value` for
every accepted value and the engine hands level changes to a sink (the alert manager).

Semantics (docs/ingest.md, "Alert rules"):
- A level L is reached when the value is beyond its threshold (>= for "above", <= for
  "below") continuously for min_duration_s (by reading time). Going up waits for the
  duration; going down is immediate.
- Hysteresis: a level already reached is kept while the value stays within `hysteresis` of
  its threshold, so a value hovering at the line does not flap.
- Rate of change: |change| per minute between consecutive readings in the rule's direction
  (rising for "above", falling for "below") at or over rate_per_min holds rate_level.
- The effective level is the higher of the threshold level and the rate level. The sink is
  called only when the effective level changes; 0 means back to normal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MIN_RATE_DT_S = 1.0  # readings closer than this give no rate (noise over tiny intervals)


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    device_type: str
    metric: str
    above: bool
    levels: tuple[tuple[int, float], ...]  # (level, threshold), level ascending
    hysteresis: float = 0.0
    min_duration_s: float = 0.0
    rate_per_min: float | None = None
    rate_level: int = 2
    offline_periods: int | None = None
    offline_level: int = 1
    enabled: bool = True
    title_zh: str = ""
    title_en: str = ""
    # Derived once, read per value on the hot path: the threshold a value must pass to be beyond
    # ANY level (the lowest for "above", the highest for "below"; +-inf without levels), and
    # whether the rule has no rate part (a quiet value then needs no state kept).
    edge: float = field(init=False, compare=False, repr=False)
    stateless: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        thresholds = [thr for _, thr in self.levels]
        if self.above:
            edge = min(thresholds, default=math.inf)
        else:
            edge = max(thresholds, default=-math.inf)
        object.__setattr__(self, "edge", edge)
        object.__setattr__(self, "stateless", self.rate_per_min is None)

    @classmethod
    def from_row(cls, r: Any) -> Rule:
        """From an AlertRule ORM row or entity (thresholds keys may be "1".."4" strings)."""
        levels = sorted((int(k), float(v)) for k, v in (r.thresholds or {}).items() if 1 <= int(k) <= 4)
        return cls(int(r.id), r.device_type, r.metric, r.direction != "below", tuple(levels),
                   float(r.hysteresis or 0.0), float(r.min_duration_s or 0.0),
                   float(r.rate_per_min) if r.rate_per_min else None, int(r.rate_level or 2),
                   int(r.offline_periods) if r.offline_periods else None, int(r.offline_level or 1),
                   bool(r.enabled), r.title_zh or "", r.title_en or "")

    def beyond(self, value: float, threshold: float, slack: float = 0.0) -> bool:
        return value >= threshold - slack if self.above else value <= threshold + slack

    def threshold_of(self, level: int) -> float | None:
        for lv, thr in self.levels:
            if lv == level:
                return thr
        return None


@dataclass(slots=True)
class RuleState:
    level: int = 0  # effective level last reported to the sink
    thr_level: int = 0  # level reached by thresholds alone
    since: dict[int, float] = field(default_factory=dict)  # level -> start of the current run
    prev_value: float | None = None
    prev_ts: float | None = None


def evaluate(rule: Rule, st: RuleState, value: float, ts: float) -> int | None:
    """Feed one reading; returns the new effective level when it changed, else None.
    Readings older than the previous one are ignored (a gateway replaying late data)."""
    if st.prev_ts is not None and ts < st.prev_ts:
        return None
    cur = st.thr_level
    reached = 0
    if cur == 0 and (value < rule.edge if rule.above else value > rule.edge):
        # No level held and short of every threshold (the usual reading): what the loop below
        # concludes, without walking the levels.
        if st.since:
            st.since.clear()
    else:
        for lv, thr in rule.levels:
            if lv <= cur and rule.beyond(value, thr, rule.hysteresis):
                reached = lv
                continue
            if rule.beyond(value, thr):
                start = st.since.setdefault(lv, ts)
                if ts - start >= rule.min_duration_s:
                    reached = lv
            else:
                st.since.pop(lv, None)
    st.thr_level = reached
    rate_lv = 0
    if rule.rate_per_min is not None and st.prev_ts is not None and st.prev_value is not None:
        dt = ts - st.prev_ts
        if dt >= MIN_RATE_DT_S:
            per_min = (value - st.prev_value) / dt * 60.0
            if (per_min if rule.above else -per_min) >= rule.rate_per_min:
                rate_lv = rule.rate_level
    st.prev_value, st.prev_ts = value, ts
    new = max(reached, rate_lv)
    if new != st.level:
        st.level = new
        return new
    return None


@dataclass(frozen=True, slots=True)
class LevelChange:
    rule: Rule
    device_pk: int
    old: int
    new: int
    value: float
    ts: float
    threshold: float | None
    by_rate: bool  # the level comes from the rate of change, not a threshold


Sink = Callable[[LevelChange], None]


class RuleEngine:
    """Rules in memory, indexed by (device type, metric); state per (rule, device)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.rules: dict[int, Rule] = {}
        self._by_key: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self.by_type: dict[str, dict[str, tuple[Rule, ...]]] = {}  # type -> metric -> rules (hot path)
        self.offline_rules: dict[str, Rule] = {}  # device type -> its offline rule
        self.states: dict[tuple[int, int], RuleState] = {}

    def set_rules(self, rules: list[Rule]) -> None:
        self.rules = {r.id: r for r in rules}
        self._reindex()

    def upsert(self, rule: Rule) -> None:
        old = self.rules.get(rule.id)
        self.rules[rule.id] = rule
        if old is not None and (old.device_type, old.metric) != (rule.device_type, rule.metric):
            self._drop_states(rule.id)
        self._reindex()

    def delete(self, rule_id: int) -> None:
        if self.rules.pop(rule_id, None) is not None:
            self._drop_states(rule_id)
            self._reindex()

    def _drop_states(self, rule_id: int) -> None:
        for k in [k for k in self.states if k[0] == rule_id]:
            del self.states[k]

    def _reindex(self) -> None:
        by_key: dict[tuple[str, str], list[Rule]] = {}
        offline: dict[str, Rule] = {}
        for r in self.rules.values():
            if not r.enabled:
                continue
            if r.levels or r.rate_per_min is not None:
                by_key.setdefault((r.device_type, r.metric), []).append(r)
            if r.offline_periods:
                prev = offline.get(r.device_type)
                if prev is None or r.offline_periods < (prev.offline_periods or 0):
                    offline[r.device_type] = r
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        by_type: dict[str, dict[str, tuple[Rule, ...]]] = {}
        for (typ, metric), rules in self._by_key.items():
            by_type.setdefault(typ, {})[metric] = rules
        self.by_type = by_type
        self.offline_rules = offline

    def on_value(self, device_type: str, device_pk: int, metric: str, value: float, ts: float) -> None:
        rules = self._by_key.get((device_type, metric))
        if rules:
            self.on_rules(rules, device_pk, value, ts)

    def on_rules(self, rules: tuple[Rule, ...], device_pk: int, value: float, ts: float) -> None:
        """on_value with the rules already looked up (the ingest path does it once per reading)."""
        for rule in rules:
            key = (rule.id, device_pk)
            st = self.states.get(key)
            if st is None:
                # Fast path for the vast majority: a quiet value on a rule without a rate part.
                if rule.stateless and (value < rule.edge if rule.above else value > rule.edge):
                    continue
                st = self.states[key] = RuleState()
            old = st.level
            new = evaluate(rule, st, value, ts)
            if new is not None:
                by_rate = new > st.thr_level
                self.sink(LevelChange(rule, device_pk, old, new, value, ts,
                                      rule.rate_per_min if by_rate else rule.threshold_of(new), by_rate))
            if st.level == 0 and not st.since and rule.stateless:
                del self.states[key]  # back to quiet: forget, keeps memory flat at 100k devices
