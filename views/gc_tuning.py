"""Keep Python's cyclic garbage collector from stalling the Qt thread.

The console holds tens of thousands of long-lived objects (alerts, incidents, rows) and makes
thousands more per second under a burst. A full collection walks all of them: measured 60-100
ms pauses with 30k alerts, the biggest single stall in bench_ui. The fix: after a snapshot and
then every FREEZE_EVERY_S, move the survivors into the permanent generation (gc.freeze), so a
full collection only walks what was made since. The cost is that reference cycles created
before a freeze are never collected; the state objects (pydantic models, dicts) make none, and
bench_ui's long run checks that memory does not grow.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from app.store import StateStore

FREEZE_EVERY_S = 5.0


def freeze() -> None:
    gc.collect(1)  # young garbage goes first; survivors are long-lived state
    gc.freeze()


class GcTuning(QObject):
    def __init__(self, store: StateStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self, interval=int(FREEZE_EVERY_S * 1000))
        self.timer.timeout.connect(freeze)
        self.timer.start()
        if store is not None:
            store.reset.connect(self._on_store_reset)

    def _on_store_reset(self) -> None:
        freeze()
