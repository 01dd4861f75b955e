"""The simulated city's IoT devices: how many of each type, in which town, where exactly.

Counts follow the catalogue's shares (sync_service.catalog.DEVICE_TYPES); towns get devices in
proportion to their population (rain gauges: to their area; pollution sources: population times
an industry weight); within a town each type goes where it belongs (its `placement`):
building -> premises of a suitable use, school -> school premises, river -> the banks of the
Dongjiang system in the water towns, coast -> the estuary shore, road -> the street grid,
industrial -> factories, urban -> clustered round the urban cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import rng as crng
from simulator.names import short
from simulator.placement import (
    COAST_TOWNS,
    INDUSTRY_WEIGHT,
    KM_LAT,
    KM_LON,
    WATER_TOWNS,
    TownSampler,
    estuary_shore,
    load_rivers,
)
from simulator.premises import USE_INDEX, Premises, apportion
from sync_service.catalog import DEVICE_TYPES

TYPE_CODES: tuple[str, ...] = tuple(t.code for t in DEVICE_TYPES)
TYPE_INDEX = {c: i for i, c in enumerate(TYPE_CODES)}
ABBR = {"smoke_detector": "sd", "fire_detector": "fd", "water_level": "wl", "rain_gauge": "rg",
        "school_alarm": "sa", "school_bus": "sb", "sanitation_card": "sc", "gas_pressure": "gp",
        "manhole_cover": "mh", "air_station": "aq", "pollution_source": "ps", "kitchen_camera": "kc",
        "coastal_radar": "cr", "traffic_flow": "tf"}
# Devices that publish on their own MQTT topic with their own key (the rest go through their
# bureau's gateway in batches): the few high-value stations, a quarter of the water gauges (the
# newer radar gauges with their own 4G modems) and a small share of the rest. ~1 % in all, so
# per-device messages stay a few hundred a second even at 60x.
DIRECT_TYPES = frozenset({"air_station", "coastal_radar"})
DIRECT_SHARE_BY_TYPE = {"water_level": 0.25}
DIRECT_SHARE = 0.005
# Dongguan's five national air-quality stations (CNEMC code, name, town). Positions are
# approximate (within a few hundred metres), placed by hand from the place names.
NATIONAL_AIR_STATIONS: tuple[tuple[str, str, str, float, float], ...] = (
    ("1387A", "东城主山", "dongcheng", 113.7850, 23.0300),
    ("1388A", "南城元岭", "nancheng", 113.7410, 23.0060),
    ("1389A", "莞城梨川", "guancheng", 113.7420, 23.0400),
    ("1390A", "东城石井", "dongcheng", 113.7890, 22.9870),
    ("1391A", "南城西平", "nancheng", 113.7280, 22.9880),
)
# Which premises uses each building-placed type goes into (with relative weights).
_BUILDING_USES: dict[str, dict[str, float]] = {
    "smoke_detector": {"residential": 1.0, "commercial": 0.15, "office": 0.1, "other": 0.1},
    "fire_detector": {"industrial": 1.0, "commercial": 1.0, "office": 0.8, "hospital": 1.0, "residential": 0.15},
    "kitchen_camera": {"restaurant": 1.0, "commercial": 0.3, "school": 0.4, "hospital": 0.3},
    "school_alarm": {"school": 1.0},
    "pollution_source": {"industrial": 1.0},
}


@dataclass
class DeviceTable:
    uid: list[str]
    name: list[str]
    type_idx: np.ndarray  # int16 index into TYPE_CODES
    town: np.ndarray  # int16 index into load_towns()
    lon: np.ndarray
    lat: np.ndarray
    premises: np.ndarray  # int32 index into City.premises, -1 none
    building_id: np.ndarray  # int64 CIM id, -1 none
    site: np.ndarray  # int32: river index (water gauges), gas zone (gas gauges), else -1
    chain: np.ndarray  # float: fraction along the river, 0 upstream .. 1 at the mouth
    direct: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.uid)

    def of_type(self, code: str) -> np.ndarray:
        return np.flatnonzero(self.type_idx == TYPE_INDEX[code])


def type_counts(n: int) -> dict[str, int]:
    shares = np.array([t.share for t in DEVICE_TYPES])
    return dict(zip(TYPE_CODES, apportion(shares, n).tolist(), strict=True))


def _town_weights(code: str, sampler: TownSampler) -> np.ndarray:
    pops = np.array([t.info.population for t in sampler.towns], dtype=float)
    if code == "rain_gauge":
        return np.array([t.geometry.area for t in sampler.towns])
    if code == "pollution_source":
        return pops * np.array([INDUSTRY_WEIGHT.get(t.code, 1.0) for t in sampler.towns])
    return pops


def _pick_premises(code: str, town: int, n: int, prem: Premises, rng: np.random.Generator) -> np.ndarray:
    """n premises indices in the town, weighted by use fit and by floors (bigger holds more)."""
    w_use = np.zeros(len(USE_INDEX))
    for u, w in _BUILDING_USES[code].items():
        w_use[USE_INDEX[u]] = w
    in_town = np.flatnonzero(prem.town == town)
    w = w_use[prem.use[in_town]] * np.sqrt(np.maximum(prem.floors[in_town], 1))
    if w.sum() <= 0:  # no premises of that use in this town: any premises will do
        w = np.sqrt(np.maximum(prem.floors[in_town], 1)).astype(float)
    return in_town[rng.choice(len(in_town), n, p=w / w.sum())]


def build_devices(seed: int, n: int, sampler: TownSampler, prem: Premises) -> DeviceTable:
    rng = np.random.default_rng([seed, 202])
    counts = type_counts(n)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("type", "town", "lon", "lat", "prem", "site", "chain", "nat")}

    def add(ti: int, town: np.ndarray, pts: np.ndarray, prem_idx: np.ndarray | None = None,
            site: np.ndarray | None = None, chain: np.ndarray | None = None, nat: int = -1) -> None:
        m = len(pts)
        cols["type"].append(np.full(m, ti, np.int16))
        cols["town"].append(town.astype(np.int16))
        cols["lon"].append(pts[:, 0])
        cols["lat"].append(pts[:, 1])
        cols["prem"].append(prem_idx if prem_idx is not None else np.full(m, -1, np.int32))
        cols["site"].append(site if site is not None else np.full(m, -1, np.int32))
        cols["chain"].append(chain if chain is not None else np.zeros(m))
        cols["nat"].append(np.full(m, nat, np.int16))

    for spec in DEVICE_TYPES:
        ti, total = TYPE_INDEX[spec.code], counts[spec.code]
        if total == 0:
            continue
        if spec.placement == "river":
            _rivers(ti, total, sampler, rng, add)
            continue
        if spec.placement == "coast":
            _coast(ti, total, sampler, rng, add)
            continue
        national = NATIONAL_AIR_STATIONS if spec.code == "air_station" else ()
        for k, (_code, _zh, town, lon, lat) in enumerate(national[:total]):
            add(ti, np.array([sampler.index[town]]), np.array([[lon, lat]]), nat=k)
        per_town = apportion(_town_weights(spec.code, sampler), total - min(len(national), total))
        for town, c in enumerate(per_town.tolist()):
            if c == 0:
                continue
            tt = np.full(c, town)
            if spec.code in _BUILDING_USES:
                idx = _pick_premises(spec.code, town, c, prem, rng)
                jit = rng.normal(0, 6.0, (c, 2)) * [KM_LON / 1000, KM_LAT / 1000]
                pts = np.column_stack([prem.lon[idx], prem.lat[idx]]) + jit
                inside = sampler.inside(town, pts[:, 0], pts[:, 1])
                pts[~inside] = np.column_stack([prem.lon[idx], prem.lat[idx]])[~inside]
                add(ti, tt, pts, idx.astype(np.int32))
            elif spec.placement == "road":
                add(ti, tt, sampler.road(town, c, rng))
            else:
                pts = sampler.urban(town, c, rng)
                site = _gas_zone(town, pts, sampler) if spec.code == "gas_pressure" else None
                add(ti, tt, pts, site=site)

    type_idx = np.concatenate(cols["type"])
    town = np.concatenate(cols["town"])
    prem_idx = np.concatenate(cols["prem"])
    order = np.lexsort((town, type_idx))  # stable uids: by type, then town
    type_idx, town, prem_idx = type_idx[order], town[order], prem_idx[order]
    lon, lat = np.concatenate(cols["lon"])[order], np.concatenate(cols["lat"])[order]
    site, chain = np.concatenate(cols["site"])[order], np.concatenate(cols["chain"])[order]
    uid, name = _names(type_idx, town, np.concatenate(cols["nat"])[order], sampler)
    share = np.full(len(uid), DIRECT_SHARE)
    for code, sh in DIRECT_SHARE_BY_TYPE.items():
        share[type_idx == TYPE_INDEX[code]] = sh
    direct = np.isin(type_idx, [TYPE_INDEX[c] for c in DIRECT_TYPES]) | (
        crng.uniform(seed, 11, np.arange(len(uid))) < share)
    bid = np.where(prem_idx >= 0, prem.building_id[np.maximum(prem_idx, 0)], -1)
    return DeviceTable(uid, name, type_idx, town, lon, lat, prem_idx, bid.astype(np.int64), site, chain, direct)


def _names(type_idx: np.ndarray, town: np.ndarray, national: np.ndarray,
           sampler: TownSampler) -> tuple[list[str], list[str]]:
    uid, name = [], []
    seq: dict[tuple[int, int], int] = {}
    for ti, tw, nat in zip(type_idx.tolist(), town.tolist(), national.tolist(), strict=True):
        spec, t = DEVICE_TYPES[ti], sampler.towns[tw]
        if nat >= 0:  # the national stations keep their CNEMC codes
            code, zh = NATIONAL_AIR_STATIONS[nat][:2]
            uid.append(f"aq-{code}")
            name.append(f"{zh}国控空气质量监测站")
            continue
        k = seq.get((ti, tw), 0) + 1
        seq[(ti, tw)] = k
        uid.append(f"{ABBR[spec.code]}-{t.code}-{k:05d}")
        name.append(f"{short(t.info.name_zh)}{spec.name_zh}{k:04d}号")
    return uid, name


def _gas_zone(town: int, pts: np.ndarray, sampler: TownSampler) -> np.ndarray:
    """A pipe-network zone: the town's quadrant around its centre (4 zones per town)."""
    cx, cy = sampler.towns[town].centroid
    return (town * 4 + (pts[:, 0] > cx) * 1 + (pts[:, 1] > cy) * 2).astype(np.int32)


