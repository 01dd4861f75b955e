"""Measuring on the city (EPSG:4547 metres): distance, building height, ground polygon area.

Plain functions on coordinates so the view, the service and tests share one definition.
A polygon drawn by a user may cross itself: its area is that of the repaired polygon
(shapely make_valid), never a signed shoelace sum that would cancel lobes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from citymodel.buildings import BuildingTable


@dataclass(frozen=True)
class PolygonMeasure:
    area_m2: float
    perimeter_m: float
    repaired: bool  # the drawn ring crossed itself and was repaired


def distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Straight-line distance; 3D when both points carry z, else on the ground."""
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    n = min(len(pa), len(pb))
    return float(np.linalg.norm(pa[:n] - pb[:n]))


def ground_distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return float(np.hypot(b[0] - a[0], b[1] - a[1]))


def path_length(points: list[tuple[float, ...]]) -> float:
    p = np.asarray(points, float)
    if len(p) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


def polygon_area(points: list[tuple[float, ...]]) -> PolygonMeasure:
    """Area and perimeter of a ground polygon (x, y; z ignored). Fewer than 3 points: zero."""
    xy = [(float(p[0]), float(p[1])) for p in points]
    if len(xy) < 3:
        return PolygonMeasure(0.0, path_length(xy), False)
    # Shift to the first point: shoelace and GEOS lose centimetres at 2.5 million metres.
    x0, y0 = xy[0]
    poly = Polygon([(x - x0, y - y0) for x, y in xy])
    repaired = not poly.is_valid
    geom = shapely.make_valid(poly) if repaired else poly
    area = float(sum(g.area for g in getattr(geom, "geoms", [geom])))
    return PolygonMeasure(area, float(poly.exterior.length), repaired)


def building_height(table: BuildingTable, row: int) -> dict[str, float | int]:
    """Height, floors and mean storey height of one building."""
    h = float(table.height[row])
    f = int(table.floors[row])
    return {"height_m": round(h, 2), "floors": f, "storey_m": round(h / f, 2) if f else 0.0}
