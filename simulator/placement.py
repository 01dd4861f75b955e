"""Where things stand in the simulated city: points inside the real town polygons.

Every sampler draws candidates and keeps those inside the town's polygon (shapely's vectorised
contains_xy), so every device, station and hydrant is inside the town it is filed under.

- urban: clustered around a few urban cores per town (dense centres, thinner edges) plus a
  uniform share (villages, industrial parks);
- road: urban points snapped onto a synthetic street grid (~400 m blocks) in metric coordinates;
- river: the banks of the approximate river lines in resources/data (water towns only);
- coast: the estuary shore, i.e. the western edge of Dongguan's outline south of 23.0 N.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, box
from shapely.ops import unary_union

from citymodel.geo import to_city_xy, to_lonlat
from citymodel.towns import Town, load_towns

KM_LAT = 1.0 / 111.0  # degrees of latitude per km
KM_LON = 1.0 / 102.3  # degrees of longitude per km at 23 N

# Towns on the Dongjiang and its distributaries (水乡片区 and the river towns upstream).
WATER_TOWNS: tuple[str, ...] = (
    "shilong", "shijie", "gaobu", "zhongtang", "machong", "wangniudun", "hongmei", "daojiao",
    "wanjiang", "shatian", "guancheng", "qishi", "shipai", "humen",
)
# Towns on the Pearl River estuary (Shiziyang / Humen waterway).
COAST_TOWNS: tuple[str, ...] = ("hongmei", "shatian", "humen", "binhaiwan", "machong", "changan")
# Relative weight of industry (pollution sources, factories) by town; 1.0 when not listed.
INDUSTRY_WEIGHT: dict[str, float] = {
    "changan": 3.0, "humen": 2.0, "houjie": 2.0, "dalang": 2.0, "tangxia": 2.2, "qingxi": 2.0,
    "fenggang": 2.0, "liaobu": 1.8, "changping": 1.8, "huangjiang": 1.8, "shijie": 1.6,
    "songshanhu": 1.5, "shatian": 2.0, "machong": 1.6, "zhongtang": 1.6, "qiaotou": 1.4,
    "guancheng": 0.2, "nancheng": 0.4, "dongcheng": 0.6,
}


@dataclass(frozen=True)
class River:
    code: str
    name_zh: str
    name_en: str
    line: LineString  # WGS84, first vertex upstream


@lru_cache(maxsize=1)
def load_rivers() -> tuple[River, ...]:
    ref = importlib_resources.files("resources") / "data" / "dongguan-rivers-approx.geojson"
    data = json.loads(ref.read_text(encoding="utf-8"))
    return tuple(River(f["properties"]["code"], f["properties"]["name_zh"], f["properties"]["name_en"],
                       LineString(f["geometry"]["coordinates"])) for f in data["features"])


class TownSampler:
    """Deterministic point sampling inside the 34 towns (one numpy Generator per call site)."""

    def __init__(self, seed: int) -> None:
        self.towns: tuple[Town, ...] = load_towns()
        self.index = {t.code: i for i, t in enumerate(self.towns)}
        for t in self.towns:
            shapely.prepare(t.geometry)
        rng = np.random.default_rng([seed, 101])
        # Urban cores: the town's representative point (its old centre) plus 2-5 more.
        self.cores: list[np.ndarray] = []
        for t in self.towns:
            k = 2 + int(rng.integers(0, 4))
            pts = [t.centroid, *self._uniform(t, k, rng)]
            self.cores.append(np.array(pts))

    # ---- primitives ----------------------------------------------------------------------

    @staticmethod
    def _uniform(t: Town, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
        x0, y0, x1, y1 = t.geometry.bounds
        out: list[tuple[float, float]] = []
        while len(out) < n:
            m = max(64, 4 * (n - len(out)))
            xs, ys = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
            ok = shapely.contains_xy(t.geometry, xs, ys)
            out.extend(zip(xs[ok].tolist(), ys[ok].tolist(), strict=True))
        return out[:n]

    def inside(self, town: int, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return shapely.contains_xy(self.towns[town].geometry, lon, lat)

    def urban(self, town: int, n: int, rng: np.random.Generator, *, spread_km: float = 1.6,
              uniform_share: float = 0.3) -> np.ndarray:
        """n points (lon, lat) in the town: clustered round its cores, some spread uniformly."""
        t = self.towns[town]
        cores = self.cores[town]
        x0, y0, x1, y1 = t.geometry.bounds
        out: list[np.ndarray] = [np.empty((0, 2))]
        have = 0
        while have < n:
            m = max(64, int(1.6 * (n - have)))
            which = rng.integers(0, len(cores), m)
            # The first core (old centre) is the densest.
            which = np.where(rng.random(m) < 0.4, 0, which)
            sx = rng.normal(0, spread_km * KM_LON, m) * (0.6 + rng.random(m))
            sy = rng.normal(0, spread_km * KM_LAT, m) * (0.6 + rng.random(m))
            xs, ys = cores[which, 0] + sx, cores[which, 1] + sy
            uni = rng.random(m) < uniform_share
            xs[uni] = rng.uniform(x0, x1, int(uni.sum()))
            ys[uni] = rng.uniform(y0, y1, int(uni.sum()))
            ok = shapely.contains_xy(t.geometry, xs, ys)
            pts = np.column_stack([xs[ok], ys[ok]])
            out.append(pts)
            have += len(pts)
        return np.concatenate(out)[:n]

    def road(self, town: int, n: int, rng: np.random.Generator, *, block_m: float = 400.0) -> np.ndarray:
        """Urban points moved onto the nearest line of a street grid (block_m spacing)."""
        out: list[np.ndarray] = [np.empty((0, 2))]
        have = 0
        while have < n:
            m = max(64, int(1.5 * (n - have)))
            p = self.urban(town, m, rng)
            x, y = to_city_xy(p[:, 0], p[:, 1])
            on_x = rng.random(m) < 0.5  # snap x (a north-south street) or y (east-west)
            x = np.where(on_x, np.round(x / block_m) * block_m, x)
            y = np.where(on_x, y, np.round(y / block_m) * block_m)
            lon, lat = to_lonlat(x, y)
            ok = self.inside(town, lon, lat)
            out.append(np.column_stack([lon[ok], lat[ok]]))
            have += int(ok.sum())
        return np.concatenate(out)[:n]

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Town index of each point, -1 outside Dongguan."""
        res = np.full(len(lon), -1, dtype=np.int32)
        for i, t in enumerate(self.towns):
            todo = res < 0
            if not todo.any():
                break
            hit = shapely.contains_xy(t.geometry, lon[todo], lat[todo])
            idx = np.flatnonzero(todo)[hit]
            res[idx] = i
        return res

    # ---- lines: rivers and the coast ---------------------------------------------------------

    def along(self, lines: list[LineString], n: int, rng: np.random.Generator, allowed: tuple[str, ...],
              offset_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n points on the banks of the lines, inside the allowed towns.

        Returns (lonlat (n,2), line index (n,), fraction along the line (n,))."""
        allowed_idx = [self.index[c] for c in allowed]
        lengths = np.array([ln.length for ln in lines])
        pts, which, frac = [np.empty((0, 2))], [np.empty(0, np.int64)], [np.empty(0)]
        have = 0
        while have < n:
            m = max(64, 3 * (n - have))
            li = rng.choice(len(lines), m, p=lengths / lengths.sum())
            f = rng.random(m)
            base = np.array([lines[i].interpolate(fr, normalized=True).coords[0] for i, fr in zip(li, f, strict=True)])
            ang = rng.uniform(0, 2 * np.pi, m)
            r = offset_km * (0.3 + 0.7 * rng.random(m))
            lon = base[:, 0] + np.cos(ang) * r * KM_LON
            lat = base[:, 1] + np.sin(ang) * r * KM_LAT
            town = self.locate(lon, lat)
            ok = np.isin(town, allowed_idx)
            pts.append(np.column_stack([lon[ok], lat[ok]]))
            which.append(li[ok])
            frac.append(f[ok])
            have += int(ok.sum())
        return np.concatenate(pts)[:n], np.concatenate(which)[:n], np.concatenate(frac)[:n]


@lru_cache(maxsize=1)
def estuary_shore() -> LineString:
    """The Pearl River estuary shore of Dongguan: the city outline's edge west of 113.72 E and
    south of 23.0 N (the Shiziyang / Humen waterway side)."""
    city = unary_union([t.geometry for t in load_towns()])
    if isinstance(city, MultiPolygon):
        city = max(city.geoms, key=lambda g: g.area)
    edge = city.exterior.intersection(box(113.50, 22.70, 113.72, 23.0))
    parts = [edge] if isinstance(edge, LineString) else [g for g in getattr(edge, "geoms", []) if isinstance(g, LineString)]
    return max(parts, key=lambda g: g.length)
