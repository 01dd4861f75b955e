"""Tiling and level of detail for the 3D city (numpy only; the view turns these into VTK).

Measured with Mesa llvmpipe on 2 cores (see docs/city3d.md): ~5 M triangles/s and ~0.3 ms of
overhead per actor. 1.7 M buildings as full prisms are ~18 M triangles (seconds per frame), so
the city is cut into 2 km tiles grouped into 8 km super-tiles and drawn at three levels:

- L0 "full": every building as its own prism (walls + roof), for tiles near the camera;
- L1 "blocks": 100 m grid cells merged into one prism each (footprint scaled to the cell's
  built-up share, height the area-weighted mean), plus buildings >= 50 m as their own boxes
  so the skyline stays true;
- L2 "district": 400 m cells, plus buildings >= 120 m, one mesh per super-tile (few draw calls
  for the city overview).

Triangles carry the row of their building (-1 for merged cells) so a picked triangle or a
coloured triangle maps back to the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citymodel.buildings import BuildingTable

TILE_M = 2000.0
SERVICE_TILE_M = 1000.0  # the service stores and serves 1 km tiles (a frame holds one tile)
SUPER = 4  # tiles per super-tile side (8 km)
LOD_FULL, LOD_BLOCKS, LOD_DISTRICT = 0, 1, 2
LOD_CELL_M = {LOD_BLOCKS: 100.0, LOD_DISTRICT: 400.0}
LOD_TALL_M = {LOD_BLOCKS: 50.0, LOD_DISTRICT: 120.0}
# Camera distance (m) to a tile's nearest point below which a level is used.
LOD_NEAR_M = {LOD_FULL: 1200.0, LOD_BLOCKS: 7000.0}


def tile_ij(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return (np.floor(np.asarray(x) / TILE_M).astype(np.int64),
            np.floor(np.asarray(y) / TILE_M).astype(np.int64))


def tile_key(i: int, j: int) -> str:
    """Tile name as stored in the service's buildings.tile column."""
    return f"{int(i)}_{int(j)}"


def parse_tile_key(key: str) -> tuple[int, int]:
    a, b = key.split("_")
    return int(a), int(b)


def service_tile_ij(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return (np.floor(np.asarray(x) / SERVICE_TILE_M).astype(np.int64),
            np.floor(np.asarray(y) / SERVICE_TILE_M).astype(np.int64))


def service_tile_keys(table: BuildingTable) -> np.ndarray:
    """The service's tile name ("i_j" of the 1 km grid) of every building."""
    i, j = service_tile_ij(table.cx, table.cy)
    return np.array([tile_key(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)], dtype=object)


@dataclass
class TileIndex:
    """Buildings sorted by tile: rows of tile k are order[start[k]:start[k + 1]]."""

    i: np.ndarray  # tile grid coordinates, one per non-empty tile
    j: np.ndarray
    start: np.ndarray
    order: np.ndarray  # row indices into the table, grouped by tile
    hmax: np.ndarray  # tallest building per tile

    @classmethod
    def build(cls, table: BuildingTable) -> TileIndex:
        ti, tj = tile_ij(table.cx, table.cy)
        code = (ti - ti.min(initial=0)) * 1_000_003 + (tj - tj.min(initial=0)) if len(table) else ti
        order = np.argsort(code, kind="stable")
        sc = code[order]
        first = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]]) if len(sc) else np.zeros(0, np.int64)
        start = np.r_[first, len(sc)].astype(np.int64)
        hmax = np.maximum.reduceat(table.height[order], first) if len(sc) else np.zeros(0, np.float32)
        return cls(ti[order[first]], tj[order[first]], start, order, hmax)

    def __len__(self) -> int:
        return len(self.i)

    def rows(self, k: int) -> np.ndarray:
        return self.order[self.start[k]:self.start[k + 1]]

    def key(self, k: int) -> str:
        return tile_key(self.i[k], self.j[k])

    def find(self, key: str) -> int:
        a, b = parse_tile_key(key)
        hit = np.flatnonzero((self.i == a) & (self.j == b))
        return int(hit[0]) if len(hit) else -1

    def bounds(self, k: int) -> tuple[float, float, float, float]:
        x0, y0 = float(self.i[k]) * TILE_M, float(self.j[k]) * TILE_M
        return x0, y0, x0 + TILE_M, y0 + TILE_M

    def super_of(self) -> np.ndarray:
        """Super-tile id per tile (dense ints)."""
        si, sj = np.floor_divide(self.i, SUPER), np.floor_divide(self.j, SUPER)
        _, inv = np.unique(si * 1_000_003 + sj, return_inverse=True)
        return inv.ravel()

    def tiles_near(self, x: float, y: float, r: float) -> np.ndarray:
        """Tiles whose square comes within r of (x, y)."""
        x0, y0 = self.i * TILE_M, self.j * TILE_M
        dx = np.maximum(np.maximum(x0 - x, 0), x - (x0 + TILE_M))
        dy = np.maximum(np.maximum(y0 - y, 0), y - (y0 + TILE_M))
        return np.flatnonzero(np.hypot(dx, dy) <= r)

    def rows_near(self, x: float, y: float, r: float) -> np.ndarray:
        ks = self.tiles_near(x, y, r)
        if len(ks) == 0:
            return np.zeros(0, np.int64)
        return np.concatenate([self.rows(int(k)) for k in ks])


