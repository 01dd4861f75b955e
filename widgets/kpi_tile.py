"""KPI tile: big value, unit, trend arrow, sparkline, threshold colour.

Options: key (metrics.tick city key) or source (a derived indicator, app.kpi.derived_value),
title_zh/title_en, unit, decimals, warn, alarm, higher_is_worse, follow_town (use the clicked
town's value when the tick has per-town figures, under town_key if it differs from key).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.kpi import KpiState, band, derived_value, kpi_state, trend
from app.selection import ViewState
from app.store import StateStore
from widgets.common import light_theme, pick, refresh_hub, scan_due, status_text_colour, town_name

BAND_COLORS = {"ok": QColor("#43a047"), "warn": QColor("#fdd835"), "alarm": QColor("#e53935"),
               "none": QColor("#78909c")}


class KpiTile(QWidget):
    def __init__(self, store: StateStore, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("KpiTile")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 100)
        self.store = store
        self.view_state = view_state or ViewState()
        o = options or {}
        self.key: str | None = o.get("key")
        self.source: str | None = o.get("source")
        self.title = pick(o.get("title_zh", self.key or ""), o.get("title_en", ""))
        self.unit: str = o.get("unit", "")
        self.decimals = int(o.get("decimals", 0))
        self.warn, self.alarm = o.get("warn"), o.get("alarm")
        self.higher_is_worse = bool(o.get("higher_is_worse", True))
        self.follow_town = bool(o.get("follow_town", False))
        self.town_key: str | None = o.get("town_key", self.key)  # per-town ticks may name it differently
        self._derived_hist: deque[float] = deque(maxlen=120)
        self._last_sample = 0.0
        self.state = KpiState(None, None, 0, "none", ())
        self._dirty = True
        # a metrics key changes only with ticks; derived indicators also follow the collections
        # (not listening to alerts for a key tile spares 3 series scans per tick in a burst)
        sigs = [store.metrics_changed, store.reset, store.stats_changed]
        if not self.key:
            sigs += [store.alerts_changed, store.incidents_changed, store.tasks_changed]
        for sig in sigs:
            sig.connect(self._on_store_changed)
        self.view_state.town_changed.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self._recompute()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and (self.key or scan_due(self)):  # derived indicators scan the alerts
            self._dirty = False
            self._recompute()
            self.update()

    def _recompute(self) -> None:
        town = self.view_state.town if self.follow_town else None
        if self.key:
            key = (self.town_key or self.key) if town else self.key
            self.state = kpi_state(list(self.store.metrics_history), key, warn=self.warn,
                                   alarm=self.alarm, higher_is_worse=self.higher_is_worse, town=town)
            return
        v = derived_value(self.store, self.source or "", town)
        now = time.monotonic()
        if v is not None and (now - self._last_sample > 5 or not self._derived_hist):
            self._derived_hist.append(v)  # derived values are sampled for their sparkline
            self._last_sample = now
        hist = tuple(self._derived_hist)
        self.state = KpiState(v, hist[-2] if len(hist) > 1 else None, trend(hist),
                              band(v, self.warn, self.alarm, self.higher_is_worse), hist)

    def value_text(self) -> str:
        v = self.state.value
        if v is None:
            return "—"
        return f"{v:,.{self.decimals}f}"

    def paintEvent(self, _event: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        fg = self.palette().windowText().color()
        colour = BAND_COLORS[self.state.band]
        if light_theme() and self.state.band in ("warn", "alarm"):
            colour = status_text_colour(self.state.band)  # the value is text: it must read on white
        p.setPen(QPen(colour, 3))
        p.setBrush(self.palette().base())
        p.drawRoundedRect(r, 8, 8)
        inner = r.adjusted(12, 6, -12, -6)
        wide = inner.width() > 2.6 * inner.height()  # a flat tile: sparkline beside the value
        text_box = QRectF(inner.left(), inner.top(), inner.width() * (0.55 if wide else 1.0), inner.height())
        h = inner.height()
        title_px = int(max(min(h * (0.26 if wide else 0.16), 28), 13))
        f = QFont(self.font())
        f.setPixelSize(title_px)
        p.setFont(f)
        p.setPen(fg)
        title = self.title
        if self.follow_town and self.view_state.town:
            title += " · " + town_name(self.store, self.view_state.town)
        title_rect = QRectF(text_box.left(), text_box.top(), inner.width(), title_px * 1.35)
        p.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   p.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, int(inner.width())))
        value_h = (h - title_rect.height()) if wide else h * 0.45
        value_rect = QRectF(text_box.left(), title_rect.bottom(), text_box.width(), value_h)
        text = self.value_text()
        vf = QFont(self.font())
        vf.setBold(True)
        vf.setPixelSize(int(max(min(value_h * 0.82, text_box.width() / max(len(text) + 2, 4) * 1.5), 14)))
        p.setFont(vf)
        p.setPen(colour if self.state.band in ("warn", "alarm") else fg)
        p.drawText(value_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        x = value_rect.left() + p.fontMetrics().horizontalAdvance(text) + 6
        uf = QFont(self.font())
        uf.setPixelSize(int(max(value_h * 0.32, 12)))
        p.setFont(uf)
        p.setPen(fg)
        arrow = "▲" if self.state.trend > 0 else "▼" if self.state.trend < 0 else "▶"
        p.drawText(QRectF(x, value_rect.top(), max(inner.right() - x, 0), value_rect.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{self.unit} {arrow}")
        if wide:
            spark = QRectF(inner.left() + inner.width() * 0.6, title_rect.bottom() + 4,
                           inner.width() * 0.4, h - title_rect.height() - 8)
        else:
            spark = QRectF(inner.left(), value_rect.bottom() + 4, inner.width(), inner.bottom() - value_rect.bottom() - 4)
        self._paint_sparkline(p, spark, colour)
        p.end()

    def _paint_sparkline(self, p: QPainter, box: QRectF, colour: QColor) -> None:
        ys = self.state.history
        if len(ys) < 2 or box.height() < 6:
            return
        lo, hi = min(ys), max(ys)
        span = (hi - lo) or 1.0
        path = QPainterPath()
        for i, v in enumerate(ys):
            pt = QPointF(box.left() + box.width() * i / (len(ys) - 1),
                         box.bottom() - box.height() * (v - lo) / span)
            path.moveTo(pt) if i == 0 else path.lineTo(pt)
        p.setPen(QPen(colour.lighter(120), 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
