"""Deferred panel building: the window paints its first page at once, the rest follows.

The console's first frame waited for every page of every screen folded into it (an operations
hall on one screen is three tabs), the 3D city included: importing pyvista/VTK (~1.5 s), opening
the city and building its scene. With a PanelBuilder the page frames are made at once but a
panel's body is built:
- when its frame is first shown (before that frame paints: the visible page is complete in the
  first frame);
- for a hidden frame, after the first paint, one panel per idle slice (IDLE_GAP_MS apart, the
  loop serving paints, input and the socket in between), so switching to a tab is instant;
- for a heavy panel (the 3D city), only once it is shown and after the first paint: its
  libraries are imported in a worker thread first (PRELOAD_MODULES), the frame saying
  "loading" meanwhile. A hidden 3D city is never built in the background: it would hold the
  Qt thread and a gigabyte of memory for a page nobody opened.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QTimer

from views.startup_trace import mark

if TYPE_CHECKING:
    from views.page import PanelFrame

log = logging.getLogger(__name__)

HEAVY_PANELS = frozenset({"city3d"})
# imported aside after the first paint: the plots' library and the 3D view with its stack
PRELOAD_MODULES = ("pyqtgraph", "views.city3d.widget")
IDLE_GAP_MS = 40


class PanelBuilder(QObject):
    def __init__(self, parent: QObject | None = None, *, preload: tuple[str, ...] = PRELOAD_MODULES) -> None:
        super().__init__(parent)
        self.waiting: list[PanelFrame] = []  # deferred frames, in page order
        self.painted = False
        self.preload_modules = preload
        self.preloaded = threading.Event()
        self._preload_thread: threading.Thread | None = None
        self.built = 0  # bodies this builder built (tests and the log read it)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(IDLE_GAP_MS)
        self.timer.timeout.connect(self._on_timer)

    @staticmethod
    def is_heavy(panel_id: str) -> bool:
        return panel_id in HEAVY_PANELS

    # ---- frames ---------------------------------------------------------------------------
    def defer(self, frame: PanelFrame) -> None:
        self.waiting.append(frame)
        frame.built.connect(self._on_frame_built)
        if self.painted:
            self._schedule()

    def wanted(self, frame: PanelFrame) -> None:
        """A heavy frame was shown: build it as soon as that is allowed."""
        if self.painted:
            self._schedule(0)

    def _on_frame_built(self, _body: object) -> None:
        self.built += 1

    # ---- start ----------------------------------------------------------------------------
    def first_painted(self) -> None:
        """The first window painted: start the preload and the background builds."""
        if self.painted:
            return
        self.painted = True
        self._preload_thread = threading.Thread(target=self._preload, name="ioc-preload", daemon=True)
        self._preload_thread.start()
        self._schedule()

    def _preload(self) -> None:
        t0 = time.perf_counter()
        for name in self.preload_modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - e.g. no 3D stack: the panel says so when built
                log.info("preloading %s failed: %s", name, exc)
        log.info("preloaded %s in %.0f ms", ", ".join(self.preload_modules), (time.perf_counter() - t0) * 1000)
        self.preloaded.set()

    # ---- the idle slices ------------------------------------------------------------------
    def _schedule(self, delay_ms: int = IDLE_GAP_MS) -> None:
        if not self.timer.isActive() or delay_ms < self.timer.remainingTime():
            self.timer.start(delay_ms)

    def _next(self) -> tuple[PanelFrame | None, bool]:
        """The frame to build now, and whether any frame is still worth coming back for."""
        self.waiting = [f for f in self.waiting if shiboken6.isValid(f) and not f.is_built]
        pending = False
        for f in self.waiting:  # a frame on screen first (a heavy one once its imports are in)
            if f.isVisible() and (not f.heavy or self.preloaded.is_set()):
                return f, True
            pending = pending or f.isVisible() or not f.heavy
        for f in self.waiting:
            if not f.heavy:
                return f, True
        return None, pending

    def _on_timer(self) -> None:
        frame, pending = self._next()
        if frame is not None:
            t0 = time.perf_counter()
            frame.ensure_built()
            ms = (time.perf_counter() - t0) * 1000
            log.debug("built panel %s in %.0f ms", frame.panel_id, ms)
            if frame.heavy:
                mark(f"built-{frame.panel_id}")
            frame, pending = self._next()
        if pending:
            self._schedule()
