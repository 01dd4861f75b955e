"""Typed SQLAlchemy 2.0 ORM model of the IOC store. Same code on SQLite and PostgreSQL.

Schema changes need an Alembic revision: `make migration m="what changed"`.
Times are unix seconds (float, UTC) everywhere, as on the wire.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an "INTEGER PRIMARY KEY"; PostgreSQL wants BIGINT for the log.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# ---- reference data ------------------------------------------------------------------------

class Town(Base):
    __tablename__ = "towns"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[int] = mapped_column(Integer)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON, WGS84


class Domain(Base):
    __tablename__ = "domains"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))


class DeviceType(Base):
    __tablename__ = "device_types"
    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    domain: Mapped[str] = mapped_column(ForeignKey("domains.code"))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[list[Any]] = mapped_column(JSON)  # [protocol.entities.MetricSpec]
    period_s: Mapped[int] = mapped_column(Integer)


# ---- devices and readings ------------------------------------------------------------------

class Device(Base):
    __tablename__ = "devices"
    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)  # the id devices report with
    device_type: Mapped[str] = mapped_column(ForeignKey("device_types.code"), index=True)
    domain: Mapped[str] = mapped_column(ForeignKey("domains.code"), index=True)
    town: Mapped[str] = mapped_column(ForeignKey("towns.code"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    building_id: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    credential_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the device key
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    health: Mapped[str] = mapped_column(String(16), default="offline")
    last_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Service wall clock of the newest reading any process accepted (or the start of its offline
    # window): every process writes it for its devices; the leader merges it (alerts/offline.py).
    seen_ts: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)


class Reading(Base):
    """Raw time series; pruned after the raw retention, summarised into ReadingHourly."""

    __tablename__ = "readings"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    device_pk: Mapped[int] = mapped_column(BigInteger)
    metric: Mapped[str] = mapped_column(String(32))
    ts: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    quality: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 good, 1 flagged (stuck...)
    __table_args__ = (Index("ix_readings_device_metric_ts", "device_pk", "metric", "ts"),
                      Index("ix_readings_ts", "ts"))


class ReadingHourly(Base):
    __tablename__ = "readings_hourly"
    device_pk: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour_ts: Mapped[float] = mapped_column(Float, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    vmin: Mapped[float] = mapped_column(Float)
    vmax: Mapped[float] = mapped_column(Float)
    vsum: Mapped[float] = mapped_column(Float)


class BureauCredential(Base):
    """Level-2 (bureau) ingest credential: may write readings for its own domain's devices."""

    __tablename__ = "bureau_credentials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(ForeignKey("domains.code"))
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ts: Mapped[float] = mapped_column(Float)


class DataQualityCount(Base):
    __tablename__ = "dq_counts"
    domain: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" when unknown
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_ts: Mapped[float] = mapped_column(Float, default=0.0)


# ---- alerts, incidents, tasks, resources ---------------------------------------------------

