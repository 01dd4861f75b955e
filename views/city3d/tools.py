"""Measuring in the scene: distance, building height, ground polygon area (drawn, labelled).

The numbers come from citymodel.measure; this module only collects clicked points and draws
lines and labels as scene layers.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
from PySide6.QtCore import QCoreApplication

from citymodel import measure
from views.city3d.overlays import label_layer
from views.city3d.scene import CityScene

MEASURE_RGB = (255, 235, 60)
translate = QCoreApplication.translate


class MeasureTool:
    """mode: "distance" (two points), "height" (one building), "area" (a ground polygon)."""

    def __init__(self, scene: CityScene) -> None:
        self.scene = scene
        self.mode = "distance"
        self.points: list[np.ndarray] = []
        self.text = ""
        self.height_row: int | None = None  # the building whose height is shown

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.clear()

    def clear(self) -> None:
        self.points = []
        self.text = ""
        self.height_row = None
        for name in ("measure_line", "measure_pts", "measure_label"):
            self.scene.clear_layer(name)

    def add_point(self, p: np.ndarray) -> str:
        """A clicked world point (on a roof, a wall or the ground); returns the result text."""
        if self.mode == "distance":
            if len(self.points) >= 2:
                self.points = []
            self.points.append(np.asarray(p, float))
        elif self.mode == "area":
            q = np.asarray(p, float).copy()
            q[2] = 0.0
            self.points.append(q)
        self.height_row = None
        self.text = self.describe()
        self._draw()
        return self.text

    def show_height(self, row: int) -> str:
        t = self.scene.table
        base = np.array([t.cx[row], t.cy[row], 0.0])
        self.points = [base, base + (0, 0, float(t.height[row]))]
        self.height_row = row
        self.text = self.describe()
        self._draw()
        return self.text

    def describe(self) -> str:
        """The result of what has been measured, in the current UI language."""
        if self.height_row is not None:
            h = measure.building_height(self.scene.table, self.height_row)
            return translate("CityView", "建筑高度 {h} m，{f} 层（层高约 {s} m）").format(
                h=f"{h['height_m']:.1f}", f=h["floors"], s=f"{h['storey_m']:.1f}")
        if not self.points:
            return ""
        if self.mode == "distance":
            if len(self.points) < 2:
                return translate("CityView", "测距：请点击第二个点")
            a, b = self.points
            d3 = measure.distance(tuple(a), tuple(b))
            dg = measure.ground_distance(tuple(a), tuple(b))
            return translate("CityView", "距离 {d} m（水平 {g} m，高差 {dz} m）").format(
                d=f"{d3:.1f}", g=f"{dg:.1f}", dz=f"{abs(b[2] - a[2]):.1f}")
        if len(self.points) < 3:
            return translate("CityView", "测面积：已取 {n} 点，至少 3 点").format(n=len(self.points))
        m = measure.polygon_area([tuple(x) for x in self.points])
        return (translate("CityView", "面积 {a} m²（周长 {p} m，已修复自相交）") if m.repaired
                else translate("CityView", "面积 {a} m²（周长 {p} m）")).format(
            a=f"{m.area_m2:.0f}", p=f"{m.perimeter_m:.0f}")

    def retranslate(self) -> str:
        """Redraw the result label in the current UI language (after a language switch)."""
        self.text = self.describe()
        self._draw()
        return self.text

    def _draw(self) -> None:
        sc = self.scene
        if not self.points:
            return
        loc = np.array([sc.local(p[0], p[1], p[2] + 0.5) for p in self.points])
        closed = self.mode == "area" and len(loc) >= 3
        if len(loc) >= 2:
            path = np.vstack((loc, loc[:1])) if closed else loc
            line = pv.lines_from_points(path)
            sc.set_layer("measure_line", sc.pl.add_mesh(line, color=MEASURE_RGB, line_width=3, lighting=False,
                                                        reset_camera=False, render=False, pickable=False, name="measure-line"))
        pts = pv.PolyData(loc)
        sc.set_layer("measure_pts", sc.pl.add_mesh(pts, color=MEASURE_RGB, style="points", point_size=9,
                                                   lighting=False, reset_camera=False, render=False, pickable=False,
                                                   name="measure-pts"))
        if self.text and len(loc) >= 2:
            anchor = loc.mean(axis=0) if closed else (loc[-1] + loc[-2]) / 2
            label_layer(sc, "measure_label", anchor[None, :], [self.text], kind="measure", size=16, rgb=(1.0, 0.92, 0.3))
