"""Shown in the 3D-city cell while views.city3d.create_city_view is not available."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class CityPlaceholder(QWidget):
    def __init__(self, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CityPlaceholder")
        self.label = QLabel(self.tr("三维城市视图暂不可用") + ("\n" + reason if reason else ""),
                            objectName="PlaceholderText")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
