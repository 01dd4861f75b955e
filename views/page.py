"""A page: a grid of titled panel frames built from a layout Page.

With a PanelBuilder (the console's shell passes one) a frame's body is built when the frame is
first shown, or later in an idle slice (views.startup_builder), not when the page is made: the
window paints its first page at once and the pages behind tabs follow. Without one (tests,
tools) every body is built at once, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from app.halls import Page
from views.context import ViewContext
from views.panels import PANELS, build_panel
from widgets.common import lang, pick

if TYPE_CHECKING:
    from views.startup_builder import PanelBuilder

# Panels that draw with pyqtgraph: its colours are set (and it is imported) just before one is
# built, so a console whose first page has no plot never imports it before its first frame.
PLOT_PANELS = frozenset({"trend", "comparison"})


class PanelFrame(QFrame):
    built = Signal(QWidget)  # the body, once it exists (a deferred frame builds it later)
    heavy = False  # a deferred heavy panel (the 3D city) waits for the first paint and its imports

    def __init__(self, ctx: ViewContext, panel_id: str, options: dict[str, Any], parent: QWidget | None = None,
                 builder: PanelBuilder | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PanelFrame")
        self.ctx, self.panel_id, self.options = ctx, panel_id, options
        self.builder = builder
        spec = PANELS.get(panel_id)
        default = spec.title(lang()) if spec else panel_id
        title = pick(options.get("title_zh", ""), options.get("title_en", "")) or default
        self.title = QLabel(title, objectName="PanelTitle")
        self._body: QWidget | None = None
        self._placeholder: QWidget | None = None
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(6, 4, 6, 6)
        self._lay.setSpacing(4)
        if not options.get("hide_title"):
            self._lay.addWidget(self.title)
        else:
            self.title.hide()
        if builder is None:
            self.ensure_built()
            return
        self.heavy = builder.is_heavy(panel_id)
        if self.heavy:  # painted while its libraries load: say so, do not look broken
            ph = QLabel(QCoreApplication.translate("PanelFrame", "正在加载…"), objectName="PlaceholderText")
            ph.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._placeholder = ph
        else:
            self._placeholder = QWidget()
        self._lay.addWidget(self._placeholder, 1)
        builder.defer(self)

    @property
    def body(self) -> QWidget:
        """The panel (built now if it was still deferred)."""
        self.ensure_built()
        assert self._body is not None
        return self._body

    @property
    def is_built(self) -> bool:
        return self._body is not None

    def ensure_built(self) -> None:
        if self._body is not None:
            return
        if self.panel_id in PLOT_PANELS:
            from views.theme import configure_plots
            configure_plots()
        body = build_panel(self.ctx, self.panel_id, self.options)
        self._body = body
        if self._placeholder is None:
            self._lay.addWidget(body, 1)
        else:
            self._lay.replaceWidget(self._placeholder, body)
            self._placeholder.hide()
            self._placeholder.deleteLater()
            self._placeholder = None
            if self.isVisible():
                body.show()  # a child added to a visible widget would only show a pass later
        self.built.emit(body)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._body is None and self.builder is not None:
            if self.heavy:
                self.builder.wanted(self)  # after the first paint, its libraries loaded aside
            else:
                self.ensure_built()  # before this frame's first paint


class PageView(QWidget):
    def __init__(self, ctx: ViewContext, page: Page, parent: QWidget | None = None,
                 builder: PanelBuilder | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PageView")
        self.page = page
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setSpacing(8)
        self.frames: list[PanelFrame] = []
        for c in page.cells:
            f = PanelFrame(ctx, c.panel, c.options, builder=builder)
            grid.addWidget(f, c.row, c.col, c.rowspan, c.colspan)
            self.frames.append(f)
        for r in range(page.rows):
            grid.setRowStretch(r, page.row_stretch[r] if r < len(page.row_stretch) else 1)
        for k in range(page.cols):
            grid.setColumnStretch(k, page.col_stretch[k] if k < len(page.col_stretch) else 1)

    def panel(self, panel_id: str) -> QWidget | None:
        for f in self.frames:
            if f.panel_id == panel_id:
                return f.body
        return None
