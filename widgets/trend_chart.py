"""Trend chart (pyqtgraph): several series, live append from metrics ticks, a time-range
selector, and history beyond the live window from the readings.series query.

Options: series: [{key, title_zh, title_en, color, axis: "left" | "right", query: {metric,
device_type?, agg?}}], range_s (initial), follow_town. A series on the right axis has a scale of
its own (two quantities of different units in one chart), its axis drawn in its colour. The
legend is a row above the plot, never over the curves; a single series has none (the panel's
title names it).
"""

from __future__ import annotations

import time
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.commandbus import CommandResult, CommandSink
from app.kpi import series
from app.selection import ViewState
from app.store import StateStore
from widgets.common import on_done, pick, plot_font_px, refresh_hub, style_plot, town_name

PALETTE = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176")
RANGES = ((900, QT_TRANSLATE_NOOP("TrendChart", "15 分钟")), (3600, QT_TRANSLATE_NOOP("TrendChart", "1 小时")),
          (6 * 3600, QT_TRANSLATE_NOOP("TrendChart", "6 小时")), (24 * 3600, QT_TRANSLATE_NOOP("TrendChart", "24 小时")),
          (7 * 86400, QT_TRANSLATE_NOOP("TrendChart", "7 天")))


def history_points(data: dict[str, Any] | None) -> tuple[list[float], list[float]]:
    """Points from a readings.series answer. Accepts {"points": [[ts, v], ...]} or
    {"points": [{"ts", "value"}]} or {"ts": [...], "values": [...]}; skips null values."""
    xs: list[float] = []
    ys: list[float] = []
    if not data:
        return xs, ys
    pts = data.get("points")
    if isinstance(pts, list):
        for p in pts:
            if isinstance(p, dict):
                t, v = p.get("ts"), p.get("value", p.get("v"))
            elif isinstance(p, list | tuple) and len(p) >= 2:
                t, v = p[0], p[1]
            else:
                continue
            if isinstance(t, int | float) and isinstance(v, int | float):
                xs.append(float(t))
                ys.append(float(v))
    elif isinstance(data.get("ts"), list) and isinstance(data.get("values"), list):
        for t, v in zip(data["ts"], data["values"], strict=False):
            if isinstance(t, int | float) and isinstance(v, int | float):
                xs.append(float(t))
                ys.append(float(v))
    return xs, ys


