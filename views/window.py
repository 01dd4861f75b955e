"""A hall window: header, red-alert banner and one or more profile screens (folded as tabs).

On a wall (kiosk) it is frameless and full screen on its QScreen and ignores close requests
(Alt+F4, a stray click): only the Quit action, confirmed, ends the console.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.actions import ACTIONS, ACTIONS_BY_ID
from views.context import ViewContext
from views.message_bar import MessageBar
from views.screen_view import ScreenView
from widgets.common import lang, pick
from widgets.header import HeaderBar
from widgets.red_alert import RedAlertBanner

if TYPE_CHECKING:
    from views.startup_builder import PanelBuilder

_WINDOW_ACTIONS = ("app.mute", "app.language", "app.theme", "app.layout_editor", "app.next_page",
                   "app.prev_page", "app.pause_playlist", "app.drill", "app.quit")


class HallWindow(QWidget):
    def __init__(self, ctx: ViewContext, screen_indices: list[int], kiosk: bool,
                 on_action: Callable[[str], None] | None = None, parent: QWidget | None = None,
                 builder: PanelBuilder | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HallWindow")
        self.ctx = ctx
        self.kiosk = kiosk
        self.allow_close = not kiosk
        self.screen_indices = screen_indices
        self.on_action = on_action or (lambda _a: None)
        profile = ctx.profile
        self.setWindowTitle(f"IOC · {profile.name(ctx.settings.language)}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header: HeaderBar | None = None
        if profile.header:
            self.header = HeaderBar(ctx.store, pick(profile.name_zh, profile.name_en), ctx.settings.mute)
            self.header.mute_toggled.connect(lambda _on: self.on_action("app.mute"))
            lay.addWidget(self.header)
        # drills: only for roles that may start one (the session arrives after the window)
        drill = ACTIONS_BY_ID["app.drill"]
        self.drill_button = QPushButton(self.tr("演练…"), objectName="DrillButton")
        self.drill_button.setToolTip(f"{drill.title(lang())} ({drill.key})")
        self.drill_button.clicked.connect(self.open_drill)
        if self.header is not None:
            self.header.add_tool(self.drill_button)
        self._drill_dialog: Any = None
        ctx.store.session_changed.connect(self._on_store_session_changed)
        self._on_store_session_changed(ctx.store.session)
        self.banner = RedAlertBanner(ctx.red_center, ctx.store) if ctx.red_center is not None else None
        if self.banner is not None:
            lay.addWidget(self.banner)
        # with a builder, panels are built as they are first shown (views.startup_builder)
        self.screens = [ScreenView(ctx, profile.screens[i], builder=builder) for i in screen_indices]
        self.tabs: QTabWidget | None = None
        if len(self.screens) == 1:
            lay.addWidget(self.screens[0], 1)
        else:
            self.tabs = QTabWidget(objectName="ScreenTabs")
            for i, sv in zip(screen_indices, self.screens, strict=True):
                s = profile.screens[i]
                self.tabs.addTab(sv, pick(s.name_zh, s.name_en) or str(i + 1))
            lay.addWidget(self.tabs, 1)
        self.messages = MessageBar(ctx.notifications, ctx.store)
        lay.addWidget(self.messages)
        self._install_shortcuts()

    def _install_shortcuts(self) -> None:
        for a in ACTIONS:
            if a.id in _WINDOW_ACTIONS and a.key:
                sc = QShortcut(QKeySequence(a.key), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(lambda x=a.id: self._on_shortcut(x))
        if self.banner is not None:
            for key in ("Ctrl+Return", "Ctrl+Enter"):
                QShortcut(QKeySequence(key), self, activated=self.banner.acknowledge_top)

    def _on_shortcut(self, action_id: str) -> None:
        sv = self.current_screen()
        if action_id == "app.next_page" and sv is not None:
            sv.step(1)
        elif action_id == "app.prev_page" and sv is not None:
            sv.step(-1)
        elif action_id == "app.pause_playlist" and sv is not None:
            sv.toggle_pause()
        elif action_id == "app.drill":
            self.open_drill()
        else:
            self.on_action(action_id)

    def _on_store_session_changed(self, _info: Any) -> None:
        self.drill_button.setVisible(self.header is not None and ACTIONS_BY_ID["app.drill"].allowed(
            self.ctx.store.session.permissions))

    def open_drill(self) -> Any:
        """The drill dialog (one per window), or None for a role that may not start drills."""
        from views.scenario_dialog import ScenarioDialog, may_start
        if not may_start(self.ctx):
            return None
        if self._drill_dialog is None:
            self._drill_dialog = ScenarioDialog(self.ctx, self)
        self._drill_dialog.show()
        self._drill_dialog.raise_()
        return self._drill_dialog

    def current_screen(self) -> ScreenView | None:
        if self.tabs is not None:
            w = self.tabs.currentWidget()
            return w if isinstance(w, ScreenView) else None
        return self.screens[0] if self.screens else None

    def show_screen(self, profile_index: int, page: int) -> bool:
        """Bring up a profile screen's page (focus following). False if not in this window."""
        if profile_index not in self.screen_indices:
            return False
        k = self.screen_indices.index(profile_index)
        if self.tabs is not None:
            self.tabs.setCurrentIndex(k)
        self.screens[k].show_page(page)
        return True

    def panel(self, panel_id: str) -> Any:
        for sv in self.screens:
            w = sv.panel(panel_id)
            if w is not None:
                return w
        return None

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.allow_close:
            event.accept()
        else:
            event.ignore()  # kiosk: nothing closes a wall window by accident
