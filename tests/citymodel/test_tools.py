"""Picking with a ray, measuring, surroundings (pure, on a generated city)."""

from __future__ import annotations

import numpy as np
import pytest

from citymodel import measure
from citymodel.buildings import BuildingTable
from citymodel.generator import generate_city
from citymodel.geo import to_lonlat
from citymodel.picking import pick
from citymodel.surroundings import buildings_within, surroundings
from citymodel.tiles import TileIndex


@pytest.fixture(scope="module")
def city() -> tuple[BuildingTable, TileIndex]:
    t = generate_city(4, 30_000)
    return t, TileIndex.build(t)


def test_pick_from_above_hits_the_roof(city: tuple[BuildingTable, TileIndex]) -> None:
    t, idx = city
    for i in (0, 777, 12_345, 29_999):
        hit = pick(t, idx, np.array([t.cx[i], t.cy[i], 5000.0]), np.array([0.0, 0.0, -1.0]))
        assert hit is not None
        assert hit[0] == i
        assert hit[1][2] == pytest.approx(float(t.height[i]), abs=1e-3)


def test_pick_oblique_hits_the_wall_of_the_nearest_building(city: tuple[BuildingTable, TileIndex]) -> None:
    t, idx = city
    i = 777
    target = np.array([t.cx[i], t.cy[i], t.height[i] * 0.5])
    eye = target + np.array([400.0, -300.0, 800.0])
    hit = pick(t, idx, eye, target - eye)
    assert hit is not None
    # whatever was hit is the first thing on the ray: nothing is hit on the segment before it
    first = hit[1]
    assert np.linalg.norm(first - eye) <= np.linalg.norm(target - eye) + 1e-6
    if hit[0] == i:
        assert 0 <= first[2] <= t.height[i] + 1e-3


def test_pick_misses_in_an_empty_place(city: tuple[BuildingTable, TileIndex]) -> None:
    t, idx = city
    assert pick(t, idx, np.array([0.0, 0.0, 1000.0]), np.array([0.0, 0.0, -1.0])) is None
    assert pick(t, idx, np.array([t.cx[0], t.cy[0], 1000.0]), np.array([0.0, 0.0, 1.0])) is None  # looking up


def test_measure_distance_height_area(city: tuple[BuildingTable, TileIndex]) -> None:
    t, _ = city
    assert measure.distance((0, 0, 0), (3, 4, 12)) == pytest.approx(13.0)
    assert measure.ground_distance((0, 0, 100), (3, 4, 0)) == pytest.approx(5.0)
    sq = measure.polygon_area([(500000, 2500000), (500100, 2500000), (500100, 2500050), (500000, 2500050)])
    assert sq.area_m2 == pytest.approx(5000.0)
    assert sq.perimeter_m == pytest.approx(300.0)
    assert not sq.repaired
    bow = measure.polygon_area([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-intersecting bow tie
    assert bow.repaired
    assert bow.area_m2 == pytest.approx(50.0)
    assert measure.polygon_area([(0, 0), (1, 1)]).area_m2 == 0.0
    h = measure.building_height(t, 5)
    assert h["height_m"] == pytest.approx(float(t.height[5]), abs=0.01)
    assert h["floors"] == int(t.floors[5])


def test_surroundings_lists_buildings_and_nearest_resources(city: tuple[BuildingTable, TileIndex]) -> None:
    t, idx = city
    i = 1000
    lon, lat = float(t.lon[i]), float(t.lat[i])
    r = 250.0
    rows, dist = buildings_within(t, float(t.cx[i]), float(t.cy[i]), r)
    assert rows[0] == i
    assert dist[0] == 0.0
    assert (np.diff(dist) >= 0).all()
    # brute force on centroids: every building with its centroid within r is listed
    near = np.flatnonzero(np.hypot(t.cx - t.cx[i], t.cy - t.cy[i]) <= r)
    assert set(near.tolist()) <= set(rows.tolist())
    s_lon, s_lat = to_lonlat(t.cx[i] + 800.0, t.cy[i])
    w_lon, w_lat = to_lonlat(t.cx[i], t.cy[i] + 120.0)
    res = [{"id": 1, "kind": "fire_station", "name": "南城消防站", "lon": float(s_lon), "lat": float(s_lat)},
           {"id": 2, "kind": "water_source", "name": "消火栓 A", "lon": float(w_lon), "lat": float(w_lat)},
           {"id": 3, "kind": "fire_vehicle", "name": "车", "lon": lon, "lat": lat}]
    out = surroundings(t, lon, lat, r, res, rows=idx.rows_near(float(t.cx[i]), float(t.cy[i]), r + 200))
    assert out["summary"]["count"] == len(rows)
    assert out["buildings"][0]["id"] == int(t.id[i])
    assert {"height", "floors", "structure", "use", "distance_m"} <= set(out["buildings"][0])
    assert out["fire_stations"][0]["distance_m"] == pytest.approx(800.0, abs=1.0)
    assert out["water_sources"][0]["distance_m"] == pytest.approx(120.0, abs=1.0)
    assert all(x["kind"] != "fire_vehicle" for x in out["fire_stations"] + out["water_sources"])
