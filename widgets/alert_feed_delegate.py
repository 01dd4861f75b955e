"""Paints the alert table from the model's cached rows, with pre-laid-out text.

The standard path asks data() for seven roles per cell and lays the text out with QTextLayout
on every paint: ~11 ms for a wall-sized table, repainted 8 times a second under a burst.
AlertRowDelegate reads the row the model already caches (texts, level colours, bold) and draws
QStaticText kept per (text, width, weight): ~6 ms. AlertTableView goes further and paints all
visible cells in one pass (rows without a selection filled a row at a time): ~3 ms. Both draw
the same pixels as QTableView with Qt's delegate (tests compare them): selection, alternate
rows, level colours, the highlight of new rows, elided text, grid, focus frame.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLineF, QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import (
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.alert_filter import COLUMNS
from widgets.alert_model import AlertTableModel, RowView

TEXT_MARGIN = 3  # px either side, as the standard delegate leaves (focus frame margin + 1)
CACHE_MAX = 4096  # laid-out texts kept; cleared past this (they are remade on demand)
_CENTRED = frozenset(i for i, c in enumerate(COLUMNS) if c in ("level", "count", "last_ts"))
# state bits as ints: a PySide flag operation costs ~4 µs, an int one almost nothing
_SELECTED = QStyle.StateFlag.State_Selected.value
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_GROUPS = {(True, True): QPalette.ColorGroup.Active, (True, False): QPalette.ColorGroup.Inactive,
           (False, True): QPalette.ColorGroup.Disabled, (False, False): QPalette.ColorGroup.Disabled}


class AlertRowDelegate(QStyledItemDelegate):
    def __init__(self, model: AlertTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._font = QFont()
        self._bold = QFont()
        self._elide = Qt.TextElideMode.ElideRight
        self._texts: dict[tuple[str, int, bool], QStaticText] = {}  # for self._font only
        # palette cache key and group -> (selection brush, selected text, text colour)
        self._colours: dict[tuple[int, bool, bool], tuple[QBrush, QColor, QColor]] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        row = self.model.row_view(index.row())
        if row is None:
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state.value  # type: ignore[attr-defined]
        colours = self._palette(option.palette, bool(state & _ENABLED), bool(state & _ACTIVE))  # type: ignore[attr-defined]
        self.use_font(option.font, option.textElideMode)  # type: ignore[attr-defined]
        self.paint_cell(painter, rect, row, index.column(), bool(state & _SELECTED), colours)
        if state & _FOCUS:
            self.focus_frame(painter, option, rect)

    def use_font(self, font: QFont, elide: Qt.TextElideMode) -> None:
        """The table's font (from the theme): texts are laid out anew when it changes."""
        if font != self._font or elide != self._elide:
            self._font = QFont(font)
            self._bold = QFont(font)
            self._bold.setBold(True)
            self._elide = elide
            self._texts.clear()

    def paint_cell(self, painter: QPainter, rect: QRect, row: RowView, col: int, selected: bool,
                   colours: tuple[QBrush, QColor, QColor], set_font: bool = True) -> None:
        """One cell over what the view drew for its row (alternate colour): selection or the
        level colour or the new-row highlight, then the text."""
        sel_brush, sel_text, text_colour = colours
        if selected:
            painter.fillRect(rect, sel_brush)
            colour = sel_text
        elif col == 0:
            painter.fillRect(rect, row.level_bg)
            colour = row.level_fg_colour
        else:
            if self.model.is_fresh(row.alert.id):
                painter.fillRect(rect, self.model.fresh_bg)
            colour = text_colour
        width = rect.width() - 2 * TEXT_MARGIN
        st = self.static_text(row.texts[col], width, row.bold)
        size = st.size()
        x = rect.left() + TEXT_MARGIN + ((width - size.width()) / 2 if col in _CENTRED else 0)
        y = rect.top() + (rect.height() - size.height()) / 2
        if set_font:
            painter.setFont(self._bold if row.bold else self._font)
        painter.setPen(colour)
        painter.drawStaticText(QPointF(x, y), st)

    def palette_colours(self, pal: QPalette, enabled: bool, active: bool) -> tuple[QBrush, QColor, QColor]:
        return self._palette(pal, enabled, active)

    def _palette(self, pal: QPalette, enabled: bool, active: bool) -> tuple[QBrush, QColor, QColor]:
        key = (pal.cacheKey(), enabled, active)
        got = self._colours.get(key)
        if got is None:
            if len(self._colours) > 64:
                self._colours.clear()
            g = _GROUPS[(enabled, active)]
            got = (QBrush(pal.brush(g, QPalette.ColorRole.Highlight)), QColor(pal.color(g, QPalette.ColorRole.HighlightedText)),
                   QColor(pal.color(g, QPalette.ColorRole.Text)))
            self._colours[key] = got
        return got

    def static_text(self, text: str, width: int, bold: bool) -> QStaticText:
        """The text laid out for a cell `width` px wide (elided to fit), kept for reuse."""
        key = (text, width, bold)
        st = self._texts.get(key)
        if st is None:
            if len(self._texts) >= CACHE_MAX:
                self._texts.clear()
            font = self._bold if bold else self._font
            shown = QFontMetrics(font).elidedText(text, self._elide, max(width, 0))
            st = QStaticText(shown)
            st.setTextFormat(Qt.TextFormat.PlainText)
            st.prepare(QTransform(), font)
            self._texts[key] = st
        return st

    def focus_frame(self, painter: QPainter, option: Any, rect: QRect) -> None:
        o = QStyleOptionFocusRect()
        o.rect = rect
        o.state = option.state
        o.palette = option.palette
        o.backgroundColor = option.palette.color(QPalette.ColorRole.Highlight)
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, o, painter, widget)


