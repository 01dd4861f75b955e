"""From the store to the scene: alert levels per building, resources, incidents, device
clusters, town labels, the surroundings highlight. Functions of (scene, store): no widgets
(label texts go through QCoreApplication.translate)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyvista as pv
from PySide6.QtCore import QCoreApplication

from app.store import StateStore
from citymodel.geo import to_city_xy, to_lonlat
from citymodel.towns import TOWNS_BY_CODE
from protocol.enums import AlertState, IncidentState
from views.city3d.colors import SURROUND_RGB
from views.city3d.overlays import (
    STYLES,
    device_rgb,
    label_layer,
    lonlat_points,
    point_layer,
    resources_overlay,
)
from views.city3d.scene import CityScene
from widgets.common import pick

DEVICE_ZOOM_M = 4000.0  # closer than this the devices are drawn one by one
CLUSTER_MARKER_PX = 8.0
CLUSTER_STEP_PX = 10.0  # cluster markers of one town, one type each, this far apart on screen
CLUSTER_TYPES = 6  # a town's cluster shows its most numerous types (the Layers menu picks others)
ACTIVE_ALERT = {AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.DISPATCHED}
ACTIVE_INCIDENT = {IncidentState.OPEN, IncidentState.ACTIVE, IncidentState.CONTAINED}


def to_xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = to_city_xy(lon, lat)
    return float(x), float(y)


def alert_levels(store: StateStore) -> dict[int, int]:
    """Highest active alert level per building id."""
    out: dict[int, int] = {}
    for a in store.alerts.values():
        if a.building_id is not None and a.state in ACTIVE_ALERT:
            out[a.building_id] = max(out.get(a.building_id, 0), int(a.level))
    return out


def draw_resources(scene: CityScene, store: StateStore, visible: dict[str, bool], near: bool = True) -> dict[str, int]:
    return resources_overlay(scene, list(store.resources.values()), visible, near)


def draw_key_units(scene: CityScene, units: list[dict[str, Any]], visible: bool) -> int:
    items = [u for u in units if u.get("lon") is not None] if visible else []
    pts = lonlat_points(scene, np.array([u["lon"] for u in items]), np.array([u["lat"] for u in items]),
                        STYLES["key_unit"].lift) if items else np.zeros((0, 3))
    point_layer(scene, "key_unit", pts, STYLES["key_unit"].rgb, STYLES["key_unit"].size)
    return len(items)


def incident_xyz(scene: CityScene, inc: Any) -> tuple[float, float, float] | None:
    """Where an incident is: its building's centroid (and height), else its lon/lat."""
    if inc.building_id is not None:
        row = int(scene.table.index_of([inc.building_id])[0])
        if row >= 0:
            t = scene.table
            return float(t.cx[row]), float(t.cy[row]), float(t.height[row])
    if inc.lon is not None and inc.lat is not None:
        x, y = to_xy(inc.lon, inc.lat)
        return x, y, 0.0
    return None


def draw_incidents(scene: CityScene, store: StateStore, visible: bool) -> int:
    items = [i for i in store.incidents.values() if i.state in ACTIVE_INCIDENT] if visible else []
    pts, texts = [], []
    for inc in items:
        where = incident_xyz(scene, inc)
        if where is not None:
            pts.append(scene.local(where[0], where[1], where[2] + STYLES["incident"].lift))
            texts.append(QCoreApplication.translate("CityView", "事件 {title}").format(title=inc.title))
    arr = np.asarray(pts, float).reshape(-1, 3)
    point_layer(scene, "incident", arr, STYLES["incident"].rgb, STYLES["incident"].size)
    label_layer(scene, "incident_labels", arr, texts, kind="incident", size=15, rgb=(1.0, 0.6, 0.95))
    return len(pts)


def type_names(store: StateStore) -> dict[str, str]:
    """Device type code -> its name in the UI language (the store's catalogue)."""
    return {c: pick(t.name_zh, t.name_en) for c, t in store.device_types.items()}


def draw_device_clusters(scene: CityScene, store: StateStore, visible: bool, types: set[str] | None = None,
                         px_m: float = 50.0) -> int:
    """IoT devices clustered per town when zoomed out (the store's device statistics), split by
    type: one marker per type present, in the type's colour, side by side around the town's
    centre (px_m: metres per pixel there, so they sit about a marker apart at any zoom), and a
    label with the count of the visible types (named when it is one type). At most
    CLUSTER_TYPES markers per town, its most numerous types, in a row. types: the type codes
    shown (None: all). Returns the markers drawn."""
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in store.device_stats.values() if visible else []:
        if types is None or s.device_type in types:
            by_type[s.town][s.device_type] += s.total
    towns = [t for t in by_type if t in TOWNS_BY_CODE and t in store.towns and sum(by_type[t].values())]
    if not towns:
        scene.clear_layer("device_cluster")
        scene.clear_layer("device_cluster_labels")
        return 0
    centre = lonlat_points(scene, np.array([store.towns[t].lon for t in towns]),
                           np.array([store.towns[t].lat for t in towns]), STYLES["device_cluster"].lift)
    pts, rgb = [], []
    step = px_m * CLUSTER_STEP_PX
    for c, t in zip(centre, towns, strict=True):
        kinds = sorted(by_type[t], key=lambda code: (-by_type[t][code], code))[:CLUSTER_TYPES]
        for i, code in enumerate(kinds):  # a row of markers under the town's centre, biggest first
            pts.append(c + ((i - (len(kinds) - 1) / 2) * step, -1.5 * step, 0.0))
            rgb.append(device_rgb(code))
    point_layer(scene, "device_cluster", np.array(pts), np.array(rgb, np.uint8), CLUSTER_MARKER_PX)
    # no town or cluster label on a cluster's markers (the rescue layers' labels may cover them)
    scene.labels.keep_clear_of("device_cluster", np.array(pts), CLUSTER_MARKER_PX, below="station")
    names = type_names(store)
    texts, counts, ends = [], [], []
    for c, t in zip(centre, towns, strict=True):
        ends.append(c + ((min(len(by_type[t]), CLUSTER_TYPES) - 1) / 2 * step + 0.5 * step, -1.5 * step, 0.0))
        n = sum(by_type[t].values())
        only = next(iter(by_type[t])) if len(by_type[t]) == 1 else None
        texts.append(QCoreApplication.translate("CityView", "{type} {n}").format(type=names.get(only, only), n=f"{n:,}")
                     if only and types is not None else
                     QCoreApplication.translate("CityView", "设备 {n}").format(n=f"{n:,}"))
        counts.append(n)
    # the label beside the row (its anchor the row's right end), else below or left of it
    label_layer(scene, "device_cluster_labels", np.array(ends), texts, kind="cluster", size=13, rgb=(0.7, 1.0, 0.8),
                priority=99 * np.array(counts) / max(counts), side="right")
    return len(pts)