def select_lod(index: TileIndex, eye: np.ndarray, in_view: np.ndarray | None = None) -> np.ndarray:
    """Level per tile from the camera position: the distance from the eye to the tile's
    nearest point (3D, tile as a box up to its tallest building). -1 = culled (outside view)."""
    x0, y0 = index.i * TILE_M, index.j * TILE_M
    dx = np.maximum(np.maximum(x0 - eye[0], 0), eye[0] - (x0 + TILE_M))
    dy = np.maximum(np.maximum(y0 - eye[1], 0), eye[1] - (y0 + TILE_M))
    dz = np.maximum(eye[2] - index.hmax, 0)
    d = np.sqrt(dx * dx + dy * dy + dz * dz)
    lod = np.where(d < LOD_NEAR_M[LOD_FULL], LOD_FULL, np.where(d < LOD_NEAR_M[LOD_BLOCKS], LOD_BLOCKS, LOD_DISTRICT))
    if in_view is not None:
        lod = np.where(in_view, lod, -1)
    return lod.astype(np.int8)


def tiles_in_frustum(index: TileIndex, planes: np.ndarray) -> np.ndarray:
    """Boolean per tile: its box (ground to tallest roof) is not wholly outside any of the
    frustum planes (a, b, c, d with inside = a x + b y + c z + d >= 0, VTK's convention)."""
    x0, y0 = index.i * TILE_M, index.j * TILE_M
    inside = np.ones(len(index), bool)
    for a, b, c, d in planes:
        # the box corner furthest along the plane normal
        px = np.where(a >= 0, x0 + TILE_M, x0)
        py = np.where(b >= 0, y0 + TILE_M, y0)
        pz = np.where(c >= 0, index.hmax, 0.0)
        inside &= a * px + b * py + c * pz + d >= 0
    return inside


@dataclass
class MeshArrays:
    """A triangle mesh: points relative to origin (float32), triangles, building row per
    triangle (-1 = merged cell), and for merged cells the member rows per triangle's cell."""

    points: np.ndarray
    tris: np.ndarray  # (t, 3) int64
    row: np.ndarray  # (t,) int64
    origin: tuple[float, float]
    cell_of_tri: np.ndarray | None = None  # (t,) cell id for merged meshes

    @property
    def n_tris(self) -> int:
        return len(self.tris)

    @staticmethod
    def concat(parts: list[MeshArrays], origin: tuple[float, float]) -> MeshArrays:
        pts, tris, rows = [], [], []
        base = 0
        for p in parts:
            shift = np.array([p.origin[0] - origin[0], p.origin[1] - origin[1], 0.0], np.float32)
            pts.append(p.points + shift)
            tris.append(p.tris + base)
            rows.append(p.row)
            base += len(p.points)
        if not parts:
            return MeshArrays(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64), np.zeros(0, np.int64), origin)
        return MeshArrays(np.concatenate(pts), np.concatenate(tris), np.concatenate(rows), origin)