class AlertRule(Base):
    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_type: Mapped[str] = mapped_column(ForeignKey("device_types.code"), index=True)
    metric: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8), default="above")
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"1": v, ...}
    hysteresis: Mapped[float] = mapped_column(Float, default=0.0)
    min_duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    rate_per_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    rate_level: Mapped[int] = mapped_column(SmallInteger, default=2)
    offline_periods: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offline_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    updated_ts: Mapped[float] = mapped_column(Float, default=0.0)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    domain: Mapped[str] = mapped_column(String(32), index=True)
    town: Mapped[str | None] = mapped_column(String(32), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    device_type: Mapped[str | None] = mapped_column(String(48), nullable=True)
    building_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    metric: Mapped[str | None] = mapped_column(String(32), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dedup_key: Mapped[str] = mapped_column(String(160))  # same source while not closed: see below
    group_key: Mapped[str] = mapped_column(String(160), default="")
    first_ts: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    escalations: Mapped[int] = mapped_column(SmallInteger, default=0)
    silenced: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cap_xml: Mapped[str | None] = mapped_column(Text, nullable=True)  # original, for CAP imports
    updated_ts: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # One not-closed alert per source, whichever process raises it (writers merge on conflict:
    # alerts/store.py). Also the index the live-alert lookups (dedup_key IN .. AND not closed) use.
    __table_args__ = (Index("uq_alerts_dedup_open", "dedup_key", unique=True,
                            sqlite_where=text("state != 'closed'"), postgresql_where=text("state != 'closed'")),)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    domain: Mapped[str] = mapped_column(String(32))
    town: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    building_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    alert_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    commander: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_ts: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_ts: Mapped[float] = mapped_column(Float)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    alert_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    resource_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ts: Mapped[float] = mapped_column(Float)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_ts: Mapped[float] = mapped_column(Float)
    due_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


class Resource(Base):
    __tablename__ = "resources"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    domain: Mapped[str] = mapped_column(String(32))
    town: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="available")
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_ts: Mapped[float] = mapped_column(Float)


class Silence(Base):
    __tablename__ = "silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(128))
    starts_ts: Mapped[float] = mapped_column(Float)
    ends_ts: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_ts: Mapped[float] = mapped_column(Float)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    domain: Mapped[str | None] = mapped_column(String(32), nullable=True)


# ---- fire brigade: key units and plans (六熟悉) ----------------------------------------------

class KeyUnit(Base):
    __tablename__ = "key_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    building_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    key_parts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    contact: Mapped[str] = mapped_column(String(200), default="")
    qr: Mapped[str] = mapped_column(String(200), default="")


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_unit_id: Mapped[int | None] = mapped_column(ForeignKey("key_units.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # who commands it (灭火救援预案分级): corps 总队级, detachment 支队级, brigade 大队级, station 站级
    level: Mapped[str] = mapped_column(String(16), default="station", server_default="station")
    updated_ts: Mapped[float] = mapped_column(Float)


class SitePlan(Base):
    """A key unit's site plan (总平面图) as a layout in metres around the unit: its buildings,
    its neighbours, water sources, entrances, the fire-engine staging area (sync_service.cim.siteplan)."""

    __tablename__ = "site_plans"
    key_unit_id: Mapped[int] = mapped_column(ForeignKey("key_units.id"), primary_key=True)
    layout: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="generated")  # generated | surveyed
    updated_ts: Mapped[float] = mapped_column(Float)


# ---- CIM buildings ----------------------------------------------------------------------------

class Building(Base):
    """A CIM building. Footprint: float32 little-endian x,y pairs in EPSG:4547 metres minus the
    tile origin (see citymodel), outer ring only, counter-clockwise, not closed."""

    __tablename__ = "buildings"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tile: Mapped[str] = mapped_column(String(16), index=True)
    town: Mapped[str] = mapped_column(String(32), index=True)
    cx: Mapped[float] = mapped_column(Float)  # centroid, EPSG:4547 metres
    cy: Mapped[float] = mapped_column(Float)
    footprint: Mapped[bytes] = mapped_column(LargeBinary)
    height: Mapped[float] = mapped_column(Float)
    floors: Mapped[int] = mapped_column(SmallInteger)
    structure: Mapped[str] = mapped_column(String(24))
    use: Mapped[str] = mapped_column(String(24))
    year: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    area_m2: Mapped[float] = mapped_column(Float)
    key_unit: Mapped[bool] = mapped_column(Boolean, default=False)


class CimState(Base):
    """Counters of the CIM. "buildings": the revision of the buildings table, raised by every
    write (store_buildings, and database triggers on UPDATE/DELETE of buildings, migration 0003):
    the manifest's version includes it, so a console's cache of an edited city is never reused."""

    __tablename__ = "cim_state"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# ---- people, sessions, audit -------------------------------------------------------------------

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))  # scrypt$n$r$p$salt$hash
    role: Mapped[str] = mapped_column(String(32))
    domains: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # None = all
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ts: Mapped[float] = mapped_column(Float)


class SessionToken(Base):
    __tablename__ = "session_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_ts: Mapped[float] = mapped_column(Float)
    expires_ts: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # username, "device:<uid>", "system"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)


# ---- the event log and command dedup -----------------------------------------------------------

class EventRecord(Base):
    """Append-only. seq is global and monotonically increasing in commit order (see eventlog)."""

    __tablename__ = "events"
    # Replay and queries by kind (a client's scoped replay, the last devices.stats, audit views)
    # scan (kind, seq) instead of the whole log. Migration 0002 adds it to older stores.
    __table_args__ = (Index("ix_events_kind_seq", "kind", "seq"),)
    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ts: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(48))
    domain: Mapped[str | None] = mapped_column(String(32), nullable=True)
    town: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(64), default="")  # server id that wrote it
    command_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CommandRecord(Base):
    """Applied commands by client id: a repeated id returns this stored result (exactly once)."""

    __tablename__ = "commands"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    ok: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ts: Mapped[float] = mapped_column(Float)
