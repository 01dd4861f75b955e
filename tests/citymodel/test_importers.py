"""Importers on small real-format fixtures (tests/citymodel/fixtures, made by make_fixtures.py):
GeoJSON, Shapefile, CityJSON, including broken geometry and broken files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from citymodel.buildings import USE_INDEX
from citymodel.generator import projected_towns
from citymodel.importers import AttributeMap, ImportFailed, import_file
from citymodel.towns import TOWN_TABLE, town_at

FIX = Path(__file__).resolve().parent / "fixtures"
TOWN = [t.code for t in TOWN_TABLE].index(town_at(113.752, 23.012) or "")  # where the fixtures stand


def _valid_ccw(table) -> None:  # noqa: ANN001
    for i in range(len(table)):
        ring = table.footprint(i)
        p = Polygon(ring)
        assert p.is_valid
        assert p.exterior.is_ccw
        assert p.area == pytest.approx(float(table.area[i]), rel=1e-3)


def test_geojson_heights_floors_uses_and_reprojection() -> None:
    t, rep = import_file(FIX / "good.geojson")
    assert rep.read == 6  # footprints: a MultiPolygon of two makes two buildings
    assert len(t) == 6
    assert rep.rejected == {}
    assert (t.town == TOWN).all()
    assert t.id[0] == 101
    assert t.height[0] == pytest.approx(45.5)
    assert t.use[0] == USE_INDEX["commercial"]
    assert t.address_of(0) == "南城街道鸿福路1号"
    assert t.year[0] == 2008
    assert t.height[1] == pytest.approx(18.0)  # 6 floors x 3 m storeys
    assert t.floors[1] == 6
    assert t.use[1] == USE_INDEX["residential"]
    assert t.height[4] == pytest.approx(36.0)  # building:levels "12" as text
    assert rep.repaired["holes_dropped"] == 1
    assert t.height[5] == pytest.approx(33.0)  # "33 m"
    assert t.use[5] == USE_INDEX["hospital"]
    # ~0.0002 deg squares at 23 N are ~20.5 m x 22.1 m in EPSG:4547
    assert t.area[0] == pytest.approx(20.48 * 22.14, rel=0.02)
    _valid_ccw(t)
    g = projected_towns()[TOWN]
    assert shapely.contains_xy(g, t.cx, t.cy).all()


def test_storey_height_and_attribute_names_are_configurable() -> None:
    t, _ = import_file(FIX / "good.geojson", attrs=AttributeMap(floors=("层数",), storey_m=3.5))
    assert t.height[1] == pytest.approx(21.0)
    t2, rep = import_file(FIX / "good.geojson", attrs=AttributeMap(height=("nope",), floors=("nope",)))
    assert len(t2) == 0
    assert rep.rejected["no_height"] == 6


def test_broken_geojson_is_repaired_or_rejected_with_a_report() -> None:
    t, rep = import_file(FIX / "broken.geojson")
    assert rep.read == 14
    assert rep.imported == len(t) == 5
    assert rep.repaired["self_intersection"] == 1
    assert rep.repaired["open_ring"] >= 1
    assert rep.repaired["duplicate_id"] == 1
    assert rep.rejected["zero_area"] == 1
    assert rep.rejected["too_few_points"] == 1
    assert rep.rejected["bad_height"] == 1
    assert rep.rejected["outside_city"] == 1
    assert rep.rejected["no_height"] == 1
    assert rep.rejected["bad_coordinates"] == 1
    assert rep.rejected["no_geometry"] == 2
    assert rep.rejected["bad_geometry"] == 1  # coordinates "oops"
    assert sum(rep.rejected.values()) + len(t) == rep.read
    assert 8 in t.floors.tolist()  # absurd height replaced by 8 floors x 3 m
    assert 24.0 in t.height.tolist()
    assert len(np.unique(t.id)) == len(t)
    _valid_ccw(t)
    assert any("zero_area" in m for m in rep.messages)


def test_unreadable_files_raise_a_typed_error() -> None:
    with pytest.raises(ImportFailed, match="cannot read GeoJSON"):
        import_file(FIX / "not-json.geojson")
    with pytest.raises(ImportFailed, match="unsupported"):
        import_file(FIX / "make_fixtures.py")
    with pytest.raises(ImportFailed, match="coordinate reference system"):
        import_file(FIX / "good.geojson", src_crs="EPSG:999999")


def test_shapefile_with_prj_holes_and_self_intersection() -> None:
    t, rep = import_file(FIX / "footprints.shp")
    assert rep.read == 5
    assert len(t) == 4
    assert rep.rejected["no_geometry"] == 1  # the null shape
    assert rep.repaired["holes_dropped"] == 1
    assert rep.repaired["self_intersection"] == 1
    assert list(t.id) == [1, 2, 3, 4]
    assert t.height[0] == pytest.approx(30.0)
    assert t.use[0] == USE_INDEX["office"]
    assert t.height[1] == pytest.approx(21.0)  # HEIGHT 0 -> 7 floors x 3 m
    assert t.use[2] == USE_INDEX["industrial"]
    assert (t.town == TOWN).all()
    _valid_ccw(t)
    # the same place as the GeoJSON fixture: the .prj (EPSG:4547) was honoured
    g, _ = import_file(FIX / "good.geojson")
    assert t.cx[0] == pytest.approx(g.cx[0], abs=0.5)


def test_truncated_shapefile_loses_records_not_the_import() -> None:
    t, rep = import_file(FIX / "truncated.shp")
    assert rep.read == 5
    assert len(t) + sum(rep.rejected.values()) == rep.read
    assert rep.rejected["unreadable_record"] >= 1
    assert any("file size" in m for m in rep.messages)


def test_cityjson_footprint_from_solids() -> None:
    t, rep = import_file(FIX / "buildings.city.json")
    assert len(t) == 2
    assert rep.rejected["no_geometry"] == 1
    assert t.height[0] == pytest.approx(24.0)  # measuredHeight
    assert t.floors[0] == 8
    assert t.area[0] == pytest.approx(600.0, rel=1e-3)  # 30 x 20 m
    assert t.height[1] == pytest.approx(19.5)  # from the solid's z extent
    assert t.area[1] == pytest.approx(225.0, rel=1e-3)
    assert t.use[0] == USE_INDEX["office"]
    _valid_ccw(t)


def test_cgcs2000_lonlat_with_key_units() -> None:
    """CGCS2000 geographic (EPSG:4490) named by the file's crs member lands where the same
    coordinates in WGS84 do (the datums agree to centimetres); 重点单位 sets key_unit and names
    the unit, 否 does not."""
    t, rep = import_file(FIX / "cgcs2000.geojson")
    assert rep.rejected == {}
    assert t.id.tolist() == [201, 202, 203]
    assert t.key_unit.tolist() == [True, False, True]
    assert rep.key_units == {201: {"name": "东莞市南城鸿福购物中心", "category": "商场市场"},
                             203: {"name": "", "category": "学校"}}
    assert t.height[0] == pytest.approx(62.0)
    assert t.floors[0] == 18
    assert t.address_of(0) == "南城街道鸿福路88号"
    wgs, _ = import_file(FIX / "cgcs2000.geojson", src_crs="EPSG:4326")
    np.testing.assert_allclose(t.cx, wgs.cx, atol=0.1)
    np.testing.assert_allclose(t.cy, wgs.cy, atol=0.1)
    data = json.loads((FIX / "cgcs2000.geojson").read_text())
    lon0 = min(p[0] for p in data["features"][0]["geometry"]["coordinates"][0])
    assert float(t.lon[0]) == pytest.approx(lon0 + 0.0003, abs=2e-5)  # centroid of a 3 x D wide box


def test_malformed_features_are_reported_not_raised() -> None:
    t, rep = import_file(FIX / "malformed.geojson")
    assert rep.read == 10
    assert rep.rejected["not_a_feature"] == 4  # a string, a number, null, a list
    assert rep.rejected["bad_geometry"] == 3
    assert rep.rejected["no_geometry"] == 1  # geometry "Polygon", a string
    assert len(t) == 2
    assert t.id.tolist() == [1, 2]  # a boolean id and a 70-bit id are not kept
    assert sum(rep.rejected.values()) + len(t) == rep.read
    c, crep = import_file(FIX / "malformed.city.json")
    assert len(c) == 2  # the two good buildings of the fixture
    assert crep.rejected["bad_geometry"] == 5
    assert any("not an object" in m for m in crep.messages)


def _mutate_json(node: Any, rnd: random.Random) -> Any:
    """The same document with one node somewhere replaced by a value of another kind."""
    junk = ["x", 7, -1, 1e308, None, True, [], {}, [[1, 2]], {"type": "Polygon"}, 2**80, "NaN"]
    if isinstance(node, dict) and node and rnd.random() < 0.85:
        k = rnd.choice(list(node))
        return {**node, k: _mutate_json(node[k], rnd)}
    if isinstance(node, list) and node and rnd.random() < 0.85:
        i = rnd.randrange(len(node))
        return node[:i] + [_mutate_json(node[i], rnd)] + node[i + 1:]
    return rnd.choice(junk)


def _check_import(path: Path) -> None:
    try:
        t, rep = import_file(path)
    except ImportFailed:
        return
    assert len(t) == rep.imported
    assert len(t) + sum(rep.rejected.values()) == rep.read
    assert len(np.unique(t.id)) == len(t)
    assert np.isfinite(t.cx).all()
    assert np.isfinite(t.height).all()
    assert (t.height > 0).all()


@pytest.mark.parametrize("name", ["good.geojson", "broken.geojson", "cgcs2000.geojson", "buildings.city.json"])
def test_fuzzed_json_never_raises_anything_but_import_failed(name: str, tmp_path: Path) -> None:
    rnd = random.Random(name)
    text = (FIX / name).read_text()
    doc = json.loads(text)
    target = tmp_path / name
    for k in range(60):
        if k % 3 == 0:  # cut anywhere: mostly not JSON any more
            target.write_text(text[: rnd.randrange(len(text))])
        elif k % 3 == 1:  # structurally wrong values deep inside
            d = doc
            for _ in range(rnd.randint(1, 4)):
                d = _mutate_json(d, rnd)
            target.write_text(json.dumps(d, ensure_ascii=False))
        else:  # bytes flipped
            raw = bytearray(text.encode())
            for _ in range(rnd.randint(1, 8)):
                raw[rnd.randrange(len(raw))] = rnd.randrange(256)
            target.write_bytes(bytes(raw))
        _check_import(target)


def test_fuzzed_shapefiles_never_raise_anything_but_import_failed(tmp_path: Path) -> None:
    rnd = random.Random(4547)
    parts = {ext: (FIX / f"footprints.{ext}").read_bytes() for ext in ("shp", "shx", "dbf", "prj")}
    for k in range(60):
        ext = ("shp", "shx", "dbf")[k % 3]
        for e, data in parts.items():
            (tmp_path / f"f.{e}").write_bytes(data)
        raw = bytearray(parts[ext])
        if k % 2:
            raw = raw[: rnd.randrange(len(raw))]
        else:
            for _ in range(rnd.randint(1, 12)):
                raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        (tmp_path / f"f.{ext}").write_bytes(bytes(raw))
        _check_import(tmp_path / "f.shp")