def prisms(xy: np.ndarray, offsets: np.ndarray, z0: np.ndarray, z1: np.ndarray, rows: np.ndarray,
           origin: tuple[float, float], fan_ok: np.ndarray | None = None) -> MeshArrays:
    """Extrude rings (CSR: offsets into xy, absolute coordinates) from z0 to z1: walls and a
    fan-triangulated roof (footprints here are convex or star-shaped from their first vertex;
    see roof_fan_ok). No floor: nobody looks at a building from below."""
    n = len(offsets) - 1
    sizes = np.diff(offsets)
    m = int(offsets[-1])
    pts = np.empty((2 * m, 3), np.float32)
    rel = xy - np.asarray(origin)
    pts[:m, :2] = rel
    pts[m:, :2] = rel
    rep = np.repeat(np.arange(n), sizes)
    pts[:m, 2] = z0[rep]
    pts[m:, 2] = z1[rep]
    v = np.arange(m)
    nxt = v + 1
    nxt[offsets[1:] - 1] = offsets[:-1]
    walls = np.empty((2 * m, 3), np.int64)
    walls[0::2] = np.column_stack((v, nxt, m + nxt))
    walls[1::2] = np.column_stack((v, m + nxt, m + v))
    wall_row = np.repeat(rows[rep], 2)
    # roof fan: triangles (first, k, k+1) for k = 1..size-2
    nt = np.maximum(sizes - 2, 0)
    tri_owner = np.repeat(np.arange(n), nt)
    k = np.arange(int(nt.sum())) - np.repeat(np.cumsum(nt) - nt, nt) + 1
    first = offsets[:-1][tri_owner]
    roof = np.column_stack((m + first, m + first + k, m + first + k + 1))
    return MeshArrays(pts, np.concatenate((walls, roof)), np.concatenate((wall_row, rows[tri_owner])), origin)


def building_mesh(table: BuildingTable, rows: np.ndarray, origin: tuple[float, float]) -> MeshArrays:
    """L0: the given buildings as full prisms."""
    rows = np.asarray(rows, np.int64)
    sizes = table.ring_sizes()[rows]
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    vidx = np.repeat(table.fp_offsets[rows] - offsets[:-1], sizes) + np.arange(offsets[-1])
    rep = np.repeat(rows, sizes)
    xy = table.fp_xy[vidx].astype(np.float64) + np.column_stack((table.cx[rep], table.cy[rep]))
    z0 = np.zeros(len(rows), np.float32)
    return prisms(xy, offsets, z0, table.height[rows].astype(np.float32), rows, origin)


def box_mesh(table: BuildingTable, rows: np.ndarray, origin: tuple[float, float]) -> MeshArrays:
    """Buildings as oriented boxes (the footprint's bounding rectangle along its first edge)."""
    rows = np.asarray(rows, np.int64)
    if len(rows) == 0:
        return building_mesh(table, rows, origin)
    start = table.fp_offsets[rows]
    sizes = table.ring_sizes()[rows]
    e = table.fp_xy[start + 1].astype(np.float64) - table.fp_xy[start]
    ang = np.arctan2(e[:, 1], e[:, 0])
    c, s = np.cos(ang), np.sin(ang)
    rep = np.repeat(np.arange(len(rows)), sizes)
    vidx = np.repeat(start, sizes) + np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    p = table.fp_xy[vidx].astype(np.float64)
    u = p[:, 0] * c[rep] + p[:, 1] * s[rep]
    w = -p[:, 0] * s[rep] + p[:, 1] * c[rep]
    bounds = np.full((len(rows), 4), np.nan)
    first = np.cumsum(sizes) - sizes
    bounds[:, 0] = np.minimum.reduceat(u, first)
    bounds[:, 1] = np.maximum.reduceat(u, first)
    bounds[:, 2] = np.minimum.reduceat(w, first)
    bounds[:, 3] = np.maximum.reduceat(w, first)
    cu = np.stack([bounds[:, 0], bounds[:, 1], bounds[:, 1], bounds[:, 0]], 1)
    cw = np.stack([bounds[:, 2], bounds[:, 2], bounds[:, 3], bounds[:, 3]], 1)
    x = cu * c[:, None] - cw * s[:, None] + table.cx[rows, None]
    y = cu * s[:, None] + cw * c[:, None] + table.cy[rows, None]
    xy = np.column_stack((x.ravel(), y.ravel()))
    offsets = np.arange(0, 4 * len(rows) + 1, 4, dtype=np.int64)
    return prisms(xy, offsets, np.zeros(len(rows), np.float32), table.height[rows].astype(np.float32), rows, origin)


