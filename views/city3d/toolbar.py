"""The city view's toolbar: 2D/3D, colour mode, town bookmarks, tools, surroundings, overlays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from citymodel.towns import TOWN_TABLE
from views.city3d.colors import MODES
from views.city3d.overlays import STYLES

if TYPE_CHECKING:
    from views.city3d.widget import CityView

TOOLS = (("pick", "选取"), ("distance", "测距"), ("height", "测高"), ("area", "测面积"))
OVERLAYS = ("fire_station", "fire_vehicle", "water_source", "incident", "key_unit", "device")


class CityToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.btn_2d = QPushButton("2D", checkable=True, objectName="City2D")
        self.colour = QComboBox(objectName="CityColour")
        for code, zh, _ in MODES:
            self.colour.addItem(zh, code)
        self.towns = QComboBox(objectName="CityBookmarks")
        self.towns.addItem("全市总览", "overview")
        for t in TOWN_TABLE:
            self.towns.addItem(t.name_zh, t.code)
        self.tool_buttons: dict[str, QPushButton] = {}
        self.tool_group = QActionGroup(self)
        for code, zh in TOOLS:
            b = QPushButton(zh, checkable=True, objectName=f"CityTool_{code}")
            b.setAutoExclusive(True)
            self.tool_buttons[code] = b
        self.tool_buttons["pick"].setChecked(True)
        self.clear_btn = QPushButton("清除测量", objectName="CityClearMeasure")
        self.radius = QSpinBox(objectName="CityRadius", minimum=50, maximum=5000, singleStep=50, value=300,
                               suffix=" m")
        self.surround_btn = QPushButton("周边分析", objectName="CitySurroundings")
        self.overlay_btn = QToolButton(text="图层", objectName="CityOverlays",
                                       popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.overlay_btn)
        self.overlay_actions: dict[str, QAction] = {}
        for key in OVERLAYS:
            act = QAction(STYLES[key].name_zh, menu, checkable=True, checked=True)
            menu.addAction(act)
            self.overlay_actions[key] = act
        self.overlay_btn.setMenu(menu)
        for w in (self.btn_2d, self.colour, self.towns, *self.tool_buttons.values(), self.clear_btn,
                  self.radius, self.surround_btn, self.overlay_btn):
            lay.addWidget(w)
        lay.addStretch(1)

    def connect_view(self, view: CityView) -> None:
        self.btn_2d.toggled.connect(view.set_2d)
        self.colour.currentIndexChanged.connect(lambda _i: view.set_colour_mode(self.colour_mode()))
        self.towns.activated.connect(lambda i: view.go_town(str(self.towns.itemData(i))))
        self.clear_btn.clicked.connect(lambda: view.measure.clear() if view.measure else None)
        self.surround_btn.clicked.connect(lambda: view.request_surroundings(float(self.radius.value())))
        for act in self.overlay_actions.values():
            act.toggled.connect(lambda _on: view.mark("resources", "incidents", "devices"))

    def colour_mode(self) -> str:
        return str(self.colour.currentData() or "height")

    def tool(self) -> str:
        for code, b in self.tool_buttons.items():
            if b.isChecked():
                return code
        return "pick"

    def overlay_visibility(self) -> dict[str, bool]:
        return {k: a.isChecked() for k, a in self.overlay_actions.items()}
