"""The hall window's message bar (its status bar): the latest notice for the people in the room.

It shows the console's notifications (warnings such as a command the service refused, infos such
as "drill started") and the service's system notices (every hall hears "rehearsal started"),
with a close button. Infos go after INFO_S seconds, warnings and errors after WARN_S: a wall has
nobody to click them away, and a laptop user must still have time to read them.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from app.notifications import Notification, NotificationManager, Severity
from app.store import StateStore
from widgets.common import fmt_time, pick

INFO_S = 12.0
WARN_S = 60.0


class MessageBar(QFrame):
    def __init__(self, notifications: NotificationManager | None, store: StateStore | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.text = QLabel(objectName="MessageText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_btn = QToolButton(objectName="MessageClose", text="✕")
        self.close_btn.setToolTip(self.tr("关闭消息"))
        self.close_btn.clicked.connect(self.dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.close_btn)
        self.severity = ""
        self.shown: list[tuple[str, str]] = []  # (severity, text) in arrival order, for tests and tooltips
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.dismiss)
        self.setVisible(False)
        # bound methods: the Qt-free signals hold them weakly, so a closed window is not kept
        if notifications is not None:
            notifications.notified.connect(self._on_notified)
        if store is not None:
            store.notice.connect(self._on_store_notice)

    def _on_notified(self, n: Notification) -> None:
        self.show_message(n.message, str(n.severity), n.detail)

    def _on_store_notice(self, data: dict[str, Any]) -> None:
        text = pick(str(data.get("text") or ""), str(data.get("text_en") or ""))
        if text:
            level = str(data.get("level") or "info")
            self.show_message(text, level if level in ("warning", "error") else "info")

    def show_message(self, text: str, severity: str = "info", detail: str = "") -> None:
        self.severity = severity if severity in {s.value for s in Severity} else "info"
        self.shown.append((self.severity, text))
        del self.shown[:-50]
        self.text.setText(f"{fmt_time(time.time())}  {text}")
        self.setToolTip(detail)
        self.setProperty("severity", self.severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setVisible(True)
        self._timer.start(int((INFO_S if self.severity == "info" else WARN_S) * 1000))

    def dismiss(self) -> None:
        self._timer.stop()
        self.setVisible(False)

