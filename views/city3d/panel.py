"""The city view's side panel: a QTextBrowser for the legend, the building card, measurements
and surroundings, which draws two kinds of picture the HTML names:
- swatch:RRGGBB, a colour square with a grey border (a white swatch stays visible on the light
  theme's white panel, a dark one on the dark theme's);
- siteplan:ID, the site plan of key unit ID from site_plans (views.city3d.siteplan_view).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget

from views.city3d.card import SITE_PLAN_PX
from views.city3d.siteplan_view import render_site_plan

SWATCH_PX = 12


def swatch_image(hex_rgb: str) -> QImage:
    img = QImage(SWATCH_PX, SWATCH_PX, QImage.Format.Format_ARGB32)
    img.fill(QColor(f"#{hex_rgb}"))
    p = QPainter(img)
    p.setPen(QPen(QColor(128, 136, 146), 1))
    p.drawRect(0, 0, SWATCH_PX - 1, SWATCH_PX - 1)
    p.end()
    return img


class CityPanel(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="CityCard")
        self.setOpenLinks(False)  # siteplan: links are the view's (a dialog), not pages
        self.site_plans: dict[int, dict[str, Any]] = {}
        self.theme = "dark"

    def loadResource(self, kind: int, url: QUrl) -> Any:  # noqa: N802 - Qt API
        if kind == QTextDocument.ResourceType.ImageResource.value or kind == QTextDocument.ResourceType.ImageResource:
            scheme, rest = url.scheme(), url.path() or url.toString().split(":", 1)[-1]
            if scheme == "swatch" and len(rest) == 6:
                return swatch_image(rest)
            if scheme == "siteplan" and rest.isdigit() and int(rest) in self.site_plans:
                return render_site_plan(self.site_plans[int(rest)], SITE_PLAN_PX * 2, SITE_PLAN_PX * 2, self.theme)
        return super().loadResource(kind, url)
