"""Comparison chart for the intelligence room: an indicator across towns or bureaus as
horizontal bars (names read along the axis, Chinese included; bureaus by their short names),
each bar with its value at its end (read from across the room without following grid lines).

Options: by "town" | "domain"; indicator "alerts" (open alerts, min_level) or a per-town metric
key; top (bars shown); title_zh/title_en.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.alert_filter import open_counts_by
from app.kpi import metric_value
from app.selection import ViewState
from app.store import StateStore
from citymodel.towns import TOWN_TABLE
from widgets.common import domain_short, plot_font_px, refresh_hub, scan_due, style_plot, town_name


def comparison_values(store: StateStore, by: str, indicator: str, min_level: int = 1) -> dict[str, float]:
    out: dict[str, float] = {}
    if indicator == "alerts":  # from the store's running counts: no scan of every alert
        counts = open_counts_by(store.open_alert_counts, "town" if by == "town" else "domain", min_level)
        return {k: float(n) for k, n in counts.items() if n}
    if by == "town":
        for t in TOWN_TABLE:
            v = metric_value(store.metrics, indicator, t.code)
            if v is not None:
                out[t.code] = v
    return out


class ComparisonChart(QWidget):
    def __init__(self, store: StateStore, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ComparisonChart")
        self.store = store
        self.view_state = view_state or ViewState()
        o = options or {}
        self.by = o.get("by", "town")
        self.indicator = o.get("indicator", "alerts")
        self.min_level = int(o.get("min_level", 1))
        self.top = int(o.get("top", 12))
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        style_plot(self.plot)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#4fc3f7")
        self.plot.addItem(self.bars)
        self.value_labels: list[pg.TextItem] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.plot, 1)
        self.shown: list[tuple[str, float]] = []
        self._dirty = True
        for sig in (store.alerts_changed, store.metrics_changed, store.reset):
            sig.connect(self._on_store_changed)
        self.view_state.town_changed.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.redraw()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and self.isVisible() and scan_due(self):
            self._dirty = False
            self.redraw()

    def redraw(self) -> None:
        vals = comparison_values(self.store, self.by, self.indicator, self.min_level)
        top = sorted(vals.items(), key=lambda kv: -kv[1])[: self.top]
        self.shown = top
        n = len(top)
        ys = list(range(n))[::-1]  # largest at the top
        brushes = ["#ffb74d" if k == self.view_state.town else "#4fc3f7" for k, _ in top]
        self.bars.setOpts(x0=[0] * n, y=ys, width=[v for _, v in top], brushes=brushes)
        name = town_name if self.by == "town" else domain_short
        self.plot.getAxis("left").setTicks([[(y, name(self.store, k)) for y, (k, _) in zip(ys, top, strict=True)]])
        self._label_values(ys, [v for _, v in top])
        if n:
            self.plot.setYRange(-0.6, n - 0.4, padding=0)
            # room after the longest bar for its value
            self.plot.setXRange(0, max(v for _, v in top) * 1.14 or 1, padding=0)

    def _label_values(self, ys: list[int], values: list[float]) -> None:
        while len(self.value_labels) < len(values):
            t = pg.TextItem(anchor=(0, 0.5), color=pg.getConfigOption("foreground"))
            f = QFont()
            f.setPixelSize(plot_font_px())
            f.setBold(True)
            t.setFont(f)
            self.plot.addItem(t)
            self.value_labels.append(t)
        for i, t in enumerate(self.value_labels):
            if i < len(values):
                t.setText(f"{values[i]:,.1f}".removesuffix(".0"))
                t.setPos(values[i], ys[i])
                t.show()
            else:
                t.hide()
