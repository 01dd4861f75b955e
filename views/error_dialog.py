"""Shows the notification manager's errors in a dialog (never a traceback: that is in the log).
Errors arriving while the dialog is open are appended, not stacked as new windows."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.notifications import Notification, NotificationManager, Severity


class ErrorDialog(QDialog):
    def __init__(self, manager: NotificationManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorDialog")
        self.setWindowTitle(self.tr("出现问题"))
        self.resize(560, 260)
        self.head = QLabel(self.tr("操作未能完成。控制台仍在运行，详细信息已写入日志。"))
        self.head.setWordWrap(True)
        self.text = QPlainTextEdit(readOnly=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.hide)
        lay = QVBoxLayout(self)
        lay.addWidget(self.head)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.shown = 0
        manager.notified.connect(self._on_manager_notified)

    def _on_manager_notified(self, n: Notification) -> None:
        if n.severity != Severity.ERROR:
            return
        self.shown += 1
        self.text.appendPlainText(n.message + (f"\n{n.detail}" if n.detail else ""))
        if not self.isVisible():
            self.show()
        self.raise_()
