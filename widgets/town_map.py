"""Town map: Dongguan's 34 towns/streets/zones from the real polygons, coloured by an indicator;
click a town to filter every panel that follows the ViewState (click again to clear).

Options: indicator "alerts" (open alerts, min_level) or a per-town metric key from metrics
ticks (e.g. "pm25"); min_level; labels (bool).

Labels ("name value") are placed biggest value first: at the town's label point, else beside it
with a leader line, else left out (the tooltip names every town). A value is never shown without
its town's name, and no two labels touch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.alert_filter import open_counts_by
from app.kpi import metric_value
from app.selection import ViewState
from app.store import StateStore
from citymodel.towns import load_towns
from widgets.common import refresh_hub, scan_due, town_name, type_scale

_KX = math.cos(math.radians(22.9))  # equirectangular: a degree of longitude is shorter here


@lru_cache(maxsize=1)
def town_paths() -> dict[str, tuple[QPainterPath, QPointF]]:
    """Each town's outline as a path in map units (x = lon*cos(lat0), y = -lat) and a label
    point. Built once: the geometry never changes while the console runs."""
    out: dict[str, tuple[QPainterPath, QPointF]] = {}
    for t in load_towns():
        path = QPainterPath()
        for poly in t.geometry.geoms:
            ring = list(poly.exterior.coords)
            path.moveTo(ring[0][0] * _KX, -ring[0][1])
            for x, y in ring[1:]:
                path.lineTo(x * _KX, -y)
            path.closeSubpath()
        cx, cy = t.centroid
        out[t.code] = (path, QPointF(cx * _KX, -cy))
    return out


def ramp(frac: float) -> QColor:
    """Calm teal for none, through amber to red as the indicator grows."""
    frac = min(max(frac, 0.0), 1.0)
    stops = ((0.0, (38, 70, 83)), (0.35, (42, 157, 143)), (0.65, (233, 196, 106)), (1.0, (231, 76, 60)))
    for (f0, c0), (f1, c1) in zip(stops, stops[1:], strict=False):
        if frac <= f1:
            k = (frac - f0) / (f1 - f0)
            return QColor(*(int(a + (b - a) * k) for a, b in zip(c0, c1, strict=True)))
    return QColor(*stops[-1][1])


LABEL_INK, LABEL_HALO = QColor("#ffffff"), QColor(11, 22, 34, 215)
LABEL_GAP = 3.0  # px kept free around every label, so two never read as one


@dataclass(frozen=True)
class Label:
    code: str
    text: str
    rect: QRectF  # where the text goes, in widget pixels
    anchor: QPointF  # the town's label point; a leader line joins it when the text moved away

    @property
    def moved(self) -> bool:
        return not self.rect.contains(self.anchor)


def leader_end(anchor: QPointF, rect: QRectF) -> QPointF:
    """Where a leader line from a town's point meets its moved label: the nearest edge."""
    return QPointF(min(max(anchor.x(), rect.left()), rect.right()),
                   rect.bottom() if anchor.y() > rect.bottom() else
                   rect.top() if anchor.y() < rect.top() else rect.center().y())


def _line_crosses(a: QPointF, b: QPointF, rects: list[QRectF]) -> bool:
    steps = max(int(math.hypot(b.x() - a.x(), b.y() - a.y()) / 3), 2)  # finer than a town's dot
    pts = [QPointF(a.x() + (b.x() - a.x()) * k / steps, a.y() + (b.y() - a.y()) * k / steps) for k in range(1, steps)]
    return any(r.contains(p) for r in rects for p in pts)


def place_labels(items: list[tuple[str, str, QPointF]], fm: QFontMetricsF, area: QRectF,
                 taken: list[QRectF] | None = None) -> list[Label]:
    """Labels for (code, text, anchor) in priority order, none overlapping another (nor a rect
    in `taken`) and all inside `area`: each at its anchor if it fits there, else at the nearest
    free spot around it (a leader line joins them; the first third may go further out), else
    left out. A spot that would cover a town still to be labelled is taken only when no other
    is free."""
    busy = list(taken or [])
    out: list[Label] = []
    h = fm.height()
    for n, (code, text, anchor) in enumerate(items):
        w = fm.horizontalAdvance(text) + 4
        step = h * 1.05
        # centred, then around it: above, below, beside, the diagonals, then further out
        offsets = [(0.0, 0.0)]
        # only the first third (the worst towns) may go further out: long leader lines clutter
        for ring in ((1, 2, 3) if n < len(items) / 3 else (1,)):
            dy, dx = step * ring, (w / 2 + 6) + (w * (ring - 1) / 2)
            offsets += [(0.0, -dy), (0.0, dy), (dx, 0.0), (-dx, 0.0), (dx, -dy), (-dx, -dy), (dx, dy), (-dx, dy)]
        others = [a for _c, _t, a in items[n + 1:]]
        spots = [QRectF(anchor.x() + dx - w / 2, anchor.y() + dy - h / 2, w, h) for dx, dy in offsets]
        spots = ([r for r in spots if not any(r.contains(a) for a in others)]
                 + [r for r in spots if any(r.contains(a) for a in others)])
        # a label moved off its town needs the town's point free: its leader line starts there
        dot = QRectF(anchor.x() - 4, anchor.y() - 4, 8, 8)
        may_move = not any(dot.intersects(r) for r in busy)
        for rect in spots:
            moved = not rect.contains(anchor)
            if moved and not may_move:
                continue
            if not area.contains(rect):
                continue
            padded = rect.adjusted(-LABEL_GAP, -LABEL_GAP, LABEL_GAP, LABEL_GAP)
            if any(padded.intersects(r) for r in busy):
                continue
            if moved and _line_crosses(anchor, leader_end(anchor, rect), busy):
                continue  # a leader line under another label reads as that label's
            busy.append(rect)
            if moved:
                busy.append(dot)  # no later label hides where this one's line starts
            out.append(Label(code, text, rect, anchor))
            break
    return out


