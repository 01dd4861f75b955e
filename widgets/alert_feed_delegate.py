"""Paints the alert table's cells from the model's cached rows, with pre-laid-out text.

The standard delegate asks data() for seven roles per cell and lays the text out with
QTextLayout on every paint: ~11 ms for a wall-sized table, repainted 8 times a second under a
burst. This one reads the row the model already caches (texts, level colours, bold) and draws
QStaticText kept per (text, width, weight), so an unchanged cell costs a fill and a glyph blit
(~5 ms per repaint). It draws what the standard one draws for this table: selection, level
colours, the highlight of new rows, elided text, the focus frame of the current cell.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

from app.alert_filter import COLUMNS
from widgets.alert_model import AlertTableModel

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
        self._texts: dict[tuple[str, int, bool], QStaticText] = {}  # for self._font only
        # palette cache key and group -> (selection brush, selected text, text colour)
        self._colours: dict[tuple[int, bool, bool], tuple[QBrush, QColor, QColor]] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        row = self.model.row_view(index.row())
        if row is None:
            super().paint(painter, option, index)
            return
        col = index.column()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state.value  # type: ignore[attr-defined]
        sel_brush, sel_text, text_colour = self._palette(option.palette, bool(state & _ENABLED),  # type: ignore[attr-defined]
                                                         bool(state & _ACTIVE))
        if state & _SELECTED:
            painter.fillRect(rect, sel_brush)
            colour = sel_text
        elif col == 0:
            painter.fillRect(rect, row.level_bg)
            colour = row.level_fg.color()
        else:
            if self.model.is_fresh(row.alert.id):
                painter.fillRect(rect, self.model.fresh_bg)
            colour = text_colour
        font: QFont = option.font  # type: ignore[attr-defined]
        if font != self._font:  # the theme changed the table's font: texts are laid out anew
            self._font = QFont(font)
            self._bold = QFont(font)
            self._bold.setBold(True)
            self._texts.clear()
        font = self._bold if row.bold else self._font
        width = rect.width() - 2 * TEXT_MARGIN
        st = self._static_text(row.texts[col], width, row.bold, option)
        size = st.size()
        x = rect.left() + TEXT_MARGIN + ((width - size.width()) / 2 if col in _CENTRED else 0)
        y = rect.top() + (rect.height() - size.height()) / 2
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawStaticText(QPointF(x, y), st)
        if state & _FOCUS:
            self._focus_frame(painter, option, rect)

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

    def _static_text(self, text: str, width: int, bold: bool, option: Any) -> QStaticText:
        key = (text, width, bold)
        st = self._texts.get(key)
        if st is None:
            if len(self._texts) >= CACHE_MAX:
                self._texts.clear()
            font = self._bold if bold else self._font
            shown = QFontMetrics(font).elidedText(text, option.textElideMode, max(width, 0))
            st = QStaticText(shown)
            st.setTextFormat(Qt.TextFormat.PlainText)
            st.prepare(QTransform(), font)
            self._texts[key] = st
        return st

    def _focus_frame(self, painter: QPainter, option: Any, rect: QRect) -> None:
        o = QStyleOptionFocusRect()
        o.rect = rect
        o.state = option.state
        o.palette = option.palette
        o.backgroundColor = option.palette.color(QPalette.ColorRole.Highlight)
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, o, painter, widget)