def _rivers(ti: int, total: int, sampler: TownSampler, rng: np.random.Generator, add) -> None:  # noqa: ANN001
    rivers = load_rivers()
    pts, which, frac = sampler.along([r.line for r in rivers], total, rng, WATER_TOWNS, 0.45)
    add(ti, sampler.locate(pts[:, 0], pts[:, 1]), pts, site=which.astype(np.int32), chain=frac)


def _coast(ti: int, total: int, sampler: TownSampler, rng: np.random.Generator, add) -> None:  # noqa: ANN001
    """Coastal radars: 40 % in Hongmei (its coastal-defence programme) along its western
    waterfront, the rest along the estuary shore of the coastal towns."""
    hong = sampler.index["hongmei"]
    n_h = max(1, int(round(total * 0.4))) if total > 1 else total
    g = sampler.towns[hong].geometry
    edge = max(g.geoms, key=lambda p: p.area).exterior
    pts, _, _ = sampler.along([edge], n_h, rng, ("hongmei",), 0.4)
    add(ti, np.full(len(pts), hong), pts)
    if total - n_h > 0:
        pts, _, _ = sampler.along([estuary_shore()], total - n_h, rng, COAST_TOWNS, 0.5)
        add(ti, sampler.locate(pts[:, 0], pts[:, 1]), pts)
