from __future__ import annotations

import numpy as np
import shapely

from protocol.enums import ResourceKind
from simulator.city import City, build_city
from simulator.devices import NATIONAL_AIR_STATIONS, TYPE_INDEX, type_counts
from simulator.placement import COAST_TOWNS, WATER_TOWNS
from sync_service.catalog import DEVICE_TYPES


def test_same_seed_same_city_and_different_seed_differs(city: City) -> None:
    again = build_city(7, 20_000)
    assert again.devices.uid == city.devices.uid
    assert np.array_equal(again.devices.lon, city.devices.lon)
    assert np.array_equal(again.devices.building_id, city.devices.building_id)
    assert [r.name for r in again.resources] == [r.name for r in city.resources]
    assert [k.plan_body for k in again.key_units] == [k.plan_body for k in city.key_units]
    other = build_city(8, 20_000)
    assert not np.array_equal(other.devices.lon, city.devices.lon)


def test_full_city_counts_and_shares(city_full: City) -> None:
    d = city_full.devices
    assert len(d) == 100_000
    assert len(set(d.uid)) == len(d.uid)  # uids unique
    total_share = sum(t.share for t in DEVICE_TYPES)
    for t in DEVICE_TYPES:
        n = int((d.type_idx == TYPE_INDEX[t.code]).sum())
        assert abs(n - 100_000 * t.share / total_share) <= 1, t.code
    assert sum(type_counts(100_000).values()) == 100_000


def test_every_device_is_inside_its_towns_polygon(city_full: City) -> None:
    d = city_full.devices
    for ti, town in enumerate(city_full.towns):
        sel = d.town == ti
        assert sel.sum() > 0, town.code
        inside = shapely.contains_xy(town.geometry, d.lon[sel], d.lat[sel])
        assert inside.all(), f"{town.code}: {(~inside).sum()} devices outside"


def test_devices_follow_population(city_full: City) -> None:
    d = city_full.devices
    counts = np.bincount(d.town, minlength=len(city_full.towns))
    pops = np.array([t.info.population for t in city_full.towns])
    assert np.corrcoef(counts, pops)[0, 1] > 0.9
    # Chang'an (780k people) has several times the devices of Hongmei (65k).
    idx = {t.code: i for i, t in enumerate(city_full.towns)}
    assert counts[idx["changan"]] > 5 * counts[idx["hongmei"]]


def test_water_gauges_on_the_rivers_of_the_water_towns(city_full: City) -> None:
    d = city_full.devices
    wl = d.of_type("water_level")
    codes = {city_full.towns[int(t)].code for t in d.town[wl]}
    assert codes <= set(WATER_TOWNS)
    for must in ("shilong", "shijie", "gaobu", "zhongtang", "machong", "wangniudun", "hongmei", "daojiao",
                 "wanjiang", "shatian"):
        assert must in codes, must
    assert (d.site[wl] >= 0).all()  # each on a river, with a position along it
    assert ((d.chain[wl] >= 0) & (d.chain[wl] <= 1)).all()


def test_coastal_radars_on_the_estuary(city_full: City) -> None:
    d = city_full.devices
    cr = d.of_type("coastal_radar")
    codes = [city_full.towns[int(t)].code for t in d.town[cr]]
    assert set(codes) <= set(COAST_TOWNS)
    assert codes.count("hongmei") >= len(cr) * 0.3  # Hongmei's coastal-defence programme
    assert d.lon[cr].max() < 113.75  # the west (estuary) side of the city


def test_the_five_national_air_stations(city_full: City) -> None:
    d = city_full.devices
    for code, name, town, _lon, _lat in NATIONAL_AIR_STATIONS:
        i = d.uid.index(f"aq-{code}")
        assert city_full.towns[int(d.town[i])].code == town
        assert name in d.name[i]


