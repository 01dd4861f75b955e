"""Entities as they travel in snapshots, events and query results.

Event data for "<entity>.upsert" kinds is the entity's full current form (model_dump(mode="json")),
so a client applies an event by replacing its copy. Times are unix seconds (UTC) as floats.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from protocol.enums import (
    AlertSource,
    AlertState,
    IncidentState,
    ResourceKind,
    ResourceStatus,
    SilenceScope,
    TaskState,
)


class _Entity(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Town(_Entity):
    code: str
    name_zh: str
    name_en: str
    kind: str  # street | town | zone
    population: int
    lon: float  # a representative point inside the town
    lat: float


class Domain(_Entity):
    """A bureau: the unit of data ownership (分权分域)."""

    code: str
    name_zh: str
    name_en: str


class MetricSpec(_Entity):
    name: str
    unit: str
    min: float  # physical range; readings outside are rejected as out_of_range
    max: float
    name_zh: str = ""
    name_en: str = ""


class DeviceType(_Entity):
    code: str
    domain: str
    name_zh: str
    name_en: str
    metrics: list[MetricSpec]
    period_s: int  # nominal reporting period


class Note(_Entity):
    by: str
    ts: float
    text: str


class Alert(_Entity):
    id: int
    source: AlertSource
    level: int  # protocol.enums.Level
    state: AlertState
    domain: str
    town: str | None = None
    title: str  # Chinese, as operators see it
    title_en: str = ""
    message: str = ""
    device_id: str | None = None
    device_type: str | None = None
    building_id: int | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    lon: float | None = None
    lat: float | None = None
    rule_id: int | None = None
    group_key: str = ""  # alerts sharing a building/area group into one incident candidate
    first_ts: float
    last_ts: float
    count: int = 1  # times the same source raised it while open (deduplication)
    acknowledged_by: str | None = None
    acknowledged_ts: float | None = None
    assignee: str | None = None
    incident_id: int | None = None
    escalations: int = 0
    silenced: bool = False  # raised while a silence covered it: stored, not announced
    notes: list[Note] = Field(default_factory=list)
    external_id: str | None = None  # CAP identifier or platform case number
    updated_ts: float
    updated_by: str | None = None


class Incident(_Entity):
    id: int
    title: str
    level: int
    state: IncidentState
    domain: str
    town: str | None = None
    lon: float | None = None
    lat: float | None = None
    building_id: int | None = None
    alert_ids: list[int] = Field(default_factory=list)
    summary: str = ""
    commander: str | None = None
    created_ts: float
    created_by: str
    updated_ts: float
    notes: list[Note] = Field(default_factory=list)


class Task(_Entity):
    """A dispatch or task. requires_approval tasks wait in PROPOSED for a leader."""

    id: int
    incident_id: int | None = None
    alert_id: int | None = None
    title: str
    description: str = ""
    domain: str
    state: TaskState
    requires_approval: bool = False
    resource_ids: list[int] = Field(default_factory=list)
    assignee: str | None = None
    created_by: str
    created_ts: float
    decided_by: str | None = None
    decided_ts: float | None = None
    updated_ts: float
    due_ts: float | None = None


class Resource(_Entity):
    id: int
    kind: ResourceKind
    name: str
    domain: str
    town: str | None = None
    lon: float
    lat: float
    status: ResourceStatus = ResourceStatus.AVAILABLE
    capacity: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    updated_ts: float


class Silence(_Entity):
    id: int
    scope: SilenceScope
    target: str
    starts_ts: float
    ends_ts: float
    reason: str
    created_by: str
    created_ts: float
    cancelled: bool = False
    domain: str | None = None


class AlertRule(_Entity):
    """Thresholds per device type and metric. thresholds maps level (1-4, as strings in JSON)
    to the value that raises it; direction "above" or "below"."""

    id: int
    device_type: str
    metric: str
    direction: str = "above"
    thresholds: dict[int, float] = Field(default_factory=dict)
    hysteresis: float = 0.0
    min_duration_s: float = 0.0
    rate_per_min: float | None = None  # |change| per minute that raises rate_level
    rate_level: int = 2
    offline_periods: int | None = None  # no data for N nominal periods raises offline_level
    offline_level: int = 1
    enabled: bool = True
    title_zh: str = ""
    title_en: str = ""
    updated_ts: float = 0.0


class DeviceStat(_Entity):
    """Device health counts for one (domain, type, town)."""

    domain: str
    device_type: str
    town: str
    total: int
    online: int
    offline: int
    faulty: int


class Device(_Entity):
    id: str
    device_type: str
    domain: str
    town: str
    lon: float
    lat: float
    building_id: int | None = None
    name: str = ""
    health: str  # DeviceHealth
    revoked: bool = False
    last_ts: float | None = None
    last_values: dict[str, float] = Field(default_factory=dict)


class KeyUnit(_Entity):
    """六熟悉 key unit of the fire brigade."""

    id: int
    name: str
    town: str
    address: str = ""
    category: str = ""
    building_id: int | None = None
    lon: float
    lat: float
    key_parts: list[str] = Field(default_factory=list)
    contact: str = ""
    qr: str = ""  # the 码上六熟悉 code payload


class Plan(_Entity):
    id: int
    key_unit_id: int | None = None
    title: str
    body: str
    version: int = 1
    level: str = "station"  # who commands it: corps 总队级, detachment 支队级, brigade 大队级, station 站级
    updated_ts: float


class Focus(_Entity):
    incident_id: int | None
    by: str
    hall: str | None = None
    ts: float
    # as a session outside the incident's domain gets it: the focus moved to an incident it may
    # not see (incident_id null; sync_service/server/scope.py)
    elsewhere: bool = False
