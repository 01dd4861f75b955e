"""Premises: the buildings that building-placed devices (smoke and fire detectors, kitchen
cameras, school alarms) are installed in.

With the synthetic CIM city (citymodel.generator, when present) the premises are its buildings
and devices carry their building_id. Without it the simulator makes its own premises (synthetic
sites with a use and a height) so that devices still cluster in buildings; those have no CIM id
and devices are provisioned with building_id NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citymodel.buildings import USE_CODES, BuildingTable
from simulator.placement import INDUSTRY_WEIGHT, TownSampler

USES = ("residential", "commercial", "industrial", "school", "restaurant", "hospital", "office", "other")
USE_INDEX = {u: i for i, u in enumerate(USES)}
# citymodel's uses onto the simulator's coarser ones.
_CIM_USE = {"residential": "residential", "commercial": "commercial", "restaurant": "restaurant",
            "office": "office", "industrial": "industrial", "warehouse": "industrial", "school": "school",
            "hospital": "hospital", "hotel": "commercial", "government": "office", "other": "other"}


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
    key_unit: np.ndarray | None = None  # bool: the CIM marks it a key unit of the fire brigade

    def __len__(self) -> int:
        return len(self.lon)

    def subset(self, ok: np.ndarray, town: np.ndarray | None = None) -> Premises:
        return Premises(self.building_id[ok], (self.town if town is None else town)[ok].astype(np.int16),
                        self.lon[ok], self.lat[ok], self.use[ok], self.height[ok], self.floors[ok], self.from_cim,
                        None if self.key_unit is None else self.key_unit[ok])


def from_cim(seed: int, n_buildings: int) -> Premises:
    """Premises = the buildings of the synthetic CIM city (citymodel.generator) for the same
    seed and size as the service's, so building ids match."""
    from citymodel.generator import generate_city

    return from_table(generate_city(seed, n_buildings))


def from_table(table: BuildingTable) -> Premises:
    """A citymodel BuildingTable (town = index into TOWN_TABLE, the order of load_towns())."""
    codes = np.array([USE_INDEX[_CIM_USE.get(u, "other")] for u in USE_CODES], dtype=np.int8)
    return Premises(table.id.astype(np.int64), table.town.astype(np.int16), table.lon.astype(float),
                    table.lat.astype(float), codes[table.use], table.height.astype(float),
                    table.floors.astype(np.int16), True, table.key_unit.astype(bool))


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

