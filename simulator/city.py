"""The simulated Dongguan, built deterministically from a seed.

    city = build_city(seed=2024, n_devices=100_000)

gives the devices (column arrays: uid, type, bureau, town, WGS84 lon/lat, building, name), the
premises they are installed in, the response resources (stations, vehicles, hydrants, shelters,
hospitals), the fire brigade's key units with their plans, and a few landmarks the scenarios use.
Same seed and size -> the same city, bit for bit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from citymodel.buildings import BuildingTable
from citymodel.towns import Town
from simulator.assets import ResourceSpec, build_resources
from simulator.devices import TYPE_CODES, TYPE_INDEX, DeviceTable, build_devices
from simulator.keyunits import KeyUnitSpec, build_key_units
from simulator.placement import KM_LAT, KM_LON, TownSampler
from simulator.premises import USE_INDEX, Premises, from_cim, from_table, synthetic
from sync_service.catalog import DEVICE_TYPES

log = logging.getLogger(__name__)
DEVICES_PER_PREMISES = 6
# Detectors guaranteed in the Nancheng tower of the high-rise fire scenario.
TOWER_SMOKE, TOWER_FIRE = 12, 8


@dataclass
class City:
    seed: int
    towns: tuple[Town, ...]
    devices: DeviceTable
    premises: Premises
    resources: list[ResourceSpec]
    key_units: list[KeyUnitSpec]
    landmarks: dict[str, int] = field(default_factory=dict)  # name -> premises index

    def town_code(self, i: int) -> str:
        return self.towns[i].code

    def device_type(self, i: int) -> str:
        return TYPE_CODES[int(self.devices.type_idx[i])]

    def domain(self, i: int) -> str:
        return DEVICE_TYPES[int(self.devices.type_idx[i])].domain

    def domains(self) -> list[str]:
        return sorted({t.domain for t in DEVICE_TYPES})


def build_city(seed: int, n_devices: int, *, cim_buildings: int | None = None,
               buildings: BuildingTable | None = None) -> City:
    """The city for a seed.

    Building-placed devices (smoke and fire detectors, kitchen cameras, school alarms, pollution
    sources) go into buildings of a suitable use: those of `buildings` (a citymodel
    BuildingTable, e.g. the CIM the service stores), else of the synthetic CIM city
    generate_city(seed, cim_buildings), else (neither given) the simulator's own premises,
    which have no CIM building ids. Use the same CIM for provisioning and for ioc-sim."""
    if n_devices < len(DEVICE_TYPES):
        raise ValueError(f"n_devices must be at least {len(DEVICE_TYPES)} (one per device type)")
    sampler = TownSampler(seed)
    rng = np.random.default_rng([seed, 505])
    if buildings is not None:
        prem = _inside_only(from_table(buildings), sampler)
    elif cim_buildings:
        prem = _inside_only(from_cim(seed, cim_buildings), sampler)
    else:
        prem = synthetic(sampler, max(400, int(n_devices * 0.7 / DEVICES_PER_PREMISES)), rng)
    landmarks = {"nancheng_highrise": _tower(prem, sampler)}
    devices = build_devices(seed, n_devices, sampler, prem)
    _equip_tower(devices, prem, landmarks["nancheng_highrise"])
    resources = build_resources(seed, sampler)
    key_units = build_key_units(seed, sampler, prem, resources, landmarks)
    return City(seed, sampler.towns, devices, prem, resources, key_units, landmarks)


def _inside_only(prem: Premises, sampler: TownSampler) -> Premises:
    """CIM buildings whose centroid is outside every town polygon are left out; the town of each
    building is the one its centroid is in."""
    town = sampler.locate(prem.lon, prem.lat)
    ok = town >= 0
    # A building on a town border keeps the CIM's town when its centroid is inside that one.
    own = ok & sampler_contains(sampler, prem.town, prem.lon, prem.lat)
    return prem.subset(ok, np.where(own, prem.town, town))


def sampler_contains(sampler: TownSampler, town: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Is each point inside the polygon of its given town?"""
    out = np.zeros(len(lon), bool)
    for ti in np.unique(town[town >= 0]):
        sel = np.flatnonzero(town == ti)
        out[sel] = sampler.inside(int(ti), lon[sel], lat[sel])
    return out


def _tower(prem: Premises, sampler: TownSampler) -> int:
    """The tallest commercial/office/residential building in Nancheng; a synthetic city makes it
    a 32-floor commercial tower."""
    nc = sampler.index["nancheng"]
    ok = (prem.town == nc) & np.isin(prem.use, [USE_INDEX[u] for u in ("commercial", "office", "residential")])
    cand = np.flatnonzero(ok) if ok.any() else np.flatnonzero(prem.town == nc)
    i = int(cand[np.argmax(prem.height[cand])])
    if not prem.from_cim:
        prem.use[i], prem.floors[i], prem.height[i] = USE_INDEX["commercial"], 32, 108.0
    return i


def _equip_tower(d: DeviceTable, prem: Premises, tower: int) -> None:
    """Move the first Nancheng smoke and fire detectors into the tower (if they are elsewhere),
    so the fire scenario always has detectors there."""
    nc = int(prem.town[tower])
    for code, k in (("smoke_detector", TOWER_SMOKE), ("fire_detector", TOWER_FIRE)):
        idx = np.flatnonzero((d.type_idx == TYPE_INDEX[code]) & (d.town == nc))
        have = int((d.premises[idx] == tower).sum())
        movable = idx[d.premises[idx] != tower][: max(0, k - have)]
        d.premises[movable] = tower
        d.building_id[movable] = prem.building_id[tower]
        off = np.linspace(-1, 1, len(movable)) if len(movable) > 1 else np.zeros(len(movable))
        d.lon[movable] = prem.lon[tower] + off * 8 * KM_LON / 1000
        d.lat[movable] = prem.lat[tower] + off[::-1] * 8 * KM_LAT / 1000


def neighbours(city: City, premises: int, radius_m: float) -> np.ndarray:
    """Premises within radius_m of one premises (itself excluded)."""
    p = city.premises
    d = np.hypot((p.lon - p.lon[premises]) / KM_LON, (p.lat - p.lat[premises]) / KM_LAT) * 1000
    d[premises] = np.inf
    return np.flatnonzero(d <= radius_m)
