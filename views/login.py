"""Login: server URL, user, password and hall profile. Remembers the server, user and hall (the
password is never stored). Non-modal, so the asyncio loop keeps running behind it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.halls import Profile
from app.settings import ConsoleSettings
from widgets.common import lang


class LoginDialog(QDialog):
    submitted = Signal(str, str, str, str)  # server_url, user, password, hall id

    def __init__(self, settings: ConsoleSettings, profiles: dict[str, Profile], fixed_hall: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LoginDialog")
        self.setWindowTitle(self.tr("登录 · 智慧城市运行中心"))
        self.server = QLineEdit(settings.server_url, objectName="LoginServer")
        self.user = QLineEdit(settings.user, objectName="LoginUser")
        self.password = QLineEdit(objectName="LoginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.hall = QComboBox(objectName="LoginHall")
        for pid, p in profiles.items():
            self.hall.addItem(p.name(lang()), pid)
        chosen = fixed_hall or settings.hall
        self.hall.setCurrentIndex(max(self.hall.findData(chosen), 0))
        self.hall.setEnabled(fixed_hall is None)
        self.error = QLabel("", objectName="LoginError")
        self.error.setStyleSheet("color: #e53935; font-weight: 700;")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("服务地址"), self.server)
        form.addRow(self.tr("用户名"), self.user)
        form.addRow(self.tr("密码"), self.password)
        form.addRow(self.tr("大厅"), self.hall)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("退出"))
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        (self.password if settings.user else self.user).setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.password.clear()
        self.password.setFocus()

    def _on_buttons_accepted(self) -> None:
        server, user = self.server.text().strip(), self.user.text().strip()
        if not server.startswith(("ws://", "wss://")):
            self.error.setText(self.tr("服务地址须以 ws:// 或 wss:// 开头"))
            return
        if not user or not self.password.text():
            self.error.setText(self.tr("请输入用户名和密码"))
            return
        self.error.setText("")
        self.submitted.emit(server, user, self.password.text(), self.hall.currentData())
        self.accept()
