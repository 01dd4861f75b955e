"""Premises: the buildings that building-placed devices (smoke and fire detectors, kitchen
cameras, school alarms) are installed in.

With the synthetic CIM city (citymodel.generator, when present) the premises are its buildings
and devices carry their building_id. Without it the simulator makes its own premises (synthetic
sites with a use and a height) so that devices still cluster in buildings; those have no CIM id
and devices are provisioned with building_id NULL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from citymodel.geo import to_lonlat
from simulator.placement import INDUSTRY_WEIGHT, TownSampler

log = logging.getLogger(__name__)

USES = ("residential", "commercial", "industrial", "school", "restaurant", "hospital", "office", "other")
USE_INDEX = {u: i for i, u in enumerate(USES)}
# CIM 'use' values mapped onto the simulator's coarse uses (unknown ones -> other).
_CIM_USE = {"residential": "residential", "village": "residential", "apartment": "residential",
            "commercial": "commercial", "mall": "commercial", "retail": "commercial", "hotel": "commercial",
            "industrial": "industrial", "factory": "industrial", "warehouse": "industrial",
            "school": "school", "education": "school", "university": "school",
            "restaurant": "restaurant", "hospital": "hospital", "office": "office", "government": "office"}


@dataclass
class Premises:
    """Column table of premises. building_id < 0: a synthetic site (no CIM building)."""

    building_id: np.ndarray  # int64
    town: np.ndarray  # int16, index into load_towns()
    lon: np.ndarray
    lat: np.ndarray
    use: np.ndarray  # int8, index into USES
    height: np.ndarray  # metres
    floors: np.ndarray  # int16
    from_cim: bool

    def __len__(self) -> int:
        return len(self.lon)


def from_cim(seed: int, sampler: TownSampler, n_buildings: int) -> Premises | None:
    """Premises from citymodel.generator.generate_city, or None when it is not available."""
    try:
        from citymodel import generator  # the 3D engineer's synthetic CIM city
    except ImportError:
        return None
    try:
        table = generator.generate_city(seed, n_buildings)
    except Exception:  # a generator mid-development must not stop the simulator
        log.exception("citymodel.generator.generate_city failed; using synthetic premises")
        return None
    return _adapt(table, sampler)


def _col(table: object, name: str) -> np.ndarray:
    if isinstance(table, dict):
        return np.asarray(table[name])
    return np.asarray(getattr(table, name))


def _adapt(table: object, sampler: TownSampler) -> Premises:
    ids = _col(table, "id").astype(np.int64)
    cx, cy = _col(table, "cx").astype(float), _col(table, "cy").astype(float)
    lon, lat = to_lonlat(cx, cy)
    towns = _col(table, "town")
    town_idx = np.array([sampler.index.get(str(t), -1) for t in towns], dtype=np.int16)
    uses = np.array([USE_INDEX[_CIM_USE.get(str(u), "other")] for u in _col(table, "use")], dtype=np.int8)
    height = _col(table, "height").astype(float)
    floors = _col(table, "floors").astype(np.int16)
    return Premises(ids, town_idx, np.asarray(lon), np.asarray(lat), uses, height, floors, True)


def synthetic(sampler: TownSampler, n: int, rng: np.random.Generator) -> Premises:
    """n synthetic sites spread by population, with uses and heights like a Chinese city:
    6-7 floor urban villages, 18-33 floor towers, low wide factories."""
    pops = np.array([t.info.population for t in sampler.towns], dtype=float)
    ind = np.array([INDUSTRY_WEIGHT.get(t.code, 1.0) for t in sampler.towns])
    counts = apportion(pops, n)
    towns, lons, lats, uses = [], [], [], []
    use_p = np.array([0.55, 0.12, 0.12, 0.03, 0.12, 0.01, 0.04, 0.01])
    for ti, c in enumerate(counts):
        if c == 0:
            continue
        pts = sampler.urban(ti, int(c), rng)
        p = use_p.copy()
        p[USE_INDEX["industrial"]] *= ind[ti]
        u = rng.choice(len(USES), int(c), p=p / p.sum())
        towns.append(np.full(int(c), ti, np.int16))
        lons.append(pts[:, 0])
        lats.append(pts[:, 1])
        uses.append(u.astype(np.int8))
    use = np.concatenate(uses)
    floors = np.where(use == USE_INDEX["industrial"], rng.integers(1, 5, len(use)),
                      np.where(rng.random(len(use)) < 0.6, rng.integers(4, 9, len(use)), rng.integers(10, 34, len(use))))
    height = floors * rng.uniform(2.9, 3.4, len(use)) + np.where(use == USE_INDEX["industrial"], 4.0, 0.0)
    return Premises(np.full(len(use), -1, np.int64), np.concatenate(towns), np.concatenate(lons),
                    np.concatenate(lats), use, height, floors.astype(np.int16), False)


def apportion(weights: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to n in proportion to weights (largest remainder)."""
    exact = weights / weights.sum() * n
    base = np.floor(exact).astype(int)
    rest = n - int(base.sum())
    if rest > 0:
        base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base

