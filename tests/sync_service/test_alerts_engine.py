"""The rule engine on reading sequences: thresholds, direction, hysteresis, minimum duration,
rate of change; and the engine's bookkeeping (sink calls, state kept only when needed)."""

from __future__ import annotations

import math

from protocol.enums import DQReason
from sync_service.alerts.engine import LevelChange, Rule, RuleEngine, RuleState, evaluate
from sync_service.ingest.validate import MetricRange, StuckTracker, check_ts, check_value, parse_ts

LEVEL = Rule(1, "water_level", "level", True, ((1, 4.5), (2, 5.2), (3, 6.0), (4, 6.8)), hysteresis=0.1)


def run(rule: Rule, seq: list[tuple[float, float]]) -> list[int]:
    """Effective level after each (ts, value)."""
    st = RuleState()
    out = []
    for ts, v in seq:
        evaluate(rule, st, v, ts)
        out.append(st.level)
    return out


def test_four_levels_up_and_down() -> None:
    vals = [4.0, 4.6, 5.3, 6.1, 6.9, 6.0, 5.0, 3.0]
    assert run(LEVEL, list(enumerate(vals))) == [0, 1, 2, 3, 4, 3, 1, 0]


def test_hysteresis_keeps_level_near_the_line() -> None:
    # 4.5 raises blue; hovering at 4.45 (within 0.1) keeps it; 4.39 clears; 4.45 does not re-raise
    assert run(LEVEL, list(enumerate([4.5, 4.45, 4.41, 4.39, 4.45, 4.5]))) == [1, 1, 1, 0, 0, 1]


def test_below_direction_with_hysteresis() -> None:
    gas = Rule(2, "gas_pressure", "pressure", False, ((2, 250.0), (3, 200.0), (4, 150.0)), hysteresis=10)
    assert run(gas, list(enumerate([300, 249, 255, 261, 199, 205, 149, 300]))) == [0, 2, 2, 0, 3, 3, 4, 0]


def test_min_duration_waits_for_a_continuous_run() -> None:
    r = Rule(3, "water_level", "level", True, ((1, 4.5), (2, 5.2)), min_duration_s=300)
    # above 4.5 from t=0; a dip at t=200 restarts the clock; reached at t=500 (300 s after t=200's end)
    seq = [(0, 4.6), (100, 4.7), (200, 4.0), (250, 4.6), (400, 4.8), (550, 4.9), (600, 5.3), (950, 5.4)]
    assert run(r, seq) == [0, 0, 0, 0, 0, 1, 1, 2]


def test_going_down_is_immediate_even_with_min_duration() -> None:
    r = Rule(4, "t", "m", True, ((2, 10.0),), min_duration_s=60)
    assert run(r, [(0, 11), (61, 11), (62, 1)]) == [0, 2, 0]


def test_rate_of_change_rising_and_its_direction() -> None:
    r = Rule(5, "water_level", "level", True, ((3, 6.0),), rate_per_min=0.05, rate_level=2)
    # +0.06 m/min -> yellow by rate; steady -> back to 0; falling fast does not count for "above"
    seq = [(0, 3.0), (60, 3.06), (120, 3.06), (180, 2.5), (240, 6.5)]
    assert run(r, seq) == [0, 2, 0, 0, 3]  # last: threshold 3 beats the rate's 2
    below = Rule(6, "gas_pressure", "pressure", False, (), rate_per_min=30, rate_level=3)
    assert run(below, [(0, 400), (60, 390), (120, 350), (180, 400)]) == [0, 0, 3, 0]


def test_rate_ignores_tiny_intervals_and_late_readings() -> None:
    r = Rule(7, "t", "m", True, (), rate_per_min=1.0)
    st = RuleState()
    assert evaluate(r, st, 0.0, 100.0) is None
    assert evaluate(r, st, 50.0, 100.2) is None  # 0.2 s apart: no rate from noise
    assert evaluate(r, st, 0.0, 50.0) is None  # older than the last: ignored entirely
    assert st.prev_ts == 100.2


def test_engine_sink_receives_changes_and_forgets_quiet_devices() -> None:
    got: list[LevelChange] = []
    eng = RuleEngine(got.append)
    eng.set_rules([LEVEL, Rule(9, "water_level", "level", True, (), rate_per_min=0.5, enabled=False),
                   Rule(10, "water_level", "level", True, (), offline_periods=4, offline_level=1)])
    for i, v in enumerate([3.0, 3.1, 5.0, 5.0, 3.0]):
        eng.on_value("water_level", 42, "level", v, float(i))
    assert [(c.old, c.new, c.threshold, c.by_rate) for c in got] == [(0, 1, 4.5, False), (1, 0, None, False)]
    assert eng.states == {}  # back to quiet on a rule without a rate: no state kept
    assert eng.offline_rules["water_level"].id == 10
    eng.on_value("rain_gauge", 42, "rain_1h", 99.0, 0.0)  # no rule for that type: nothing
    assert len(got) == 2
    eng.delete(1)
    eng.on_value("water_level", 42, "level", 9.0, 10.0)
    assert len(got) == 2


def test_rule_upsert_reindexes() -> None:
    got: list[LevelChange] = []
    eng = RuleEngine(got.append)
    eng.set_rules([LEVEL])
    eng.upsert(Rule(1, "water_level", "level", True, ((4, 9.0),)))
    eng.on_value("water_level", 1, "level", 7.0, 0.0)
    assert got == []
    eng.on_value("water_level", 1, "level", 9.5, 1.0)
    assert got[-1].new == 4


def test_value_checks() -> None:
    spec = MetricRange("level", -5, 30, True)
    assert check_value(3.2, spec) is None
    assert check_value(math.nan, spec) == DQReason.NAN
    assert check_value(math.inf, spec) == DQReason.NAN
    assert check_value(-9999, spec) == DQReason.SENTINEL
    assert check_value(31, spec) == DQReason.OUT_OF_RANGE
    assert check_value("3", spec) == DQReason.MALFORMED
    assert check_value(None, spec) == DQReason.NAN  # JSON's NaN
    assert check_value(False, spec) == DQReason.MALFORMED
    assert check_ts(0.0, 1.7e9, 86400, 300) == DQReason.TS_PAST
    assert check_ts(1.7e9 + 301, 1.7e9, 86400, 300) == DQReason.TS_FUTURE
    assert check_ts(math.nan, 1.7e9, 86400, 300) == DQReason.MALFORMED
    assert parse_ts("2024-06-01T08:00:00+08:00") == 1717200000.0
    assert parse_ts("2024-06-01T00:00:00") == 1717200000.0  # naive: UTC
    assert parse_ts(True) is None
    assert parse_ts("soon") is None


def test_stuck_tracker_exempts_range_ends() -> None:
    spec = MetricRange("level", 0, 30, True)
    tr = StuckTracker()
    flags = [tr.update(2.5, spec, 3) for _ in range(5)]
    assert flags == [False, False, False, True, True]
    assert tr.update(2.6, spec, 3) is False
    zero = StuckTracker()
    assert not any(zero.update(0.0, spec, 3) for _ in range(10))
