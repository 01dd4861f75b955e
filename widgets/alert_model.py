"""The alert feed's table model: sorted, filtered, incremental.

Rows are kept sorted by a total key (app.alert_filter.sort_key), so a changed alert costs a
bisect and one row insert/remove instead of a re-sort of 100k rows. Store changes only mark ids
pending; flush() (on the shared refresh tick) applies them, so a burst of events is one update.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.alert_filter import COLUMNS, AlertFilter, sort_key
from app.store import StateStore
from protocol.entities import Alert
from protocol.enums import AlertState, Level
from widgets.common import (
    LEVEL_COLORS,
    LEVEL_TEXT_COLORS,
    alert_title,
    domain_name,
    fmt_time,
    level_text,
    state_text,
    town_name,
)

HIGHLIGHT_S = 8.0  # how long a new or changed row stays highlighted
FULL_REBUILD_OVER = 5000  # a larger batch is cheaper as one reset than as row inserts
ROW_SIGNALS_UP_TO = 64  # up to this many changes: a row signal each; more: one layout change
AlertIdRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class AlertTableModel(QAbstractTableModel):
    def __init__(self, store: StateStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self.filter = AlertFilter()
        self.sort_column = "level"
        self.descending = True
        self._key = sort_key(self.sort_column, self.descending)
        self._ids: list[int] = []
        self._keys: list[tuple[Any, ...]] = []
        self._key_of: dict[int, tuple[Any, ...]] = {}
        self._pending: set[int] = set()
        self._needs_rebuild = True
        # id -> monotonic time it arrived or changed, oldest first (expiry pops from the front)
        self._fresh: OrderedDict[int, float] = OrderedDict()
        self._red: set[int] = set()  # id -> monotonic time it arrived or changed
        self.hidden_red = 0  # unacknowledged red alerts the filter hides (shown by the feed)
        self.applied_at: dict[int, float] = {}  # id -> perf_counter when its row went visible
        self.track_visibility = False  # the benchmark turns this on
        store.alerts_changed.connect(self._on_store_alerts_changed)
        store.reset.connect(self._on_store_reset)

    # ---- inbound -------------------------------------------------------------------------
    def _on_store_alerts_changed(self, ids: set[int]) -> None:
        self._pending |= ids
        now = time.monotonic()
        fresh = self._fresh
        for i in ids:
            fresh[i] = now
            fresh.move_to_end(i)

    def _on_store_reset(self) -> None:
        self._needs_rebuild = True
        self._fresh.clear()

    def set_filter(self, f: AlertFilter) -> None:
        self.filter = f
        self._needs_rebuild = True
        self.flush()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column = COLUMNS[column]
        self.descending = order == Qt.SortOrder.DescendingOrder
        self._key = sort_key(self.sort_column, self.descending)
        self._needs_rebuild = True
        self.flush()

    def flush(self) -> bool:
        """Apply pending changes; returns True if anything changed. Called on the refresh tick."""
        changed = False
        if self._needs_rebuild or len(self._pending) > FULL_REBUILD_OVER:
            self._rebuild()
            changed = True
        elif len(self._pending) > ROW_SIGNALS_UP_TO:
            self._apply_pending_as_layout_change()
            changed = True
        elif self._pending:
            self._apply_pending()
            changed = True
        changed |= self._expire_highlights()
        return changed

    def _rebuild(self) -> None:
        self.beginResetModel()
        alerts = self.store.alerts
        f, key = self.filter, self._key
        rows = sorted((key(a), a.id) for a in alerts.values() if f.matches(a))
        self._keys = [k for k, _ in rows]
        self._ids = [i for _, i in rows]
        self._key_of = dict(zip(self._ids, self._keys, strict=True))
        self._pending.clear()
        self._needs_rebuild = False
        self.endResetModel()
        self._count_hidden_red()
        if self.track_visibility:
            now = time.perf_counter()
            self.applied_at.update((i, now) for i in self._ids if i not in self.applied_at)

    def _apply_pending_as_layout_change(self) -> None:
        """A burst: edit the sorted lists quietly and tell the view once (layoutChanged), moving
        the persistent indexes (selection, current row) to where their alerts went. Hundreds of
        row signals per tick on a 100k-row view cost more than the edit itself."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        anchors = [(self._ids[i.row()] if 0 <= i.row() < len(self._ids) else None, i.column()) for i in persistent]
        alerts = self.store.alerts
        f, key = self.filter, self._key
        now = time.perf_counter()
        pending = self._pending
        keys, ids, key_of = self._keys, self._ids, self._key_of
        for aid in pending:
            old = key_of.pop(aid, None)
            if old is not None:
                row = bisect_left(keys, old)
                del keys[row]
                del ids[row]
            a = alerts.get(aid)
            if a is None or not f.matches(a):
                continue
            k = key(a)
            row = bisect_left(keys, k)
            keys.insert(row, k)
            ids.insert(row, aid)
            key_of[aid] = k
            if self.track_visibility:
                self.applied_at.setdefault(aid, now)
        new = []
        for aid, col in anchors:
            row = self.row_of(aid) if aid is not None else -1
            new.append(self.index(row, col) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, new)
        self._pending = set()
        self.layoutChanged.emit()
        self._count_hidden_red(pending)

    def _apply_pending(self) -> None:
        alerts = self.store.alerts
        f, key = self.filter, self._key
        now = time.perf_counter()
        pending = self._pending
        for aid in pending:
            old = self._key_of.pop(aid, None)
            if old is not None:
                row = bisect_left(self._keys, old)
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._keys[row]
                del self._ids[row]
                self.endRemoveRows()
            a = alerts.get(aid)
            if a is None or not f.matches(a):
                continue
            k = key(a)
            row = bisect_left(self._keys, k)
            self.beginInsertRows(QModelIndex(), row, row)
            self._keys.insert(row, k)
            self._ids.insert(row, aid)
            self._key_of[aid] = k
            self.endInsertRows()
            if self.track_visibility:
                self.applied_at.setdefault(aid, now)
        self._pending = set()
        self._count_hidden_red(pending)

    def _expire_highlights(self) -> bool:
        if not self._fresh:
            return False
        limit = time.monotonic() - HIGHLIGHT_S
        gone = []
        fresh = self._fresh
        while fresh:
            i, t = next(iter(fresh.items()))
            if t >= limit:
                break
            fresh.popitem(last=False)
            gone.append(i)
        rows = [bisect_left(self._keys, k) for i in gone if (k := self._key_of.get(i)) is not None]
        if rows:  # one signal for the span: the view repaints what is visible of it
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))
        return bool(gone)

    def _count_hidden_red(self, changed: set[int] | None = None) -> None:
        """Unacknowledged red alerts the filter hides. Full scan on a rebuild, otherwise only
        the changed ids are looked at (a burst must not scan 100k alerts per flush)."""
        alerts = self.store.alerts
        if changed is None:
            self._red = {a.id for a in self.store.unacknowledged_red()}
        else:
            for i in changed:
                a = alerts.get(i)
                if a is not None and a.level == Level.RED and a.state == AlertState.NEW and not a.silenced:
                    self._red.add(i)
                else:
                    self._red.discard(i)
        self.hidden_red = sum(1 for i in self._red if i not in self._key_of)

    # ---- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def alert_at(self, row: int) -> Alert | None:
        if 0 <= row < len(self._ids):
            return self.store.alerts.get(self._ids[row])
        return None

    def row_of(self, alert_id: int) -> int:
        k = self._key_of.get(alert_id)
        return -1 if k is None else bisect_left(self._keys, k)

    def ids(self) -> list[int]:
        return list(self._ids)

    def is_fresh(self, alert_id: int) -> bool:
        return alert_id in self._fresh

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = {
            "level": self.tr("级别"), "state": self.tr("状态"), "title": self.tr("告警内容"),
            "domain": self.tr("部门"), "town": self.tr("镇街"), "count": self.tr("次数"),
            "last_ts": self.tr("时间"), "assignee": self.tr("处置人"),
        }
        return titles[COLUMNS[section]]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        a = self.alert_at(index.row())
        if a is None:
            return None
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(a, col)
        if role == AlertIdRole:
            return a.id
        if role == Qt.ItemDataRole.BackgroundRole:
            if col == "level":
                return QBrush(LEVEL_COLORS.get(a.level, QColor("#777")))
            if a.id in self._fresh:
                return QBrush(QColor(255, 213, 79, 70))
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == "level":
            return QBrush(LEVEL_TEXT_COLORS.get(a.level, QColor("#fff")))
        if role == Qt.ItemDataRole.FontRole and a.state == AlertState.NEW and a.level == Level.RED:
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{a.id} {alert_title(a)}\n{a.message}".strip()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("level", "count", "last_ts"):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, a: Alert, col: str) -> str:
        match col:
            case "level":
                return level_text(a.level)
            case "state":
                return state_text(a.state.value) + (" ⟰" if a.escalations else "")
            case "title":
                return alert_title(a)
            case "domain":
                return domain_name(self.store, a.domain)
            case "town":
                return town_name(self.store, a.town)
            case "count":
                return str(a.count)
            case "last_ts":
                return fmt_time(a.last_ts)
            case "assignee":
                return a.assignee or a.acknowledged_by or ""
        return ""
