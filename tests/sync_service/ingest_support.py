"""Shared set-up for the ingest/alerts/metrics tests: a real store (SQLite file or PostgreSQL)
seeded with the real towns, the catalogue's domains, types and rules, a few devices with
known keys, and the service components started the way sync_service.service starts them."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from protocol.frames import Event
from sync_service import alerts as alerts_pkg
from sync_service import ingest as ingest_pkg
from sync_service import metrics as metrics_pkg
from sync_service.catalog import DEVICE_TYPES, DOMAINS
from sync_service.commands.registry import Actor, CommandContext
from sync_service.config import ServiceConfig
from sync_service.context import ServiceContext
from sync_service.db import models as m
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.eventlog import NewEvent
from sync_service.seed import seed_reference

SECRET = b"test-provisioning"


def device_key(uid: str) -> str:
    return hmac.new(SECRET, f"device:{uid}".encode(), hashlib.sha256).hexdigest()[:32]


def bureau_key(domain: str) -> str:
    return hmac.new(SECRET, f"bureau:{domain}".encode(), hashlib.sha256).hexdigest()[:32]


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# uid -> (type, town, building, lon, lat)
DEVICES: dict[str, tuple[str, str, int | None, float, float]] = {
    "WL-1": ("water_level", "hongmei", None, 113.61, 23.00),
    "WL-2": ("water_level", "hongmei", None, 113.62, 23.01),
    "RG-1": ("rain_gauge", "humen", None, 113.67, 22.82),
    "SD-1": ("smoke_detector", "nancheng", 5001, 113.74, 23.01),
    "SD-2": ("smoke_detector", "nancheng", 5001, 113.74, 23.01),
    "FD-1": ("fire_detector", "nancheng", 5001, 113.74, 23.01),
    "GP-1": ("gas_pressure", "dongcheng", None, 113.78, 23.03),
    "AQ-1": ("air_station", "songshanhu", None, 113.89, 22.93),
    "AQ-2": ("air_station", "dalingshan", None, 113.84, 22.90),
    "SA-1": ("school_alarm", "changan", 7001, 113.80, 22.81),
}


def seed(s: Session, devices: dict[str, tuple[str, str, int | None, float, float]] | None = None) -> None:
    """The core's reference seed (towns, domains, types, default rules), then our devices, one
    bureau credential per domain and a user."""
    now = time.time()
    seed_reference(s)
    types = {t.code: t for t in DEVICE_TYPES}
    for uid, (typ, town, bld, lon, lat) in (DEVICES if devices is None else devices).items():
        s.add(m.Device(uid=uid, device_type=typ, domain=types[typ].domain, town=town, lon=lon, lat=lat,
                       building_id=bld, name=uid, credential_hash=sha(device_key(uid)), revoked=False,
                       health="offline", last_ts=None, last_values={}))
    for code, _, _ in DOMAINS:
        s.add(m.BureauCredential(domain=code, name=f"{code}-gateway", key_hash=sha(bureau_key(code)),
                                 revoked=False, created_ts=now))
    s.add(m.User(username="op", display_name="Operator", password_hash="x", role="operator", domains=None,
                 disabled=False, created_ts=now))


def make_context(url: str, **overrides: Any) -> ServiceContext:
    engine = make_engine(url)
    migrate(engine)
    db = Database(engine, origin="test")
    cfg = ServiceConfig(db_url=url, http_port=0, mqtt_prefix=f"t{uuid.uuid4().hex[:10]}/ioc/v1",
                        mqtt_enabled=False, escalate_after_s=300.0)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return ServiceContext(config=cfg, db=db, server_id="test")


@dataclass
class Running:
    ctx: ServiceContext
    components: list[Any]
    events: list[Event]

    @property
    def c(self) -> dict[str, Any]:
        return self.ctx.components

    def kinds(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def actor_ctx(self, username: str = "op", role: str = "operator", domains: frozenset[str] | None = None) -> CommandContext:
        return CommandContext(actor=Actor(username, role, domains), services=self.ctx.components)

    async def command(self, fn: Callable[..., tuple[dict, list[NewEvent]]], args: Any, cctx: CommandContext | None = None) -> dict:
        cctx = cctx or self.actor_ctx()
        result, _ = await self.ctx.db.write_events(lambda s: fn(s, cctx, args))
        return result

    async def settle(self) -> None:
        """Everything accepted so far is written: readings, alert changes, device state."""
        await self.c["ingest"].flush()
        await self.c["alerts"].drain()
        await self.c["ingest"].flush_state(audit=True)


@asynccontextmanager
async def running(url: str, *, seed_fn: Callable[[Session], None] = seed, metrics: bool = False,
                  **overrides: Any) -> AsyncIterator[Running]:
    """Seed a store, build the components in the order the service does, start, yield, stop."""
    ctx = make_context(url, **overrides)
    ctx.db.run_sync(seed_fn)
    events: list[Event] = []
    ctx.db.on_commit(events.extend)
    comps = ingest_pkg.build_components(ctx) + alerts_pkg.build_components(ctx)
    if metrics:
        comps += metrics_pkg.build_components(ctx)
    started = []
    try:
        for c in comps:
            await c.start()
            started.append(c)
        yield Running(ctx, comps, events)
    finally:
        for c in reversed(started):
            await c.stop()
        ctx.db.close()
