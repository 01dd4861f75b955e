"""Response resources of the simulated city, at the scale of a city of 10.5 million:
~60 fire stations with 3-6 vehicles each, rescue teams, thousands of hydrants and natural water
intake points, emergency shelters, hospitals.

Resource ids are fixed (1..N in this order) so the simulator can address its fire vehicles in
/ingest/v1/positions without asking the service (simulator.provision writes them with these ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from protocol.enums import ResourceKind, ResourceStatus
from simulator import names
from simulator.placement import WATER_TOWNS, TownSampler, load_rivers
from simulator.premises import apportion

FIRE_STATIONS = 60
HYDRANTS = 8000
WATER_INTAKES = 120
RESCUE_TEAMS = 45
SHELTERS = 320
HOSPITALS = 64


@dataclass
class ResourceSpec:
    id: int
    kind: str
    name: str
    domain: str
    town: str
    lon: float
    lat: float
    status: str = ResourceStatus.AVAILABLE.value
    capacity: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def build_resources(seed: int, sampler: TownSampler) -> list[ResourceSpec]:
    rng = np.random.default_rng([seed, 303])
    out: list[ResourceSpec] = []
    pops = np.array([t.info.population for t in sampler.towns], dtype=float)

    def new(kind: ResourceKind, name: str, domain: str, town: int, p: np.ndarray, **kw: Any) -> ResourceSpec:
        r = ResourceSpec(len(out) + 1, kind.value, name, domain, sampler.towns[town].code,
                         round(float(p[0]), 6), round(float(p[1]), 6), **kw)
        out.append(r)
        return r

    # Fire stations: at least one per town, the rest by population; vehicles parked at each.
    per_town = apportion(pops, FIRE_STATIONS - len(pops)) + 1
    for town, c in enumerate(per_town.tolist()):
        t = sampler.towns[town]
        pts = sampler.urban(town, c, rng, spread_km=1.0, uniform_share=0.1)
        for k in range(c):
            suffix = names.DIRECTIONS[k] if c > 1 else ""
            st = new(ResourceKind.FIRE_STATION, f"{names.short(t.info.name_zh)}{suffix}消防救援站", "fire", town,
                     pts[k], detail={"address": names.address(t.code, t.info.name_zh, rng),
                                     "phone": f"0769-{int(rng.integers(22000000, 23999999))}"})
            n_veh = int(rng.integers(3, 7))
            kinds = [0, 2] + rng.choice(len(names.FIRE_VEHICLE_TYPES), n_veh - 2).tolist()
            if t.info.population > 400_000 or suffix == "特勤":
                kinds[-1] = 3  # an aerial platform for the big towns' high-rises
            for v, vk in enumerate(kinds):
                zh, en, crew = names.FIRE_VEHICLE_TYPES[vk]
                new(ResourceKind.FIRE_VEHICLE, f"{st.name}{zh}{v + 1}号", "fire", town, pts[k], capacity=crew,
                    detail={"station_id": st.id, "type": zh, "type_en": en, "plate": names.plate(rng),
                            "home_lon": st.lon, "home_lat": st.lat})
            st.capacity = n_veh
    # Rescue teams (emergency management): professional town teams and volunteer teams.
    team_kinds = ("镇街专职应急救援队", "蓝天救援队", "民兵应急排", "水上救援队", "工程抢险队")
    for town, c in enumerate(apportion(pops, RESCUE_TEAMS).tolist()):
        t = sampler.towns[town]
        for p in sampler.urban(town, c, rng):
            kz = team_kinds[int(rng.integers(len(team_kinds)))]
            new(ResourceKind.RESCUE_TEAM, f"{names.short(t.info.name_zh)}{kz}", "emergency", town, p,
                capacity=int(rng.integers(12, 60)), detail={"type": kz})
    # Hydrants on the streets, by population.
    for town, c in enumerate(apportion(pops, HYDRANTS).tolist()):
        t = sampler.towns[town]
        for k, p in enumerate(sampler.road(town, c, rng)):
            new(ResourceKind.WATER_SOURCE, f"{names.short(t.info.name_zh)}市政消火栓{k + 1:04d}", "fire", town, p,
                detail={"type": "市政消火栓", "type_en": "hydrant", "diameter_mm": int(rng.choice([100, 150])),
                        "pressure_kpa": int(rng.integers(150, 450))})
    # Natural water intake points on the rivers (for fire engines drafting water).
    rivers = load_rivers()
    pts, which, _ = sampler.along([r.line for r in rivers], WATER_INTAKES, rng, WATER_TOWNS, 0.25)
    towns = sampler.locate(pts[:, 0], pts[:, 1])
    for k, (p, w, town) in enumerate(zip(pts, which.tolist(), towns.tolist(), strict=True)):
        new(ResourceKind.WATER_SOURCE, f"{rivers[w].name_zh}取水点{k + 1:03d}", "fire", town, p,
            detail={"type": "天然水源取水码头", "type_en": "natural water intake", "river": rivers[w].code})
    # Emergency shelters and hospitals.
    for town, c in enumerate(apportion(pops, SHELTERS).tolist()):
        t = sampler.towns[town]
        for k, p in enumerate(sampler.urban(town, c, rng)):
            new(ResourceKind.SHELTER, f"{names.short(t.info.name_zh)}应急避难场所{k + 1:02d}", "emergency", town, p,
                capacity=int(rng.integers(5, 200)) * 100,
                detail={"address": names.address(t.code, t.info.name_zh, rng)})
    per_town = apportion(pops, HOSPITALS - len(pops)) + 1
    for town, c in enumerate(per_town.tolist()):
        t = sampler.towns[town]
        for k, p in enumerate(sampler.urban(town, c, rng, spread_km=1.0)):
            nm = f"{names.short(t.info.name_zh)}医院" if k == 0 else f"{names.short(t.info.name_zh)}社区卫生服务中心{k}"
            new(ResourceKind.MEDICAL, nm, "emergency", town, p, capacity=int(rng.integers(80, 1500)) if k == 0 else 40,
                detail={"beds": True, "emergency_room": k == 0})
    return out
