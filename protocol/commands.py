"""Commands (state changes) and queries (reads): names, argument schemas, who may send them.

A command's args are validated against its model here, on both sides: the console greys out
what a role may not do, the service refuses it with ErrorCode.FORBIDDEN.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol.enums import ErrorCode, Level, ResourceStatus, Role, SilenceScope, TaskState
from protocol.frames import ProtocolError


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- alerts -------------------------------------------------------------------------------

class AlertRef(_Args):
    alert_id: int


class AlertAck(AlertRef):
    note: str = Field(default="", max_length=2000)


class AlertNote(AlertRef):
    text: str = Field(min_length=1, max_length=2000)


class AlertAssign(AlertRef):
    assignee: str = Field(min_length=1, max_length=64)


class AlertEscalate(AlertRef):
    reason: str = Field(default="", max_length=2000)


class AlertRaise(_Args):
    """Manual alert by an operator (e.g. a phone report)."""

    level: Level
    domain: str
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=4000)
    town: str | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    building_id: int | None = None


# ---- incidents, focus, tasks ------------------------------------------------------------

class IncidentOpen(_Args):
    alert_ids: list[int] = Field(min_length=1, max_length=1000)
    title: str | None = Field(default=None, max_length=200)


class IncidentUpdate(_Args):
    incident_id: int
    state: str | None = None  # IncidentState
    level: Level | None = None
    summary: str | None = Field(default=None, max_length=4000)
    commander: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    add_alert_ids: list[int] = Field(default_factory=list, max_length=1000)


class FocusSet(_Args):
    incident_id: int | None  # None clears the focus


class TaskCreate(_Args):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    incident_id: int | None = None
    alert_id: int | None = None
    domain: str | None = None  # defaults to the incident's or alert's domain
    resource_ids: list[int] = Field(default_factory=list, max_length=100)
    requires_approval: bool = False
    assignee: str | None = None


class TaskDecide(_Args):
    task_id: int
    approve: bool
    comment: str = Field(default="", max_length=2000)


class TaskUpdate(_Args):
    task_id: int
    state: TaskState


class ResourceUpdate(_Args):
    resource_id: int
    status: ResourceStatus | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


# ---- silences, rules, devices, admin ----------------------------------------------------

class SilenceCreate(_Args):
    scope: SilenceScope
    target: str = Field(min_length=1, max_length=128)
    starts_ts: float | None = None  # default now
    ends_ts: float
    reason: str = Field(min_length=1, max_length=500)


class SilenceCancel(_Args):
    silence_id: int


class RuleUpsert(_Args):
    id: int | None = None
    device_type: str
    metric: str
    direction: str = Field(default="above", pattern="^(above|below)$")
    thresholds: dict[int, float] = Field(default_factory=dict)
    hysteresis: float = Field(default=0.0, ge=0)
    min_duration_s: float = Field(default=0.0, ge=0)
    rate_per_min: float | None = Field(default=None, gt=0)
    rate_level: Level = Level.YELLOW
    offline_periods: int | None = Field(default=None, ge=1)
    offline_level: Level = Level.BLUE
    enabled: bool = True
    title_zh: str = Field(default="", max_length=200)
    title_en: str = Field(default="", max_length=200)


class RuleDelete(_Args):
    id: int


class DeviceRevoke(_Args):
    device_id: str


class DeviceRegister(_Args):
    device_id: str = Field(min_length=1, max_length=64)
    device_type: str
    town: str
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    building_id: int | None = None
    name: str = ""


_USERNAME = r"^[A-Za-z0-9_.\-]+$"


class UserCreate(_Args):
    username: str = Field(min_length=1, max_length=64, pattern=_USERNAME)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    domains: list[str] | None = None
    display_name: str = ""


class UserRef(_Args):
    username: str = Field(min_length=1, max_length=64, pattern=_USERNAME)


class UserDisable(UserRef):
    reason: str = Field(default="", max_length=500)


class UserSetRole(UserRef):
    """Role and domain scope together (domains null = every domain; required for bureau
    operators). The user's sessions end: the new scope applies from their next login."""

    role: Role
    domains: list[str] | None = Field(default=None, max_length=64)


class UserResetPassword(UserRef):
    new_password: str = Field(min_length=8, max_length=256)


class UserChangePassword(_Args):
    """The sender's own password; the old one must be given."""

    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class BureauKeyCreate(_Args):
    domain: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)


class BureauKeyRevoke(_Args):
    credential_id: int


class SurroundingsQuery(_Args):
    """Buildings within radius of an incident or point, nearest water sources and stations.
    A command (not a query) so the answer is an event every hall receives."""

    incident_id: int | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    radius_m: float = Field(default=300.0, gt=0, le=5000)


class ScenarioStart(_Args):
    name: str
    speed: float = Field(default=1.0, ge=1, le=60)


