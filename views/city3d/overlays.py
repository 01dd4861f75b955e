"""Overlays on the city: fire stations, fire vehicles (live), water sources, incidents, key units,
IoT devices (clustered per town when zoomed out), and labels that stay readable.

Each overlay is one point actor (screen-sized markers, unlit, drawn over the buildings' depth
at a small lift) plus an optional label set on the scene's LabelBoard, which places the labels
of every overlay together so none covers another (views.city3d.labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv
from PySide6.QtCore import QT_TRANSLATE_NOOP

from citymodel.geo import to_city_xy
from views.city3d.labels import LabelStyle
from views.city3d.scene import CityScene


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
# IoT devices by type (the sensing platform's 14 kinds): one colour each, kept apart from the
# rescue overlays' colours (stations red, vehicles orange, hydrants cyan, key units purple).
DEVICE_TYPE_RGB: dict[str, tuple[int, int, int]] = {
    "smoke_detector": (255, 150, 120), "fire_detector": (230, 80, 140), "water_level": (40, 120, 255),
    "rain_gauge": (140, 200, 255), "school_alarm": (110, 220, 90), "school_bus": (200, 240, 80),
    "sanitation_card": (240, 210, 60), "gas_pressure": (200, 150, 100), "manhole_cover": (160, 150, 140),
    "air_station": (120, 240, 220), "pollution_source": (40, 170, 140), "kitchen_camera": (250, 120, 250),
    "coastal_radar": (110, 110, 235), "traffic_flow": (170, 100, 50),
}


def device_rgb(device_type: str) -> tuple[int, int, int]:
    """The colour of a device type; a type the console does not know gets a stable one of its own."""
    hit = DEVICE_TYPE_RGB.get(device_type)
    if hit is not None:
        return hit
    h = sum(ord(c) * 31 ** k for k, c in enumerate(device_type)) % 360
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h / 360.0, 0.55, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


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
                              render_points_as_spheres=False, show_scalar_bar=False, reset_camera=False, render=False,
                              pickable=False, name=f"overlay-{name}")
    scene.set_layer(name, actor)


def label_layer(scene: CityScene, name: str, pts: np.ndarray, texts: list[str], *, kind: str, size: int = 16,
                rgb: tuple[float, float, float] = (1.0, 1.0, 1.0), priority: np.ndarray | None = None,
                side: str = "above") -> None:
    """A label set on the scene's LabelBoard (views.city3d.labels): placed with every other set
    by kind (its rank) and priority (within the set), in a CJK font, on a dark plate."""
    scene.labels.set(name, pts, texts, kind=kind, style=LabelStyle(size, rgb), priority=priority, side=side)


WATER_ZOOM_M = 12_000.0  # hydrants are drawn within this camera distance (a blur of ~9,000 dots beyond)


def resources_overlay(scene: CityScene, resources: list[Any], visible: dict[str, bool],
                      near: bool = True) -> dict[str, int]:
    """Fire stations, vehicles, water sources from store.resources (water sources only near:
    the camera within WATER_ZOOM_M); returns counts drawn."""
    counts = {}
    for kind in ("fire_station", "fire_vehicle", "water_source"):
        st = STYLES[kind]
        shown = visible.get(kind, True) and (near or kind != "water_source")
        items = [r for r in resources if str(r.kind) == kind] if shown else []
        pts = lonlat_points(scene, np.array([r.lon for r in items]), np.array([r.lat for r in items]), st.lift) \
            if items else np.zeros((0, 3))
        point_layer(scene, kind, pts, st.rgb, st.size)
        counts[kind] = len(items)
        if kind == "fire_station":  # station names (the placement mapper drops overlapping ones)
            label_layer(scene, "fire_station_labels", pts, [r.name for r in items], kind="station", size=13,
                        rgb=(1.0, 0.75, 0.7))
    return counts


def town_labels(scene: CityScene, towns: list[tuple[str, float, float]]) -> None:
    """Town names (name_zh, lon, lat) at the overview."""
    if not towns:
        scene.clear_layer("town_labels")
        return
    pts = lonlat_points(scene, np.array([t[1] for t in towns]), np.array([t[2] for t in towns]), 150.0)
    label_layer(scene, "town_labels", pts, [t[0] for t in towns], kind="town", size=18, rgb=(0.95, 0.95, 1.0))
