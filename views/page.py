"""A page: a grid of titled panel frames built from a layout Page."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from app.halls import Page
from views.context import ViewContext
from views.panels import PANELS, build_panel
from widgets.common import lang, pick


class PanelFrame(QFrame):
    def __init__(self, ctx: ViewContext, panel_id: str, options: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PanelFrame")
        self.panel_id = panel_id
        spec = PANELS.get(panel_id)
        default = spec.title(lang()) if spec else panel_id
        title = pick(options.get("title_zh", ""), options.get("title_en", "")) or default
        self.title = QLabel(title, objectName="PanelTitle")
        self.body = build_panel(ctx, panel_id, options)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(4)
        if not options.get("hide_title"):
            lay.addWidget(self.title)
        else:
            self.title.hide()
        lay.addWidget(self.body, 1)


class PageView(QWidget):
    def __init__(self, ctx: ViewContext, page: Page, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PageView")
        self.page = page
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setSpacing(8)
        self.frames: list[PanelFrame] = []
        for c in page.cells:
            f = PanelFrame(ctx, c.panel, c.options)
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