def town_in_view(cam: dict[str, float]) -> str | None:
    """The town the camera looks at (its focal point)."""
    from citymodel.towns import town_at

    lon, lat = to_lonlat(cam["x"], cam["y"])
    return town_at(float(lon), float(lat))


def draw_devices(scene: CityScene, devices: list[dict[str, Any]], visible: bool,
                 types: set[str] | None = None) -> int:
    """Individual IoT devices (devices.list items) of the shown types, coloured by type."""
    items = [d for d in devices if d.get("lon") is not None and (types is None or d.get("device_type") in types)] \
        if visible else []
    if not items:
        scene.clear_layer("device")
        return 0
    pts = lonlat_points(scene, np.array([d["lon"] for d in items]), np.array([d["lat"] for d in items]), 4.0)
    rgb = np.array([device_rgb(str(d.get("device_type", ""))) for d in items], np.uint8)
    point_layer(scene, "device", pts, rgb, STYLES["device"].size)
    return len(items)


def draw_towns(scene: CityScene, store: StateStore) -> None:
    from views.city3d.overlays import town_labels

    towns = [(pick(t.name_zh, t.name_en), t.lon, t.lat) for t in store.towns.values()]
    if not towns:
        from citymodel.towns import load_towns

        towns = [(pick(t.info.name_zh, t.info.name_en), *t.centroid) for t in load_towns()]
    town_labels(scene, towns)


def surroundings_centre(scene: CityScene, store: StateStore, selected: int | None) -> tuple[float, float, int | None]:
    """(lon, lat, incident id): the focused incident, else the selected building, else the
    point the camera looks at."""
    f = store.focus
    if f is not None and f.incident_id is not None and f.incident_id in store.incidents:
        inc = store.incidents[f.incident_id]
        where = incident_xyz(scene, inc)
        if where is not None:
            lon, lat = to_lonlat(where[0], where[1])
            return float(lon), float(lat), inc.id
    if selected is not None:
        return float(scene.table.lon[selected]), float(scene.table.lat[selected]), None
    st = scene.camera_state()
    lon, lat = to_lonlat(st["x"], st["y"])
    return float(lon), float(lat), None


def draw_surroundings(scene: CityScene, res: dict[str, Any]) -> None:
    """Buildings within R highlighted, the circle of radius R, lines to the nearest fire
    stations and water sources with their distances."""
    ids = np.array([b["id"] for b in res.get("buildings", [])], np.int64)
    rows = scene.table.index_of(ids)
    rows = rows[rows >= 0]
    scene.set_highlight("surround", rows, np.tile(np.array(SURROUND_RGB, np.uint8), (len(rows), 1)),
                        grow=1.03, lift=0.3, markers=False, lit=True)
    x, y = float(res["x"]), float(res["y"])
    c = np.array(scene.local(x, y, 2.0))
    ring = pv.Circle(radius=float(res["radius_m"]), resolution=96)
    ring.points += c
    edges = pv.PolyData(ring.points, lines=np.r_[len(ring.points) + 1, np.arange(len(ring.points)), 0])
    scene.set_layer("surround_ring", scene.pl.add_mesh(edges, color=SURROUND_RGB, line_width=3, lighting=False,
                                                       reset_camera=False, render=False, pickable=False, name="surround-ring"))
    ends, texts, segs = [], [], []
    for key, n in (("fire_stations", 3), ("water_sources", 3)):
        for r in res.get(key, [])[:n]:
            p = lonlat_points(scene, np.array([r["lon"]]), np.array([r["lat"]]), 6.0)[0]
            segs.append((c, p))
            ends.append(p)
            texts.append(f"{r.get('name', '')} {r['distance_m']:.0f} m")
    if segs:
        pts = np.array([q for s in segs for q in s])
        lines = np.hstack([[2, 2 * i, 2 * i + 1] for i in range(len(segs))])
        scene.set_layer("surround_lines", scene.pl.add_mesh(pv.PolyData(pts, lines=lines), color=(255, 255, 255),
                                                            line_width=2, lighting=False, reset_camera=False, render=False,
                                                            pickable=False, name="surround-lines"))
        label_layer(scene, "surround_labels", np.array(ends), texts, kind="surround", size=14, rgb=(1.0, 1.0, 1.0))
    else:
        scene.clear_layer("surround_lines")
        scene.clear_layer("surround_labels")
