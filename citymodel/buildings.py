"""The CIM building model as a numpy column table (one array per attribute, one row per building).

1.7 million buildings do not fit comfortably in Python objects (a dict per building is ~1 KiB),
so everything that works on the whole city (generator, cache, tiling, rendering, spatial
queries) works on columns. Categorical attributes are small integer codes into the tables
below; footprints are rings stored CSR-style: the vertices of building i are
``fp_xy[fp_offsets[i]:fp_offsets[i + 1]]``, metres relative to the building's centroid
(cx, cy), counter-clockwise, not closed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from citymodel.towns import TOWN_TABLE

# Use categories: (code, 中文, English). Index = the code stored in BuildingTable.use.
USES: tuple[tuple[str, str, str], ...] = (
    ("residential", "住宅", "Residential"),
    ("commercial", "商业", "Commercial"),
    ("restaurant", "餐饮", "Restaurant"),
    ("office", "办公", "Office"),
    ("industrial", "工业厂房", "Industrial"),
    ("warehouse", "仓储物流", "Warehouse"),
    ("school", "学校", "School"),
    ("hospital", "医院", "Hospital"),
    ("hotel", "酒店", "Hotel"),
    ("government", "政府机关", "Government"),
    ("other", "其他", "Other"),
)
USE_CODES: tuple[str, ...] = tuple(u[0] for u in USES)
USE_INDEX: dict[str, int] = {c: i for i, c in enumerate(USE_CODES)}

STRUCTURES: tuple[tuple[str, str, str], ...] = (
    ("reinforced_concrete", "钢筋混凝土", "Reinforced concrete"),
    ("steel", "钢结构", "Steel"),
    ("masonry", "砖混", "Masonry"),
    ("brick_wood", "砖木", "Brick and timber"),
    ("steel_concrete", "钢混组合", "Steel-concrete composite"),
    ("other", "其他", "Other"),
)
STRUCTURE_CODES: tuple[str, ...] = tuple(s[0] for s in STRUCTURES)
STRUCTURE_INDEX: dict[str, int] = {c: i for i, c in enumerate(STRUCTURE_CODES)}

TOWN_CODES: tuple[str, ...] = tuple(t.code for t in TOWN_TABLE)
TOWN_INDEX: dict[str, int] = {c: i for i, c in enumerate(TOWN_CODES)}

# Column dtypes: fixed so that the cache, the service and the renderer agree byte for byte.
COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "town": np.int16,
    "cx": np.float64,
    "cy": np.float64,
    "lon": np.float64,
    "lat": np.float64,
    "height": np.float32,
    "floors": np.int16,
    "structure": np.int8,
    "use": np.int8,
    "year": np.int16,
    "key_unit": np.bool_,
    "area": np.float32,
    "road": np.int16,  # index into ROAD_NAMES, -1 = none (then `address` may hold the text)
    "house_no": np.int16,
}

# Street names for synthetic addresses (common in Dongguan's towns).
ROAD_NAMES: tuple[str, ...] = (
    "东城大道", "鸿福路", "莞太路", "元美路", "体育路", "新基路", "可园路", "西城路", "运河东路",
    "南城路", "宏图路", "莞龙路", "环城路", "人民路", "中山路", "建设路", "振兴路", "工业大道",
    "富民路", "兴业路", "银湖路", "文明路", "光明路", "新风路", "创业路", "科技路", "沿河路",
    "东门路", "西门路", "北环路", "南环路", "长青路", "金桥路", "迎宾路", "华南路", "松山湖大道",
    "学府路", "湖景路", "工业西路", "工业东路", "新城路", "石龙路", "常平大道", "樟洋路", "塘龙路",
    "凤深大道", "长安路", "虎门大道", "厚街大道", "沙太路", "莞长路", "环湖路", "站前路", "港口大道",
)


@dataclass
class BuildingTable:
    """Column table of buildings. All per-building arrays have the same length."""

    id: np.ndarray
    town: np.ndarray  # index into citymodel.towns.TOWN_TABLE
    cx: np.ndarray  # centroid, EPSG:4547 metres
    cy: np.ndarray
    lon: np.ndarray  # centroid, WGS84
    lat: np.ndarray
    height: np.ndarray  # metres above ground
    floors: np.ndarray
    structure: np.ndarray  # index into STRUCTURES
    use: np.ndarray  # index into USES
    year: np.ndarray  # year built; 0 = unknown
    key_unit: np.ndarray  # a 六熟悉 key unit of the fire brigade
    area: np.ndarray  # footprint area, m2
    road: np.ndarray  # street (index into ROAD_NAMES) of a generated address, -1 = none
    house_no: np.ndarray
    fp_offsets: np.ndarray  # int64, len n + 1
    fp_xy: np.ndarray  # float32 (m, 2), relative to (cx, cy)
    address: np.ndarray | None = None  # imported address text (object array), else derived

    def __post_init__(self) -> None:
        for name, dtype in COLUMNS.items():
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        self.fp_offsets = np.ascontiguousarray(self.fp_offsets, dtype=np.int64)
        self.fp_xy = np.ascontiguousarray(self.fp_xy, dtype=np.float32).reshape(-1, 2)
        n = len(self.id)
        bad = [name for name in COLUMNS if len(getattr(self, name)) != n]
        if bad or len(self.fp_offsets) != n + 1 or int(self.fp_offsets[-1]) != len(self.fp_xy):
            raise ValueError(f"inconsistent building table columns: {bad or 'footprints'}")

    def __len__(self) -> int:
        return len(self.id)

    # ---- names of codes ------------------------------------------------------------------
    def use_names(self) -> np.ndarray:
        """Use codes as strings ("residential", "school", ...), one per building."""
        return np.asarray(USE_CODES, dtype=object)[self.use]

    def structure_names(self) -> np.ndarray:
        return np.asarray(STRUCTURE_CODES, dtype=object)[self.structure]

    def town_codes(self) -> np.ndarray:
        """Town codes as strings ("nancheng", ...), one per building."""
        return np.asarray(TOWN_CODES, dtype=object)[self.town]

    # ---- footprints ----------------------------------------------------------------------
    def ring_sizes(self) -> np.ndarray:
        """Vertices per footprint. Kept (the view asks for it on every pick: 8 ms for 1.7 M);
        made again if fp_offsets was replaced."""
        cached = self.__dict__.get("_sizes")
        if cached is None or cached[0] is not self.fp_offsets:
            sizes = np.diff(self.fp_offsets)
            sizes.flags.writeable = False  # shared by every caller
            cached = (self.fp_offsets, sizes)
            self.__dict__["_sizes"] = cached
        return cached[1]

    def footprint(self, i: int) -> np.ndarray:
        """Footprint of building i as absolute EPSG:4547 coordinates, (k, 2) float64."""
        a, b = int(self.fp_offsets[i]), int(self.fp_offsets[i + 1])
        return self.fp_xy[a:b].astype(np.float64) + (self.cx[i], self.cy[i])

    def all_vertices(self) -> np.ndarray:
        """Every footprint vertex in absolute coordinates (m, 2) float64."""
        rep = np.repeat(np.arange(len(self)), self.ring_sizes())
        return self.fp_xy.astype(np.float64) + np.column_stack((self.cx[rep], self.cy[rep]))

    def index_of(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """Row indices of building ids (-1 for unknown ids)."""
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(self.id, kind="stable")
        pos = np.searchsorted(self.id, ids, sorter=order)
        pos = np.clip(pos, 0, max(len(self) - 1, 0))
        if len(self) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        rows = order[pos]
        return np.where(self.id[rows] == ids, rows, -1).astype(np.int64)

    # ---- subsets and joins ---------------------------------------------------------------
    def take(self, rows: np.ndarray) -> BuildingTable:
        """A new table with the given rows (indices or boolean mask), footprints included."""
        rows = np.asarray(rows)
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        sizes = self.ring_sizes()[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        starts = self.fp_offsets[rows]
        vidx = np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1])
        cols = {name: getattr(self, name)[rows] for name in COLUMNS}
        addr = None if self.address is None else self.address[rows]
        return BuildingTable(**cols, fp_offsets=offsets, fp_xy=self.fp_xy[vidx], address=addr)

    @staticmethod
    def concat(tables: list[BuildingTable]) -> BuildingTable:
        if not tables:
            return empty_table()
        cols = {name: np.concatenate([getattr(t, name) for t in tables]) for name in COLUMNS}
        sizes = np.concatenate([t.ring_sizes() for t in tables])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        addr = None
        if all(t.address is not None for t in tables):
            addr = np.concatenate([t.address for t in tables])  # type: ignore[misc]
        return BuildingTable(**cols, fp_offsets=offsets,
                             fp_xy=np.concatenate([t.fp_xy for t in tables]), address=addr)

    def record(self, i: int) -> dict[str, Any]:
        """One building as a JSON-able dict (the card, the wire form of buildings.get)."""
        u, s, t = int(self.use[i]), int(self.structure[i]), int(self.town[i])
        return {
            "id": int(self.id[i]), "town": TOWN_CODES[t], "town_zh": TOWN_TABLE[t].name_zh,
            "cx": float(self.cx[i]), "cy": float(self.cy[i]),
            "lon": float(self.lon[i]), "lat": float(self.lat[i]),
            "height": round(float(self.height[i]), 2), "floors": int(self.floors[i]),
            "structure": STRUCTURE_CODES[s], "structure_zh": STRUCTURES[s][1],
            "use": USE_CODES[u], "use_zh": USES[u][1],
            "year": int(self.year[i]) or None, "key_unit": bool(self.key_unit[i]),
            "area_m2": round(float(self.area[i]), 1),
            "address": self.address_of(i),
            "footprint": [[round(float(x), 2), round(float(y), 2)] for x, y in self.footprint(i)],
        }

    def address_of(self, i: int) -> str:
        """The address: imported text if any, else "<town><road><no>号" from the road columns."""
        if self.address is not None and self.address[i]:
            return str(self.address[i])
        r = int(self.road[i])
        if r < 0:
            return ""
        return f"{TOWN_TABLE[int(self.town[i])].name_zh}{ROAD_NAMES[r % len(ROAD_NAMES)]}{int(self.house_no[i])}号"

    def column_names(self) -> list[str]:
        return [f.name for f in fields(self)]


def empty_table() -> BuildingTable:
    cols = {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()}
    return BuildingTable(**cols, fp_offsets=np.zeros(1, np.int64), fp_xy=np.zeros((0, 2), np.float32))


def ring_area_centroid(offsets: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed area (CCW positive) and centroid of every ring in a CSR ring set (shoelace)."""
    xy = np.asarray(xy, dtype=np.float64)
    n = len(offsets) - 1
    if n == 0:
        z = np.zeros(0)
        return z, z, z
    sizes = np.diff(offsets)
    nxt = np.arange(len(xy)) + 1
    ends = offsets[1:] - 1
    nxt[ends] = offsets[:-1]  # the last vertex of each ring pairs with its first
    x0, y0 = xy[:, 0], xy[:, 1]
    x1, y1 = x0[nxt], y0[nxt]
    cross = x0 * y1 - x1 * y0
    starts = offsets[:-1]
    nonempty = sizes > 0
    a2 = np.zeros(n)
    sx = np.zeros(n)
    sy = np.zeros(n)
    a2[nonempty] = np.add.reduceat(cross, starts[nonempty])
    sx[nonempty] = np.add.reduceat((x0 + x1) * cross, starts[nonempty])
    sy[nonempty] = np.add.reduceat((y0 + y1) * cross, starts[nonempty])
    area = a2 / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = np.where(a2 != 0, sx / (3.0 * a2), 0.0)
        cy = np.where(a2 != 0, sy / (3.0 * a2), 0.0)
    return area, cx, cy
