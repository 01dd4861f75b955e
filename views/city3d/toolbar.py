"""The city view's toolbar: 2D/3D, colour mode, town bookmarks, tools, surroundings, overlays.

Texts are Chinese source strings translated with QCoreApplication.translate("CityView", ...);
retranslate() sets them again when the UI language changes at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPixmap
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
from views.city3d.overlays import STYLES, device_rgb
from widgets.common import pick

if TYPE_CHECKING:
    from views.city3d.widget import CityView

TOOLS = (("pick", QT_TRANSLATE_NOOP("CityView", "选取")), ("distance", QT_TRANSLATE_NOOP("CityView", "测距")),
         ("height", QT_TRANSLATE_NOOP("CityView", "测高")), ("area", QT_TRANSLATE_NOOP("CityView", "测面积")))
OVERLAYS = ("fire_station", "fire_vehicle", "water_source", "incident", "key_unit", "device")


def _t(text: str) -> str:
    """A CityView source string already marked with QT_TRANSLATE_NOOP, in the UI language."""
    return QCoreApplication.translate("CityView", text)


class CityToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.btn_2d = QPushButton("2D", checkable=True, objectName="City2D")
        self.colour = QComboBox(objectName="CityColour")
        for code, _zh in MODES:
            self.colour.addItem("", code)
        self.towns = QComboBox(objectName="CityBookmarks")
        # sized for ~10 characters, not the longest English town name (the list shows it whole)
        self.towns.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.towns.setMinimumContentsLength(10)
        self.towns.addItem("", "overview")
        for t in TOWN_TABLE:
            self.towns.addItem("", t.code)
        self.tool_buttons: dict[str, QPushButton] = {}
        self.tool_group = QActionGroup(self)
        for code, _zh in TOOLS:
            b = QPushButton(checkable=True, objectName=f"CityTool_{code}")
            b.setAutoExclusive(True)
            self.tool_buttons[code] = b
        self.tool_buttons["pick"].setChecked(True)
        self.clear_btn = QPushButton(objectName="CityClearMeasure")
        self.radius = QSpinBox(objectName="CityRadius", minimum=50, maximum=5000, singleStep=50, value=300,
                               suffix=" m")
        self.surround_btn = QPushButton(objectName="CitySurroundings")
        self.overlay_btn = QToolButton(objectName="CityOverlays",
                                       popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.overlay_btn)
        self.overlay_actions: dict[str, QAction] = {}
        for key in OVERLAYS:
            act = QAction(menu, checkable=True, checked=True)
            menu.addAction(act)
            self.overlay_actions[key] = act
        # one entry per IoT device type (set_device_types, from the store's catalogue)
        self.type_menu = QMenu(menu, objectName="CityDeviceTypes")
        menu.addMenu(self.type_menu)
        self.type_actions: dict[str, QAction] = {}
        self._type_names: dict[str, tuple[str, str]] = {}
        self._on_filter: Callable[[], None] | None = None
        self.overlay_btn.setMenu(menu)
        for w in (self.btn_2d, self.colour, self.towns, *self.tool_buttons.values(), self.clear_btn,
                  self.radius, self.surround_btn, self.overlay_btn):
            lay.addWidget(w)
        lay.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the toolbar in the current UI language (data stays where it was)."""
        self.btn_2d.setToolTip(_t(QT_TRANSLATE_NOOP("CityView", "二维俯视 / 三维")))
        for i, (_code, zh) in enumerate(MODES):
            self.colour.setItemText(i, _t(zh))
        self.colour.setToolTip(_t(QT_TRANSLATE_NOOP("CityView", "建筑着色")))
        self.towns.setItemText(0, _t(QT_TRANSLATE_NOOP("CityView", "全市总览")))
        for i, t in enumerate(TOWN_TABLE, start=1):
            self.towns.setItemText(i, pick(t.name_zh, t.name_en))
        self.towns.setToolTip(_t(QT_TRANSLATE_NOOP("CityView", "飞到镇街")))
        for code, zh in TOOLS:
            self.tool_buttons[code].setText(_t(zh))
        self.clear_btn.setText(_t(QT_TRANSLATE_NOOP("CityView", "清除测量")))
        self.clear_btn.setToolTip(_t(QT_TRANSLATE_NOOP("CityView", "清除测量结果")))
        self.radius.setToolTip(_t(QT_TRANSLATE_NOOP("CityView", "周边分析半径")))
        self.surround_btn.setText(_t(QT_TRANSLATE_NOOP("CityView", "周边分析")))
        self.overlay_btn.setText(_t(QT_TRANSLATE_NOOP("CityView", "图层")))
        for key, act in self.overlay_actions.items():
            act.setText(_t(STYLES[key].name))
        self.type_menu.setTitle(_t(QT_TRANSLATE_NOOP("CityView", "设备类型")))
        for code, act in self.type_actions.items():
            act.setText(pick(*self._type_names[code]))

    def set_device_types(self, types: list[tuple[str, str, str]]) -> None:
        """The device types of the Layers menu: (code, name_zh, name_en), each shown in its
        overlay colour; a type already there keeps its check state."""
        if [t[0] for t in types] == list(self.type_actions):
            return
        keep = {c: a.isChecked() for c, a in self.type_actions.items()}
        self.type_menu.clear()
        self.type_actions = {}
        self._type_names = {code: (zh, en) for code, zh, en in types}
        for code, _zh, _en in types:
            pm = QPixmap(12, 12)
            pm.fill(QColor(*device_rgb(code)))
            act = QAction(QIcon(pm), "", self.type_menu, checkable=True, checked=keep.get(code, True))
            act.toggled.connect(lambda _on: self._on_filter() if self._on_filter else None)
            self.type_menu.addAction(act)
            self.type_actions[code] = act
        self.retranslate()

    def device_types_shown(self) -> set[str] | None:
        """The device types ticked in the Layers menu (None: all of them, or none known yet)."""
        if not self.type_actions or all(a.isChecked() for a in self.type_actions.values()):
            return None
        return {c for c, a in self.type_actions.items() if a.isChecked()}

    def connect_view(self, view: CityView) -> None:
        self.btn_2d.toggled.connect(view.set_2d)
        self.colour.currentIndexChanged.connect(lambda _i: view.set_colour_mode(self.colour_mode()))
        self.towns.activated.connect(lambda i: view.go_town(str(self.towns.itemData(i))))
        self.clear_btn.clicked.connect(lambda: view.measure.clear() if view.measure else None)
        self.surround_btn.clicked.connect(lambda: view.request_surroundings(float(self.radius.value())))
        for act in self.overlay_actions.values():
            act.toggled.connect(lambda _on: view.mark("resources", "incidents", "devices", "key_units"))
        self._on_filter = lambda: view.mark("devices")

    def colour_mode(self) -> str:
        return str(self.colour.currentData() or "height")

    def tool(self) -> str:
        for code, b in self.tool_buttons.items():
            if b.isChecked():
                return code
        return "pick"

    def overlay_visibility(self) -> dict[str, bool]:
        return {k: a.isChecked() for k, a in self.overlay_actions.items()}
