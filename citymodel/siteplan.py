"""A key unit's site plan (总平面图) from the CIM: the unit's buildings, its neighbours, water
sources, entrances and, for a high-rise, the fire-engine staging area (消防车登高操作场地).

The 六熟悉 system keeps a site plan per key unit; a surveyed drawing is rarely at hand for the
1,200 units of a city, so the service derives one from the buildings table and stores it
(sync_service.cim.keyunits). Pure numpy/shapely, no database.

Layout (JSON, metres east/north of `centre` in EPSG:4547, rounded to 0.1 m):
    {"centre": [x, y], "radius_m": R,
     "buildings": [{"id", "ring": [[dx, dy], ...], "height", "floors", "unit": bool}],
     "water": [{"id", "name", "at": [dx, dy], "distance_m"}]  (nearest first; beyond R too),
     "entrances": [{"at": [dx, dy], "kind": "main" | "secondary", "facing_deg"}],
     "staging": [[dx, dy] x 4] | None}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from citymodel.buildings import BuildingTable

RADIUS_M = 120.0
SAME_SITE_M = 8.0  # a neighbour this close with the unit's use is part of the unit's site
HIGH_RISE_M = 24.0  # GB 50016: public buildings above 24 m need a staging area for aerial ladders
ENTRANCE_OUT_M = 3.0
NEAREST_WATER = 3
WATER_REACH_M = 1500.0  # water sources farther than this are not the unit's


def _polygons(table: BuildingTable, rows: np.ndarray) -> np.ndarray:
    """Footprint polygons (EPSG:4547) of rows, made in one vectorised call."""
    sizes = table.ring_sizes()[rows]
    starts = table.fp_offsets[rows]
    idx = np.concatenate([np.arange(a, a + n) for a, n in zip(starts.tolist(), sizes.tolist(), strict=True)])
    rep = np.repeat(np.arange(len(rows)), sizes)
    xy = table.fp_xy[idx].astype(np.float64) + np.column_stack((table.cx[rows], table.cy[rows]))[rep]
    # closed rings for GEOS: the first vertex again after each ring
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    closed = np.insert(xy, np.cumsum(sizes), xy[first], axis=0)
    ring_of = np.repeat(np.arange(len(rows)), sizes + 1)
    return shapely.polygons(shapely.linearrings(closed, indices=ring_of))


def _r(v: float) -> float:
    return round(float(v), 1)


def site_plan(table: BuildingTable, unit_row: int, water: list[dict[str, Any]] | None = None,
              radius: float = RADIUS_M) -> dict[str, Any]:
    """The layout around building unit_row of table (which must hold its neighbours); water:
    dicts with id, name, x, y (EPSG:4547) of water sources."""
    cx, cy = float(table.cx[unit_row]), float(table.cy[unit_row])
    d = np.hypot(table.cx - cx, table.cy - cy)
    near = np.flatnonzero(d <= radius + 60.0)
    geoms = _polygons(table, near)
    polys = dict(zip(near.tolist(), geoms.tolist(), strict=True))
    unit_poly = polys[unit_row]
    circle = shapely.Point(cx, cy).buffer(radius, 32)
    same = (table.use[near] == table.use[unit_row]) & (shapely.distance(geoms, unit_poly) <= SAME_SITE_M)
    unit_rows = {unit_row} | set(near[same].tolist())
    shown = shapely.intersects(geoms, circle) | same | (near == unit_row)
    buildings = []
    for k in sorted(np.flatnonzero(shown).tolist(), key=lambda k: (int(near[k]) not in unit_rows, int(near[k]))):
        r = int(near[k])
        ring = np.round(np.asarray(geoms[k].exterior.coords)[:-1] - (cx, cy), 1)
        buildings.append({"id": int(table.id[r]), "ring": ring.tolist(), "height": _r(table.height[r]),
                          "floors": int(table.floors[r]), "unit": r in unit_rows})
    others = [p for r, p in polys.items() if r not in unit_rows]
    entrances = _entrances(unit_poly, others, (cx, cy))
    staging = None
    if float(table.height[unit_row]) > HIGH_RISE_M and entrances:
        staging = _staging(unit_poly, entrances[0], (cx, cy))
    wat = sorted(({"id": w.get("id"), "name": w.get("name", ""), "at": [_r(w["x"] - cx), _r(w["y"] - cy)],
                   "distance_m": round(math.hypot(w["x"] - cx, w["y"] - cy))} for w in water or []),
                 key=lambda w: w["distance_m"])
    # every source on the plan, and the nearest NEAREST_WATER wherever they are (drawn at the
    # plan's edge, pointing their way, with the distance)
    wat = [w for k, w in enumerate(wat) if w["distance_m"] <= radius or k < NEAREST_WATER][:30]
    return {"centre": [_r(cx), _r(cy)], "radius_m": radius, "buildings": buildings, "water": wat,
            "entrances": entrances, "staging": staging}


def _edges(poly: Polygon) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(midpoint, outward unit normal, length) of every edge of a CCW polygon."""
    ring = np.asarray(shapely.geometry.polygon.orient(poly, 1.0).exterior.coords)
    out = []
    for a, b in zip(ring[:-1], ring[1:], strict=True):
        v = b - a
        n = float(np.hypot(*v))
        if n < 1.0:
            continue
        out.append(((a + b) / 2, np.array([v[1], -v[0]]) / n, n))  # right of a CCW edge = outside
    return out


def _entrances(unit: Polygon, others: list[Polygon], centre: tuple[float, float]) -> list[dict[str, Any]]:
    """The main entrance on the edge with the most open ground in front of it (long edges
    preferred), a secondary one on a side facing away from it."""
    tree = shapely.STRtree(others) if others else None
    scored = []
    for mid, normal, length in _edges(unit):
        at = mid + normal * ENTRANCE_OUT_M
        clear = 60.0
        if tree is not None:
            i = tree.nearest(shapely.Point(*at))
            if i is not None:
                clear = min(clear, float(others[int(i)].distance(shapely.Point(*at))))
        scored.append((clear * math.sqrt(min(length, 60.0)), at, normal))
    if not scored:
        return []
    scored.sort(key=lambda s: -s[0])
    out = []
    for kind, pick in (("main", scored[0]),
                       ("secondary", next((s for s in scored[1:] if float(np.dot(s[2], scored[0][2])) < 0.0), None))):
        if pick is None:
            continue
        _, at, normal = pick
        facing = math.degrees(math.atan2(normal[0], normal[1])) % 360.0  # compass bearing it faces
        out.append({"at": [_r(at[0] - centre[0]), _r(at[1] - centre[1])], "kind": kind, "facing_deg": round(facing)})
    return out


def _staging(unit: Polygon, main: dict[str, Any], centre: tuple[float, float]) -> list[list[float]]:
    """A 10 m deep area 5-15 m in front of the main entrance's wall, as long as the wall (15-40 m)."""
    at = np.asarray(main["at"], float) + centre
    edge = min(_edges(unit), key=lambda e: float(np.hypot(*(e[0] + e[1] * ENTRANCE_OUT_M - at))))
    mid, normal, length = edge
    along = np.array([-normal[1], normal[0]])
    half = max(7.5, min(length, 40.0) / 2)
    corners = [mid + normal * 5 - along * half, mid + normal * 5 + along * half,
               mid + normal * 15 + along * half, mid + normal * 15 - along * half]
    return [[_r(c[0] - centre[0]), _r(c[1] - centre[1])] for c in corners]
