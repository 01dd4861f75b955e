"""The CIM in the sync service: bulk seeding (SQLite executemany, PostgreSQL COPY), buildings.get
by manifest/tile/ids/radius, surroundings.query answered to every hall, and the console's loader
fetching the city through a real service into its local cache."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.commandbus import CommandResult
from citymodel.cache import CityCache
from citymodel.generator import generate_city
from citymodel.wire import decode_table
from sync_service.cim import load_buildings, seed_buildings
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Building
from tests.sync_service.data_helpers import add_alert, add_resource
from tests.sync_service.server_helpers import Client, service
from views.city3d.loader import CityLoader

N = 3000


def _seed_and_check(url: str) -> None:
    eng = make_engine(url)
    migrate(eng)
    with Session(eng) as s:
        r = seed_buildings(s, 7, N)
        s.commit()
    assert r["inserted"] == N
    with Session(eng) as s:
        again = seed_buildings(s, 7, N)  # idempotent
        assert again == {"inserted": 0, "existing": N, "generate_s": 0.0, "insert_s": 0.0}
        assert s.scalar(select(func.count()).select_from(Building)) == N
        back = load_buildings(s)
    ref = generate_city(7, N)
    np.testing.assert_array_equal(back.id, ref.id)
    np.testing.assert_allclose(back.cx, ref.cx)
    np.testing.assert_allclose(back.height, ref.height, rtol=1e-6)
    np.testing.assert_array_equal(back.use, ref.use)
    np.testing.assert_array_equal(back.fp_offsets, ref.fp_offsets)
    np.testing.assert_allclose(back.fp_xy, ref.fp_xy, atol=0.05)  # float32 relative to the 1 km tile
    assert back.address_of(0) == ref.address_of(0)
    eng.dispose()


def test_seed_sqlite_roundtrip(sqlite_url: str) -> None:
    _seed_and_check(sqlite_url)


@pytest.mark.postgres
def test_seed_postgres_copy_roundtrip(pg_url: str) -> None:
    _seed_and_check(pg_url)


async def _seeded(svc: Any, n: int = N) -> None:
    await svc.ctx.db.write(lambda s: seed_buildings(s, 7, n))


async def test_buildings_get_manifest_tile_ids_radius(sqlite_url: str) -> None:
    ref = generate_city(7, N)
    async with service(sqlite_url) as svc:
        await _seeded(svc)
        async with Client.open(svc.url, "operator") as c:
            m = (await c.query("buildings.get", {}))["data"]
            assert m["total"] == N
            assert sum(m["tiles"].values()) == N
            assert len(m["version"]) == 16
            tile, count = max(m["tiles"].items(), key=lambda kv: kv[1])
            t = decode_table((await c.query("buildings.get", {"tile": tile}))["data"]["buildings"])
            assert len(t) == count
            i, j = (int(v) for v in tile.split("_"))
            assert ((t.cx // 1000 == i) & (t.cy // 1000 == j)).all()
            by_ids = decode_table((await c.query("buildings.get", {"ids": [5, 1, 99999]}))["data"]["buildings"])
            assert sorted(by_ids.id.tolist()) == [1, 5]
            r = await c.query("buildings.get", {"lon": float(ref.lon[10]), "lat": float(ref.lat[10]), "radius_m": 150})
            near = decode_table(r["data"]["buildings"])
            assert near.id[0] == 11  # the building itself, distance 0, first
            assert (np.hypot(near.cx - ref.cx[10], near.cy - ref.cy[10]) < 150 + 60).all()
            bad = await c.query("buildings.get", {"lon": 113.7})
            assert not bad["ok"]
            assert bad["error"]["code"] == "bad_args"


async def test_surroundings_command_reaches_every_hall(sqlite_url: str) -> None:
    ref = generate_city(7, N)
    async with service(sqlite_url) as svc:
        await _seeded(svc)
        lon, lat = float(ref.lon[20]), float(ref.lat[20])

        def setup(s: Session) -> int:
            st = add_resource(s, "fire", kind="fire_station", name="莞城消防站")
            st.lon, st.lat = lon + 0.01, lat
            add_resource(s, "fire", kind="water_source", name="消火栓 1")
            a = add_alert(s, "fire", level=4, building_id=int(ref.id[20]), lon=lon, lat=lat)
            return a.id

        alert_id = await svc.ctx.db.write(setup)
        async with Client.open(svc.url, "operator") as op, Client.open(svc.url, "leader") as leader:
            inc = await op.command("incident.open", {"alert_ids": [alert_id], "title": "莞城火灾"})
            incident_id = inc["data"]["incident_id"]
            r = await op.command("surroundings.query", {"incident_id": incident_id, "radius_m": 200})
            assert r["ok"], r
            data = r["data"]
            assert data["incident_id"] == incident_id
            assert data["buildings"][0]["id"] == int(ref.id[20])
            assert data["summary"]["count"] >= 1
            assert data["fire_stations"][0]["name"] == "莞城消防站"
            assert data["fire_stations"][0]["distance_m"] == pytest.approx(1025, rel=0.05)
            ev = await leader.until(lambda f: f["type"] == "events" and any(
                e["kind"] == "surroundings.result" for e in f["items"]))
            got = next(e for e in ev["items"] if e["kind"] == "surroundings.result")["data"]
            assert got["buildings"] == data["buildings"]
            point = await op.command("surroundings.query", {"lon": lon, "lat": lat, "radius_m": 100})
            assert point["data"]["incident_id"] is None
            missing = await op.command("surroundings.query", {"radius_m": 100})
            assert missing["error"]["code"] == "bad_args"


class _ClientSink:
    """A CommandSink over the test client (one request at a time on its socket)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.lock = asyncio.Lock()
        self.queries: list[dict[str, Any]] = []

    async def _q(self, name: str, args: dict[str, Any]) -> CommandResult:
        async with self.lock:
            self.queries.append(args)
            f = await self.client.query(name, args)
        if f["type"] == "error" or not f.get("ok"):
            err = f.get("error") or {}
            return CommandResult(ok=False, error_code=err.get("code", f.get("code")), error_message=err.get("message"))
        return CommandResult(ok=True, data=f["data"])

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        return asyncio.ensure_future(self._q(name, args))

    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        raise AssertionError("the loader sends no commands")


