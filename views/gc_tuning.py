"""Keep Python's cyclic garbage collector from stalling the Qt thread.

The console holds tens of thousands of long-lived objects (alerts, incidents, rows) and makes
thousands more per second under a burst. A collection walks every object of the generations it
collects, about 1 µs each on the wall machines: a full collection with 30k alerts took 60-100
ms, and with the default thresholds a middle-generation collection under a 2,000 events/s
burst walked ~11k survivors (10-20 ms), the biggest single stall left in bench_ui.

So: the middle generation is collected after every YOUNG_PER_MIDDLE young collections instead
of 10 (it then holds ~3k objects, 3-4 ms), and every FREEZE_EVERY_S the survivors are moved
into the permanent generation (gc.freeze) so the oldest generation never holds more than about
a second of survivors (a full collection stays near 10 ms) and the alerts already kept are
never walked again. The cost is that reference cycles that become garbage after they were
frozen are not collected by the young collections: the state objects (pydantic models, dicts)
make none, but closures, classes made at run time and exceptions kept with their tracebacks do.
So at most every DEFROST_EVERY_S, when the console is quiet (fewer than QUIET_EVENTS_PER_S
events applied over the last QUIET_S, nothing queued), everything is unfrozen, collected once
and frozen again: one pause of a few hundred ms with 100k alerts, at a quiet moment, instead of
memory that creeps up over days on a wall that never restarts. bench_ui's soak
(`--ui-soak-minutes`) checks that memory does not keep growing under a burst.

Every collection runs on the Qt thread (app.gc_policy: a worker thread that collected a cycle
holding a Qt object would run its destructor off the Qt thread and crash the console later);
MainThreadCollector polls the thresholds every COLLECT_EVERY_MS.
"""

from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, QTimer

from app import gc_policy
from app.store import StateStore

log = logging.getLogger(__name__)

FREEZE_EVERY_S = 1.0
YOUNG_PER_MIDDLE = 3  # CPython's default is 10
DEFROST_EVERY_S = 1800.0
QUIET_S = 30.0
QUIET_EVENTS_PER_S = 20.0
COLLECT_EVERY_MS = 10  # ~700 allocations are made in far less only under a burst: then a young
# generation of a few thousand objects, a millisecond or two to collect


def freeze() -> None:
    gc.collect(1)  # young garbage goes first; survivors are long-lived state
    gc.freeze()


def defrost() -> int:
    """Collect everything once, frozen objects included, then freeze the survivors again.
    Returns how many objects were unreachable."""
    gc.unfreeze()
    try:
        return gc.collect()
    finally:
        gc.freeze()


def tune_thresholds() -> None:
    young, _middle, old = gc.get_threshold()
    gc.set_threshold(young, YOUNG_PER_MIDDLE, old)


class MainThreadCollector(QObject):
    """Automatic collection off; the thread this is made on (the Qt thread) collects instead."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        gc_policy.collect_on_this_thread_only()
        self.collections = 0
        self.timer = QTimer(self, interval=COLLECT_EVERY_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> None:
        if gc_policy.collect_if_due() is not None:
            self.collections += 1


class GcTuning(QObject):
    def __init__(self, store: StateStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        tune_thresholds()
        self.collector = MainThreadCollector(self)
        self.timer = QTimer(self, interval=int(FREEZE_EVERY_S * 1000))
        self.timer.timeout.connect(freeze)
        self.timer.start()
        self.store = store
        self.defrosts = 0
        self.last_defrost = time.monotonic()
        self._window = (time.monotonic(), store.seq if store is not None else 0)
        self.quiet_timer = QTimer(self, interval=int(QUIET_S * 1000))
        self.quiet_timer.timeout.connect(self.maybe_defrost)
        self.quiet_timer.start()
        if store is not None:
            store.reset.connect(self._on_store_reset)

    def maybe_defrost(self) -> bool:
        """Called every QUIET_S: defrost if it is due and the last QUIET_S were quiet."""
        now = time.monotonic()
        seq = self.store.seq if self.store is not None else 0
        (t0, seq0), self._window = self._window, (now, seq)
        rate = (seq - seq0) / max(now - t0, 1e-3)
        busy = self.store is not None and self.store.backlog > 0
        if now - self.last_defrost < DEFROST_EVERY_S or rate >= QUIET_EVENTS_PER_S or busy:
            return False
        t = time.perf_counter()
        n = defrost()
        self.last_defrost, self.defrosts = now, self.defrosts + 1
        log.info("quiet-time full collection: %d unreachable objects, %.0f ms", n, (time.perf_counter() - t) * 1000)
        return True

    def _on_store_reset(self) -> None:
        freeze()