def test_building_devices_sit_in_suitable_premises(city_full: City) -> None:
    d, p = city_full.devices, city_full.premises
    from simulator.premises import USE_INDEX

    sa = d.of_type("school_alarm")
    assert (p.use[d.premises[sa]] == USE_INDEX["school"]).mean() > 0.95
    kc = d.of_type("kitchen_camera")
    kitchen_uses = [USE_INDEX[u] for u in ("restaurant", "commercial", "school", "hospital")]
    assert np.isin(p.use[d.premises[kc]], kitchen_uses).mean() > 0.95
    sd = d.of_type("smoke_detector")
    assert (p.use[d.premises[sd]] == USE_INDEX["residential"]).mean() > 0.7


def test_resources_at_city_scale(city_full: City) -> None:
    kinds: dict[str, list] = {}
    for r in city_full.resources:
        kinds.setdefault(r.kind, []).append(r)
    stations = kinds[ResourceKind.FIRE_STATION.value]
    assert 55 <= len(stations) <= 70
    assert {s.town for s in stations} == {t.code for t in city_full.towns}  # every town has one
    for s in stations:
        vehicles = [v for v in kinds[ResourceKind.FIRE_VEHICLE.value] if v.detail["station_id"] == s.id]
        assert 3 <= len(vehicles) <= 6
    hydrants = [w for w in kinds[ResourceKind.WATER_SOURCE.value] if w.detail["type_en"] == "hydrant"]
    assert len(hydrants) >= 5000
    for k in (ResourceKind.RESCUE_TEAM, ResourceKind.SHELTER, ResourceKind.MEDICAL):
        assert len(kinds[k.value]) >= 30
    assert [r.id for r in city_full.resources] == list(range(1, len(city_full.resources) + 1))


def test_key_units_have_plans_qr_and_the_tower(city_full: City) -> None:
    kus = city_full.key_units
    assert len(kus) >= 1000
    assert len({k.qr for k in kus}) == len(kus)
    tower = city_full.landmarks["nancheng_highrise"]
    ku = next(k for k in kus if k.premises == tower)
    assert ku.town == "nancheng"
    assert ku.category == "高层公共建筑"
    assert "消防救援站" in ku.plan_body
    assert "消火栓" in ku.plan_body
    d = city_full.devices
    in_tower = d.premises == tower
    assert (in_tower & (d.type_idx == TYPE_INDEX["smoke_detector"])).sum() >= 12
    assert (in_tower & (d.type_idx == TYPE_INDEX["fire_detector"])).sum() >= 8
    assert city_full.premises.floors[tower] >= 18


def test_devices_in_the_synthetic_cim_buildings() -> None:
    from citymodel.buildings import USE_INDEX as CIM_USE
    from citymodel.generator import generate_city

    table = generate_city(11, 30_000)
    c = build_city(11, 20_000, buildings=table)
    d = c.devices
    placed = d.building_id >= 0
    assert placed.sum() >= 0.6 * len(d)  # detectors, cameras, school alarms, pollution sources
    row = {int(b): i for i, b in enumerate(table.id)}
    uses = np.array([table.use[row[int(b)]] for b in d.building_id[placed]])
    types = d.type_idx[placed]
    school = uses[types == TYPE_INDEX["school_alarm"]]
    assert (school == CIM_USE["school"]).mean() > 0.95
    ps = uses[types == TYPE_INDEX["pollution_source"]]
    assert np.isin(ps, [CIM_USE["industrial"], CIM_USE["warehouse"]]).mean() > 0.95
    # the same as generating it from the seed and size
    again = build_city(11, 20_000, cim_buildings=30_000)
    assert np.array_equal(again.devices.building_id, d.building_id)
    # key units prefer the buildings the CIM marks as key units
    flagged = {int(b) for b in table.id[table.key_unit]}
    kus = [k for k in c.key_units if k.building_id is not None]
    assert sum(k.building_id in flagged for k in kus) >= 0.8 * len(kus)
    for ti, town in enumerate(c.towns):
        sel = d.town == ti
        assert shapely.contains_xy(town.geometry, d.lon[sel], d.lat[sel]).all(), town.code
