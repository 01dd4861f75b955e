"""Cycles are collected on the Qt thread only: a Qt object in a cycle is never freed by a worker."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any

import pytest

from app import gc_policy


def test_only_the_owning_thread_collects_and_by_the_thresholds() -> None:
    gc_policy.collect_on_this_thread_only()
    assert not gc.isenabled()
    assert gc_policy.owner() == threading.get_ident()

    class Node:
        pass

    def cycles(n: int) -> weakref.ref[Any]:
        first = None
        for _ in range(n):
            a, b = Node(), Node()
            a.other, b.other = b, a  # type: ignore[attr-defined]
            first = first or weakref.ref(a)
        return first  # type: ignore[return-value]

    gc.collect()
    in_worker: list[Any] = []
    t = threading.Thread(target=lambda: in_worker.extend([cycles(20_000), gc_policy.collect_if_due()]))
    t.start()
    t.join()
    kept, answer = in_worker
    assert answer is None  # not the owner: never collects
    assert kept() is not None  # 40,000 objects made there, no automatic collection ran
    assert gc_policy.collect_if_due() in (0, 1)  # due (far over the young threshold) here
    assert kept() is None
    gc.collect()
    assert gc_policy.collect_if_due() is None  # nothing allocated since: not due


@pytest.mark.gui
def test_qt_timers_in_cycles_dropped_while_workers_allocate_are_freed_on_the_qt_thread(
        qapp: Any, qtlog: Any) -> None:
    """What crashed CI: QObjects with running timers in reference cycles, and worker threads that
    allocate (as the login's scrypt and cache threads do). Freed by a worker's collection, Qt
    warns "Timers cannot be stopped from another thread" and later fires a freed timer."""
    from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer

    from views.gc_tuning import MainThreadCollector

    freed_on: set[bool] = set()
    qt_thread = QThread.currentThread()

    class Holder(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.timer = QTimer(self)
            self.timer.timeout.connect(self.tick)
            self.timer.start(100)  # running, not firing often: the loop must get to the maker
            self.me = self  # only a collection frees it
            self.destroyed.connect(lambda: freed_on.add(QThread.currentThread() is qt_thread))

        def tick(self) -> None:
            pass

    collector = MainThreadCollector()
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            junk = [[] for _ in range(1000)]
            for j in junk:
                j.append(j)
            time.sleep(0.001)  # the Qt thread gets the GIL too

    workers = [threading.Thread(target=churn) for _ in range(2)]
    for w in workers:
        w.start()
    made = [0]

    def make() -> None:
        for _ in range(10):
            Holder()
        made[0] += 10

    maker = QTimer(interval=2)
    maker.timeout.connect(make)
    maker.start()
    loop = QEventLoop()
    QTimer.singleShot(2500, loop.quit)
    t0 = time.monotonic()
    loop.exec()
    maker.stop()
    stop.set()
    for w in workers:
        w.join()
    gc.collect()
    qapp.processEvents()
    assert time.monotonic() - t0 >= 2.0
    assert made[0] >= 50
    assert collector.collections > 0
    assert freed_on == {True}  # every Holder freed, each on the Qt thread
    assert not [r for r in qtlog.records if "another thread" in r.message]
    collector.timer.stop()