class AlertTableView(QTableView):
    """The alert table: QTableView, except that a paint draws the visible cells in one pass
    (alternate rows, cells through AlertRowDelegate.paint_cell, grid, focus frame) instead of
    one delegate call per cell with a style option each: ~3 ms instead of ~6 for the wall
    table, 8 times a second under a burst. Anything this pass does not handle (another model
    or delegate, hidden or moved sections, right-to-left) is painted by QTableView itself."""

    def paintEvent(self, event: QPaintEvent) -> None:
        model, delegate = self.model(), self.itemDelegate()
        vh, hh = self.verticalHeader(), self.horizontalHeader()
        if (not isinstance(model, AlertTableModel) or not isinstance(delegate, AlertRowDelegate)
                or self.isRightToLeft() or hh.hiddenSectionCount() or vh.hiddenSectionCount()
                or hh.sectionsMoved() or vh.sectionsMoved()):
            super().paintEvent(event)
            return
        n_rows, n_cols = model.rowCount(), hh.count()
        if n_rows == 0 or n_cols == 0:
            return
        opt = QStyleOptionViewItem()
        self.initViewItemOption(opt)
        enabled, active = self.isEnabled(), bool(opt.state.value & _ACTIVE)
        colours = delegate.palette_colours(opt.palette, enabled, active)
        delegate.use_font(opt.font, self.textElideMode())
        alt = opt.palette.brush(_GROUPS[(enabled, active)], QPalette.ColorRole.AlternateBase) \
            if self.alternatingRowColors() else None
        grid = 1 if self.showGrid() else 0
        sel = self.selectionModel()
        current = self.currentIndex()
        focus_cell = ((current.row(), current.column()) if current.isValid()
                      and (self.hasFocus() or self.viewport().hasFocus()) else None)
        x_end = hh.length() - hh.offset() - 1
        y_end = vh.length() - vh.offset() - 1
        cols = [(c, self.columnViewportPosition(c), self.columnWidth(c)) for c in range(n_cols)]
        grid_colour = QColor.fromRgba(self.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, opt, self) & 0xFFFFFFFF)
        # Rows without a selected cell are filled a row at a time (alternate colour, the new-row
        # highlight across the text columns): the gaps between cells are the grid lines, drawn
        # over them afterwards, so this needs an opaque solid grid (else cell by cell).
        spans = bool(grid) and self.gridStyle() == Qt.PenStyle.SolidLine and grid_colour.alpha() == 255
        fresh_bg, bold_font, plain_font = model.fresh_bg, delegate._bold, delegate._font
        text_colour = colours[2]
        # The painter is clipped to the region; its bounding rect is painted in one go.
        dirty = event.rect()
        dirty.setBottom(min(dirty.bottom(), y_end))
        dirty.setRight(min(dirty.right(), x_end))
        left, right = hh.visualIndexAt(dirty.left()), hh.visualIndexAt(dirty.right())
        left, right = (0 if left == -1 else left), (n_cols - 1 if right == -1 else right)
        top, bottom = vh.visualIndexAt(dirty.top()), vh.visualIndexAt(dirty.bottom())
        bottom = n_rows - 1 if bottom == -1 else bottom
        if top == -1 or top > bottom:
            return
        shown = cols[left:right + 1]
        text_cols = [sc for sc in shown if sc[0] != 0]
        fixed_h = vh.defaultSectionSize() if vh.sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed else None
        painter = QPainter(self.viewport())
        try:
            font_bold: bool | None = None
            for r in range(top, bottom + 1):
                row = model.row_view(r)
                if row is None:
                    continue
                y = self.rowViewportPosition(r)
                rh = (fixed_h if fixed_h is not None else self.rowHeight(r)) - grid
                if font_bold is not row.bold:
                    painter.setFont(bold_font if row.bold else plain_font)
                    font_bold = row.bold
                if sel.rowIntersectsSelection(r, QModelIndex()) or not spans:
                    whole = sel.isRowSelected(r, QModelIndex())
                    for c, x, w in shown:
                        rect = QRect(x, y, w - grid, rh)
                        selected = whole or sel.isSelected(model.index(r, c))
                        if alt is not None and r & 1 and not selected:
                            painter.fillRect(rect, alt)
                        delegate.paint_cell(painter, rect, row, c, selected, colours, set_font=False)
                        if focus_cell == (r, c):
                            self._focus(painter, opt, delegate, rect, selected)
                    continue
                x0, x1 = shown[0][1], shown[-1][1] + shown[-1][2] - grid
                if alt is not None and r & 1:
                    painter.fillRect(QRect(x0, y, x1 - x0, rh), alt)
                if text_cols and model.is_fresh(row.alert.id):
                    fx = text_cols[0][1]
                    painter.fillRect(QRect(fx, y, x1 - fx, rh), fresh_bg)
                pen = None
                for c, x, w in shown:
                    if c == 0:
                        painter.fillRect(QRect(x, y, w - grid, rh), row.level_bg)
                        colour = row.level_fg_colour
                    else:
                        colour = text_colour
                    if colour is not pen:
                        painter.setPen(colour)
                        pen = colour
                    width = w - grid - 2 * TEXT_MARGIN
                    st = delegate.static_text(row.texts[c], width, row.bold)
                    size = st.size()
                    tx = x + TEXT_MARGIN + ((width - size.width()) / 2 if c in _CENTRED else 0)
                    painter.drawStaticText(QPointF(tx, y + (rh - size.height()) / 2), st)
                    if focus_cell == (r, c):
                        self._focus(painter, opt, delegate, QRect(x, y, w - grid, rh), False)
            if grid:
                self._grid(painter, opt, grid_colour, dirty, top, bottom, shown, fixed_h)
        finally:
            painter.end()  # also after an error: a painter left active takes Qt down

    @staticmethod
    def _focus(painter: QPainter, opt: QStyleOptionViewItem, delegate: AlertRowDelegate, rect: QRect,
               selected: bool) -> None:
        o = QStyleOptionViewItem(opt)
        o.rect = rect
        o.state = opt.state | QStyle.StateFlag.State_HasFocus | (
            QStyle.StateFlag.State_Selected if selected else QStyle.StateFlag.State_None)
        painter.save()  # the style may change pen and font: the row goes on with its own
        delegate.focus_frame(painter, o, rect)
        painter.restore()

    def _grid(self, painter: QPainter, opt: QStyleOptionViewItem, colour: QColor, dirty: QRect, top: int, bottom: int,
              shown: list[tuple[int, int, int]], h: int | None) -> None:
        """The grid as QTableView draws it: a line under each row and right of each column."""
        old = painter.pen()
        painter.setPen(QPen(colour, 1, self.gridStyle()))
        lines = []
        for r in range(top, bottom + 1):
            y = self.rowViewportPosition(r) + (h if h is not None else self.rowHeight(r)) - 1 + 0.5
            lines.append(QLineF(dirty.left() + 0.5, y, dirty.right() + 0.5, y))
        for _c, x, w in shown:
            cx = x + w - 1 + 0.5
            lines.append(QLineF(cx, dirty.top() + 0.5, cx, dirty.bottom() + 0.5))
        painter.drawLines(lines)
        if self.style().styleHint(QStyle.StyleHint.SH_Table_AlwaysDrawLeftTopGridLines, opt, self):
            if self.horizontalHeader().isHidden():
                painter.drawLine(QLineF(dirty.left() + 0.5, 0.5, dirty.right() + 0.5, 0.5))
            if self.verticalHeader().isHidden():
                painter.drawLine(QLineF(0.5, dirty.top() + 0.5, 0.5, dirty.bottom() + 0.5))
        painter.setPen(old)
