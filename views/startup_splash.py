"""What the console shows while `--embedded` waits for its local sync service: the first start
seeds a 1.7-million-building city and 100,000 devices, a minute of work that must not look
like a hung application."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget


def step_text(step: str, n: int) -> str:
    """The user's words for a service start-up step (views/embedded.py hears them)."""
    translate = QCoreApplication.translate  # not "tr": lupdate reads tr(a, b) as a class tr()
    count = f"{n:,}"
    if step == "cim-generate":
        return translate("StartupSplash", "首次启动：正在生成城市模型（{n} 栋建筑）…").format(n=count)
    if step == "cim-store":
        return translate("StartupSplash", "首次启动：正在保存城市模型（{n} 栋建筑）…").format(n=count)
    if step == "provision":
        return translate("StartupSplash", "首次启动：正在部署模拟设备（{n} 台）…").format(n=count)
    return translate("StartupSplash", "正在启动本地同步服务…")


class StartupSplash(QWidget):
    """A small frameless window naming the step and how long it has taken so far."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("StartupSplash")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 28, 32, 28)
        title = QLabel(QCoreApplication.translate("StartupSplash", "东莞市智慧城市运行中心 · IOC 控制台"))
        title.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.step = QLabel()
        self.step.setWordWrap(True)
        self.elapsed = QLabel()
        self.elapsed.setStyleSheet("color: palette(mid);")
        for w in (title, self.step, self.elapsed):
            lay.addWidget(w)
        self._t0 = time.monotonic()
        self._shown: tuple[str, int] | None = None

    def on_wait(self, step: str, n: int) -> None:
        """EmbeddedService.start's callback: update the text and keep the window painting."""
        if self._shown != (step, n):
            self._shown = (step, n)
            self.step.setText(step_text(step, n))
        secs = int(time.monotonic() - self._t0)
        self.elapsed.setText(QCoreApplication.translate("StartupSplash", "已用 {s} 秒").format(s=secs))
        if not self.isVisible():
            self.adjustSize()
            screen = QApplication.primaryScreen()
            if screen is not None:
                self.move(screen.availableGeometry().center() - self.rect().center())
            self.show()
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
