"""Drills (演练): a duty officer or an admin starts one of the simulated city's scenario stories
(typhoon, fire, pollution, school alarm, gas main) at a chosen speed, through the command bus
(`scenario.start`). The service refuses where no simulated city runs or the role may not; the
answer is shown in the dialog and, as a notification, in the hall window's message bar. Every
hall then hears the service's own "rehearsal started" notice.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.commandbus import CommandResult
from app.store import Connection
from views.context import ViewContext
from widgets.command_feedback import refusal_text
from widgets.common import confirm, on_done

COMMAND = "scenario.start"
# The simulator's stories (simulator/scenarios: a test keeps names and lengths in step):
# name, title (Chinese source text), story length in model seconds.
SCENARIOS: tuple[tuple[str, str, float], ...] = (
    ("typhoon", QT_TRANSLATE_NOOP("ScenarioDialog", "台风暴雨"), 48 * 3600.0),
    ("fire", QT_TRANSLATE_NOOP("ScenarioDialog", "南城高层建筑火灾"), 90 * 60.0),
    ("pollution", QT_TRANSLATE_NOOP("ScenarioDialog", "松山湖周边污染过程"), 8 * 3600.0),
    ("school", QT_TRANSLATE_NOOP("ScenarioDialog", "校园一键报警"), 15 * 60.0),
    ("gas", QT_TRANSLATE_NOOP("ScenarioDialog", "燃气管网压力骤降"), 75 * 60.0),
)
SPEED_MIN, SPEED_MAX, SPEED_DEFAULT = 1, 60, 10  # protocol.commands.ScenarioStart bounds


def scenario_title(name: str) -> str:
    for code, title, _ in SCENARIOS:
        if code == name:
            return QCoreApplication.translate("ScenarioDialog", title)
    return name


def duration_text(seconds: float) -> str:
    """Hours and minutes, exact to the minute (a story of 90 min is not "1 hour")."""
    translate = QCoreApplication.translate
    s = int(round(seconds))
    if s < 60:
        return translate("ScenarioDialog", "%1 秒").replace("%1", str(s))
    h, m = divmod(s // 60, 60)
    if not h:
        return translate("ScenarioDialog", "%1 分钟").replace("%1", str(m))
    if not m:
        return translate("ScenarioDialog", "%1 小时").replace("%1", str(h))
    return translate("ScenarioDialog", "%1 小时 %2 分钟").replace("%1", str(h)).replace("%2", str(m))


def may_start(ctx: ViewContext) -> bool:
    return ctx.store.can(COMMAND)


class ScenarioDialog(QDialog):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScenarioDialog")
        self.ctx = ctx
        self.setWindowTitle(self.tr("演练"))
        intro = QLabel(self.tr("在模拟城市中开始一次演练。演练数据经正常接入通道进入，"
                               "各大厅都会收到演练产生的告警。"), objectName="ScenarioIntro")
        intro.setWordWrap(True)
        self.list = QListWidget(objectName="ScenarioList")
        for code, title, length in SCENARIOS:
            item = QListWidgetItem(self.tr("%1 · 剧情 %2").replace("%1", QCoreApplication.translate(
                "ScenarioDialog", title)).replace("%2", duration_text(length)))
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        # every story visible without scrolling, whatever the theme's font size
        self.list.ensurePolished()
        self.list.setMinimumHeight(self.list.sizeHintForRow(0) * len(SCENARIOS) + 2 * self.list.frameWidth() + 8)
        self.speed = QSpinBox(objectName="ScenarioSpeed", minimum=SPEED_MIN, maximum=SPEED_MAX, value=SPEED_DEFAULT)
        self.speed.setSuffix(" ×")
        self.eta = QLabel(objectName="ScenarioEta")
        self.status = QLabel(objectName="ScenarioStatus")
        self.status.setWordWrap(True)
        self.start_btn = QPushButton(self.tr("开始演练"), objectName="ScenarioStart")
        self.start_btn.setDefault(False)
        self.start_btn.setAutoDefault(False)  # Enter never starts a drill by mistake
        close = QPushButton(self.tr("关闭"), objectName="ScenarioClose")
        close.clicked.connect(self.reject)
        speed_row = QHBoxLayout()
        speed_row.addWidget(QLabel(self.tr("倍速")))
        speed_row.addWidget(self.speed)
        speed_row.addWidget(self.eta, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_btn)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.list, 1)
        lay.addLayout(speed_row)
        lay.addWidget(self.status)
        lay.addLayout(buttons)
        self.sending = False
        self.result: CommandResult | None = None
        self.list.currentRowChanged.connect(lambda _r: self._update())
        self.speed.valueChanged.connect(lambda _v: self._update())
        self.start_btn.clicked.connect(self.start)
        ctx.store.session_changed.connect(self._on_store_changed)
        ctx.store.connection_changed.connect(self._on_store_changed)
        self._update()
        self.resize(max(640, self.sizeHint().width()), self.sizeHint().height())

    # ---- state ---------------------------------------------------------------------------
    def chosen(self) -> tuple[str, float]:
        item = self.list.currentItem()
        return (str(item.data(Qt.ItemDataRole.UserRole)) if item else "", float(self.speed.value()))

    def _on_store_changed(self, *_: Any) -> None:
        self._update()

    def _update(self) -> None:
        name, speed = self.chosen()
        length = next((s[2] for s in SCENARIOS if s[0] == name), 0.0)
        self.eta.setText(self.tr("约需 %1").replace("%1", duration_text(length / speed)) if length else "")
        allowed = may_start(self.ctx)
        online = self.ctx.store.connection == Connection.ONLINE
        self.start_btn.setEnabled(allowed and online and not self.sending and bool(name))
        if not allowed:
            self._say(self.tr("当前角色无权开始演练（值班主任或管理员可以）。"), "refused")
        elif not online and not self.sending:
            # a drill queued offline would start at some unknown later time: not offered
            self._say(self.tr("未连接服务，不能开始演练。"), "refused")
        elif self.status.property("state") == "refused" and self.result is None:
            self._say("", "")

    def _say(self, text: str, state: str) -> None:
        self.status.setText(text)
        self.status.setProperty("state", state)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        # wrapped text: the top-level window does not grow by itself to the height it needs
        need = self.layout().heightForWidth(self.width()) if self.layout() is not None else -1
        if need > self.height():
            self.resize(self.width(), need)

    # ---- start ---------------------------------------------------------------------------
    def start(self) -> None:
        name, speed = self.chosen()
        if not name or self.sending or not may_start(self.ctx):
            return
        title = scenario_title(name)
        question = self.tr("开始演练「%1」，%2 倍速？\n演练告警会出现在所有大厅。").replace("%1", title).replace(
            "%2", f"{speed:g}")
        if not confirm(self, self.tr("确认开始演练"), question):
            return
        self.sending = True
        self.result = None
        self._say(self.tr("发送中…"), "sending")
        self._update()
        args = {"name": name, "speed": speed}
        on_done(self.ctx.commands.send(COMMAND, args), lambda res: self._on_result(args, res))

    def _on_result(self, args: dict[str, Any], res: CommandResult) -> None:
        self.sending = False
        self.result = res
        title = scenario_title(str(args["name"]))
        if res.ok and res.queued:
            self._say(self.tr("已排队，联网后发送"), "sending")
        elif res.ok:
            text = self.tr("演练已开始：%1（%2 倍速）").replace("%1", title).replace("%2", f"{args['speed']:g}")
            self._say(text, "ok")
            self.ctx.notifications.info(text, source="drill")
        else:
            text = refusal_text(COMMAND, args, res, self.ctx.store, target=title)
            if res.error_message:  # the service's own words (e.g. no simulated city runs there)
                text += "\n" + self.tr("服务说明：%1").replace("%1", res.error_message)
            self._say(text, "refused")
        self._update()
