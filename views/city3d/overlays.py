"""Overlays on the city: fire stations, fire vehicles (live), water sources, incidents, key units,
IoT devices (clustered per town when zoomed out), and labels that stay readable.

Each overlay is one point actor (screen-sized markers, unlit, drawn over the buildings' depth
at a small lift) plus an optional label actor using vtkLabelPlacementMapper, which drops labels
that would overlap instead of piling them up. Labels use a CJK font file so Chinese renders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv
import vtk
from PySide6.QtCore import QT_TRANSLATE_NOOP

from citymodel.geo import to_city_xy
from views.city3d.scene import CityScene

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def cjk_font() -> str | None:
    for p in FONT_CANDIDATES:
        if os.path.exists(p):
            return p
    return None


@dataclass(frozen=True)
class OverlayStyle:
    key: str
    name: str  # Chinese source text, shown through QCoreApplication.translate("CityView", name)
    rgb: tuple[int, int, int]
    size: float
    lift: float = 8.0


STYLES: dict[str, OverlayStyle] = {s.key: s for s in (
    OverlayStyle("fire_station", QT_TRANSLATE_NOOP("CityView", "消防站"), (255, 70, 70), 15.0),
    OverlayStyle("fire_vehicle", QT_TRANSLATE_NOOP("CityView", "消防车辆"), (255, 170, 0), 12.0),
    OverlayStyle("water_source", QT_TRANSLATE_NOOP("CityView", "水源/消火栓"), (0, 190, 255), 9.0),
    OverlayStyle("incident", QT_TRANSLATE_NOOP("CityView", "事件"), (255, 0, 200), 22.0, 30.0),
    OverlayStyle("key_unit", QT_TRANSLATE_NOOP("CityView", "重点单位"), (190, 120, 255), 10.0),
    OverlayStyle("device", QT_TRANSLATE_NOOP("CityView", "物联设备"), (120, 255, 160), 6.0),
    OverlayStyle("device_cluster", QT_TRANSLATE_NOOP("CityView", "设备聚合"), (120, 255, 160), 18.0, 60.0),
)}
DOMAIN_RGB: dict[str, tuple[int, int, int]] = {
    "fire": (255, 90, 60), "water": (40, 160, 255), "education": (120, 220, 120),
    "urban": (230, 200, 80), "environment": (150, 230, 230), "market": (240, 140, 200),
}


def lonlat_points(scene: CityScene, lon: np.ndarray, lat: np.ndarray, z: float | np.ndarray) -> np.ndarray:
    x, y = to_city_xy(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack((np.asarray(x) - scene.origin[0], np.asarray(y) - scene.origin[1],
                            np.broadcast_to(np.asarray(z, float), np.shape(x))))


def point_layer(scene: CityScene, name: str, pts: np.ndarray, rgb: np.ndarray | tuple[int, int, int],
                size: float) -> None:
    """One actor of screen-sized markers (replaces the layer of that name)."""
    if len(pts) == 0:
        scene.clear_layer(name)
        return
    pd = pv.PolyData(np.asarray(pts, np.float64))
    col = np.asarray(rgb, np.uint8)
    pd.point_data["rgb"] = np.broadcast_to(col, (len(pts), 3)).copy() if col.ndim == 1 else col
    actor = scene.pl.add_mesh(pd, scalars="rgb", rgb=True, style="points", point_size=size, lighting=False,
                              render_points_as_spheres=False, show_scalar_bar=False, reset_camera=False,
                              pickable=False, name=f"overlay-{name}")
    scene.set_layer(name, actor)


def label_layer(scene: CityScene, name: str, pts: np.ndarray, texts: list[str], *, size: int = 16,
                rgb: tuple[float, float, float] = (1.0, 1.0, 1.0), priority: np.ndarray | None = None) -> None:
    """Labels that do not overlap (higher priority wins), in a CJK font, on a dark plate."""
    scene.clear_layer(name)
    if len(pts) == 0:
        return
    points = vtk.vtkPoints()
    for p in np.asarray(pts, float):
        points.InsertNextPoint(*p)
    pd = vtk.vtkPolyData()
    pd.SetPoints(points)
    labels = vtk.vtkStringArray()
    labels.SetName("label")
    for t in texts:
        labels.InsertNextValue(t)
    pd.GetPointData().AddArray(labels)
    prio = vtk.vtkIntArray()
    prio.SetName("priority")
    for v in (priority if priority is not None else np.ones(len(texts))):
        prio.InsertNextValue(int(v))
    pd.GetPointData().AddArray(prio)
    hier = vtk.vtkPointSetToLabelHierarchy()
    hier.SetInputData(pd)
    hier.SetLabelArrayName("label")
    hier.SetPriorityArrayName("priority")
    tp = hier.GetTextProperty()
    font = cjk_font()
    if font is not None:
        tp.SetFontFamily(vtk.VTK_FONT_FILE)
        tp.SetFontFile(font)
    tp.SetFontSize(size)
    tp.SetColor(*rgb)
    tp.SetBold(True)
    mapper = vtk.vtkLabelPlacementMapper()
    mapper.SetInputConnection(hier.GetOutputPort())
    mapper.SetShapeToRoundedRect()
    mapper.SetStyleToFilled()
    mapper.SetBackgroundColor(0.0, 0.0, 0.0)
    mapper.SetBackgroundOpacity(0.55)
    mapper.SetMargin(3)
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    scene.pl.renderer.AddViewProp(actor)
    scene.set_layer(name, _Actor2DHandle(scene, actor))


class _Actor2DHandle:
    """Lets scene.clear_layer remove a 2D actor like a 3D one."""

    def __init__(self, scene: CityScene, actor: Any) -> None:
        self.scene = scene
        self.actor = actor

    def remove_from_scene(self) -> None:
        self.scene.pl.renderer.RemoveViewProp(self.actor)


def resources_overlay(scene: CityScene, resources: list[Any], visible: dict[str, bool]) -> dict[str, int]:
    """Fire stations, vehicles, water sources from store.resources; returns counts drawn."""
    counts = {}
    for kind in ("fire_station", "fire_vehicle", "water_source"):
        st = STYLES[kind]
        items = [r for r in resources if str(r.kind) == kind] if visible.get(kind, True) else []
        pts = lonlat_points(scene, np.array([r.lon for r in items]), np.array([r.lat for r in items]), st.lift) \
            if items else np.zeros((0, 3))
        point_layer(scene, kind, pts, st.rgb, st.size)
        counts[kind] = len(items)
        if kind == "fire_station":  # station names (the placement mapper drops overlapping ones)
            label_layer(scene, "fire_station_labels", pts + (0.0, 0.0, 25.0), [r.name for r in items], size=13,
                        rgb=(1.0, 0.75, 0.7), priority=np.full(len(items), 50))
    return counts


def town_labels(scene: CityScene, towns: list[tuple[str, float, float]]) -> None:
    """Town names (name_zh, lon, lat) at the overview."""
    if not towns:
        scene.clear_layer("town_labels")
        return
    pts = lonlat_points(scene, np.array([t[1] for t in towns]), np.array([t[2] for t in towns]), 150.0)
    label_layer(scene, "town_labels", pts, [t[0] for t in towns], size=18, rgb=(0.95, 0.95, 1.0))
