"""Secrets at rest: the key device.register generates is shown once to the caller and stored
nowhere (command table, audit log, events, any table, the database files, the service's log);
a retried command id gets the result with the key redacted. user.create passwords likewise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_service.db.models import Base, CommandRecord
from tests.sync_service.server_helpers import ADMIN_PASSWORD, Client, cid, service


def _all_rows(s: Session) -> str:
    """Every row of every table as text: where a secret at rest would show up."""
    out = []
    for table in Base.metadata.sorted_tables:
        out.extend(repr(tuple(row)) for row in s.execute(select(table)))
    return "\n".join(out)


def _db_bytes(sqlite_url: str) -> bytes:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the db, -wal, -shm


async def test_device_key_shown_once_never_stored(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    same = cid()
    args = {"device_id": "SD-NEW-1", "device_type": "smoke_detector", "town": "nancheng",
            "lon": 113.75, "lat": 23.02, "name": "新烟感"}
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as admin:
        first = await admin.command("device.register", args, id=same)
        assert first["ok"], first
        key = first["data"]["key"]
        assert len(key) == 32
        assert first["data"]["domain"] == "fire"
        assert "key_redacted" not in first["data"]
        # the retry (a resend after a lost connection) gets the stored result: no key, a marker
        again = await admin.command("device.register", args, id=same)
        assert again["ok"]
        assert again["duplicate"]
        assert "key" not in again["data"]
        assert again["data"] == {"device_id": "SD-NEW-1", "domain": "fire", "key_redacted": True}
        rec = await svc.ctx.db.read(lambda s: s.get(CommandRecord, same))
        assert rec.result["data"] == {"device_id": "SD-NEW-1", "domain": "fire", "key_redacted": True}
        rows = await svc.ctx.db.read(_all_rows)
        assert "SD-NEW-1" in rows  # the scan does see the device and the command
        assert key not in rows
    assert key.encode() not in _db_bytes(sqlite_url)
    assert key not in caplog.text


async def test_user_create_password_never_stored(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    password = "Pw-for-new-user-7Q2x"
    same = cid()
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as admin:
        args = {"username": "water2", "password": password, "role": "bureau_operator", "domains": ["water"]}
        r = await admin.command("user.create", args, id=same)
        assert r["ok"], r
        again = await admin.command("user.create", args, id=same)
        assert again["duplicate"]
        assert again["data"] == r["data"]
        assert password not in str(r)
        rec = await svc.ctx.db.read(lambda s: s.get(CommandRecord, same))
        assert rec.args["password"] == "***"
        rows = await svc.ctx.db.read(_all_rows)
        assert "water2" in rows
        assert password not in rows
        async with Client.open(svc.url, "water2", password) as w:  # the account works
            assert w.welcome["domains"] == ["water"]
    assert password.encode() not in _db_bytes(sqlite_url)
    assert password not in caplog.text