class TownMap(QWidget):
    town_clicked = Signal(str)

    def __init__(self, store: StateStore, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TownMap")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setMouseTracking(True)
        self.store = store
        self.view_state = view_state or ViewState()
        o = options or {}
        self.indicator: str = o.get("indicator", "alerts")
        self.min_level = int(o.get("min_level", 1))
        self.show_labels = bool(o.get("labels", True))
        self.paths = town_paths()
        bounds = QRectF()
        for path, _ in self.paths.values():
            bounds = bounds.united(path.boundingRect())
        self.bounds = bounds
        self.values: dict[str, float] = {}
        self._hover: str | None = None
        self._dirty = True
        for sig in (store.alerts_changed, store.metrics_changed, store.reset):
            sig.connect(self._on_store_changed)
        self.view_state.town_changed.connect(self._on_view_town_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.recompute()

    def _on_view_town_changed(self, _town: str | None) -> None:
        self.update()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and self.isVisible() and scan_due(self):
            self._dirty = False
            self.recompute()
            self.update()

    def recompute(self) -> None:
        if self.indicator == "alerts":
            counts = open_counts_by(self.store.open_alert_counts, "town", self.min_level)  # no scan
            self.values = {k: float(v) for k, v in counts.items()}
        else:
            tick = self.store.metrics
            self.values = {code: v for code in self.paths
                           if (v := metric_value(tick, self.indicator, code)) is not None}

    def _transform(self) -> QTransform:
        r = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        s = min(r.width() / self.bounds.width(), r.height() / self.bounds.height())
        ox = r.left() + (r.width() - self.bounds.width() * s) / 2
        oy = r.top() + (r.height() - self.bounds.height() * s) / 2
        t = QTransform()
        t.translate(ox, oy)
        t.scale(s, s)
        t.translate(-self.bounds.left(), -self.bounds.top())
        return t

    def town_at(self, pos: QPointF) -> str | None:
        inv, ok = self._transform().inverted()
        if not ok:
            return None
        p = inv.map(pos)
        for code, (path, _) in self.paths.items():
            if path.contains(p):
                return code
        return None

    def widget_point(self, code: str) -> QPointF:
        """Where a town's label point is on the widget (tests click there)."""
        return self._transform().map(self.paths[code][1])

    def mousePressEvent(self, e: QMouseEvent) -> None:
        code = self.town_at(e.position())
        if code is None:
            return
        self.view_state.set_town(None if self.view_state.town == code else code)
        self.town_clicked.emit(code)
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        code = self.town_at(e.position())
        if code != self._hover:
            self._hover = code
            v = self.values.get(code or "", 0)
            self.setToolTip(f"{town_name(self.store, code)}: {v:g}" if code else "")
            self.update()

    def paintEvent(self, _e: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self._transform()
        top = max(self.values.values(), default=0.0) or 1.0
        selected = self.view_state.town
        edge = self.palette().window().color()
        for code, (path, _) in self.paths.items():
            v = self.values.get(code, 0.0)
            fill = ramp(v / top if v else 0.0)
            if code == self._hover:
                fill = fill.lighter(130)
            p.setBrush(fill)
            p.setPen(QPen(QColor("#ffffff") if code == selected else edge, 3 if code == selected else 1))
            p.drawPath(t.map(path))
        if self.show_labels:
            self._paint_labels(p)
        p.end()

    def label_px(self) -> int:
        """Wall labels are read from 10 m: never under 16 px there; laptop labels stay small."""
        if type_scale() == "wall":
            return max(min(int(self.height() / 30), 24), 16)
        return max(min(int(self.height() / 40), 15), 10)

    def label_font(self) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(self.label_px())
        f.setBold(True)
        return f

    def labels(self) -> list[Label]:
        """The labels as painted now (biggest values first)."""
        t = self._transform()
        order = sorted(self.paths, key=lambda c: (-self.values.get(c, 0.0), -self.paths[c][0].boundingRect().width()))
        items = []
        for code in order:
            name = town_name(self.store, code)
            for suffix in ("街道", "镇", " New Area"):
                name = name.removesuffix(suffix)
            v = self.values.get(code)
            items.append((code, f"{name} {v:g}" if v else name, t.map(self.paths[code][1])))
        return place_labels(items, QFontMetricsF(self.label_font()), QRectF(self.rect()).adjusted(2, 2, -2, -2))

    def _paint_labels(self, p: QPainter) -> None:
        f = self.label_font()
        fm = QFontMetricsF(f)
        halo = QPen(LABEL_HALO, 3.0 if type_scale() == "wall" else 2.5)
        halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        labels = self.labels()
        for lab in labels:  # leader lines first: a label is never crossed by another's line
            if lab.moved:
                end = leader_end(lab.anchor, lab.rect)
                p.setPen(QPen(LABEL_HALO, 3.0))
                p.drawLine(lab.anchor, end)
                p.setPen(QPen(LABEL_INK, 1.2))
                p.drawLine(lab.anchor, end)
                p.setBrush(LABEL_INK)
                p.drawEllipse(lab.anchor, 2.5, 2.5)
        for lab in labels:
            text = QPainterPath()
            text.addText(lab.rect.left() + 2, lab.rect.center().y() + (fm.ascent() - fm.descent()) / 2, f, lab.text)
            # white with a dark halo: readable on every fill, also where a label crosses into
            # the next town (a 1 px shadow left white on amber at about 1.6:1)
            p.strokePath(text, halo)
            p.fillPath(text, LABEL_INK)
