"""Decisions waiting: tasks with requires_approval in PROPOSED, each a card with big Approve and
Reject buttons. Both ask for confirmation (nothing done by mistake) and are greyed out for a
role without task.decide.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.commandbus import CommandResult, CommandSink
from app.store import StateStore
from protocol.enums import TaskState
from widgets.common import confirm, domain_name, fmt_time, on_done, refresh_hub


class DecisionCard(QFrame):
    def __init__(self, panel: DecisionPanel, task: Any) -> None:
        super().__init__(panel)
        self.setObjectName("DecisionCard")
        self.task_id = task.id
        inc = panel.store.incidents.get(task.incident_id) if task.incident_id else None
        title = QLabel(task.title, objectName="DecisionTitle")
        title.setWordWrap(True)
        meta = QLabel(" · ".join(x for x in (
            domain_name(panel.store, task.domain), (f"#{inc.id} {inc.title}" if inc else ""),
            QCoreApplication.translate("DecisionPanel", "提出：") + f"{task.created_by} {fmt_time(task.created_ts)}") if x), objectName="DecisionMeta")
        meta.setWordWrap(True)
        desc = QLabel(task.description, objectName="DecisionDesc")
        desc.setWordWrap(True)
        desc.setVisible(bool(task.description))
        allowed = panel.store.can("task.decide")
        self.approve = QPushButton(QCoreApplication.translate("DecisionPanel", "批准"), objectName="ApproveButton")
        self.reject = QPushButton(QCoreApplication.translate("DecisionPanel", "驳回"), objectName="RejectButton")
        for b, ok in ((self.approve, True), (self.reject, False)):
            b.setEnabled(allowed and task.id not in panel.sending)
            b.setToolTip("" if allowed else QCoreApplication.translate("DecisionPanel", "当前角色无此权限"))
            b.clicked.connect(lambda _c=False, a=ok: panel.decide(self.task_id, a))
        row = QHBoxLayout()
        row.addWidget(self.approve)
        row.addWidget(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(meta)
        lay.addWidget(desc)
        lay.addLayout(row)


class DecisionPanel(QWidget):
    def __init__(self, store: StateStore, commands: CommandSink, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DecisionPanel")
        self.store, self.commands = store, commands
        self.sending: set[int] = set()
        self.caption = QLabel("", objectName="DecisionCaption")
        self.status = QLabel("", objectName="DecisionStatus")
        self.inner = QWidget(objectName="DecisionInner")
        self.cards_layout = QVBoxLayout(self.inner)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea(objectName="DecisionScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inner)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.caption)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.status)
        self.cards: dict[int, DecisionCard] = {}
        self._dirty = True
        for sig in (store.tasks_changed, store.reset, store.session_changed):
            sig.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.rebuild()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self.rebuild()

    def waiting(self) -> list[Any]:
        return sorted((t for t in self.store.tasks.values()
                       if t.requires_approval and t.state == TaskState.PROPOSED), key=lambda t: t.created_ts)

    def rebuild(self) -> None:
        tasks = self.waiting()
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        for t in tasks:
            card = DecisionCard(self, t)
            self.cards[t.id] = card
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)
        self.caption.setText(self.tr("待决策事项：%n 项", "", len(tasks)) if tasks else self.tr("暂无待决策事项"))

    def decide(self, task_id: int, approve: bool) -> None:
        task = self.store.tasks.get(task_id)
        if task is None or not self.store.can("task.decide") or task_id in self.sending:
            return
        verb = self.tr("批准") if approve else self.tr("驳回")
        if not confirm(self, self.tr("请确认决策"), self.tr("确定%1：%2？").replace("%1", verb).replace("%2", task.title)):
            return
        self.sending.add(task_id)
        self._dirty = True
        on_done(self.commands.send("task.decide", {"task_id": task_id, "approve": approve}),
                lambda res: self._on_decide_result(task_id, res))

    def _on_decide_result(self, task_id: int, res: CommandResult) -> None:
        self.sending.discard(task_id)
        self._dirty = True
        self.status.setText(self.tr("已提交") if res.ok else self.tr("失败：") + (res.error_message or res.error_code or ""))
