"""Shared vocabularies. Values are the wire strings/ints; never renumber."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Level(IntEnum):
    """China's four warning levels. Higher number = more severe."""

    BLUE = 1  # IV 一般
    YELLOW = 2  # III 较重
    ORANGE = 3  # II 严重
    RED = 4  # I 特别严重


LEVEL_ROMAN = {Level.BLUE: "IV", Level.YELLOW: "III", Level.ORANGE: "II", Level.RED: "I"}
LEVEL_ZH = {Level.BLUE: "蓝色", Level.YELLOW: "黄色", Level.ORANGE: "橙色", Level.RED: "红色"}


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Allowed forward transitions of the alert lifecycle (resolve may skip dispatch; an alert that
# re-fires after resolve goes back to new).
ALERT_TRANSITIONS: dict[AlertState, frozenset[AlertState]] = {
    AlertState.NEW: frozenset({AlertState.ACKNOWLEDGED, AlertState.RESOLVED, AlertState.CLOSED}),
    AlertState.ACKNOWLEDGED: frozenset({AlertState.DISPATCHED, AlertState.RESOLVED, AlertState.CLOSED}),
    AlertState.DISPATCHED: frozenset({AlertState.RESOLVED, AlertState.CLOSED}),
    AlertState.RESOLVED: frozenset({AlertState.CLOSED, AlertState.NEW}),
    AlertState.CLOSED: frozenset(),
}


class AlertSource(StrEnum):
    RULE = "rule"  # threshold / rate / duration rule on device readings
    OFFLINE = "offline"  # no data for N periods
    CAP = "cap"  # external CAP 1.2 warning (e.g. meteorological service)
    PLATFORM = "platform"  # a connected platform's event (urban cases, kitchens, coastal...)
    MANUAL = "manual"  # raised by an operator


class IncidentState(StrEnum):
    OPEN = "open"
    ACTIVE = "active"  # response under way
    CONTAINED = "contained"
    CLOSED = "closed"


class TaskState(StrEnum):
    PROPOSED = "proposed"  # waiting for a leader's decision when requires_approval
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    DONE = "done"
    CANCELLED = "cancelled"


class Role(StrEnum):
    OPERATOR = "operator"  # IOC staff at the video wall
    LEADER = "leader"  # decision command room
    DUTY_OFFICER = "duty_officer"  # laptop, 24h duty
    BUREAU_OPERATOR = "bureau_operator"  # level-2: sees and manages only its own domain(s)
    ADMIN = "admin"


class ResourceKind(StrEnum):
    FIRE_STATION = "fire_station"
    FIRE_VEHICLE = "fire_vehicle"
    RESCUE_TEAM = "rescue_team"
    WATER_SOURCE = "water_source"  # hydrants, natural water intake points
    SHELTER = "shelter"
    MEDICAL = "medical"


class ResourceStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    BUSY = "busy"
    OUT_OF_SERVICE = "out_of_service"


class SilenceScope(StrEnum):
    DEVICE = "device"
    BUILDING = "building"
    TOWN = "town"  # an area
    DEVICE_TYPE = "device_type"  # a type within a town (target "type@town") or city-wide


class DeviceHealth(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULTY = "faulty"  # reporting, but stuck or garbage values


class DQReason(StrEnum):
    """Why a reading was rejected or flagged (data-quality counters)."""

    MALFORMED = "malformed"
    AUTH_MISSING = "auth_missing"
    AUTH_INVALID = "auth_invalid"
    AUTH_REVOKED = "auth_revoked"
    AUTH_DOMAIN = "auth_domain"  # bureau credential writing another domain's device
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_METRIC = "unknown_metric"
    NAN = "nan"
    SENTINEL = "sentinel"  # -9999 and friends
    OUT_OF_RANGE = "out_of_range"
    TS_PAST = "ts_past"
    TS_FUTURE = "ts_future"
    STUCK = "stuck"  # flagged, still stored


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"  # not JSON / not an object / missing or wrong-typed fields
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_COMMAND = "unknown_command"
    UNKNOWN_QUERY = "unknown_query"
    BAD_ARGS = "bad_args"
    NOT_FOUND = "not_found"  # unknown id
    FORBIDDEN = "forbidden"  # role or domain scope
    CONFLICT = "conflict"  # illegal state transition, stale update
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    UNAUTHENTICATED = "unauthenticated"
    INTERNAL = "internal"
    NOT_READY = "not_ready"  # hello not yet sent
