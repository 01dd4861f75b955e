"""Picking a building with a ray (a click), on the data, not on the rendered triangles.

Rendering draws far tiles as merged blocks, but a click must still find the real building under
the cursor at any level of detail, so picking intersects the ray with the buildings' prisms
(walls and roof) directly: candidate tiles along the ray's ground track, candidate buildings
near it, then an exact ray/prism test vectorised over their edges.
"""

from __future__ import annotations

import numpy as np

from citymodel.buildings import BuildingTable
from citymodel.tiles import TILE_M, TileIndex


def _segment_tiles(index: TileIndex, p0: np.ndarray, p1: np.ndarray, pad: float) -> np.ndarray:
    """Tiles whose square (grown by pad) the ground track p0 -> p1 passes through."""
    x0, y0 = index.i * TILE_M - pad, index.j * TILE_M - pad
    x1, y1 = x0 + TILE_M + 2 * pad, y0 + TILE_M + 2 * pad
    d = p1 - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        tx0 = np.where(d[0] != 0, (x0 - p0[0]) / d[0], -np.inf)
        tx1 = np.where(d[0] != 0, (x1 - p0[0]) / d[0], np.inf)
        ty0 = np.where(d[1] != 0, (y0 - p0[1]) / d[1], -np.inf)
        ty1 = np.where(d[1] != 0, (y1 - p0[1]) / d[1], np.inf)
    inx = (p0[0] >= x0) & (p0[0] <= x1)
    iny = (p0[1] >= y0) & (p0[1] <= y1)
    tx0 = np.where(d[0] == 0, np.where(inx, -np.inf, np.inf), tx0)
    tx1 = np.where(d[0] == 0, np.where(inx, np.inf, -np.inf), tx1)
    ty0 = np.where(d[1] == 0, np.where(iny, -np.inf, np.inf), ty0)
    ty1 = np.where(d[1] == 0, np.where(iny, np.inf, -np.inf), ty1)
    tmin = np.maximum(np.minimum(tx0, tx1), np.minimum(ty0, ty1))
    tmax = np.minimum(np.maximum(tx0, tx1), np.maximum(ty0, ty1))
    return np.flatnonzero((tmax >= np.maximum(tmin, 0)) & (tmin <= 1))


def pick(table: BuildingTable, index: TileIndex, origin: np.ndarray, direction: np.ndarray,
         max_dist: float = 200_000.0) -> tuple[int, np.ndarray] | None:
    """The first building the ray hits: (row, hit point) or None."""
    o = np.asarray(origin, float)
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    hmax = float(index.hmax.max()) if len(index) else 0.0
    # The ray can only hit buildings while 0 <= z <= hmax: clip it to that slab.
    if abs(d[2]) > 1e-12:
        t_a, t_b = (hmax - o[2]) / d[2], (0.0 - o[2]) / d[2]
        t0, t1 = max(min(t_a, t_b), 0.0), min(max(t_a, t_b), max_dist)
    else:
        if not 0 <= o[2] <= hmax:
            return None
        t0, t1 = 0.0, max_dist
    if t1 < t0:
        return None
    p0, p1 = o + t0 * d, o + t1 * d
    tiles = _segment_tiles(index, p0[:2], p1[:2], 60.0)
    if len(tiles) == 0:
        return None
    rows = np.concatenate([index.rows(int(k)) for k in tiles])
    # Buildings whose bounding circle comes near the ground track.
    seg = p1[:2] - p0[:2]
    L2 = float(seg @ seg) or 1e-12
    px, py = table.cx[rows] - p0[0], table.cy[rows] - p0[1]
    s = np.clip((px * seg[0] + py * seg[1]) / L2, 0, 1)
    dist = np.hypot(px - s * seg[0], py - s * seg[1])
    sizes = table.ring_sizes()
    rad = _radius(table, rows, sizes)
    rows = rows[dist <= rad + 1.0]
    if len(rows) == 0:
        return None
    return _exact(table, rows, o, d, sizes)


def _radius(table: BuildingTable, rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    sz = sizes[rows]
    vidx = np.repeat(table.fp_offsets[rows], sz) + np.arange(int(sz.sum())) - np.repeat(np.cumsum(sz) - sz, sz)
    r = np.hypot(table.fp_xy[vidx, 0], table.fp_xy[vidx, 1])
    return np.maximum.reduceat(r, np.cumsum(sz) - sz) if len(rows) else np.zeros(0)


def _exact(table: BuildingTable, rows: np.ndarray, o: np.ndarray, d: np.ndarray,
           sizes: np.ndarray) -> tuple[int, np.ndarray] | None:
    sz = sizes[rows]
    first = np.cumsum(sz) - sz
    local = np.arange(int(sz.sum())) - np.repeat(first, sz)
    vidx = np.repeat(table.fp_offsets[rows], sz) + local
    nidx = np.repeat(table.fp_offsets[rows], sz) + (local + 1) % np.repeat(sz, sz)
    owner = np.repeat(np.arange(len(rows)), sz)
    cx, cy = table.cx[rows][owner], table.cy[rows][owner]
    ax, ay = table.fp_xy[vidx, 0] + cx, table.fp_xy[vidx, 1] + cy
    bx, by = table.fp_xy[nidx, 0] + cx, table.fp_xy[nidx, 1] + cy
    h = table.height[rows].astype(float)
    best_t = np.full(len(rows), np.inf)
    # Walls: the ray's ground track crosses edge (a, b) at parameter t with 0 <= z <= h.
    ex, ey = bx - ax, by - ay
    den = d[0] * ey - d[1] * ex
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((ax - o[0]) * ey - (ay - o[1]) * ex) / den
        u = ((ax - o[0]) * d[1] - (ay - o[1]) * d[0]) / den
    z = o[2] + t * d[2]
    ok = (np.abs(den) > 1e-12) & (t > 0) & (u >= 0) & (u <= 1) & (z >= 0) & (z <= h[owner])
    if ok.any():
        np.minimum.at(best_t, owner[ok], t[ok])
    # Roofs: where the ray is at roof height, is the point inside the footprint?
    if abs(d[2]) > 1e-12:
        tr = (h - o[2]) / d[2]
        hx, hy = o[0] + tr * d[0], o[1] + tr * d[1]
        qx, qy = hx[owner], hy[owner]
        cross = ((ay > qy) != (by > qy)) & (qx < (bx - ax) * (qy - ay) / np.where(by != ay, by - ay, 1e-12) + ax)
        inside = np.bitwise_xor.reduceat(cross.astype(np.int8), first).astype(bool)
        roof_ok = inside & (tr > 0)
        best_t = np.where(roof_ok, np.minimum(best_t, tr), best_t)
    k = int(np.argmin(best_t))
    if not np.isfinite(best_t[k]):
        return None
    return int(rows[k]), o + best_t[k] * d
