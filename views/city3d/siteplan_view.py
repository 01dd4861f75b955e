"""Drawing a key unit's site plan (总平面图, layout from citymodel.siteplan) with QPainter: the
unit's buildings, neighbours, water sources (those beyond the plan at its edge, pointing their
way), entrances, the aerial-ladder staging area, a north arrow and a scale bar. The card shows
a small one; a click opens SitePlanDialog with a large one and its legend."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

translate = QCoreApplication.translate

UNIT_RGB = (190, 120, 255)
WATER_RGB = (0, 170, 255)
ENTRANCE_RGB = (40, 200, 90)
STAGING_RGB = (255, 150, 0)
_PALETTE = {  # background, neighbour fill, line/text
    "dark": ((15, 24, 34), (70, 84, 100), (210, 220, 230)),
    "light": ((246, 248, 250), (196, 204, 214), (40, 52, 64)),
}


def _c(rgb: tuple[int, int, int], a: int = 255) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], a)


def render_site_plan(layout: dict[str, Any], width: int, height: int, theme: str = "dark") -> QImage:
    bg, other, ink = _PALETTE.get(theme, _PALETTE["dark"])
    img = QImage(width, height, QImage.Format.Format_ARGB32)
    img.fill(_c(bg))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    r = float(layout.get("radius_m") or 120.0)
    scale = min(width, height) / (2.25 * r)
    ox, oy = width / 2, height / 2

    def at(xy: list[float]) -> QPointF:
        return QPointF(ox + xy[0] * scale, oy - xy[1] * scale)

    p.setPen(QPen(_c(ink, 90), 1, Qt.PenStyle.DashLine))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(ox, oy), r * scale, r * scale)
    staging = layout.get("staging")
    if staging:
        p.setPen(QPen(_c(STAGING_RGB), 1.5))
        p.setBrush(QBrush(_c(STAGING_RGB, 150), Qt.BrushStyle.BDiagPattern))
        p.drawPolygon(QPolygonF([at(c) for c in staging]))
    font = QFont(p.font())
    font.setPixelSize(max(10, int(min(width, height) / 30)))
    p.setFont(font)
    for b in sorted(layout.get("buildings", []), key=lambda b: b.get("unit", False)):
        poly = QPolygonF([at(c) for c in b["ring"]])
        if b.get("unit"):
            p.setPen(QPen(_c(UNIT_RGB).darker(150), 2))
            p.setBrush(_c(UNIT_RGB, 220))
        else:
            p.setPen(QPen(_c(other).darker(130), 1))
            p.setBrush(_c(other))
        p.drawPolygon(poly)
    p.setPen(_c(ink))
    for b in layout.get("buildings", []):  # the unit's height and floors on it
        if b.get("unit"):
            c = QPolygonF([at(x) for x in b["ring"]]).boundingRect().center()
            text = translate("CityView", "{h} m · {f} 层").format(h=f"{b['height']:.0f}", f=b["floors"])
            p.drawText(QRectF(c.x() - 80, c.y() - 12, 160, 24), Qt.AlignmentFlag.AlignCenter, text)
    for e in layout.get("entrances", []):
        tip = at(e["at"])
        ang = math.radians(e.get("facing_deg", 0.0))
        dx, dy = math.sin(ang), -math.cos(ang)  # screen direction it faces (y down)
        size = (11 if e.get("kind") == "main" else 8) * max(1.0, min(width, height) / 300)
        base = QPointF(tip.x() + dx * size, tip.y() + dy * size)
        side = QPointF(-dy * size * 0.6, dx * size * 0.6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_c(ENTRANCE_RGB))
        p.drawPolygon(QPolygonF([tip, base + side, base - side]))  # pointing in, at the door
    for w in layout.get("water", []):
        x, y = w["at"]
        d = math.hypot(x, y)
        beyond = d > r
        pos = at([x / d * r, y / d * r] if beyond and d > 0 else [x, y])
        p.setPen(QPen(_c(WATER_RGB).darker(140), 1))
        p.setBrush(_c(WATER_RGB))
        p.drawEllipse(pos, 5, 5)
        if beyond:
            p.setPen(_c(WATER_RGB))
            p.drawText(QRectF(pos.x() - 40, pos.y() + 6, 80, 16), Qt.AlignmentFlag.AlignCenter, f"{w['distance_m']} m")
    _north_and_scale(p, width, height, scale, ink)
    p.end()
    return img


def _north_and_scale(p: QPainter, width: int, height: int, scale: float, ink: tuple[int, int, int]) -> None:
    s = min(width, height) / 300
    x, y = width - 22 * s, 14 * s
    path = QPainterPath()
    path.moveTo(x, y)
    path.lineTo(x - 6 * s, y + 16 * s)
    path.lineTo(x + 6 * s, y + 16 * s)
    path.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(_c(ink))
    p.drawPath(path)
    p.setPen(_c(ink))
    p.drawText(QRectF(x - 12 * s, y + 16 * s, 24 * s, 16 * s), Qt.AlignmentFlag.AlignCenter, "N")
    metres = 50 if 50 * scale < width / 3 else 20
    bar = metres * scale
    y0 = height - 12 * s
    p.setPen(QPen(_c(ink), 2))
    p.drawLine(QPointF(10 * s, y0), QPointF(10 * s + bar, y0))
    p.drawText(QRectF(10 * s, y0 - 18 * s, bar, 16 * s), Qt.AlignmentFlag.AlignCenter, f"{metres} m")


def legend_items() -> list[tuple[tuple[int, int, int], str]]:
    return [(UNIT_RGB, translate("CityView", "本单位建筑")), (_PALETTE["dark"][1], translate("CityView", "相邻建筑")),
            (ENTRANCE_RGB, translate("CityView", "出入口")), (WATER_RGB, translate("CityView", "水源（图外的标注距离）")),
            (STAGING_RGB, translate("CityView", "消防车登高操作场地"))]


class SitePlanDialog(QDialog):
    """A key unit's site plan, large, with its legend."""

    def __init__(self, name: str, layout: dict[str, Any], theme: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SitePlanDialog")
        self.setWindowTitle(translate("CityView", "总平面图 · {name}").format(name=name))
        lay = QVBoxLayout(self)
        self.image = QLabel(objectName="SitePlanImage")
        self.image.setPixmap(QPixmap.fromImage(render_site_plan(layout, 640, 640, theme)))
        lay.addWidget(self.image)
        parts = []
        for rgb, text in legend_items():
            parts.append(f"<span style='color:rgb({rgb[0]},{rgb[1]},{rgb[2]})'>■</span> {text}")
        src = translate("CityView", "由城市信息模型生成") if layout.get("source") == "generated" \
            else translate("CityView", "测绘")
        legend = QLabel("　".join(parts) + f"<br><span style='color:#9ab'>{src}</span>", objectName="SitePlanLegend")
        legend.setWordWrap(True)
        lay.addWidget(legend)
