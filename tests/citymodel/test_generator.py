"""The synthetic CIM city: deterministic, inside its towns, shaped like a Chinese city."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from citymodel.buildings import USE_INDEX, BuildingTable, ring_area_centroid
from citymodel.generator import ZONE_INDEX, generate_city, projected_towns
from citymodel.towns import TOWN_TABLE


@pytest.fixture(scope="module")
def city() -> BuildingTable:
    return generate_city(42, 30_000)


def test_exact_size_and_deterministic(city: BuildingTable) -> None:
    assert len(city) == 30_000
    again = generate_city(42, 30_000)
    for name in ("cx", "cy", "height", "use", "town", "fp_xy", "fp_offsets", "key_unit"):
        np.testing.assert_array_equal(getattr(city, name), getattr(again, name))
    other = generate_city(43, 30_000)
    assert not np.array_equal(city.cx, other.cx)
    assert list(city.id[:3]) == [1, 2, 3]
    assert len(np.unique(city.id)) == len(city)


def test_every_footprint_lies_inside_its_town(city: BuildingTable) -> None:
    verts = city.all_vertices()
    town_of_vertex = np.repeat(city.town, city.ring_sizes())
    for ti, geom in enumerate(projected_towns()):
        m = town_of_vertex == ti
        assert shapely.contains_xy(geom, verts[m, 0], verts[m, 1]).all(), TOWN_TABLE[ti].code


def test_all_34_towns_have_buildings_and_lonlat_matches(city: BuildingTable) -> None:
    assert len(np.unique(city.town)) == 34
    assert (city.lon > 113.5).all()
    assert (city.lon < 114.3).all()
    assert (city.lat > 22.6).all()
    assert (city.lat < 23.2).all()


def test_footprints_are_ccw_rings_centred_on_the_centroid(city: BuildingTable) -> None:
    sizes = city.ring_sizes()
    assert set(np.unique(sizes)) == {4, 6}  # rectangles and L-shapes
    area, gx, gy = ring_area_centroid(city.fp_offsets, city.fp_xy)
    assert (area > 0).all()  # counter-clockwise
    np.testing.assert_allclose(area, city.area, rtol=1e-3)
    assert np.abs(gx).max() < 0.05
    assert np.abs(gy).max() < 0.05
    # rotated: edge directions are not all axis-aligned
    d = np.diff(city.fp_xy[:4], axis=0)
    assert not np.allclose(d[:, 0] * d[:, 1], 0.0)


def test_uses_heights_and_structures_look_like_dongguan(city: BuildingTable) -> None:
    counts = np.bincount(city.use, minlength=11)
    for u in ("residential", "commercial", "restaurant", "office", "industrial", "school", "hospital"):
        assert counts[USE_INDEX[u]] > 0, u
    assert counts[USE_INDEX["residential"]] / len(city) > 0.5
    # villages: most residential low-rise have 6-7 floors; towers exist at 18-33 floors
    res = city.use == USE_INDEX["residential"]
    assert np.isin(city.floors[res], [6, 7]).mean() > 0.3
    assert ((city.floors >= 18) & (city.floors <= 33) & res).sum() > 100
    ind = city.use == USE_INDEX["industrial"]
    assert np.median(city.floors[ind]) <= 3
    assert np.median(city.area[ind]) > 500
    assert np.all(city.height >= city.floors * 2.8)
    assert city.key_unit.any()
    assert city.key_unit.mean() < 0.1
    masonry = city.structure_names() == "masonry"
    assert (city.floors[masonry] <= 8).all()


def test_dense_old_centre_and_songshan_lake_campus() -> None:
    city = generate_city(5, 200_000)
    gc = TOWN_TABLE.index(next(t for t in TOWN_TABLE if t.code == "guancheng"))
    area_km2 = projected_towns()[gc].area / 1e6
    density = (city.town == gc).sum() / area_km2
    ssl = [i for i, t in enumerate(TOWN_TABLE) if t.code == "songshanhu"][0]
    ssl_density = (city.town == ssl).sum() / (projected_towns()[ssl].area / 1e6)
    assert density > 2 * ssl_density  # the old centre is far denser than the lake campus
    in_ssl = city.town == ssl
    assert np.median(city.area[in_ssl]) > 2 * np.median(city.area[city.town == gc])
    assert "campus" in ZONE_INDEX


def test_names_and_records(city: BuildingTable) -> None:
    rec = city.record(0)
    assert rec["id"] == 1
    assert rec["town"] == city.town_codes()[0]
    assert rec["use"] == city.use_names()[0]
    assert rec["use_zh"]
    assert rec["address"].endswith("号")
    assert TOWN_TABLE[int(city.town[0])].name_zh in rec["address"]
    assert len(rec["footprint"]) in (4, 6)
    sub = city.take(np.array([5, 2, 9]))
    np.testing.assert_array_equal(sub.id, city.id[[5, 2, 9]])
    np.testing.assert_allclose(sub.footprint(1), city.footprint(2))
    assert list(city.index_of([3, 999_999_999, 1])) == [2, -1, 0]
