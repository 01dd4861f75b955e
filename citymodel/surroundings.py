"""Surroundings of an incident for the rescue commander: the buildings within R metres (height,
floors, structure, use, distance), the nearest water sources and fire stations (straight line).

One pure function serves both the console (on its cached table) and the sync service (on the
buildings it reads from the database), so every hall sees the same answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from citymodel.buildings import STRUCTURES, TOWN_CODES, USES, BuildingTable
from citymodel.geo import to_city_xy, to_lonlat

MAX_LISTED = 400  # buildings listed by distance; the summary counts all of them
HIGH_RISE_M = 24.0  # 高层建筑 threshold of the national fire code (GB 50016) for public buildings


def buildings_within(table: BuildingTable, x: float, y: float, radius: float,
                     rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose footprint comes within radius of (x, y), sorted by that distance."""
    cand = np.arange(len(table)) if rows is None else np.asarray(rows, np.int64)
    d = _footprint_distance(table, cand, x, y)
    keep = d <= radius
    cand, d = cand[keep], d[keep]
    order = np.argsort(d, kind="stable")
    return cand[order], d[order]


def _footprint_distance(table: BuildingTable, rows: np.ndarray, x: float, y: float) -> np.ndarray:
    """Distance from a point to each footprint (0 inside), by its edges."""
    if len(rows) == 0:
        return np.zeros(0)
    sz = table.ring_sizes()[rows]
    first = np.cumsum(sz) - sz
    local = np.arange(int(sz.sum())) - np.repeat(first, sz)
    base = np.repeat(table.fp_offsets[rows], sz)
    a = table.fp_xy[base + local].astype(float)
    b = table.fp_xy[base + (local + 1) % np.repeat(sz, sz)].astype(float)
    owner = np.repeat(np.arange(len(rows)), sz)
    qx = x - table.cx[rows][owner]
    qy = y - table.cy[rows][owner]
    ex, ey = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    L2 = np.maximum(ex * ex + ey * ey, 1e-12)
    t = np.clip(((qx - a[:, 0]) * ex + (qy - a[:, 1]) * ey) / L2, 0, 1)
    de = np.hypot(qx - a[:, 0] - t * ex, qy - a[:, 1] - t * ey)
    dmin = np.minimum.reduceat(de, first)
    cross = ((a[:, 1] > qy) != (b[:, 1] > qy)) & (
        qx < ex * (qy - a[:, 1]) / np.where(ey != 0, ey, 1e-12) + a[:, 0])
    inside = np.bitwise_xor.reduceat(cross.astype(np.int8), first).astype(bool)
    return np.where(inside, 0.0, dmin)


def nearest_resources(resources: list[dict[str, Any]], kind: str, x: float, y: float,
                      k: int = 5) -> list[dict[str, Any]]:
    """The k nearest resources of a kind with straight-line distance (m)."""
    items = [r for r in resources if r.get("kind") == kind and r.get("lon") is not None]
    if not items:
        return []
    rx, ry = to_city_xy(np.array([r["lon"] for r in items]), np.array([r["lat"] for r in items]))
    d = np.hypot(np.asarray(rx) - x, np.asarray(ry) - y)
    out = []
    for i in np.argsort(d, kind="stable")[:k]:
        r = items[int(i)]
        out.append({"id": r.get("id"), "name": r.get("name", ""), "kind": kind, "status": r.get("status"),
                    "lon": r["lon"], "lat": r["lat"], "distance_m": round(float(d[i]), 1)})
    return out


def surroundings(table: BuildingTable, lon: float, lat: float, radius_m: float,
                 resources: list[dict[str, Any]], *, rows: np.ndarray | None = None,
                 incident_id: int | None = None, k_nearest: int = 5) -> dict[str, Any]:
    """The full answer (JSON-able), as carried by the surroundings.result event."""
    x, y = (float(v) for v in to_city_xy(lon, lat))
    hit, dist = buildings_within(table, x, y, radius_m, rows)
    listed = []
    for r, d in zip(hit[:MAX_LISTED].tolist(), dist[:MAX_LISTED].tolist(), strict=True):
        u, s = int(table.use[r]), int(table.structure[r])
        listed.append({
            "id": int(table.id[r]), "distance_m": round(d, 1), "height": round(float(table.height[r]), 1),
            "floors": int(table.floors[r]), "structure": STRUCTURES[s][0], "structure_zh": STRUCTURES[s][1],
            "use": USES[u][0], "use_zh": USES[u][1], "area_m2": round(float(table.area[r]), 1),
            "key_unit": bool(table.key_unit[r]), "town": TOWN_CODES[int(table.town[r])],
            "address": table.address_of(r),
        })
    uses = Counter(USES[int(u)][0] for u in table.use[hit])
    summary = {
        "count": len(hit),
        "max_height": round(float(table.height[hit].max()), 1) if len(hit) else 0.0,
        "high_rise": int((table.height[hit] > HIGH_RISE_M).sum()),
        "key_units": int(table.key_unit[hit].sum()),
        "floor_area_m2": round(float((table.area[hit] * table.floors[hit]).sum()), 0),
        "by_use": dict(uses.most_common()),
    }
    return {
        "incident_id": incident_id, "lon": lon, "lat": lat, "x": x, "y": y, "radius_m": radius_m,
        "buildings": listed, "summary": summary,
        "water_sources": nearest_resources(resources, "water_source", x, y, k_nearest),
        "fire_stations": nearest_resources(resources, "fire_station", x, y, k_nearest),
    }


def lonlat_of(x: float, y: float) -> tuple[float, float]:
    lon, lat = to_lonlat(x, y)
    return float(lon), float(lat)
