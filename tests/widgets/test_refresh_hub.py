"""The refresh tick: coalesced panel flushes, spread over loop passes when they are slow."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest
from PySide6.QtCore import QObject

from widgets import common
from widgets.common import RefreshHub


class _Panel(QObject):
    def __init__(self, log: list[str], name: str, busy_ms: float = 0.0) -> None:
        super().__init__()
        self.log, self.name, self.busy_ms = log, name, busy_ms

    def _on_refresh_tick(self) -> None:
        t = time.perf_counter()
        while (time.perf_counter() - t) * 1000 < self.busy_ms:
            pass
        self.log.append(self.name)


def test_slow_flushes_are_spread_over_loop_passes(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "FLUSH_BUDGET_MS", 10.0)
    hub = RefreshHub()
    hub.timer.stop()  # ticked by hand here
    log: list[str] = []
    panels = [_Panel(log, f"p{i}", busy_ms=6.0) for i in range(5)]
    for p in panels:
        hub.tick.connect(p._on_refresh_tick)
    hub._on_timer()
    assert log == ["p0", "p1"]  # 12 ms spent: the rest waits for the next passes
    hub._on_timer()  # a tick while the last one is still being worked through: skipped
    deadline = time.monotonic() + 5
    while len(log) < 5 and time.monotonic() < deadline:
        qapp.processEvents()
    assert log == ["p0", "p1", "p2", "p3", "p4"]  # each once, in order
    assert hub.split_ticks == 1
    assert hub.passes == 3


def test_emit_flushes_all_now_and_deleted_panels_drop_out(qapp: Any) -> None:
    from shiboken6 import delete
    hub = RefreshHub()
    hub.timer.stop()
    log: list[str] = []
    keep, gone = _Panel(log, "keep"), _Panel(log, "gone")
    hub.tick.connect(keep._on_refresh_tick)
    hub.tick.connect(gone._on_refresh_tick)
    hub.tick.connect(lambda: log.append("lambda"))  # a plain callable is held, as Qt would
    delete(gone)  # the C++ object is gone while the Python wrapper lives on
    hub.tick.emit()
    assert log == ["keep", "lambda"]
    assert len(hub.tick) == 2


def test_a_failing_panel_is_reported_and_the_others_still_flush(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = RefreshHub()
    hub.timer.stop()
    log: list[str] = []
    reported: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: reported.append(t))

    def broken() -> None:
        raise KeyError("x")

    hub.tick.connect(broken)
    ok = _Panel(log, "ok")
    hub.tick.connect(ok._on_refresh_tick)
    hub._on_timer()
    assert reported == [KeyError]
    assert log == ["ok"]
