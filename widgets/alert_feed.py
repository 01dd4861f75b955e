"""The alert feed: filter bar, the sorted table, and the actions on the selected alerts.

Keyboard: A acknowledge, E escalate, D dispatch, I open an incident from the selected rows,
F put the alert's incident in focus, Ctrl+F search, Ctrl+Shift+F clear filters. Every action
goes through the CommandSink and is greyed out when the session's role may not send it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.actions import ACTIONS_BY_ID
from app.alert_filter import COLUMNS, OPEN_STATES, AlertFilter
from app.commandbus import CommandResult, CommandSink
from app.selection import ViewState
from app.store import StateStore
from protocol.enums import AlertState, Level
from widgets.alert_feed_delegate import AlertRowDelegate, AlertTableView
from widgets.alert_model import AlertTableModel
from widgets.command_feedback import error_text
from widgets.common import (
    LEVEL_COLORS,
    confirm,
    domain_name,
    lang,
    level_text,
    on_done,
    refresh_hub,
    state_text,
    town_name,
)
from widgets.flow_layout import FlowLayout

_ALL = "*"
# A filter combo may shrink to this many characters (eliding the rest; the open list shows whole
# names): a long bureau name in English must not make the bar, so the window, wider than the screen.
COMBO_CHARS = 8
BUILD_STEP_S = 0.006  # the longest step of a large rebuild on the refresh tick (as the pacer's slice)


class FilterCombo(QComboBox):
    """Wants the width of its longest entry, but may be squeezed to COMBO_CHARS characters."""

    def __init__(self, object_name: str) -> None:
        super().__init__(objectName=object_name)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(COMBO_CHARS)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        base = super().sizeHint()  # frame and arrow around COMBO_CHARS characters
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(self.itemText(i)) for i in range(self.count())), default=0)
        return QSize(base.width() + max(widest - fm.horizontalAdvance("X") * COMBO_CHARS, 0), base.height())


class AlertFeed(QWidget):
    filter_changed = Signal(dict)

    def __init__(self, store: StateStore, commands: CommandSink, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlertFeed")
        self.store, self.commands = store, commands
        self.view_state = view_state or ViewState()
        self.options = options or {}
        self.model = AlertTableModel(store, self)
        self.status = QLabel("", objectName="FeedStatus")
        self.status.setWordWrap(True)  # a long refusal wraps instead of widening the window
        self.hidden_notice = QLabel("", objectName="HiddenRed")
        self.hidden_notice.setVisible(False)
        self._build_filter_bar()
        self._build_table()
        self._build_actions()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(self.filter_bar)
        lay.addWidget(self.hidden_notice)
        lay.addWidget(self.table, 1)
        lay.addLayout(self.action_bar)
        self._install_shortcuts()
        self._dirty = True
        store.session_changed.connect(self._on_store_session_changed)
        store.reset.connect(self._on_store_reset)
        # a CommandTracker (widgets.command_feedback) reports refusals, also late ones of
        # commands queued offline; a plain sink only answers through the returned future
        self._tracked = getattr(commands, "refused", None) is not None
        if self._tracked:
            commands.refused.connect(self._on_commands_refused)
        self.view_state.town_changed.connect(self._on_view_town_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        # a large rebuild (a snapshot) goes on in steps with the event loop running between
        self._build_step = QTimer(self, singleShot=True, interval=0)
        self._build_step.timeout.connect(self._on_refresh_tick)
        if self.options.get("filter"):
            self.apply_filter(AlertFilter.from_dict(self.options["filter"]))
        self._update_enabled()
        self._on_refresh_tick()

    # ---- building ------------------------------------------------------------------------
    def _build_filter_bar(self) -> None:
        bar = FlowLayout()  # wraps onto a second row rather than widening the window
        self.level_buttons: dict[int, QToolButton] = {}
        for lv in sorted(Level, reverse=True):
            b = QToolButton(text=level_text(lv), checkable=True, objectName=f"LevelToggle{lv.value}")
            b.setStyleSheet(f"QToolButton:checked {{ background: {LEVEL_COLORS[lv].name()}; color: black; }}")
            b.toggled.connect(self._on_filter_edited)
            self.level_buttons[lv.value] = b
            bar.addWidget(b)
        self.domain_box = FilterCombo("DomainFilter")
        self.town_box = FilterCombo("TownFilter")
        self.state_box = FilterCombo("StateFilter")
        self.state_box.addItem(self.tr("未处理完"), "open")
        self.state_box.addItem(self.tr("全部状态"), _ALL)
        for s in AlertState:
            self.state_box.addItem(state_text(s.value), s.value)
        self.search = QLineEdit(objectName="FeedSearch")
        self.search.setPlaceholderText(self.tr("搜索 (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.clear_btn = QToolButton(text=self.tr("清除筛选"))
        self.clear_btn.clicked.connect(self.clear_filter)
        for w in (self.domain_box, self.town_box, self.state_box):
            w.currentIndexChanged.connect(self._on_filter_edited)
        self.search.textChanged.connect(self._on_filter_edited)
        bar.addWidget(self.domain_box)
        bar.addWidget(self.town_box)
        bar.addWidget(self.state_box)
        bar.addWidget(self.search)  # expanding: takes what is left of its row
        bar.addWidget(self.clear_btn)
        self.filter_bar = bar
        self._fill_choices()

    def _fill_choices(self) -> None:
        from citymodel.towns import TOWN_TABLE
        for box, items in ((self.domain_box, [(c, domain_name(self.store, c)) for c in sorted(self.store.domains)]),
                           (self.town_box, [(t.code, town_name(self.store, t.code)) for t in TOWN_TABLE])):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(self.tr("全部部门") if box is self.domain_box else self.tr("全部镇街"), _ALL)
            for code, name in items:
                box.addItem(name, code)
            i = box.findData(current)
            box.setCurrentIndex(max(i, 0))
            box.blockSignals(False)
        self._fit_popups()

    def _fit_popups(self) -> None:
        """The open list as wide as its longest name, however narrow the closed combo."""
        for box in (self.domain_box, self.town_box, self.state_box):
            fm = box.view().fontMetrics()
            widest = max((fm.horizontalAdvance(box.itemText(i)) for i in range(box.count())), default=0)
            box.view().setMinimumWidth(widest + 40)
            box.updateGeometry()  # its preferred width changed with its entries

    def _build_table(self) -> None:
        t = AlertTableView(objectName="AlertTable")  # paints its visible cells in one pass
        t.setModel(self.model)
        # paints from the model's cached rows: half the cost of the standard delegate per repaint
        t.setItemDelegate(AlertRowDelegate(self.model, t))
        t.setSortingEnabled(True)
        t.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setAlternatingRowColors(True)
        t.verticalHeader().setVisible(False)
        # fixed row height: the view never measures 100k rows
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(COLUMNS.index("title"), QHeaderView.ResizeMode.Stretch)
        self._fitted_font = None
        t.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        t.selectionModel().selectionChanged.connect(lambda *_: self._update_enabled())
        t.doubleClicked.connect(lambda _i: self.act("incident.open"))
        self.table = t

    def _build_actions(self) -> None:
        bar = FlowLayout()  # buttons wrap; the status text takes the rest of the last row
        self.buttons: dict[str, QPushButton] = {}
        for aid in ("alert.ack", "alert.escalate", "alert.dispatch", "alert.resolve", "incident.open"):
            a = ACTIONS_BY_ID[aid]
            b = QPushButton(f"{a.title(lang())} ({a.key})", objectName=f"Action_{aid}")
            b.clicked.connect(lambda _c=False, x=aid: self.act(x))
            self.buttons[aid] = b
            bar.addWidget(b)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.status)
        self.action_bar = bar

    def fit_columns(self) -> None:
        """Row height and column widths from the font the theme gives the table (known only
        once the style sheet is applied, so this runs when the feed is shown)."""
        t = self.table
        fm = t.fontMetrics()
        if self._fitted_font == t.font().key():
            return
        self._fitted_font = t.font().key()
        t.verticalHeader().setDefaultSectionSize(fm.height() + 8)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance(self.search.placeholderText()) + 44)
        self._fit_popups()
        samples = {"level": ("红色", "Orange"), "state": ("已派遣 ⟰", "Acknowledged"),
                   "domain": ("生态环境局", "Environment"), "town": ("大岭山镇", "Dalingshan"),
                   "count": ("次数", "Count"), "last_ts": ("00-00 00:00:00",), "assignee": ("处置人", "operator")}
        for col, texts in samples.items():
            t.setColumnWidth(COLUMNS.index(col), max(fm.horizontalAdvance(x) for x in texts) + 28)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.fit_columns()

    def _install_shortcuts(self) -> None:
        # Single-letter keys are handled on the table itself (an event filter): they must work
        # whatever window is active and must not steal letters typed into the search box.
        self._letter_actions = {ACTIONS_BY_ID[a].key.upper(): a for a in
                                ("alert.ack", "alert.escalate", "alert.dispatch", "alert.resolve", "incident.open")}
        self.table.installEventFilter(self)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Ctrl+Shift+F"), self, activated=self.clear_filter,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.table and event.type() == QEvent.Type.KeyPress:
            key = event.text().upper()  # type: ignore[attr-defined]
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier  # type: ignore[attr-defined]
            if mods == Qt.KeyboardModifier.NoModifier and key in self._letter_actions:
                self.act(self._letter_actions[key])
                return True
        return super().eventFilter(obj, event)

    # ---- filters -------------------------------------------------------------------------
    def current_filter(self) -> AlertFilter:
        f = AlertFilter()
        f.levels = {lv for lv, b in self.level_buttons.items() if b.isChecked()}
        d, t, s = self.domain_box.currentData(), self.town_box.currentData(), self.state_box.currentData()
        f.domains = set() if d in (None, _ALL) else {d}
        f.towns = set() if t in (None, _ALL) else {t}
        f.states = {x.value for x in OPEN_STATES} if s == "open" else (set() if s in (None, _ALL) else {s})
        f.text = self.search.text().strip()
        return f

    def apply_filter(self, f: AlertFilter) -> None:
        """Show the controls for a filter (from settings or another panel) and apply it."""
        widgets = [*self.level_buttons.values(), self.domain_box, self.town_box, self.state_box, self.search]
        for w in widgets:
            w.blockSignals(True)
        for lv, b in self.level_buttons.items():
            b.setChecked(lv in f.levels)
        _select(self.domain_box, next(iter(f.domains), _ALL), lambda c: domain_name(self.store, c))
        _select(self.town_box, next(iter(f.towns), _ALL), lambda c: town_name(self.store, c))
        open_states = {x.value for x in OPEN_STATES}
        s = "open" if f.states == open_states else (_ALL if not f.states else next(iter(f.states)))
        self.state_box.setCurrentIndex(max(self.state_box.findData(s), 0))
        self.search.setText(f.text)
        for w in widgets:
            w.blockSignals(False)
        self._on_filter_edited()

    def clear_filter(self) -> None:
        self.apply_filter(AlertFilter())
        self.view_state.set_town(None)

    def _on_filter_edited(self, *_: Any) -> None:
        f = self.current_filter()
        self.model.set_filter(f)
        self._show_hidden_red()
        self.filter_changed.emit(f.to_dict())
        town = next(iter(f.towns)) if len(f.towns) == 1 else None
        self.view_state.set_town(town)

    def _on_view_town_changed(self, town: str | None) -> None:
        if self.town_box.currentData() != (town or _ALL):
            _select(self.town_box, town or _ALL, lambda c: town_name(self.store, c))

    # ---- refresh ------------------------------------------------------------------------
    def _on_store_reset(self) -> None:
        self._fill_choices()

    def _on_refresh_tick(self) -> None:
        if self.model.flush(BUILD_STEP_S):
            self._show_hidden_red()
        if self.model.building:
            self._build_step.start()

    def _show_hidden_red(self) -> None:
        n = self.model.hidden_red
        self.hidden_notice.setVisible(n > 0)
        if n:
            self.hidden_notice.setText(self.tr("有 %n 条红色告警被当前筛选隐藏", "", n))

    # ---- actions -------------------------------------------------------------------------
    def selected_alerts(self) -> list[Any]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [a for a in (self.model.alert_at(r) for r in rows) if a is not None]

    def select_alert(self, alert_id: int) -> bool:
        self.model.flush()
        row = self.model.row_of(alert_id)
        if row < 0:
            return False
        idx = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(idx)
        return True

    def _on_table_current_changed(self, current: Any, _previous: Any) -> None:
        a = self.model.alert_at(current.row())
        self.view_state.select_alert(a.id if a else None)
        self._update_enabled()

    def _on_store_session_changed(self, _info: Any) -> None:
        self._update_enabled()

    def _update_enabled(self) -> None:
        has = bool(self.selected_alerts())
        for aid, b in self.buttons.items():
            allowed = ACTIONS_BY_ID[aid].allowed(self.store.session.permissions)
            b.setEnabled(has and allowed)
            b.setToolTip("" if allowed else self.tr("当前角色无此权限"))

    def act(self, action_id: str) -> None:
        a = ACTIONS_BY_ID[action_id]
        alerts = self.selected_alerts()
        if not alerts or not a.allowed(self.store.session.permissions):
            return
        if action_id == "incident.open":
            self._send(a.command or "", {"alert_ids": [x.id for x in alerts]})
            return
        if a.confirm and not confirm(self, self.tr("请确认"),
                                     self.tr("对 %n 条告警执行：", "", len(alerts)) + self.buttons[action_id].text()):
            return
        for x in alerts:
            self._send(a.command or "", {"alert_id": x.id})

    def _send(self, command: str, args: dict[str, Any]) -> None:
        self.status.setText(self.tr("发送中…"))
        on_done(self.commands.send(command, args), self._on_command_result)

    def _on_command_result(self, res: CommandResult) -> None:
        if res.ok:
            self._show_status(self.tr("已排队，联网后发送") if res.queued else self.tr("已完成"), "")
        elif not self._tracked:  # else the tracker's words (which action, on what) come
            self._show_status(self.tr("失败：") + error_text(res.error_code), "refused", res.error_message or "")

    def _on_commands_refused(self, text: str, _name: str, _args: dict[str, Any], res: CommandResult) -> None:
        self._show_status(text, "refused", res.error_message or "")

    def _show_status(self, text: str, state: str, detail: str = "") -> None:
        self.status.setText(text)
        self.status.setToolTip(detail)
        if self.status.property("state") != state:
            self.status.setProperty("state", state)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)


def _select(box: QComboBox, code: str, name: Any) -> None:
    """Select a code in a filter box, adding it when the box does not list it yet (a filter
    saved earlier, or a bureau the snapshot has not named)."""
    i = box.findData(code)
    if i < 0:
        box.addItem(name(code), code)
        i = box.count() - 1
    box.setCurrentIndex(i)
