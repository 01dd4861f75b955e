"""Deferred panel building: the window paints its first page at once, the rest follows.

The console's first frame waited for every page of every screen folded into it (an operations
hall on one screen is three tabs), the 3D city included: importing pyvista/VTK (~1.5 s), opening
the city and building its scene. With a PanelBuilder the page frames are made at once but a
panel's body is built:
- when its frame is first shown (before that frame paints: the visible page is complete in the
  first frame);
- for a hidden frame, one panel per idle slice (IDLE_GAP_MS apart, the loop serving paints,
  input and the socket in between) once the first paint is done and the preload below has
  finished, so switching to a tab is instant later;
- for a heavy panel (the 3D city), only once it is shown and preloaded, the frame saying
  "loading" meanwhile. A hidden 3D city is never built in the background: it would hold the
  Qt thread and a gigabyte of memory for a page nobody opened.
After the first paint a worker thread does what the later panels would otherwise do on the Qt
thread (PRELOAD): import pyqtgraph and the 3D stack (~2 s), and make the towns' polygons the
town map draws (~150-400 ms). It holds the GIL now and then (a C extension's initialisation
cannot be interrupted: up to ~90 ms for VTK's largest), so the idle builds wait for it rather
than compete with it.
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
# done aside after the first paint: "module" is imported, "module:function" also called
PRELOAD = ("citymodel.towns:load_towns", "pyqtgraph", "views.city3d.widget")
IDLE_GAP_MS = 40


class PanelBuilder(QObject):
    def __init__(self, parent: QObject | None = None, *, preload: tuple[str, ...] = PRELOAD) -> None:
        super().__init__(parent)
        self.waiting: list[PanelFrame] = []  # deferred frames, in page order
        self.painted = False
        self.preload = preload
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

    def stop(self) -> None:
        self.timer.stop()

    def join_preload(self, timeout_s: float = 15.0) -> None:
        """Before the interpreter exits (any thread): let an import under way finish (a C
        extension torn down in the middle of its initialisation can crash the exit)."""
        if self._preload_thread is not None:
            self._preload_thread.join(timeout_s)

    def _preload(self) -> None:
        t0 = time.perf_counter()
        for entry in self.preload:
            name, _, fn = entry.partition(":")
            try:
                module = importlib.import_module(name)
                if fn:
                    getattr(module, fn)()
            except Exception as exc:  # noqa: BLE001 - e.g. no 3D stack: the panel says so when built
                log.info("preloading %s failed: %s", entry, exc)
        log.info("preloaded %s in %.0f ms", ", ".join(self.preload), (time.perf_counter() - t0) * 1000)
        self.preloaded.set()

    # ---- the idle slices ------------------------------------------------------------------
    def _schedule(self, delay_ms: int = IDLE_GAP_MS) -> None:
        if not self.timer.isActive() or delay_ms < self.timer.remainingTime():
            self.timer.start(delay_ms)

    def _next(self) -> tuple[PanelFrame | None, bool]:
        """The frame to build now, and whether any frame is still worth coming back for."""
        self.waiting = [f for f in self.waiting if shiboken6.isValid(f) and not f.is_built]
        wanted = [f for f in self.waiting if f.isVisible() or not f.heavy]
        if not self.preloaded.is_set():
            return None, bool(wanted)
        visible = [f for f in wanted if f.isVisible()]  # a frame on screen first, then the hidden ones
        return (visible or wanted or [None])[0], bool(wanted)

    def _on_timer(self) -> None:
        frame, pending = self._next()
        if frame is not None:  # one panel per slice
            t0 = time.perf_counter()
            frame.ensure_built()
            ms = (time.perf_counter() - t0) * 1000
            log.debug("built panel %s in %.0f ms", frame.panel_id, ms)
            if frame.heavy:
                mark(f"built-{frame.panel_id}")
            frame, pending = self._next()
        if pending:
            self._schedule()
