"""The 3D city (CIM) view: views.city3d.create_city_view(store, commands, parent=None).

See docs/city3d.md. The view needs OpenGL on a real (or Xvfb) display: on Qt's offscreen
platform VTK cannot render into the widget, so the factory refuses and the hall shows its
placeholder instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.commandbus import CommandSink
    from app.store import StateStore

NO_GL_PLATFORMS = {"offscreen", "minimal"}


def create_city_view(store: StateStore, commands: CommandSink, parent: QWidget | None = None, **kw: Any) -> QWidget:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    platform = QGuiApplication.platformName()
    if platform in NO_GL_PLATFORMS:
        # shown to the user in the hall's placeholder
        raise RuntimeError(QCoreApplication.translate("CityView", "三维城市需要 OpenGL 显示（当前 Qt 平台：{platform}）")
                           .format(platform=platform))
    from views.city3d.widget import CityView

    return CityView(store, commands, parent, **kw)
