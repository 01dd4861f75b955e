"""Update paths under a burst: work a panel does per refresh tick, and the collector's tuning."""

from __future__ import annotations

import gc
from typing import Any

from tests.widgets.conftest import alert, push, tick
from widgets.kpi_tile import KpiTile


def test_a_metrics_tile_ignores_alert_changes_a_derived_one_follows_them(store: Any, qtbot: Any,
                                                                         qapp: Any) -> None:
    keyed = KpiTile(store, options={"key": "aqi"})
    derived = KpiTile(store, options={"source": "alerts_open"})
    for t in (keyed, derived):
        qtbot.addWidget(t)
    push(store, "metrics.tick", {"ts": 1000, "city": {"aqi": 40}})
    tick(qapp)
    recomputed: list[str] = []
    keyed._recompute = lambda: recomputed.append("keyed")  # type: ignore[method-assign]
    derived._recompute = lambda: recomputed.append("derived")  # type: ignore[method-assign]
    for i in range(50):  # a burst of alerts: the aqi tile has nothing to redo
        push(store, "alert.upsert", alert(i + 1))
    tick(qapp)
    assert recomputed == ["derived"]
    push(store, "metrics.tick", {"ts": 1005, "city": {"aqi": 41}})
    tick(qapp)
    assert "keyed" in recomputed


def test_gc_tuning_keeps_the_middle_generation_small_and_freezes_survivors(qapp: Any) -> None:
    from app.store import StateStore
    from views.gc_tuning import YOUNG_PER_MIDDLE, GcTuning
    before = gc.get_threshold()
    try:
        store = StateStore()
        tuning = GcTuning(store)
        assert gc.get_threshold()[1] == YOUNG_PER_MIDDLE
        gc.unfreeze()
        keep = [{"n": i} for i in range(1000)]  # long-lived state made after the last freeze
        store.reset.emit()  # a snapshot swapped in: its survivors are frozen at once
        assert gc.get_freeze_count() >= len(keep)
        walked = {id(o) for o in gc.get_objects()}  # the generations a collection walks
        assert not any(id(x) in walked for x in keep)
        tuning.timer.stop()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_quiet_console_collects_frozen_cycles_now_and_then(qapp: Any, monkeypatch: Any) -> None:
    import weakref

    from app.store import StateStore
    from views import gc_tuning
    before = gc.get_threshold()
    clock = [1000.0]
    monkeypatch.setattr(gc_tuning.time, "monotonic", lambda: clock[0])
    try:
        store = StateStore()
        tuning = gc_tuning.GcTuning(store)
        tuning.timer.stop()
        tuning.quiet_timer.stop()

        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]  # a cycle...
        alive = weakref.ref(a)
        gc_tuning.freeze()  # ...frozen while in use (the 1 s freeze), then dropped
        del a, b
        gc.collect()
        assert alive() is not None  # frozen garbage: the ordinary collections do not see it
        clock[0] += gc_tuning.DEFROST_EVERY_S - gc_tuning.QUIET_S
        assert not tuning.maybe_defrost()  # not due yet
        clock[0] += gc_tuning.QUIET_S
        store.seq += int(gc_tuning.QUIET_S * 100)  # 100 events/s over the last window: not now
        assert not tuning.maybe_defrost()
        clock[0] += gc_tuning.QUIET_S  # then a quiet window
        store.seq += 10
        assert tuning.maybe_defrost()
        assert alive() is None
        assert tuning.defrosts == 1
        assert gc.get_freeze_count() > 0  # the survivors are frozen again
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
