"""Incident panel: the incident in focus (or the one picked from the active list), its alerts,
tasks and notes; put it in focus for every hall (focus.set) and move its state.

Options: follow_focus (default true: show whatever the decision room focuses), sends_focus.
A bureau operator whose view the focus left for another bureau's incident is told it moved
elsewhere, not where (the service redacts it).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.commandbus import CommandResult, CommandSink
from app.selection import ViewState
from app.store import StateStore
from protocol.enums import IncidentState
from widgets.common import (
    LEVEL_COLORS,
    alert_title,
    confirm,
    domain_name,
    fmt_time,
    level_text,
    on_done,
    refresh_hub,
    state_text,
    town_name,
)


class IncidentPanel(QWidget):
    def __init__(self, store: StateStore, commands: CommandSink, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IncidentPanel")
        self.store, self.commands = store, commands
        self.view_state = view_state or ViewState()
        o = options or {}
        self.follow_focus = bool(o.get("follow_focus", True))
        self.sends_focus = bool(o.get("sends_focus", False))
        self.incident_id: int | None = None
        self.picker = QComboBox(objectName="IncidentPicker")
        self.picker.activated.connect(self._on_picker_activated)
        self.focus_flag = QLabel("", objectName="FocusFlag")
        self.title = QLabel(self.tr("当前无关注事件"), objectName="IncidentTitle")
        self.title.setWordWrap(True)
        self.meta = QLabel("", objectName="IncidentMeta")
        self.meta.setWordWrap(True)
        self.summary = QLabel("", objectName="IncidentSummary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.alerts = QListWidget(objectName="IncidentAlerts")
        self.alerts.setWordWrap(True)
        self.alerts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.status = QLabel("", objectName="IncidentStatus")
        self.focus_btn = QPushButton(self.tr("设为全局关注 (F)"), objectName="FocusButton")
        self.focus_btn.clicked.connect(self.put_in_focus)
        self.state_btns: dict[str, QPushButton] = {}
        btns = QHBoxLayout()
        btns.addWidget(self.focus_btn)
        for st, label in ((IncidentState.ACTIVE, self.tr("开始处置")), (IncidentState.CONTAINED, self.tr("已控制")),
                          (IncidentState.CLOSED, self.tr("结束事件"))):
            b = QPushButton(label, objectName=f"IncidentState_{st.value}")
            b.clicked.connect(lambda _c=False, s=st: self.set_state(s))
            self.state_btns[st.value] = b
            btns.addWidget(b)
        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.focus_flag)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.title)
        lay.addWidget(self.meta)
        lay.addWidget(self.summary)
        lay.addWidget(self.alerts, 1)
        lay.addLayout(btns)
        lay.addWidget(self.status)
        self._dirty = True
        for sig in (store.incidents_changed, store.tasks_changed, store.reset, store.session_changed):
            sig.connect(self._on_store_changed)
        store.alerts_changed.connect(self._on_store_alerts_changed)
        store.focus_changed.connect(self._on_store_focus_changed)
        self.view_state.incident_selected.connect(self._on_view_incident_selected)
        refresh_hub().tick.connect(self._on_refresh_tick)
        if store.focus is not None and self.follow_focus:
            self.incident_id = store.focus.incident_id
        self.rebuild()

    # ---- inbound -------------------------------------------------------------------------
    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_store_alerts_changed(self, ids: set[int]) -> None:
        inc = self.store.incidents.get(self.incident_id) if self.incident_id is not None else None
        if inc is not None and not ids.isdisjoint(inc.alert_ids):
            self._dirty = True

    def _on_store_focus_changed(self, focus: Any) -> None:
        if self.follow_focus and focus is not None:
            self.show_incident(focus.incident_id)

    def _on_view_incident_selected(self, incident_id: int | None) -> None:
        if incident_id is not None:
            self.show_incident(incident_id)

    def _on_picker_activated(self, _index: int) -> None:
        self.show_incident(self.picker.currentData())

    def _on_refresh_tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self.rebuild()

    def show_incident(self, incident_id: int | None) -> None:
        self.incident_id = incident_id
        self.rebuild()

    # ---- view ----------------------------------------------------------------------------
    def active_incidents(self) -> list[Any]:
        return sorted((i for i in self.store.incidents.values() if i.state != IncidentState.CLOSED),
                      key=lambda i: (-i.level, -i.updated_ts))

    def rebuild(self) -> None:
        active = self.active_incidents()
        self.picker.blockSignals(True)
        self.picker.clear()
        for inc in active:
            self.picker.addItem(f"[{level_text(inc.level)}] #{inc.id} {inc.title}", inc.id)
        if self.incident_id is None and active:
            self.incident_id = active[0].id
        self.picker.setCurrentIndex(max(self.picker.findData(self.incident_id), 0))
        self.picker.blockSignals(False)
        inc = self.store.incidents.get(self.incident_id) if self.incident_id is not None else None
        focus = self.store.focus
        in_focus = inc is not None and focus is not None and focus.incident_id == inc.id
        if in_focus:
            self.focus_flag.setText(self.tr("◉ 全局关注"))
        elif focus is not None and focus.elsewhere:  # another bureau's incident: not which one
            self.focus_flag.setText(self.tr("◎ 全局关注已移至他处"))
        else:
            self.focus_flag.setText("")
        if inc is None:
            self.title.setText(self.tr("当前无关注事件"))
            self.meta.setText("")
            self.summary.setText("")
            self.alerts.clear()
        else:
            colour = LEVEL_COLORS.get(inc.level)
            self.title.setText(f"#{inc.id} {inc.title}")
            self.title.setStyleSheet(f"border-left: 8px solid {colour.name() if colour else '#777'}; padding-left: 8px;")
            self.meta.setText(" · ".join(x for x in (
                level_text(inc.level), state_text(inc.state.value), town_name(self.store, inc.town),
                domain_name(self.store, inc.domain),
                self.tr("指挥：") + (inc.commander or "—"), self.tr("更新 ") + fmt_time(inc.updated_ts)) if x))
            notes = "\n".join(f"{fmt_time(n.ts)} {n.by}: {n.text}" for n in inc.notes[-3:])
            self.summary.setText("\n".join(x for x in (inc.summary, notes) if x))
            self.alerts.clear()
            for aid in inc.alert_ids[:200]:
                a = self.store.alerts.get(aid)
                if a is not None:
                    self.alerts.addItem(f"[{level_text(a.level)}] {alert_title(a)} · {state_text(a.state.value)}")
            for t in self.store.tasks.values():
                if t.incident_id == inc.id:
                    self.alerts.addItem(self.tr("任务：") + f"{t.title} · {state_text(t.state.value)}")
        can_update = self.store.can("incident.update") and inc is not None
        self.focus_btn.setVisible(self.sends_focus)
        self.focus_btn.setEnabled(self.store.can("focus.set") and inc is not None and not in_focus)
        for st, b in self.state_btns.items():
            b.setEnabled(can_update and inc is not None and inc.state.value != st)

    # ---- actions -------------------------------------------------------------------------
    def put_in_focus(self) -> None:
        if self.incident_id is None or not self.store.can("focus.set"):
            return
        on_done(self.commands.send("focus.set", {"incident_id": self.incident_id}), self._on_result)

    def set_state(self, state: IncidentState) -> None:
        if self.incident_id is None or not self.store.can("incident.update"):
            return
        if state == IncidentState.CLOSED and not confirm(self, self.tr("请确认"), self.tr("确定结束该事件？")):
            return
        on_done(self.commands.send("incident.update", {"incident_id": self.incident_id, "state": state.value}),
                self._on_result)

    def _on_result(self, res: CommandResult) -> None:
        self.status.setText(self.tr("已完成") if res.ok else self.tr("失败：") + (res.error_message or res.error_code or ""))
