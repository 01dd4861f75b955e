"""Alert rows in the store: wire form, deduplication, grouping and lifecycle transitions.

Every function here runs inside a writer transaction (a Session) and returns the NewEvents
the change produces; the caller hands them to ctx.db.write_events with the change.

Deduplication: an alert has a dedup_key naming its source (rule+device, offline+device,
platform case, CAP identifier). A source raising again while its alert is not closed updates
that alert (count+1, last value, level may rise; a resolved alert goes back to new) instead of
adding one. Grouping: group_key is "bldg:<building id>" for anything in a building, else
"area:<town>:<device type or kind>"; several open alerts sharing a group_key form one incident
candidate (counted in metrics.tick, listed in its "candidates").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.entities import Alert as AlertEntity
from protocol.enums import ALERT_TRANSITIONS, AlertSource, AlertState
from protocol.events import ALERT_UPSERT
from sync_service.db.models import Alert
from sync_service.eventlog import NewEvent

OPEN_STATES = (AlertState.NEW.value, AlertState.ACKNOWLEDGED.value, AlertState.DISPATCHED.value)
MAX_NOTES = 100  # oldest system notes drop off; an alert's row stays small


def group_key(building_id: int | None, town: str | None, kind: str | None) -> str:
    if building_id is not None:
        return f"bldg:{building_id}"
    return f"area:{town or 'city'}:{kind or 'other'}"


def to_wire(a: Alert) -> dict[str, Any]:
    return AlertEntity(
        id=a.id, source=a.source, level=a.level, state=a.state, domain=a.domain, town=a.town,
        title=a.title, title_en=a.title_en or "", message=a.message or "", device_id=a.device_id,
        device_type=a.device_type, building_id=a.building_id, metric=a.metric, value=a.value,
        threshold=a.threshold, lon=a.lon, lat=a.lat, rule_id=a.rule_id, group_key=a.group_key or "",
        first_ts=a.first_ts, last_ts=a.last_ts, count=a.count, acknowledged_by=a.acknowledged_by,
        acknowledged_ts=a.acknowledged_ts, assignee=a.assignee, incident_id=a.incident_id,
        escalations=a.escalations, silenced=bool(a.silenced), notes=list(a.notes or []),
        external_id=a.external_id, updated_ts=a.updated_ts, updated_by=a.updated_by,
    ).model_dump(mode="json")


def event(a: Alert) -> NewEvent:
    return NewEvent(ALERT_UPSERT, to_wire(a), domain=a.domain, town=a.town)


@dataclass
class AlertSpec:
    """What a source says when it raises (or re-raises) an alert."""

    source: AlertSource
    dedup_key: str
    level: int
    domain: str
    title: str
    title_en: str = ""
    message: str = ""
    town: str | None = None
    device_id: str | None = None
    device_type: str | None = None
    building_id: int | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    lon: float | None = None
    lat: float | None = None
    rule_id: int | None = None
    group_key: str = ""
    external_id: str | None = None
    cap_xml: str | None = None
    silenced: bool = False
    ts: float = 0.0  # when the source observed it


def find_live(s: Session, dedup_key: str) -> Alert | None:
    """The not-closed alert of a source, if any (newest first)."""
    return s.scalars(select(Alert).where(Alert.dedup_key == dedup_key, Alert.state != AlertState.CLOSED.value)
                     .order_by(Alert.id.desc()).limit(1)).first()


def add_note(a: Alert, by: str, ts: float, text: str) -> None:
    notes = list(a.notes or [])
    notes.append({"by": by, "ts": ts, "text": text})
    a.notes = notes[-MAX_NOTES:]  # a new list: SQLAlchemy sees the JSON column changed


def raise_alert(s: Session, spec: AlertSpec, now: float, *, by: str = "system",
                reraise: bool = True) -> tuple[Alert, bool]:
    """Create the alert, or update the source's live one. Returns (alert, created).
    reraise=False updates in place without counting a new occurrence (a level rise)."""
    a = find_live(s, spec.dedup_key)
    if a is None:
        a = Alert(source=spec.source.value, level=spec.level, state=AlertState.NEW.value, domain=spec.domain,
                  town=spec.town, title=spec.title[:200], title_en=spec.title_en[:200], message=spec.message,
                  device_id=spec.device_id, device_type=spec.device_type, building_id=spec.building_id,
                  metric=spec.metric, value=spec.value, threshold=spec.threshold, lon=spec.lon, lat=spec.lat,
                  rule_id=spec.rule_id, dedup_key=spec.dedup_key, group_key=spec.group_key,
                  first_ts=spec.ts or now, last_ts=spec.ts or now, count=1, escalations=0,
                  silenced=spec.silenced, notes=[], external_id=spec.external_id, cap_xml=spec.cap_xml,
                  updated_ts=now, updated_by=by)
        s.add(a)
        s.flush()
        return a, True
    if a.state == AlertState.RESOLVED.value:
        # Re-fired after resolve: back to new (ALERT_TRANSITIONS allows it), to be acknowledged
        # again; escalation starts over.
        a.state = AlertState.NEW.value
        a.acknowledged_by = None
        a.acknowledged_ts = None
        a.escalations = 0
        a.first_ts = spec.ts or now
        a.level = spec.level
        a.silenced = spec.silenced
        add_note(a, by, now, "再次触发 / raised again")
    else:
        a.level = max(a.level, spec.level)
        a.silenced = spec.silenced  # a re-raise after a silence ended is announced again
    if reraise:
        a.count = (a.count or 1) + 1
    a.last_ts = max(a.last_ts, spec.ts or now)
    a.value = spec.value if spec.value is not None else a.value
    a.threshold = spec.threshold if spec.threshold is not None else a.threshold
    a.message = spec.message or a.message
    if spec.title:
        a.title, a.title_en = spec.title[:200], spec.title_en[:200] or a.title_en
    if spec.cap_xml is not None:
        a.cap_xml = spec.cap_xml
    if spec.external_id is not None:
        a.external_id = spec.external_id
    a.updated_ts = now
    a.updated_by = by
    return a, False


def can_transition(a: Alert, to: AlertState) -> bool:
    return to in ALERT_TRANSITIONS.get(AlertState(a.state), frozenset())


def transition(a: Alert, to: AlertState, by: str, now: float) -> None:
    """Caller checked can_transition. Records who and when."""
    a.state = to.value
    if to == AlertState.ACKNOWLEDGED:
        a.acknowledged_by = by
        a.acknowledged_ts = now
    elif to == AlertState.NEW:
        a.acknowledged_by = None
        a.acknowledged_ts = None
        a.escalations = 0
    a.updated_ts = now
    a.updated_by = by