@dataclass
class Cells:
    """Merged cells of one LOD: square prisms, each with its member rows (CSR)."""

    x: np.ndarray  # centre
    y: np.ndarray
    side: np.ndarray
    height: np.ndarray
    member_start: np.ndarray
    members: np.ndarray  # rows, grouped by cell


def merge_cells(table: BuildingTable, rows: np.ndarray, cell_m: float, tall_m: float) -> tuple[Cells, np.ndarray]:
    """Group the rows below tall_m into cell_m grid cells; returns the cells and the tall rows."""
    rows = np.asarray(rows, np.int64)
    tall = rows[table.height[rows] >= tall_m]
    low = rows[table.height[rows] < tall_m]
    gi = np.floor(table.cx[low] / cell_m).astype(np.int64)
    gj = np.floor(table.cy[low] / cell_m).astype(np.int64)
    code = gi * 4_000_037 + gj
    order = np.argsort(code, kind="stable")
    sc = code[order]
    if len(sc) == 0:
        z = np.zeros(0)
        return Cells(z, z, z, z, np.zeros(1, np.int64), np.zeros(0, np.int64)), tall
    first = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    members = low[order]
    a = table.area[members].astype(np.float64)
    area = np.add.reduceat(a, first)
    hsum = np.add.reduceat(a * table.height[members], first)
    side = np.minimum(np.sqrt(area) * 1.15, cell_m * 0.92)  # streets stay visible
    x = (gi[order][first] + 0.5) * cell_m
    y = (gj[order][first] + 0.5) * cell_m
    return Cells(x, y, side, (hsum / area).astype(np.float32), np.r_[first, len(sc)], members), tall


def cells_mesh(cells: Cells, origin: tuple[float, float], base: int = 0) -> MeshArrays:
    """Square prisms of merged cells; row = -1, cell_of_tri = base + cell index."""
    n = len(cells.x)
    h = cells.side / 2
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float)
    x = cells.x[:, None] + corners[None, :, 0] * h[:, None]
    y = cells.y[:, None] + corners[None, :, 1] * h[:, None]
    xy = np.column_stack((x.ravel(), y.ravel()))
    offsets = np.arange(0, 4 * n + 1, 4, dtype=np.int64)
    mesh = prisms(xy, offsets, np.zeros(n, np.float32), cells.height, np.full(n, -1, np.int64), origin)
    per = 10  # 8 wall triangles then 2 roof triangles per cell
    wall_cell = np.repeat(np.arange(n), 8)
    roof_cell = np.repeat(np.arange(n), 2)
    mesh.cell_of_tri = base + np.concatenate((wall_cell, roof_cell))
    assert mesh.n_tris == per * n
    return mesh


def lod_mesh(table: BuildingTable, rows: np.ndarray, lod: int, origin: tuple[float, float]) -> tuple[MeshArrays, Cells | None]:
    """The mesh of some buildings at a level; for merged levels also their cells."""
    if lod == LOD_FULL:
        return building_mesh(table, rows, origin), None
    cells, tall = merge_cells(table, rows, LOD_CELL_M[lod], LOD_TALL_M[lod])
    cm = cells_mesh(cells, origin)
    bm = box_mesh(table, tall, origin)
    out = MeshArrays.concat([cm, bm], origin)
    out.cell_of_tri = np.concatenate((cm.cell_of_tri, np.full(bm.n_tris, -1, np.int64)))
    return out, cells
