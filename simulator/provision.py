"""Provision the simulated city into the store: devices (with sha256 of their device keys), one
bureau credential per domain, resources, key units and their plans.

    provision(session, city, secret) -> {"devices": 100000, "bureau_credentials": 10, ...}

Towns, domains and device types must be there already (sync_service.seed.seed_reference).
Bulk inserts (executemany through SQLAlchemy Core), so 100,000 devices take seconds. Idempotent:
what is already provisioned (same uid, same key hash, same resource id and name, same key-unit QR)
is left alone, so it can run on every start with --simulate.

Resources get the fixed ids of simulator.assets (1..N), because the running simulator posts
vehicle positions by resource id without asking the service; an id taken by something else is
a ProvisionError, never a silent mix-up.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from simulator.city import City
from simulator.devices import TYPE_CODES
from simulator.keys import bureau_key, device_key, key_hash
from sync_service.catalog import DEVICE_TYPES
from sync_service.db.models import (
    BureauCredential,
    Device,
    DeviceType,
    Domain,
    KeyUnit,
    Plan,
    Resource,
    Town,
)

CHUNK = 10_000


class ProvisionError(RuntimeError):
    """The store cannot take the simulated city as it is (missing reference data, id clash)."""


def _missing_reference(s: Session, city: City) -> list[str]:
    problems = []
    towns = set(s.scalars(select(Town.code)))
    if missing := {t.code for t in city.towns} - towns:
        problems.append(f"towns {sorted(missing)}")
    if missing := {t.domain for t in DEVICE_TYPES} - set(s.scalars(select(Domain.code))):
        problems.append(f"domains {sorted(missing)}")
    if missing := set(TYPE_CODES) - set(s.scalars(select(DeviceType.code))):
        problems.append(f"device types {sorted(missing)}")
    return problems


def provision(session: Session, city: City, secret: str) -> dict[str, int]:
    """Insert what is missing of the simulated city; returns the number of rows added per table.
    The caller commits (the session's transaction)."""
    if problems := _missing_reference(session, city):
        raise ProvisionError("seed the reference data first (sync_service.seed.seed_reference): missing "
                             + "; ".join(problems))
    now = time.time()
    return {
        "devices": _devices(session, city, secret),
        "bureau_credentials": _bureaus(session, city, secret, now),
        "resources": _resources(session, city, now),
        **_key_units(session, city, now),
    }


def _insert(s: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany on the session's connection (the ORM bulk path costs 3x more here)."""
    conn = s.connection()
    for i in range(0, len(rows), CHUNK):
        conn.execute(insert(model.__table__), rows[i:i + CHUNK])


def _devices(s: Session, city: City, secret: str) -> int:
    d = city.devices
    have = set(s.scalars(select(Device.uid)))
    rows = []
    town_codes = [t.code for t in city.towns]
    for i, uid in enumerate(d.uid):
        if uid in have:
            continue
        ti = int(d.type_idx[i])
        bid = int(d.building_id[i])
        rows.append({"uid": uid, "device_type": TYPE_CODES[ti], "domain": DEVICE_TYPES[ti].domain,
                     "town": town_codes[int(d.town[i])], "lon": round(float(d.lon[i]), 7),
                     "lat": round(float(d.lat[i]), 7), "building_id": bid if bid >= 0 else None,
                     "name": d.name[i], "credential_hash": key_hash(device_key(secret, uid)), "revoked": False,
                     "health": "offline", "last_ts": None, "last_values": {}})
    _insert(s, Device, rows)
    return len(rows)


def _bureaus(s: Session, city: City, secret: str, now: float) -> int:
    have = set(s.scalars(select(BureauCredential.key_hash)))
    rows = []
    for domain in sorted(set(s.scalars(select(Domain.code)))):
        h = key_hash(bureau_key(secret, domain))
        if h not in have:
            rows.append({"domain": domain, "name": f"sim-{domain}-gateway", "key_hash": h, "revoked": False,
                         "created_ts": now})
    _insert(s, BureauCredential, rows)
    return len(rows)


def _resources(s: Session, city: City, now: float) -> int:
    ids = [r.id for r in city.resources]
    have = dict(s.execute(select(Resource.id, Resource.name).where(Resource.id.between(min(ids), max(ids)))).all())
    clash = [r.id for r in city.resources if r.id in have and have[r.id] != r.name]
    if clash:
        raise ProvisionError(f"resource ids {clash[:5]} (and {max(0, len(clash) - 5)} more) are taken by other "
                             "resources; the simulator needs ids 1..%d" % len(ids))
    rows = [{"id": r.id, "kind": r.kind, "name": r.name, "domain": r.domain, "town": r.town, "lon": r.lon,
             "lat": r.lat, "status": r.status, "capacity": r.capacity, "detail": r.detail, "updated_ts": now}
            for r in city.resources if r.id not in have]
    _insert(s, Resource, rows)
    if rows:
        _bump_sequence(s, "resources", "id")
    return len(rows)


def _key_units(s: Session, city: City, now: float) -> dict[str, int]:
    have = set(s.scalars(select(KeyUnit.qr)))
    todo = [k for k in city.key_units if k.qr not in have]
    if not todo:
        return {"key_units": 0, "plans": 0}
    base = int(s.scalar(select(func.coalesce(func.max(KeyUnit.id), 0))) or 0)
    plan_base = int(s.scalar(select(func.coalesce(func.max(Plan.id), 0))) or 0)
    units, plans = [], []
    for j, k in enumerate(todo):
        kid = base + j + 1
        units.append({"id": kid, "name": k.name, "town": k.town, "address": k.address, "category": k.category,
                      "building_id": k.building_id, "lon": k.lon, "lat": k.lat, "key_parts": k.key_parts,
                      "contact": k.contact, "qr": k.qr})
        plans.append({"id": plan_base + j + 1, "key_unit_id": kid, "title": k.plan_title, "body": k.plan_body,
                      "version": 1, "level": k.plan_level, "updated_ts": now})
    _insert(s, KeyUnit, units)
    _insert(s, Plan, plans)
    _bump_sequence(s, "key_units", "id")
    _bump_sequence(s, "plans", "id")
    # the CIM's key-unit flags follow the records, and every unit gets its site plan
    from sync_service.cim.keyunits import refresh_key_units

    refresh_key_units(s, now=now)
    return {"key_units": len(units), "plans": len(plans)}


def _bump_sequence(s: Session, table: str, column: str) -> None:
    """PostgreSQL: after explicit ids, move the id sequence past them (SQLite needs nothing:
    it continues from the largest rowid)."""
    if s.get_bind().dialect.name != "postgresql":
        return
    s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                   f"(SELECT COALESCE(MAX({column}), 1) FROM {table}))"))