COMMANDS: dict[str, type[_Args]] = {
    "alert.ack": AlertAck,
    "alert.dispatch": AlertRef,
    "alert.resolve": AlertRef,
    "alert.close": AlertRef,
    "alert.reopen": AlertRef,
    "alert.note": AlertNote,
    "alert.assign": AlertAssign,
    "alert.escalate": AlertEscalate,
    "alert.raise": AlertRaise,
    "incident.open": IncidentOpen,
    "incident.update": IncidentUpdate,
    "focus.set": FocusSet,
    "task.create": TaskCreate,
    "task.decide": TaskDecide,
    "task.update": TaskUpdate,
    "resource.update": ResourceUpdate,
    "silence.create": SilenceCreate,
    "silence.cancel": SilenceCancel,
    "rule.upsert": RuleUpsert,
    "rule.delete": RuleDelete,
    "device.register": DeviceRegister,
    "device.revoke": DeviceRevoke,
    "user.create": UserCreate,
    "user.disable": UserDisable,
    "user.enable": UserRef,
    "user.set_role": UserSetRole,
    "user.reset_password": UserResetPassword,
    "user.change_password": UserChangePassword,
    "bureau_key.create": BureauKeyCreate,
    "bureau_key.revoke": BureauKeyRevoke,
    "surroundings.query": SurroundingsQuery,
    "scenario.start": ScenarioStart,
}

_OPS = {
    "alert.ack", "alert.dispatch", "alert.resolve", "alert.close", "alert.reopen", "alert.note",
    "alert.assign", "alert.escalate", "alert.raise", "incident.open", "incident.update",
    "task.create", "task.update", "resource.update", "surroundings.query",
}
_SELF = {"user.change_password"}  # every signed-in user, about their own account
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset(_OPS | _SELF | {"focus.set"}),
    Role.DUTY_OFFICER: frozenset(_OPS | _SELF | {"focus.set", "silence.create", "silence.cancel", "scenario.start"}),
    Role.LEADER: frozenset(_OPS | _SELF | {"focus.set", "task.decide"}),
    Role.BUREAU_OPERATOR: frozenset(_OPS | _SELF | {"silence.create", "silence.cancel", "device.register",
                                                    "device.revoke"}),
    Role.ADMIN: frozenset(COMMANDS),
}


# ---- queries ------------------------------------------------------------------------------

class ReadingsSeries(_Args):
    """Time series: one device's metric, or an aggregate (avg/max/min) over a town/domain."""

    metric: str
    device_id: str | None = None
    device_type: str | None = None
    town: str | None = None
    since_ts: float
    until_ts: float | None = None
    bucket_s: int = Field(default=300, ge=1, le=86400)
    agg: str = Field(default="avg", pattern="^(avg|max|min|count)$")


class DeviceList(_Args):
    domain: str | None = None
    device_type: str | None = None
    town: str | None = None
    health: str | None = None
    building_id: int | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=2000)


class ById(_Args):
    id: int


class DeviceGet(_Args):
    device_id: str


class AlertHistory(_Args):
    since_ts: float | None = None
    until_ts: float | None = None
    domain: str | None = None
    town: str | None = None
    state: str | None = None
    limit: int = Field(default=500, ge=1, le=5000)


class AuditQuery(_Args):
    since_ts: float | None = None
    limit: int = Field(default=200, ge=1, le=5000)


class KeyUnitList(_Args):
    town: str | None = None
    building_id: int | None = None
    limit: int = Field(default=500, ge=1, le=5000)


class BuildingsQuery(_Args):
    """Buildings for the 3D city: by tile, by id, or within a radius."""

    tile: str | None = None
    tiles: list[str] | None = Field(default=None, max_length=500)  # several tiles in one answer
    ids: list[int] | None = Field(default=None, max_length=5000)
    lon: float | None = None
    lat: float | None = None
    radius_m: float | None = Field(default=None, gt=0, le=5000)
    after_id: int | None = Field(default=None, ge=0)  # paging of tile/ids answers: ids above this


class CapExport(_Args):
    alert_id: int


class UserList(_Args):
    """Accounts (admins only): never a password hash."""

    role: Role | None = None
    include_disabled: bool = True


class BureauKeyList(_Args):
    """Bureau ingest credentials (admins only): never a key or its hash."""

    domain: str | None = None
    include_revoked: bool = True


QUERIES: dict[str, type[_Args]] = {
    "readings.series": ReadingsSeries,
    "devices.list": DeviceList,
    "device.get": DeviceGet,
    "alerts.history": AlertHistory,
    "audit.list": AuditQuery,
    "keyunits.list": KeyUnitList,
    "plans.for_unit": ById,
    "buildings.get": BuildingsQuery,
    "alert.cap": CapExport,
    "users.list": UserList,
    "bureau_keys.list": BureauKeyList,
}
ADMIN_QUERIES = frozenset({"users.list", "bureau_keys.list"})  # other queries: any role, scoped


def parse_args(table: dict[str, type[_Args]], name: str, args: dict[str, Any], ref: str | None) -> _Args:
    model = table.get(name)
    if model is None:
        code = ErrorCode.UNKNOWN_COMMAND if table is COMMANDS else ErrorCode.UNKNOWN_QUERY
        raise ProtocolError(code, f"unknown {'command' if table is COMMANDS else 'query'} {name!r}", ref)
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise ProtocolError(ErrorCode.BAD_ARGS, f"{name}: {loc}: {first.get('msg')}", ref) from None


def may_send(role: Role | str, command: str) -> bool:
    return command in PERMISSIONS.get(Role(role), frozenset())


def may_query(role: Role | str, query: str) -> bool:
    return query not in ADMIN_QUERIES or Role(role) == Role.ADMIN
