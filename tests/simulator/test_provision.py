"""Provisioning the simulated city into the store (SQLite and the real PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simulator.city import City
from simulator.keys import bureau_key, device_key, key_hash
from simulator.provision import ProvisionError, provision
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import BureauCredential, Device, KeyUnit, Plan, Resource
from sync_service.seed import seed_reference

SECRET = "test-secret"


def _store(url: str) -> Session:
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as s, s.begin():
        seed_reference(s)
    return Session(engine)


def _check(url: str, city: City) -> None:
    with _store(url) as s:
        with s.begin():
            added = provision(s, city, SECRET)
        assert added == {"devices": len(city.devices), "bureau_credentials": 10, "resources": len(city.resources),
                         "key_units": len(city.key_units), "plans": len(city.key_units)}
        d = city.devices
        for i in (0, len(d) // 2, len(d) - 1):
            row = s.scalar(select(Device).where(Device.uid == d.uid[i]))
            assert row is not None
            assert row.credential_hash == key_hash(device_key(SECRET, d.uid[i]))
            assert row.town == city.towns[int(d.town[i])].code
            assert row.device_type == city.device_type(i)
            assert row.domain == city.domain(i)
            assert row.lon == pytest.approx(d.lon[i], abs=1e-6)
        creds = {c.domain: c.key_hash for c in s.scalars(select(BureauCredential))}
        assert creds["water"] == key_hash(bureau_key(SECRET, "water"))
        assert len(creds) == 10
        # resources keep the simulator's ids (positions are posted by id)
        for r in (city.resources[0], city.resources[-1]):
            row = s.get(Resource, r.id)
            assert row is not None
            assert (row.name, row.kind, row.domain) == (r.name, r.kind, r.domain)
        ku = s.scalar(select(KeyUnit).where(KeyUnit.qr == city.key_units[0].qr))
        assert ku is not None
        plan = s.scalar(select(Plan).where(Plan.key_unit_id == ku.id))
        assert plan is not None
        assert plan.body == city.key_units[0].plan_body
        s.rollback()  # end the reads' implicit transaction
        # idempotent: a second run adds nothing
        with s.begin():
            assert set(provision(s, city, SECRET).values()) == {0}
        assert s.scalar(select(func.count()).select_from(Device)) == len(city.devices)
        s.rollback()
        # new rows after explicit ids still get fresh ids (PostgreSQL sequences moved on)
        with s.begin():
            r = Resource(kind="shelter", name="新增避难场所", domain="emergency", town="nancheng", lon=113.7,
                         lat=23.0, status="available", detail={}, updated_ts=0.0)
            s.add(r)
            k = KeyUnit(name="新增重点单位", town="nancheng", lon=113.7, lat=23.0, key_parts=[], qr="new")
            s.add(k)
            s.flush()
            assert r.id > len(city.resources)
            assert k.id > len(city.key_units)


def test_provision_into_sqlite(sqlite_url: str, city: City) -> None:
    _check(sqlite_url, city)


@pytest.mark.postgres
def test_provision_into_postgresql(pg_url: str, city: City) -> None:
    _check(pg_url, city)


def test_provision_needs_reference_data_and_refuses_id_clashes(sqlite_url: str, city: City) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    with Session(engine) as s, pytest.raises(ProvisionError, match="seed the reference data"), s.begin():
        provision(s, city, SECRET)
    with Session(engine) as s, s.begin():
        seed_reference(s)
        s.add(Resource(id=5, kind="shelter", name="someone else's", domain="emergency", town="nancheng",
                       lon=113.7, lat=23.0, status="available", detail={}, updated_ts=0.0))
    with Session(engine) as s, pytest.raises(ProvisionError, match="resource ids"), s.begin():
        provision(s, city, SECRET)
