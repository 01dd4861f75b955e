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
frozen are never collected; the state objects (pydantic models, dicts) make none, and
bench_ui's long run (`--ui-soak-minutes`) checks that memory does not keep growing.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from app.store import StateStore

FREEZE_EVERY_S = 1.0
YOUNG_PER_MIDDLE = 3  # CPython's default is 10


def freeze() -> None:
    gc.collect(1)  # young garbage goes first; survivors are long-lived state
    gc.freeze()


def tune_thresholds() -> None:
    young, _middle, old = gc.get_threshold()
    gc.set_threshold(young, YOUNG_PER_MIDDLE, old)


class GcTuning(QObject):
    def __init__(self, store: StateStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        tune_thresholds()
        self.timer = QTimer(self, interval=int(FREEZE_EVERY_S * 1000))
        self.timer.timeout.connect(freeze)
        self.timer.start()
        if store is not None:
            store.reset.connect(self._on_store_reset)

    def _on_store_reset(self) -> None:
        freeze()
