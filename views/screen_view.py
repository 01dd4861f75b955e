"""One profile screen: a single grid page, tabs of pages (laptop), or a playlist that rotates
pages on a timer (front hall), pausing on interaction and while a red alert waits."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from app.halls import Screen
from app.playlist import Playlist
from views.context import ViewContext
from views.page import PageView
from widgets.common import pick

if TYPE_CHECKING:
    from views.startup_builder import PanelBuilder

_INTERACTION = {QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class ScreenView(QWidget):
    def __init__(self, ctx: ViewContext, screen: Screen, parent: QWidget | None = None,
                 builder: PanelBuilder | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScreenView")
        self.ctx, self.screen = ctx, screen
        self.pages = [PageView(ctx, p, builder=builder) for p in screen.pages]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.tabs: QTabWidget | None = None
        self.stack: QStackedWidget | None = None
        self.playlist: Playlist | None = None
        self.indicator = QLabel("", objectName="PlaylistIndicator")
        if len(self.pages) == 1:
            lay.addWidget(self.pages[0])
        elif screen.mode == "playlist":
            self.stack = QStackedWidget()
            for p in self.pages:
                self.stack.addWidget(p)
            self.playlist = Playlist(len(self.pages), screen.rotate_s)
            self.playlist.start(time.monotonic())
            bar = QHBoxLayout()
            bar.addStretch(1)
            bar.addWidget(self.indicator)
            lay.addWidget(self.stack, 1)
            lay.addLayout(bar)
            self._timer = QTimer(self, interval=1000)
            self._timer.timeout.connect(self._on_timer_timeout)
            self._timer.start()
            if ctx.red_center is not None:
                ctx.red_center.changed.connect(self._on_red_changed)
                self._on_red_changed()
            self._watch(self)
            for p in self.pages:  # panels built later (deferred) are watched once they exist
                for f in p.frames:
                    f.built.connect(self._watch)
            self._show_indicator()
        else:
            self.tabs = QTabWidget(objectName="PageTabs")
            for p, spec in zip(self.pages, screen.pages, strict=True):
                self.tabs.addTab(p, pick(spec.name_zh, spec.name_en) or "…")
            lay.addWidget(self.tabs)

    # ---- playlist -----------------------------------------------------------------------
    def _watch(self, w: QObject) -> None:
        w.installEventFilter(self)
        for child in w.findChildren(QWidget):
            child.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.playlist is not None and event.type() in _INTERACTION:
            self.playlist.interaction(time.monotonic())
            self._show_indicator()
        return False

    def _on_red_changed(self) -> None:
        if self.playlist is not None and self.ctx.red_center is not None:
            self.playlist.red_alert = bool(self.ctx.red_center.pending)
            self._show_indicator()

    def _on_timer_timeout(self) -> None:
        self.tick(time.monotonic())

    def tick(self, now: float) -> None:
        if self.playlist is not None and self.playlist.tick(now):
            self.show_page(self.playlist.page, now)
        self._show_indicator(now)

    def _show_indicator(self, now: float | None = None) -> None:
        pl = self.playlist
        if pl is None:
            return
        now = now or time.monotonic()
        state = ""
        if pl.red_alert:
            state = self.tr(" · 红色告警，轮播暂停")
        elif pl.manual_pause:
            state = self.tr(" · 已暂停")
        elif pl.paused(now):
            state = self.tr(" · 操作中，轮播暂停")
        spec = self.screen.pages[pl.page]
        self.indicator.setText(f"{pick(spec.name_zh, spec.name_en)}  {pl.page + 1}/{pl.pages}{state}")

    # ---- navigation ----------------------------------------------------------------------
    def current_page(self) -> int:
        if self.stack is not None:
            return self.stack.currentIndex()
        if self.tabs is not None:
            return self.tabs.currentIndex()
        return 0

    def show_page(self, index: int, now: float | None = None) -> None:
        if self.stack is not None:
            self.stack.setCurrentIndex(index % len(self.pages))
            if self.playlist is not None:
                self.playlist.goto(index, now or time.monotonic())
            self._show_indicator(now)
        elif self.tabs is not None:
            self.tabs.setCurrentIndex(index % len(self.pages))

    def step(self, delta: int) -> None:
        if len(self.pages) > 1:
            self.show_page(self.current_page() + delta)

    def toggle_pause(self) -> None:
        if self.playlist is not None:
            self.playlist.manual_pause = not self.playlist.manual_pause
            self._show_indicator()

    def panel(self, panel_id: str) -> Any:
        for p in self.pages:
            w = p.panel(panel_id)
            if w is not None:
                return w
        return None