class TrendChart(QWidget):
    def __init__(self, store: StateStore, commands: CommandSink | None = None,
                 view_state: ViewState | None = None, options: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrendChart")
        self.store, self.commands = store, commands
        self.view_state = view_state or ViewState()
        o = options or {}
        self.specs: list[dict[str, Any]] = list(o.get("series") or [{"key": "readings_per_s"}])
        self.follow_town = bool(o.get("follow_town", False))
        self.range_s = float(o.get("range_s", 3600))
        self.history: dict[str, tuple[list[float], list[float]]] = {}
        self.queries_sent = 0
        self.range_box = QComboBox(objectName="TrendRange")
        for secs, label in RANGES:
            self.range_box.addItem(self.tr(label), secs)
        self.range_box.setCurrentIndex(max(self.range_box.findData(int(self.range_s)), 0))
        self.range_box.currentIndexChanged.connect(self._on_range_changed)
        self.note = QLabel("", objectName="TrendNote")
        self.legend = QLabel("", objectName="TrendLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # one line, never a minimum: a wrapping label asked for its height at its narrowest
        # and took the row from the charts below
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        style_plot(self.plot)
        self.right_box: pg.ViewBox | None = None
        self.curves: dict[str, Any] = {}
        entries: list[str] = []
        for i, s in enumerate(self.specs):
            colour = s.get("color", PALETTE[i % len(PALETTE)])
            pen = pg.mkPen(colour, width=3 if plot_font_px() > 14 else 2)
            name = pick(s.get("title_zh", s["key"]), s.get("title_en", ""))
            curve = pg.PlotDataItem([], [], pen=pen, name=name)
            if s.get("axis") == "right":
                self._right_box(colour).addItem(curve)
            else:
                self.plot.addItem(curve)
            self.curves[s["key"]] = curve
            side = "" if s.get("axis") != "right" else " →"
            entries.append(f'<span style="color:{colour}">&#9632;</span>&nbsp;{_html(name)}{side}')
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(entries))
        self.legend.setVisible(len(self.specs) > 1)
        top = QHBoxLayout()
        if len(self.specs) > 1:
            top.addWidget(self.legend, 1)
        else:
            top.addStretch(1)
        top.addWidget(self.note)
        top.addWidget(self.range_box)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        self._dirty = True
        store.metrics_changed.connect(self._on_store_changed)
        store.reset.connect(self._on_store_changed)
        self.view_state.town_changed.connect(self._on_view_town_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self._on_range_changed()

    def _right_box(self, colour: str) -> pg.ViewBox:
        """A second scale on the right, sharing the time axis (pyqtgraph's two-axis recipe)."""
        if self.right_box is None:
            item = self.plot.getPlotItem()
            box = pg.ViewBox()
            item.showAxis("right")
            item.scene().addItem(box)
            axis = item.getAxis("right")
            axis.linkToView(box)
            box.setXLink(item)
            axis.setPen(pg.mkPen(colour))
            axis.setTextPen(pg.mkPen(colour))
            # two scales: each axis in its curve's colour, so a value is read on the right one
            first = self.specs[0].get("color", PALETTE[0])
            item.getAxis("left").setPen(pg.mkPen(first))
            item.getAxis("left").setTextPen(pg.mkPen(first))
            style_plot(self.plot, sides=("left", "bottom", "right"))

            def follow() -> None:
                box.setGeometry(item.vb.sceneBoundingRect())
                box.linkedViewChanged(item.vb, box.XAxis)
            item.vb.sigResized.connect(follow)
            self.right_box = box
        return self.right_box

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_view_town_changed(self, _town: str | None) -> None:
        if self.follow_town:
            self.history.clear()
            self._request_history()
            self._dirty = True

    def _on_range_changed(self, *_: Any) -> None:
        self.range_s = float(self.range_box.currentData())
        self.history.clear()
        self._request_history()
        self._dirty = True

    def _live_span(self) -> float:
        h = self.store.metrics_history
        return (h[-1]["ts"] - h[0]["ts"]) if len(h) > 1 else 0.0

    def _request_history(self) -> None:
        """Ask the service for what the live ticks do not cover (older than the first tick)."""
        if self.commands is None or self.range_s <= self._live_span() + 60:
            return
        since = time.time() - self.range_s
        town = self.view_state.town if self.follow_town else None
        for s in self.specs:
            q = s.get("query")
            if not q:
                continue
            args = {"metric": q["metric"], "since_ts": since, "bucket_s": max(int(self.range_s / 240), 60),
                    "agg": q.get("agg", "avg")}
            if q.get("device_type"):
                args["device_type"] = q["device_type"]
            if town:
                args["town"] = town
            self.queries_sent += 1
            on_done(self.commands.query("readings.series", args),
                    lambda res, key=s["key"]: self._on_history_result(key, res))

    def _on_history_result(self, key: str, res: CommandResult) -> None:
        if not res.ok:
            self.note.setText(self.tr("历史数据不可用：") + (res.error_message or res.error_code or ""))
            return
        self.history[key] = history_points(res.data)
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if not self._dirty or not self.isVisible():
            return  # hidden (another playlist page): skip drawing, catch up when shown
        self._dirty = False
        self.redraw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._dirty = True

    def redraw(self) -> None:
        town = self.view_state.town if self.follow_town else None
        now = time.time()
        since = now - self.range_s
        hist = list(self.store.metrics_history)
        newest = 0.0
        for s in self.specs:
            key = s["key"]
            xs, ys = series(hist, s.get("town_key", key) if town else key, town)
            old_x, old_y = self.history.get(key, ([], []))
            first_live = xs[0] if xs else float("inf")
            px = [x for x in old_x if x < first_live] + xs
            py = [y for x, y in zip(old_x, old_y, strict=True) if x < first_live] + ys
            keep = [i for i, x in enumerate(px) if x >= since]
            self.curves[key].setData([px[i] for i in keep], [py[i] for i in keep])
            if px:
                newest = max(newest, px[-1])
        self.plot.setXRange(since, max(now, newest), padding=0)
        if self.right_box is not None:
            self.right_box.enableAutoRange(axis=pg.ViewBox.YAxis)
        label = town_name(self.store, town) if town else ""
        self.note.setText(label)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
