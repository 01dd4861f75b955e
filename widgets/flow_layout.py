"""A layout that lays its items out left to right and wraps them onto more rows when the width
runs out (Qt's flow layout example, with rows that stretch).

Filter and action bars use it: in English and in the wall theme's big type a single row of
buttons and combos is wider than a laptop's screen (or than its grid cell on the wall), and a
bar's minimum width must never push a window past its screen. Its minimum width is its widest
item; its height follows the width (heightForWidth), so the rows it needs come out of the
stretchy widget next to it (the table).

Items whose horizontal size policy expands (a search box, a status text) share what is left of
their row; a word-wrapped label gets the height its text needs at the width it is given.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # ---- QLayout's item list ---------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def spacing(self) -> int:
        return self._spacing

    def setSpacing(self, spacing: int) -> None:  # noqa: N802 - Qt API
        self._spacing = spacing
        self.invalidate()

    # ---- sizes ---------------------------------------------------------------------------
    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return self._do_layout(QRect(0, 0, width, 0), apply=False)

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        """The widest (and tallest) single item: everything else may go onto another row."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """Everything on one row."""
        items = self._visible()
        w = sum(i.sizeHint().width() for i in items) + self._spacing * max(len(items) - 1, 0)
        h = max((i.sizeHint().height() for i in items), default=0)
        m = self.contentsMargins()
        return QSize(w + m.left() + m.right(), h + m.top() + m.bottom())

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._do_layout(rect, apply=True)

    # ---- the layout itself ---------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def rows(self, width: int) -> list[list[QLayoutItem]]:
        """Items grouped into rows for a width (preferred widths, never below the minimum)."""
        m = self.contentsMargins()
        avail = max(width - m.left() - m.right(), 1)
        rows: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._visible():
            w = self._width(item, avail)
            if rows[-1] and used + self._spacing + w > avail:
                rows.append([])
                used = 0
            used += (self._spacing if rows[-1] else 0) + w
            rows[-1].append(item)
        return [r for r in rows if r]

    @staticmethod
    def _width(item: QLayoutItem, avail: int) -> int:
        return max(min(item.sizeHint().width(), avail), item.minimumSize().width())

    @staticmethod
    def _expands(item: QLayoutItem) -> bool:
        return bool(item.expandingDirections() & Qt.Orientation.Horizontal)

    def _do_layout(self, rect: QRect, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        avail = max(area.width(), 1)
        y = area.y()
        for row in self.rows(rect.width()):
            widths = [self._width(i, avail) for i in row]
            spare = avail - sum(widths) - self._spacing * (len(row) - 1)
            growers = [k for k, i in enumerate(row) if self._expands(i)]
            if spare > 0 and growers:  # the row's expanding items share what is left
                share, extra = divmod(spare, len(growers))
                for n, k in enumerate(growers):
                    widths[k] += share + (1 if n < extra else 0)
            heights = [i.heightForWidth(w) if i.hasHeightForWidth() else i.sizeHint().height()
                       for i, w in zip(row, widths, strict=True)]
            row_h = max(max(heights), *(i.minimumSize().height() for i in row))
            if apply:
                x = area.x()
                for item, w in zip(row, widths, strict=True):
                    h = min(max(item.sizeHint().height(), item.minimumSize().height()), row_h)
                    if item.hasHeightForWidth():
                        h = row_h
                    # centred vertically on the row: a combo next to a taller button lines up
                    item.setGeometry(QRect(QPoint(x, y + (row_h - h) // 2), QSize(w, h)))
                    x += w + self._spacing
            y += row_h + self._spacing
        return max(y - self._spacing - area.y(), 0) + m.top() + m.bottom()
