"""The alert feed's table model: sorted, filtered, incremental.

Rows are kept sorted by a total key (app.alert_filter.sort_key) in app.sorted_rows.SortedRows
(blocks of keys), so a changed alert costs a bisect in one block instead of a re-sort or a
memmove of 100k rows. Store changes only mark ids pending; flush() (on the shared refresh tick)
applies them, so a burst of events is one update.

A full rebuild (a snapshot, a reset) of more than SLICED_OVER alerts is made in steps when the
caller gives a time budget (the feed's refresh does): the alerts are keyed in slices, each
slice sorted, then the sorted slices merged, a few milliseconds per step with the event loop
running in between; the old rows stay shown until the new ones are swapped in whole, and the
changes that arrive meanwhile are applied on top. A 100k snapshot was ~150-250 ms of keys and
sort in one go on the Qt thread. User actions (sort, filter, select) rebuild at once.

data() runs for every visible cell and role on each repaint (about 1,000 calls for a wall
table, 8 repaints a second under a burst), so a row's texts and colours are made once per alert
version and cached; the cache entry is dropped when the store says the alert changed.
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Callable
from itertools import islice
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from app.alert_filter import COLUMNS, AlertFilter, id_of_key, sort_key
from app.sorted_rows import SortedRows
from app.store import StateStore
from protocol.entities import Alert
from protocol.enums import AlertState, Level
from widgets.common import (
    LEVEL_COLORS,
    LEVEL_TEXT_COLORS,
    alert_title,
    domain_name,
    domain_short,
    fmt_time,
    lang,
    level_text,
    state_text,
    town_name,
)

HIGHLIGHT_S = 8.0  # how long a new or changed row stays highlighted
FULL_REBUILD_OVER = 20000  # a larger batch is cheaper as one sort and reset than as a splice
ROW_SIGNALS_UP_TO = 64  # up to this many changes: a row signal each; more: one layout change
SLICED_OVER = 20000  # a rebuild of more alerts than this is made in steps when given a budget
BUILD_SLICE = 2000  # alerts keyed (and sorted) per step of a sliced rebuild: ~2-3 ms
MERGE_SLICE = 4000  # keys merged per step
ROW_CACHE_MAX = 4096  # cached rows (those painted recently); cleared when it grows past this
AlertIdRole = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex

# roles as plain ints: data() compares them ~1,000 times per repaint
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALERT_ID = int(AlertIdRole)
_ROLES = frozenset({_DISPLAY, _TOOLTIP, _FONT, _ALIGN, _BACKGROUND, _FOREGROUND, _ALERT_ID})
_CENTRED = int(Qt.AlignmentFlag.AlignCenter)
_PIDX_LIST, _HINT = "QList<QPersistentModelIndex>", "QAbstractItemModel::LayoutChangeHint"  # the signals' overload
_ROWS_ONLY = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
_ALIGNMENT = tuple(_CENTRED if c in ("level", "count", "last_ts") else None for c in COLUMNS)


class RowView:
    """What the table shows of one alert version: texts per column and its styling."""

    __slots__ = ("alert", "texts", "level_bg", "level_fg", "level_fg_colour", "bold")

    def __init__(self, alert: Alert, texts: tuple[str, ...], level_bg: QBrush, level_fg: QBrush, bold: bool) -> None:
        self.alert = alert
        self.texts = texts
        self.level_bg = level_bg
        self.level_fg = level_fg
        self.level_fg_colour = level_fg.color()
        self.bold = bold


class _SlicedBuild:
    """The rows of a rebuild, made in steps: key the alerts a slice at a time (each slice's keys
    sorted as a run), then merge the runs. `step` works until a deadline and says when done."""

    def __init__(self, alerts: list[Alert], matches: Callable[[Alert], bool],
                 key: Callable[[Alert], tuple[Any, ...]], slice_size: int = BUILD_SLICE) -> None:
        # a list of the alerts, not of (id, alert) pairs: 100k new tuples would be walked by
        # the next young and middle collections (~30 ms pauses)
        self.alerts, self.matches, self.key = alerts, matches, key
        self.slice_size = max(slice_size, 1)  # the whole list: one run, nothing to merge
        self.pos = 0
        self.key_of: dict[int, tuple[Any, ...]] = {}
        self.runs: list[list[tuple[Any, ...]]] = []
        self.merger: Any = None
        self.keys: list[tuple[Any, ...]] = []

    def step(self, deadline: float) -> bool:
        matches, key, alerts = self.matches, self.key, self.alerts
        while self.pos < len(alerts):
            part = {a.id: key(a) for a in alerts[self.pos:self.pos + self.slice_size] if matches(a)}
            self.pos += self.slice_size
            self.key_of.update(part)
            if part:
                self.runs.append(sorted(part.values()))
            if time.perf_counter() >= deadline:
                return False
        if self.merger is None:
            if len(self.runs) <= 1:
                self.keys = self.runs[0] if self.runs else []
                return True
            self.merger = heapq.merge(*self.runs)
        while True:
            n = len(self.keys)
            self.keys.extend(islice(self.merger, MERGE_SLICE))
            if len(self.keys) - n < MERGE_SLICE:
                return True
            if time.perf_counter() >= deadline:
                return False


class AlertTableModel(QAbstractTableModel):
    def __init__(self, store: StateStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self.filter = AlertFilter()
        self.sort_column = "level"
        self.descending = True
        self._key = sort_key(self.sort_column, self.descending)
        self._keys = SortedRows()  # sort keys of the shown rows; a key ends with the alert id
        self._key_of: dict[int, tuple[Any, ...]] = {}
        self._pending: set[int] = set()
        self._needs_rebuild = True
        self._build: _SlicedBuild | None = None  # a rebuild in steps, not yet swapped in
        # id -> monotonic time it arrived or changed, oldest first (expiry pops from the front)
        self._fresh: OrderedDict[int, float] = OrderedDict()
        self._red: set[int] = set()  # id -> monotonic time it arrived or changed
        self.hidden_red = 0  # unacknowledged red alerts the filter hides (shown by the feed)
        self.applied_at: dict[int, float] = {}  # id -> perf_counter when its row went visible
        self.track_visibility = False  # the benchmark turns this on
        self._rows: dict[int, RowView] = {}  # alert id -> cached row (dropped when the alert changes)
        self._rows_valid_for: tuple[str, str] = ("", "")  # (language, day) the texts were made for
        # (column, value) -> text: names of levels, states, towns, bureaus and times repeat
        # across rows; translating them for each new row cost ~120 us a row under a burst
        self._texts: dict[tuple[str, Any], str] = {}
        self._level_bg = {lv: QBrush(c) for lv, c in LEVEL_COLORS.items()}
        self._level_fg = {lv: QBrush(c) for lv, c in LEVEL_TEXT_COLORS.items()}
        self._other_bg, self._other_fg = QBrush(QColor("#777")), QBrush(QColor("#fff"))
        self.fresh_bg = QBrush(QColor(255, 213, 79, 70))
        self._bold = QFont()
        self._bold.setBold(True)
        store.alerts_changed.connect(self._on_store_alerts_changed)
        store.reset.connect(self._on_store_reset)

    # ---- inbound -------------------------------------------------------------------------
    def _on_store_alerts_changed(self, ids: set[int]) -> None:
        self._pending |= ids
        now = time.monotonic()
        fresh, rows = self._fresh, self._rows
        for i in ids:
            fresh[i] = now
            fresh.move_to_end(i)
            rows.pop(i, None)

    def _on_store_reset(self) -> None:
        self._needs_rebuild = True
        self._fresh.clear()
        self._rows.clear()
        self._texts.clear()  # town and bureau names come with the snapshot

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

    @property
    def building(self) -> bool:
        """A sliced rebuild is under way: call flush(budget_s) again soon to go on with it."""
        return self._build is not None

    def flush(self, budget_s: float | None = None) -> bool:
        """Apply pending changes; returns True if anything changed. Called on the refresh tick
        with a budget: a large rebuild then takes steps of about that long (see `building`);
        without one, everything is applied now."""
        valid_for = (lang(), time.strftime("%Y%m%d"))  # texts depend on both (fmt_time adds the date)
        changed = False
        if valid_for != self._rows_valid_for:
            self._rows.clear()
            self._texts.clear()
            self._rows_valid_for = valid_for
            if self._keys:  # repaint what is shown in the new language (or with the date)
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._keys) - 1, len(COLUMNS) - 1))
                changed = True
        at_once = budget_s is None or len(self.store.alerts) <= SLICED_OVER
        if self._needs_rebuild or len(self._pending) > FULL_REBUILD_OVER:
            # what changes from now on is applied on top of the new rows
            alerts = list(self.store.alerts.values())
            self._build = _SlicedBuild(alerts, self.filter.predicate(), self._key,
                                       len(alerts) if at_once else BUILD_SLICE)
            self._pending.clear()
            self._needs_rebuild = False
        if self._build is not None:
            deadline = time.perf_counter() + (float("inf") if budget_s is None else budget_s)
            if not self._build.step(deadline):
                return self._expire_highlights() or changed
            self._swap_in(self._build)
            changed = True
        if len(self._pending) > ROW_SIGNALS_UP_TO:
            self._apply_pending_as_layout_change()
            changed = True
        elif self._pending:
            self._apply_pending()
            changed = True
        changed |= self._expire_highlights()
        return changed

    def _swap_in(self, build: _SlicedBuild) -> None:
        self._build = None
        self.beginResetModel()
        self._key_of, self._keys = build.key_of, SortedRows(build.keys)
        self.endResetModel()
        self._count_hidden_red()
        if self.track_visibility:
            now = time.perf_counter()
            self.applied_at.update((i, now) for i in self._key_of if i not in self.applied_at)

    def _apply_pending_as_layout_change(self) -> None:
        """A burst: edit the sorted rows quietly and tell the view once (layoutChanged), moving
        the persistent indexes (selection, current row) to where their alerts went. Hundreds of
        row signals per tick on a 100k-row view cost more than the edit itself."""
        # rows only (VerticalSortHint): the column header skips the change instead of repainting
        self.layoutAboutToBeChanged[_PIDX_LIST, _HINT].emit([], _ROWS_ONLY)
        persistent = self.persistentIndexList()
        keys, key_of = self._keys, self._key_of
        n = len(keys)
        anchors = [(id_of_key(keys[i.row()]) if 0 <= i.row() < n else None, i.column()) for i in persistent]
        alerts = self.store.c.alerts
        f, key = self.filter, self._key
        track = self.track_visibility
        now = time.perf_counter()
        pending = self._pending
        for aid in pending:
            old = key_of.pop(aid, None)
            if old is not None:
                keys.remove(old)
            a = alerts.get(aid)
            if a is not None and f.matches(a):
                k = key(a)
                keys.add(k)
                key_of[aid] = k
                if track:
                    self.applied_at.setdefault(aid, now)
        new = []
        for aid, col in anchors:
            row = self.row_of(aid) if aid is not None else -1
            new.append(self.index(row, col) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, new)
        self._pending = set()
        self.layoutChanged[_PIDX_LIST, _HINT].emit([], _ROWS_ONLY)
        self._count_hidden_red(pending)

    def _apply_pending(self) -> None:
        alerts = self.store.c.alerts
        f, key = self.filter, self._key
        keys, key_of = self._keys, self._key_of
        now = time.perf_counter()
        pending = self._pending
        for aid in pending:
            old = key_of.pop(aid, None)
            if old is not None:
                row = keys.rank(old)
                self.beginRemoveRows(QModelIndex(), row, row)
                keys.remove(old)
                self.endRemoveRows()
            a = alerts.get(aid)
            if a is None or not f.matches(a):
                continue
            k = key(a)
            row = keys.rank(k)
            self.beginInsertRows(QModelIndex(), row, row)
            keys.add(k)
            key_of[aid] = k
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
        rows = [self._keys.rank(k) for i in gone if (k := self._key_of.get(i)) is not None]
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
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def alert_at(self, row: int) -> Alert | None:
        if 0 <= row < len(self._keys):
            return self.store.c.alerts.get(id_of_key(self._keys[row]))
        return None

    def row_of(self, alert_id: int) -> int:
        k = self._key_of.get(alert_id)
        return -1 if k is None else self._keys.rank(k)

    def ids(self) -> list[int]:
        return [id_of_key(k) for k in self._keys]

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
        if role not in _ROLES:  # the delegate asks for check state, decoration...: none here
            return None
        row = self.row_view(index.row())
        if row is None:
            return None
        col = index.column()
        if role == _DISPLAY:
            return row.texts[col]
        if role == _BACKGROUND:
            if col == 0:
                return row.level_bg
            return self.fresh_bg if row.alert.id in self._fresh else None
        if role == _FOREGROUND:
            return row.level_fg if col == 0 else None
        if role == _FONT:
            return self._bold if row.bold else None
        if role == _ALIGN:
            return _ALIGNMENT[col]
        if role == _ALERT_ID:
            return row.alert.id
        a = row.alert  # tooltip: only on hover, not cached
        if COLUMNS[col] == "domain":
            return domain_name(self.store, a.domain)
        return f"#{a.id} {alert_title(a)}\n{a.message}".strip()

    def row_view(self, r: int) -> RowView | None:
        """The cached texts and styling of row r (None outside the rows): what data() answers
        from, and what the feed's delegate paints without going through data()."""
        keys = self._keys
        if not 0 <= r < len(keys):
            return None
        aid = id_of_key(keys[r])
        row = self._rows.get(aid)
        if row is None:
            a = self.store.c.alerts.get(aid)
            if a is None:
                return None
            if len(self._rows) >= ROW_CACHE_MAX:
                self._rows.clear()
            row = RowView(a, tuple(self._display(a, c) for c in COLUMNS),
                          self._level_bg.get(a.level, self._other_bg), self._level_fg.get(a.level, self._other_fg),
                          a.state == AlertState.NEW and a.level == Level.RED)
            self._rows[aid] = row
        return row

    def _display(self, a: Alert, col: str) -> str:
        match col:
            case "title":
                return alert_title(a)
            case "count":
                return str(a.count)
            case "assignee":
                return a.assignee or a.acknowledged_by or ""
        value: Any
        match col:
            case "level":
                value = a.level
            case "state":
                value = (a.state.value, bool(a.escalations))
            case "domain":
                value = a.domain
            case "town":
                value = a.town
            case "last_ts":
                value = None if a.last_ts is None else int(a.last_ts)  # shown to the second
            case _:
                return ""
        key = (col, value)
        text = self._texts.get(key)
        if text is None:
            if len(self._texts) >= ROW_CACHE_MAX:
                self._texts.clear()
            text = self._texts[key] = self._name(col, value)
        return text

    def _name(self, col: str, value: Any) -> str:
        match col:
            case "level":
                return level_text(value)
            case "state":
                return state_text(value[0]) + (" ⟰" if value[1] else "")
            case "domain":
                return domain_short(self.store, value)  # the column stays narrow; the tooltip names it
            case "town":
                return town_name(self.store, value)
            case "last_ts":
                return fmt_time(value)
        return ""

