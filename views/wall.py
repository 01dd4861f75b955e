"""The wall: maps a hall profile onto the QScreens present.

Kiosk profiles get one frameless full-screen window per physical screen (extra profile screens
fold into the last window as tabs); desk profiles get one normal window. Screens appearing or
vanishing rebuild the windows (debounced). Profiles that follow focus bring up the focused
incident when the decision room sets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QScreen

from app.halls import fold_screens, page_with_panel
from app.settings import Geometry
from views.context import ViewContext
from views.theme import apply_scale
from views.window import HallWindow

if TYPE_CHECKING:
    from views.startup_builder import PanelBuilder

REBUILD_DEBOUNCE_MS = 400
DESK_SIZE = (1600, 960)  # a desk window's first size where the screen is larger


class WallManager(QObject):
    def __init__(self, ctx: ViewContext, on_action: Callable[[str], None] | None = None,
                 kiosk: bool | None = None, parent: QObject | None = None,
                 builder: PanelBuilder | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.builder = builder  # deferred panel bodies (the console's shell passes one)
        self.on_action = on_action
        self.kiosk = ctx.profile.kiosk if kiosk is None else kiosk
        self.windows: list[HallWindow] = []
        self.rebuilds = 0
        self._debounce = QTimer(self, singleShot=True, interval=REBUILD_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.build)
        app = QGuiApplication.instance()
        app.screenAdded.connect(self._on_app_screens_changed)
        app.screenRemoved.connect(self._on_app_screens_changed)
        ctx.store.focus_changed.connect(self._on_store_focus_changed)

    # ---- building ------------------------------------------------------------------------
    def physical_screens(self) -> list[QScreen]:
        screens = list(QGuiApplication.screens())
        primary = QGuiApplication.primaryScreen()
        # primary first, then left to right: screen 1 of a profile goes on the main display
        screens.sort(key=lambda s: (s is not primary, s.geometry().x(), s.geometry().y()))
        return screens

    def build(self) -> list[HallWindow]:
        self.teardown()
        self.rebuilds += 1
        apply_scale(QGuiApplication.instance(), self.ctx.profile.type_scale())  # type sizes by profile, not theme
        physical = self.physical_screens()
        groups = fold_screens(len(self.ctx.profile.screens), len(physical), self.kiosk)
        for k, group in enumerate(groups):
            win = HallWindow(self.ctx, group, self.kiosk, self.on_action, builder=self.builder)
            self._place(win, physical[k] if k < len(physical) else None)
            self.windows.append(win)
        return self.windows

    def _place(self, win: HallWindow, screen: QScreen | None) -> None:
        if self.kiosk and screen is not None:
            win.setWindowFlags(win.windowFlags() | Qt.WindowType.FramelessWindowHint)
            win.setGeometry(screen.geometry())
            win.show()
            if win.windowHandle() is not None:
                win.windowHandle().setScreen(screen)
            win.showFullScreen()
            return
        g = self.ctx.settings.geometry.get(self._geometry_key(screen))
        if g is not None and screen is not None and (g.w > screen.availableGeometry().width()
                                                     or g.h > screen.availableGeometry().height()):
            g = None  # saved on a bigger screen: it would hang off this one
        if g is not None and self._fits(g):
            win.setGeometry(g.x, g.y, g.w, g.h)
            if g.maximised:
                win.showMaximized()
                return
        elif screen is not None:
            avail = screen.availableGeometry()
            if avail.width() <= DESK_SIZE[0] or avail.height() <= DESK_SIZE[1]:
                # a laptop screen: maximised, so the frame too stays on the screen
                win.setGeometry(avail)
                win.showMaximized()
                return
            win.resize(*DESK_SIZE)
            win.move(avail.center() - win.rect().center())
        win.show()

    def _geometry_key(self, screen: QScreen | None) -> str:
        return f"{self.ctx.profile.id}@{screen.name() if screen else 'primary'}"

    @staticmethod
    def _fits(g: Geometry) -> bool:
        return any(s.availableGeometry().intersects(
            s.availableGeometry().__class__(g.x, g.y, g.w, g.h)) for s in QGuiApplication.screens())

    def save_geometry(self) -> None:
        if self.kiosk:
            return
        for win in self.windows:
            scr = win.screen()
            r = win.normalGeometry() if win.isMaximized() else win.geometry()
            g = Geometry(x=r.x(), y=r.y(), w=r.width(), h=r.height(), maximised=win.isMaximized())
            self.ctx.settings.geometry = {**self.ctx.settings.geometry, self._geometry_key(scr): g}

    def teardown(self) -> None:
        self.save_geometry()
        for win in self.windows:
            win.allow_close = True
            win.close()
            win.deleteLater()
        self.windows = []

    # ---- events --------------------------------------------------------------------------
    def _on_app_screens_changed(self, _screen: Any) -> None:
        self._debounce.start()

    def _on_store_focus_changed(self, focus: Any) -> None:
        if not self.ctx.profile.follow_focus or focus is None or focus.incident_id is None:
            return
        self.ctx.view_state.select_incident(focus.incident_id)
        where = page_with_panel(self.ctx.profile, "incident") or page_with_panel(self.ctx.profile, "city3d")
        if where is not None:
            for win in self.windows:
                if win.show_screen(*where):
                    break

    def panel(self, panel_id: str) -> Any:
        for win in self.windows:
            w = win.panel(panel_id)
            if w is not None:
                return w
        return None
