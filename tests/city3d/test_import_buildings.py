"""`ioc-sync import-buildings` end to end: the importer's report, the buildings in the service,
key units made and linked, site plans, and a console that fetched the city before sees the
imported one (the manifest's version moved); any write to buildings moves the version, on
SQLite and on PostgreSQL; old cache files are pruned."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from citymodel.cache import CityCache
from citymodel.generator import generate_city
from sync_service.cim import seed_buildings
from sync_service.cli import main as cli
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Building, KeyUnit, Resource
from tests.city3d.test_service_cim import _ClientSink
from tests.sync_service.server_helpers import Client, service
from views.city3d.loader import CityLoader

FIX = Path(__file__).resolve().parents[1] / "citymodel" / "fixtures"
N = 3000
SMALL = 150  # synthetic ids 1-150: the fixture's ids (101-106, 201-203) are then free or the same


async def _import(capsys: Any, *args: str) -> tuple[int, str]:
    rc = await asyncio.to_thread(cli, ["import-buildings", *args])
    out = capsys.readouterr()
    return rc, out.out + out.err


async def test_import_reaches_a_console_that_had_the_city_cached(sqlite_url: str, tmp_path: Path,
                                                                 capsys: Any) -> None:
    async with service(sqlite_url) as svc:
        await svc.ctx.db.write(lambda s: seed_buildings(s, 7, SMALL))

        def hydrant(s: Session) -> None:  # a water source next to the imported mall
            s.add(Resource(kind="water_source", name="消火栓 鸿福路", domain="fire", town="nancheng",
                           lon=113.7625, lat=23.0168, status="available", detail={}, updated_ts=0.0))

        await svc.ctx.db.write(hydrant)
        async with Client.open(svc.url, "operator") as c:
            loader = CityLoader(_ClientSink(c), CityCache(tmp_path / "cache"))
            table, v1, status = await loader.fetch(None)
            assert status == "fetched"
            assert table is not None
            assert len(table) == SMALL

            rc, out = await _import(capsys, str(FIX / "cgcs2000.geojson"), "--db-url", sqlite_url)
            assert rc == 2  # the service holds buildings: replace or merge?
            assert "--replace or --merge" in out
            rc, out = await _import(capsys, str(FIX / "cgcs2000.geojson"), "--merge", "--db-url", sqlite_url)
            assert rc == 0, out
            assert "import: read 3, imported 3" in out
            assert "feature 1: repaired (height_from_floors)" in out  # the report, feature by feature
            assert "stored 3 buildings (merge" in out

            table, v2, status = await loader.fetch(v1)
            assert status == "fetched"
            assert v2 != v1
            assert table is not None
            assert len(table) == SMALL + 3
            rows = table.index_of([201, 202, 203])
            assert (rows >= 0).all()
            assert table.key_unit[rows].tolist() == [True, False, True]
            assert table.height[rows[0]] == pytest.approx(62.0)
            assert table.address_of(int(rows[0])) == "南城街道鸿福路88号"
            # the flag is set exactly where a key-unit record is
            units = (await c.query("keyunits.list", {"limit": 5000}))["data"]["items"]
            assert {u["building_id"] for u in units} == {int(b) for b in table.id[table.key_unit]}
            mall = next(u for u in units if u["building_id"] == 201)
            assert mall["name"] == "东莞市南城鸿福购物中心"
            assert mall["category"] == "商场市场"
            plans = (await c.query("plans.for_unit", {"id": mall["id"]}))["data"]
            sp = plans["site_plan"]
            assert sp["source"] == "generated"
            unit_b = [b for b in sp["buildings"] if b["unit"]]
            assert [b["id"] for b in unit_b] == [201]
            assert {e["kind"] for e in sp["entrances"]} == {"main", "secondary"}
            assert sp["staging"] is not None  # 62 m: an aerial-ladder staging area
            assert sp["water"][0]["name"] == "消火栓 鸿福路"
            assert sp["water"][0]["distance_m"] < 120

            # the cache holds the newest version only (each file is ~166 MB at city scale)
            assert sorted(p.name for p in (tmp_path / "cache").glob("city-*.npz")) == [f"city-{v2}.npz"]

            # an edited height, same ids, same places: --merge updates, the version moves
            edited = json.loads((FIX / "cgcs2000.geojson").read_text())
            edited["features"][0]["properties"]["建筑高度"] = 64.5
            (tmp_path / "edited.geojson").write_text(json.dumps(edited, ensure_ascii=False))
            rc, out = await _import(capsys, str(tmp_path / "edited.geojson"), "--merge", "--db-url", sqlite_url)
            assert rc == 0, out
            assert "3 updated" in out
            table, v3, status = await loader.fetch(v2)
            assert status == "fetched"
            assert v3 != v2
            assert table is not None
            assert len(table) == SMALL + 3
            assert table.height[table.index_of([201])[0]] == pytest.approx(64.5)

            # --replace: the file is the whole city; the mall's record stays, unlinked (no building there)
            rc, out = await _import(capsys, str(FIX / "good.geojson"), "--replace", "--db-url", sqlite_url)
            assert rc == 0, out
            table, _, status = await loader.fetch(v3)
            assert table is not None
            assert sorted(table.id.tolist()) == [101, 102, 103, 104, 105, 106]
            assert not table.key_unit.any()
            units = (await c.query("keyunits.list", {"limit": 5000}))["data"]["items"]
            assert all(u["building_id"] is None for u in units)
            # an unreadable file: a typed message, nothing stored
            rc, out = await _import(capsys, str(FIX / "not-json.geojson"), "--merge", "--db-url", sqlite_url)
            assert rc == 2
            assert "cannot read GeoJSON" in out
            assert (await loader.fetch(None))[0] is not None


async def test_merge_renumbers_a_foreign_id_instead_of_overwriting(sqlite_url: str, capsys: Any) -> None:
    """The files' ids (1-4, 101-106) name synthetic buildings kilometres away: not the same
    buildings, so they are stored under new ids; the GeoJSON buildings the shapefile's
    footprints lie on are superseded by them."""
    eng = make_engine(sqlite_url)
    migrate(eng)
    with Session(eng) as s, s.begin():
        seed_buildings(s, 7, N)
    eng.dispose()
    rc, out = await _import(capsys, str(FIX / "good.geojson"), "--merge", "--db-url", sqlite_url)
    assert rc == 0, out
    assert "6 renumbered" in out
    assert "feature id 101: stored as 3001: repaired (id_of_another_building)" in out
    rc, out = await _import(capsys, str(FIX / "footprints.shp"), "--merge", "--db-url", sqlite_url)
    assert rc == 0, out
    assert "4 renumbered" in out
    superseded = int(out.split(" superseded")[0].split()[-1])
    assert superseded == 3  # three of the shapefile's footprints stand where GeoJSON ones did
    ref = generate_city(7, N)
    eng = make_engine(sqlite_url)
    with Session(eng) as s:
        for bid in (1, 101):  # the synthetic buildings of those ids are untouched
            b = s.get(Building, bid)
            assert b is not None
            assert b.cx == pytest.approx(float(ref.cx[bid - 1]))
        assert s.scalar(select(func.count()).select_from(Building)) == N + 6 + 4 - superseded
        assert s.scalar(select(func.max(Building.id))) == N + 10
    eng.dispose()


def _version_moves_on_any_write(url: str) -> None:
    from sync_service.cim.handlers import manifest

    eng = make_engine(url)
    migrate(eng)
    with Session(eng) as s, s.begin():
        seed_buildings(s, 7, 500)
    versions = []
    with Session(eng) as s:
        versions.append(manifest(s)["version"])
    # an edit from outside the service (psql, a script): the database's triggers count it
    with eng.begin() as conn:
        conn.execute(text("UPDATE buildings SET height = height + 1 WHERE id = 17"))
    with Session(eng) as s:
        versions.append(manifest(s)["version"])
    with eng.begin() as conn:
        conn.execute(text("UPDATE buildings SET key_unit = NOT key_unit WHERE id = 18"))
    with Session(eng) as s:
        versions.append(manifest(s)["version"])
    # the same count and max id after a delete and an insert: still a new version
    with eng.begin() as conn:
        row = conn.execute(text("SELECT * FROM buildings WHERE id = 19")).mappings().one()
        conn.execute(text("DELETE FROM buildings WHERE id = 19"))
        cols = ", ".join(f'"{k}"' for k in row)
        conn.execute(text(f"INSERT INTO buildings ({cols}) VALUES ({', '.join(':' + k for k in row)})"), dict(row))
    with Session(eng) as s:
        m = manifest(s)
        versions.append(m["version"])
        assert m["total"] == 500
    assert len(set(versions)) == len(versions), versions
    eng.dispose()


def test_version_moves_on_any_write_sqlite(sqlite_url: str) -> None:
    _version_moves_on_any_write(sqlite_url)


@pytest.mark.postgres
def test_version_moves_on_any_write_postgres(pg_url: str) -> None:
    _version_moves_on_any_write(pg_url)


def test_key_unit_flags_follow_the_records_after_provisioning(sqlite_url: str) -> None:
    """The generator marks 2.5 % of buildings as key-unit candidates; the fire brigade's records
    are what counts: after provisioning the flag is set exactly where a record points, and every
    linked unit has a site plan."""
    from simulator.city import build_city
    from simulator.provision import provision
    from sync_service.cim.store import store_buildings
    from sync_service.db.models import SitePlan
    from sync_service.seed import seed_reference

    table = generate_city(11, 30_000)
    assert table.key_unit.sum() > 300
    city = build_city(11, 3000, buildings=table)
    eng = make_engine(sqlite_url)
    migrate(eng)
    with Session(eng) as s, s.begin():
        seed_reference(s)
        store_buildings(s, table)
        provision(s, city, "secret")
    with Session(eng) as s:
        flagged = set(s.scalars(select(Building.id).where(Building.key_unit.is_(True))))
        linked = set(s.scalars(select(KeyUnit.building_id).where(KeyUnit.building_id.is_not(None))))
        assert flagged == linked
        n_linked = s.scalar(select(func.count()).select_from(KeyUnit).where(KeyUnit.building_id.is_not(None)))
        assert n_linked >= 0.9 * len(city.key_units)
        n_plans = s.scalar(select(func.count()).select_from(SitePlan))
        assert n_plans == n_linked
        sp = s.scalars(select(SitePlan)).first()
        assert sp is not None
        assert any(b["unit"] for b in sp.layout["buildings"])
        assert sp.layout["water"]  # the simulated city's hydrants are near its key units
    eng.dispose()
    assert np.isin(list(linked), table.id).all()