async def test_loader_fetches_tiles_then_opens_from_cache(sqlite_url: str, tmp_path: Path) -> None:
    ref = generate_city(7, N)
    async with service(sqlite_url) as svc:
        await _seeded(svc)
        async with Client.open(svc.url, "operator") as c:
            sink = _ClientSink(c)
            loader = CityLoader(sink, CityCache(tmp_path))
            assert loader.cached() == (None, None)
            table, version, status = await loader.fetch(None)
            assert status == "fetched"
            assert table is not None
            np.testing.assert_array_equal(table.id, ref.id)
            np.testing.assert_allclose(table.fp_xy, ref.fp_xy, atol=0.05)
            n_queries = len(sink.queries)
            named = [t for q in sink.queries for t in q.get("tiles", [])]
            assert len(named) == len(set(named))  # every tile asked for once...
            assert n_queries - 1 < len(named) / 2  # ...small tiles together in one query
            cached, cv = CityLoader(sink, CityCache(tmp_path)).cached()
            assert cv == version
            assert cached is not None
            assert len(cached) == N
            again, _, status2 = await loader.fetch(cv)
            assert status2 == "current"
            assert again is None
            assert len(sink.queries) == n_queries + 1  # only the manifest


async def test_dense_tiles_come_in_pages(sqlite_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    """A tile with more buildings than one answer may carry (real imports can hold more than
    MAX_ROWS per km²) is fetched page by page after the last id: nothing is left out."""
    from sync_service.cim import handlers

    monkeypatch.setattr(handlers, "MAX_ROWS", 20)
    ref = generate_city(7, N)
    async with service(sqlite_url) as svc:
        await _seeded(svc)
        async with Client.open(svc.url, "operator") as c:
            m = (await c.query("buildings.get", {}))["data"]
            from citymodel.buildings import USE_CODES
            assert m["codes"]["use"] == list(USE_CODES)  # what the integer use column means
            tile, count = max(m["tiles"].items(), key=lambda kv: kv[1])
            assert count > 40
            first = (await c.query("buildings.get", {"tile": tile}))["data"]
            assert (first["count"], first["truncated"]) == (20, True)
            page1 = decode_table(first["buildings"])
            assert first["next_after_id"] == int(page1.id[-1])
            second = decode_table((await c.query("buildings.get", {"tile": tile, "after_id": first["next_after_id"]}))
                                  ["data"]["buildings"])
            assert second.id[0] > page1.id[-1]
            sink = _ClientSink(c)
            table, _, status = await CityLoader(sink, CityCache(tmp_path)).fetch(None)
            assert status == "fetched"
            assert table is not None
            np.testing.assert_array_equal(table.id, ref.id)  # every building, once
            assert len(sink.queries) >= N // 20 + 1  # pages of 20 after the manifest


async def test_answers_stay_under_the_frame_budget(sqlite_url: str, tmp_path: Path, monkeypatch: Any) -> None:
    """Rows are cut by encoded size too (long addresses, detailed footprints), never by the
    1 MiB frame cap closing the connection; the loader still gets every building."""
    from sync_service.cim import handlers

    monkeypatch.setattr(handlers, "ANSWER_BYTES", 3_000)
    ref = generate_city(7, N)
    async with service(sqlite_url) as svc:
        await _seeded(svc)
        async with Client.open(svc.url, "operator") as c:
            m = (await c.query("buildings.get", {}))["data"]
            tile, count = max(m["tiles"].items(), key=lambda kv: kv[1])
            first = (await c.query("buildings.get", {"tiles": [tile]}))["data"]
            assert first["truncated"]
            assert 0 < first["count"] < count
            assert handlers._encoded_size(first["buildings"]) <= 3_000
            table, _, status = await CityLoader(_ClientSink(c), CityCache(tmp_path)).fetch(None)
            assert status == "fetched"
            assert table is not None
            np.testing.assert_array_equal(table.id, ref.id)
