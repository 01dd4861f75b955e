"""A plausible synthetic Dongguan CIM: deterministic from a seed, 1.7 million buildings in seconds.

How the city is laid out (all numpy, no per-building Python):
- each town is covered by a grid of 100 m blocks, rotated to a street orientation of its own;
  only blocks lying wholly inside the (real) town polygon and away from the main rivers are
  used, so every footprint is inside its town;
- each block gets an urban score (distance to the town's centre, or the city core for the four
  central streets, plus smooth noise) and a zone: dense old centre (Guancheng, Nancheng,
  Dongcheng, Shilong...), mixed urban, residential towers (18-33 floors), urban village
  (6-7 floor "handshake" houses), industrial park (low wide sheds), civic (schools, hospitals,
  government), Songshan Lake campus, Nancheng CBD;
- a zone is a slot layout inside the block's 80 m core (the rest is street), with footprint
  sizes, floors, storey heights, uses, structures and years of its own;
- the number of buildings per town follows population and area; blocks are filled in a
  weighted random order that favours high scores, so a small city (tests) is a sample of the
  centres and a full one (1.7 M) covers the built-up land.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from citymodel.buildings import (
    ROAD_NAMES,
    STRUCTURE_INDEX,
    USE_INDEX,
    BuildingTable,
    ring_area_centroid,
)
from citymodel.geo import to_city_xy, to_lonlat
from citymodel.towns import TOWN_TABLE, load_towns

FULL_SIZE = 1_700_000
BLOCK_M = 100.0
CORE_M = 80.0  # usable part of a block; the rest is street. 80 m rotated by 10 deg stays inside.

# The city's historic core (Guancheng, by the Keyuan) and the Nancheng CBD, WGS84.
CITY_CORE = (113.752, 23.045)
CBD = (113.748, 23.012)
OLD_CENTRE_TOWNS = {"guancheng", "nancheng", "dongcheng", "wanjiang", "shilong", "humen"}
CORE_STREETS = {"guancheng", "nancheng", "dongcheng", "wanjiang"}
# Share of industrial blocks by town (the manufacturing towns); default 0.22.
INDUSTRY: dict[str, float] = {
    "guancheng": 0.0, "nancheng": 0.06, "dongcheng": 0.12, "wanjiang": 0.15, "changan": 0.42,
    "humen": 0.3, "houjie": 0.35, "dalang": 0.38, "tangxia": 0.4, "qingxi": 0.4, "fenggang": 0.38,
    "liaobu": 0.36, "changping": 0.3, "huangjiang": 0.38, "shijie": 0.33, "songshanhu": 0.25,
    "shatian": 0.35, "machong": 0.3, "zhongtang": 0.3, "qiaotou": 0.3, "binhaiwan": 0.3,
}
# Share of residential tower blocks (new housing estates); default 0.15.
TOWERS: dict[str, float] = {
    "nancheng": 0.35, "dongcheng": 0.3, "wanjiang": 0.25, "guancheng": 0.2, "songshanhu": 0.25,
    "changan": 0.2, "humen": 0.2, "houjie": 0.18, "changping": 0.2, "tangxia": 0.2, "binhaiwan": 0.3,
}


@dataclass(frozen=True)
class Zone:
    name: str
    nx: int  # slot grid in the 80 m core
    ny: int
    w: tuple[float, float]  # footprint size range, metres (w along the block's x axis)
    h: tuple[float, float]
    floors: tuple[tuple[int, ...], tuple[float, ...]]  # values, probabilities
    storey: tuple[float, float]
    l_share: float  # share of L-shaped footprints
    uses: dict[str, float]
    structures: dict[str, float]
    years: tuple[int, int]


def _r(a: int, b: int) -> tuple[int, ...]:
    return tuple(range(a, b + 1))


def _flat(a: int, b: int) -> tuple[float, ...]:
    return tuple([1.0 / (b - a + 1)] * (b - a + 1))


ZONES: tuple[Zone, ...] = (
    Zone("village", 6, 6, (9.0, 11.8), (9.0, 11.8), ((4, 5, 6, 7, 8), (0.05, 0.15, 0.35, 0.35, 0.10)),
         (2.9, 3.2), 0.05,
         {"residential": 0.88, "commercial": 0.05, "restaurant": 0.04, "industrial": 0.015,
          "warehouse": 0.01, "school": 0.002, "hospital": 0.0005, "other": 0.0125},
         {"masonry": 0.55, "reinforced_concrete": 0.43, "brick_wood": 0.02}, (1985, 2012)),
    Zone("old", 5, 5, (10.0, 14.5), (10.0, 14.5), (_r(2, 12), (.06, .12, .16, .16, .14, .12, .1, .06, .04, .02, .02)),
         (3.0, 3.3), 0.3,
         {"residential": 0.56, "commercial": 0.17, "restaurant": 0.1, "office": 0.06, "hotel": 0.02,
          "government": 0.015, "school": 0.01, "hospital": 0.004, "other": 0.031},
         {"masonry": 0.45, "reinforced_concrete": 0.35, "brick_wood": 0.15, "other": 0.05}, (1960, 2005)),
    Zone("mixed", 3, 3, (15.0, 24.0), (15.0, 24.0), (_r(6, 20), _flat(6, 20)), (3.1, 3.5), 0.2,
         {"residential": 0.46, "commercial": 0.2, "restaurant": 0.06, "office": 0.15, "hotel": 0.04,
          "school": 0.02, "hospital": 0.01, "government": 0.02, "other": 0.04},
         {"reinforced_concrete": 0.9, "masonry": 0.05, "steel_concrete": 0.05}, (1995, 2020)),
    Zone("tower", 2, 3, (20.0, 34.0), (13.0, 20.0), (_r(18, 33), _flat(18, 33)), (2.95, 3.1), 0.1,
         {"residential": 0.88, "commercial": 0.06, "office": 0.03, "school": 0.01, "hospital": 0.003,
          "other": 0.017},
         {"reinforced_concrete": 0.95, "steel_concrete": 0.05}, (2000, 2024)),
    Zone("cbd", 2, 2, (24.0, 36.0), (24.0, 36.0), (_r(20, 68), _flat(20, 68)), (3.6, 4.2), 0.1,
         {"office": 0.45, "commercial": 0.3, "hotel": 0.1, "residential": 0.12, "government": 0.03},
         {"reinforced_concrete": 0.5, "steel_concrete": 0.4, "steel": 0.1}, (2005, 2024)),
    Zone("industrial", 2, 2, (28.0, 38.0), (20.0, 36.0), ((1, 2, 3, 4, 5), (0.25, 0.3, 0.25, 0.15, 0.05)),
         (4.5, 6.5), 0.1,
         {"industrial": 0.78, "warehouse": 0.12, "residential": 0.06, "office": 0.03, "restaurant": 0.01},
         {"steel": 0.55, "reinforced_concrete": 0.35, "masonry": 0.1}, (1990, 2018)),
    Zone("civic", 2, 2, (24.0, 36.0), (14.0, 30.0), (_r(3, 8), _flat(3, 8)), (3.5, 3.9), 0.5,
         {"school": 0.5, "hospital": 0.15, "government": 0.2, "office": 0.15},
         {"reinforced_concrete": 0.9, "masonry": 0.1}, (1980, 2022)),
    Zone("campus", 2, 2, (20.0, 36.0), (16.0, 34.0), (_r(3, 10), _flat(3, 10)), (3.8, 4.4), 0.35,
         {"office": 0.4, "industrial": 0.25, "school": 0.2, "residential": 0.1, "commercial": 0.05},
         {"reinforced_concrete": 0.6, "steel": 0.25, "steel_concrete": 0.15}, (2005, 2024)),
)
ZONE_INDEX = {z.name: i for i, z in enumerate(ZONES)}


@dataclass
class _Blocks:
    """Candidate blocks of one town (block centres and orientation, EPSG:4547)."""

    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray  # radians
    zone: np.ndarray  # index into ZONES
    weight: np.ndarray  # fill priority weight
    row: np.ndarray  # grid row, for street names


@lru_cache(maxsize=1)
def projected_towns() -> tuple[BaseGeometry, ...]:
    """The town polygons in EPSG:4547 metres, in TOWN_TABLE order."""
    out = []
    for t in load_towns():
        g = shapely.transform(t.geometry, lambda c: np.column_stack(to_city_xy(c[:, 0], c[:, 1])))
        shapely.prepare(g)
        out.append(g)
    return tuple(out)


@lru_cache(maxsize=1)
def _river_zone() -> BaseGeometry | None:
    """The main river channels (approximate centre lines in resources/data, when present)
    widened by 150 m, so that no block stands in the water."""
    import json
    from importlib import resources as importlib_resources

    ref = importlib_resources.files("resources") / "data" / "dongguan-rivers-approx.geojson"
    try:
        data = json.loads(ref.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    lines = []
    for f in data.get("features", []):
        if f.get("geometry", {}).get("type") == "LineString":
            xy = np.asarray(f["geometry"]["coordinates"], float)
            px, py = to_city_xy(xy[:, 0], xy[:, 1])
            lines.append(shapely.linestrings(np.column_stack((px, py))))
    if not lines:
        return None
    zone = shapely.union_all(shapely.buffer(np.asarray(lines), 150.0))
    shapely.prepare(zone)
    return zone


def _smooth_noise(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """Value noise in [0, 1]: a coarse random grid bilinearly interpolated (contiguous zones)."""
    x0, y0 = x.min(), y.min()
    gx, gy = (x - x0) / cell, (y - y0) / cell
    nx, ny = int(gx.max()) + 2, int(gy.max()) + 2
    grid = rng.random((nx, ny))
    ix, iy = gx.astype(int), gy.astype(int)
    fx, fy = gx - ix, gy - iy
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    a = grid[ix, iy] * (1 - fx) + grid[ix + 1, iy] * fx
    b = grid[ix, iy + 1] * (1 - fx) + grid[ix + 1, iy + 1] * fx
    return a * (1 - fy) + b * fy


def _town_blocks(ti: int, geom: BaseGeometry, water: BaseGeometry | None, seed: int) -> _Blocks:
    code = TOWN_TABLE[ti].code
    rng = np.random.default_rng([seed, 11, ti])
    theta = math.radians(rng.uniform(-35.0, 35.0))
    c, s = math.cos(theta), math.sin(theta)
    ox, oy = geom.centroid.x, geom.centroid.y
    minx, miny, maxx, maxy = geom.bounds
    half = math.hypot(maxx - minx, maxy - miny) / 2 + BLOCK_M
    k = np.arange(-half, half, BLOCK_M) + BLOCK_M / 2
    gu, gv = np.meshgrid(k, k, indexing="ij")
    gu, gv = gu.ravel(), gv.ravel()
    x = ox + gu * c - gv * s
    y = oy + gu * s + gv * c
    inner = geom.buffer(-BLOCK_M * 0.72)  # a block's half diagonal: the whole block is inside
    keep = shapely.contains_xy(inner, x, y) if not inner.is_empty else np.zeros(len(x), bool)
    if water is not None:
        keep &= ~shapely.contains_xy(water, x, y)
    x, y, gu, gv = x[keep], y[keep], gu[keep], gv[keep]
    n = len(x)
    if n == 0:
        z = np.zeros(0)
        return _Blocks(z, z, z, z.astype(np.int8), z, z.astype(np.int32))

    # Urban score: closeness to the centre plus smooth noise (secondary centres, empty hills).
    if code in CORE_STREETS:
        cx0, cy0 = to_city_xy(*CITY_CORE)
    else:
        rp = geom.representative_point()
        cx0, cy0 = rp.x, rp.y
    d = np.hypot(x - float(cx0), y - float(cy0))
    scale = max(1500.0, math.sqrt(geom.area) / 2.5)
    noise = _smooth_noise(rng, x, y, 1200.0)
    score = np.exp(-d / scale) + 0.55 * noise
    q = np.empty(n)
    q[np.argsort(score, kind="stable")] = (np.arange(n) + 0.5) / n  # percentile rank in town

    # Zones: contiguous patches driven by two more noise fields.
    n_ind = _smooth_noise(rng, x, y, 900.0)
    n_tow = _smooth_noise(rng, x, y, 700.0)
    zone = np.full(n, ZONE_INDEX["village"], np.int8)
    f_ind = INDUSTRY.get(code, 0.22)
    f_tow = TOWERS.get(code, 0.15)
    if f_tow > 0:
        tow = (n_tow > np.quantile(n_tow, 1 - f_tow)) & (q > 0.35)
        zone[tow] = ZONE_INDEX["tower"]
    if f_ind > 0:
        ind = (n_ind > np.quantile(n_ind, 1 - f_ind)) & (q < 0.9)
        zone[ind] = ZONE_INDEX["industrial"]
    core = q > (0.9 if code in OLD_CENTRE_TOWNS else 0.95)
    zone[core] = ZONE_INDEX["old"] if code in OLD_CENTRE_TOWNS else ZONE_INDEX["mixed"]
    mixed_ring = (q > 0.8) & ~core & (zone == ZONE_INDEX["village"]) & (rng.random(n) < 0.5)
    zone[mixed_ring] = ZONE_INDEX["mixed"]
    if code == "songshanhu":
        zone[zone == ZONE_INDEX["village"]] = ZONE_INDEX["campus"]
        zone[core] = ZONE_INDEX["campus"]
    if code == "nancheng":
        bx, by = to_city_xy(*CBD)
        zone[np.hypot(x - float(bx), y - float(by)) < 900] = ZONE_INDEX["cbd"]
    civic = (rng.random(n) < 0.03) & (q > 0.3) & (zone != ZONE_INDEX["cbd"])
    zone[civic] = ZONE_INDEX["civic"]

    angle = theta + np.radians(rng.uniform(-10.0, 10.0, n)) * (rng.random(n) < 0.35)
    weight = 0.01 + q ** 3
    return _Blocks(x, y, angle, zone, weight, np.round(gv / BLOCK_M).astype(np.int32))


def _quotas(n: int, capacity: np.ndarray) -> np.ndarray:
    """Buildings per town: by population and area, capped at capacity, overflow redistributed."""
    pop = np.array([t.population for t in TOWN_TABLE], float)
    area = np.array([g.area for g in projected_towns()])
    w = pop ** 0.7 * area ** 0.3
    n = int(min(n, capacity.sum()))
    quota = np.zeros(len(w), np.int64)
    free = capacity > 0
    remaining = n
    for _ in range(50):
        if remaining <= 0 or not free.any():
            break
        share = np.where(free, w, 0.0)
        add = np.floor(share / share.sum() * remaining).astype(np.int64)
        if add.sum() == 0:
            add[np.flatnonzero(free)[: remaining]] = 1
        quota = np.minimum(quota + add, capacity)
        remaining = n - int(quota.sum())
        free = quota < capacity
    return quota


def _choice(rng: np.random.Generator, table: dict[str, float], index: dict[str, int], n: int) -> np.ndarray:
    codes = np.array([index[k] for k in table], np.int8)
    p = np.array(list(table.values()), float)
    return codes[rng.choice(len(codes), n, p=p / p.sum())]


def generate_city(seed: int, n_buildings: int = FULL_SIZE) -> BuildingTable:
    """The synthetic Dongguan CIM: n_buildings buildings (fewer only if the land is full),
    deterministic for (seed, n_buildings). ids are 1..n in town order."""
    if n_buildings < 0:
        raise ValueError("n_buildings must be >= 0")
    water = _river_zone()
    blocks = [_town_blocks(ti, g, water, seed) for ti, g in enumerate(projected_towns())]
    slots = np.array([z.nx * z.ny for z in ZONES])
    # Some slots stay empty (a yard, a small square): per block, drop up to a sixth.
    capacity = []
    per_block = []
    for ti, b in enumerate(blocks):
        rng = np.random.default_rng([seed, 12, ti])
        full = slots[b.zone]
        k = full - rng.integers(0, full // 6 + 1)
        per_block.append(k)
        capacity.append(int(k.sum()))
    quota = _quotas(n_buildings, np.array(capacity, np.int64))

    parts = []
    for ti, b in enumerate(blocks):
        if quota[ti] == 0:
            continue
        rng = np.random.default_rng([seed, 13, ti])
        # Weighted random order without replacement (Efraimidis-Spirakis keys).
        key = np.log(rng.random(len(b.x))) / b.weight
        order = np.argsort(-key, kind="stable")
        k = per_block[ti][order]
        cum = np.cumsum(k)
        m = int(np.searchsorted(cum, quota[ti])) + 1
        take = order[:m]
        counts = k[:m].copy()
        counts[-1] -= int(cum[m - 1] - quota[ti])
        parts.append((ti, b, take, counts))
    return _build(seed, parts)


def _build(seed: int, parts: list[tuple[int, _Blocks, np.ndarray, np.ndarray]]) -> BuildingTable:
    rng = np.random.default_rng([seed, 14])
    bx = np.concatenate([b.x[t] for _, b, t, _ in parts]) if parts else np.zeros(0)
    by = np.concatenate([b.y[t] for _, b, t, _ in parts]) if parts else np.zeros(0)
    ang = np.concatenate([b.angle[t] for _, b, t, _ in parts]) if parts else np.zeros(0)
    zone = np.concatenate([b.zone[t] for _, b, t, _ in parts]).astype(np.int64) if parts else np.zeros(0, int)
    row = np.concatenate([b.row[t] for _, b, t, _ in parts]) if parts else np.zeros(0, np.int32)
    btown = np.concatenate([np.full(len(t), ti, np.int16) for ti, _, t, _ in parts]) if parts else np.zeros(0, np.int16)
    counts = np.concatenate([c for *_, c in parts]).astype(np.int64) if parts else np.zeros(0, np.int64)
    n = int(counts.sum())

    # Per building: its block and slot.
    blk = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    slot = np.arange(n) - first
    z = zone[blk]
    nx = np.array([zz.nx for zz in ZONES])[z]
    ny = np.array([zz.ny for zz in ZONES])[z]
    px, py = CORE_M / nx, CORE_M / ny
    sx = -CORE_M / 2 + px * (slot % nx + 0.5)
    sy = -CORE_M / 2 + py * (slot // nx + 0.5)

    # Footprint sizes within the zone's range, never wider than the slot pitch minus a gap.
    w = np.empty(n)
    h = np.empty(n)
    floors = np.empty(n, np.int16)
    storey = np.empty(n)
    use = np.empty(n, np.int8)
    structure = np.empty(n, np.int8)
    year = np.empty(n, np.int16)
    lshape = np.empty(n, bool)
    for zi, zz in enumerate(ZONES):
        idx = np.flatnonzero(z == zi)
        m = len(idx)
        if m == 0:
            continue
        w[idx] = rng.uniform(*zz.w, m)
        h[idx] = rng.uniform(*zz.h, m)
        floors[idx] = np.asarray(zz.floors[0])[rng.choice(len(zz.floors[0]), m, p=zz.floors[1])]
        storey[idx] = rng.uniform(*zz.storey, m)
        use[idx] = _choice(rng, zz.uses, USE_INDEX, m)
        structure[idx] = _choice(rng, zz.structures, STRUCTURE_INDEX, m)
        year[idx] = rng.integers(zz.years[0], zz.years[1] + 1, m)
        lshape[idx] = rng.random(m) < zz.l_share
    w = np.minimum(w, px - 2.0)
    h = np.minimum(h, py - 2.0)
    # Use-specific adjustments: dormitories in industrial parks are 6-8 floor housing blocks;
    # hospitals run taller; masonry is never above 8 floors (the code forbids it).
    ind = z == ZONE_INDEX["industrial"]
    dorm = ind & (use == USE_INDEX["residential"])
    floors[dorm] = rng.integers(5, 9, int(dorm.sum()))
    storey[dorm] = 3.0
    hosp = use == USE_INDEX["hospital"]
    floors[hosp] = np.maximum(floors[hosp], rng.integers(4, 17, int(hosp.sum())))
    structure[(structure == STRUCTURE_INDEX["brick_wood"]) & (floors > 4)] = STRUCTURE_INDEX["masonry"]
    structure[(structure == STRUCTURE_INDEX["masonry"]) & (floors > 8)] = STRUCTURE_INDEX["reinforced_concrete"]
    height = floors * storey + rng.uniform(0.3, 1.5, n)  # parapet / roof

    # Jitter inside the slot's slack, small per-building rotation.
    sx += rng.uniform(-0.5, 0.5, n) * np.maximum(px - 2.0 - w, 0)
    sy += rng.uniform(-0.5, 0.5, n) * np.maximum(py - 2.0 - h, 0)
    bang = ang[blk] + np.radians(rng.uniform(-2.0, 2.0, n)) + np.pi * (rng.random(n) < 0.5)

    offsets, local = _footprints(rng, w, h, lshape)
    # Rotate about the building's slot centre, then place the slot in its rotated block.
    rep = np.repeat(np.arange(n), np.diff(offsets))
    cb, sb = np.cos(bang)[rep], np.sin(bang)[rep]
    lx = local[:, 0] * cb - local[:, 1] * sb
    ly = local[:, 0] * sb + local[:, 1] * cb
    ca, sa = np.cos(ang[blk]), np.sin(ang[blk])
    ox = sx * ca - sy * sa
    oy = sx * sa + sy * ca
    lx += ox[rep]
    ly += oy[rep]
    area, gx, gy = ring_area_centroid(offsets, np.column_stack((lx, ly)))
    fp = np.column_stack((lx - gx[rep], ly - gy[rep])).astype(np.float32)
    cx = bx[blk] + gx
    cy = by[blk] + gy
    lon, lat = to_lonlat(cx, cy)

    gfa = area * floors
    key = (
        np.isin(use, [USE_INDEX["hospital"], USE_INDEX["school"], USE_INDEX["hotel"]])
        | ((use == USE_INDEX["government"]) & (rng.random(n) < 0.3))
        | ((use == USE_INDEX["commercial"]) & (gfa > 10_000))
        | (height >= 100.0)
        | ((use == USE_INDEX["industrial"]) & (gfa > 5_000) & (rng.random(n) < 0.2))
    )
    road = ((row[blk].astype(np.int64) * 7 + btown[blk].astype(np.int64) * 13) % len(ROAD_NAMES)).astype(np.int16)
    house_no = (1 + (np.arange(n) % 397)).astype(np.int16)
    return BuildingTable(
        id=np.arange(1, n + 1, dtype=np.int64), town=btown[blk], cx=cx, cy=cy, lon=lon, lat=lat,
        height=height, floors=floors, structure=structure, use=use, year=year, key_unit=key,
        area=area, road=road, house_no=house_no, fp_offsets=offsets, fp_xy=fp,
    )


_RECT = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float) / 2


def _footprints(rng: np.random.Generator, w: np.ndarray, h: np.ndarray,
                lshape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectangles (4 vertices) and L-shapes (6: a corner cut away), CCW, centred on 0."""
    n = len(w)
    sizes = np.where(lshape, 6, 4)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty((int(offsets[-1]), 2))
    r = np.flatnonzero(~lshape)
    if len(r):
        vi = offsets[r][:, None] + np.arange(4)
        out[vi, 0] = _RECT[:, 0] * w[r, None]
        out[vi, 1] = _RECT[:, 1] * h[r, None]
    li = np.flatnonzero(lshape)
    if len(li):
        ww, hh = w[li], h[li]
        cw = ww * rng.uniform(0.35, 0.6, len(li))
        ch = hh * rng.uniform(0.35, 0.6, len(li))
        xs = np.column_stack((-ww / 2, ww / 2, ww / 2, ww / 2 - cw, ww / 2 - cw, -ww / 2))
        ys = np.column_stack((-hh / 2, -hh / 2, hh / 2 - ch, hh / 2 - ch, hh / 2, hh / 2))
        vi = offsets[li][:, None] + np.arange(6)
        out[vi, 0] = xs
        out[vi, 1] = ys
    return offsets, out
