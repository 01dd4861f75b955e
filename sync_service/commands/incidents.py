"""incident.open / incident.update: grouping alerts into an incident and steering it.

An incident lives in one domain: that of its most severe alert. Its alerts must all be visible
to the user who opens it (a bureau operator cannot pull another bureau's alert in). Each
attached alert gets incident_id set and an alert.upsert event, so every console moves it.
The incident, then its alerts, are locked while a command changes them (commands/common.py):
one alert pulled into an incident through two service processes at once lands in one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol.commands import IncidentOpen, IncidentUpdate
from protocol.enums import AlertState, IncidentState
from protocol.events import ALERT_UPSERT, INCIDENT_UPSERT
from sync_service.commands.common import locked, locked_rows, wire
from sync_service.commands.registry import CommandContext, command
from sync_service.db.models import Alert, Incident
from sync_service.eventlog import NewEvent

# forward only; closed is final
_INCIDENT_ORDER = [IncidentState.OPEN, IncidentState.ACTIVE, IncidentState.CONTAINED, IncidentState.CLOSED]


def incident_event(inc: Incident) -> NewEvent:
    return NewEvent(INCIDENT_UPSERT, wire(pe.Incident, inc), domain=inc.domain, town=inc.town)


def alert_event(a: Alert) -> NewEvent:
    return NewEvent(ALERT_UPSERT, wire(pe.Alert, a), domain=a.domain, town=a.town)


def _load_alerts(s: Session, ctx: CommandContext, ids: list[int], incident_id: int | None) -> list[Alert]:
    alerts = locked_rows(s, Alert, ids)
    found = {a.id for a in alerts}
    missing = [i for i in ids if i not in found]
    if missing:
        ctx.not_found("alert", missing[0])
    for a in alerts:
        ctx.check_domain(a.domain)
        if a.state == AlertState.CLOSED:
            ctx.conflict(f"alert {a.id} is closed")
        if a.incident_id is not None and a.incident_id != incident_id:
            other = s.get(Incident, a.incident_id)
            if other is not None and other.state != IncidentState.CLOSED:
                ctx.conflict(f"alert {a.id} already belongs to incident {a.incident_id}")
    return alerts


@command("incident.open")
def incident_open(s: Session, ctx: CommandContext, args: IncidentOpen) -> tuple[dict[str, Any], list[NewEvent]]:
    ids = list(dict.fromkeys(args.alert_ids))
    alerts = _load_alerts(s, ctx, ids, None)
    lead = max(alerts, key=lambda a: (a.level, -a.id))
    inc = Incident(title=(args.title or lead.title)[:200], level=lead.level, state=IncidentState.OPEN.value,
                   domain=lead.domain, town=lead.town, lon=lead.lon, lat=lead.lat,
                   building_id=lead.building_id, alert_ids=ids, summary="", commander=None,
                   created_ts=ctx.now, created_by=ctx.actor.username, updated_ts=ctx.now, notes=[])
    s.add(inc)
    s.flush()
    events = [incident_event(inc)]
    for a in alerts:
        a.incident_id = inc.id
        a.updated_ts, a.updated_by = ctx.now, ctx.actor.username
        events.append(alert_event(a))
    return {"incident_id": inc.id}, events


@command("incident.update")
def incident_update(s: Session, ctx: CommandContext, args: IncidentUpdate) -> tuple[dict[str, Any], list[NewEvent]]:
    inc = locked(s, Incident, args.incident_id) or ctx.not_found("incident", args.incident_id)
    ctx.check_domain(inc.domain)
    if inc.state == IncidentState.CLOSED:
        ctx.conflict(f"incident {inc.id} is closed")
    events: list[NewEvent] = []
    if args.state is not None:
        try:
            new = IncidentState(args.state)
        except ValueError:
            ctx.conflict(f"unknown incident state {args.state!r}")
        if _INCIDENT_ORDER.index(new) < _INCIDENT_ORDER.index(IncidentState(inc.state)):
            ctx.conflict(f"incident {inc.id} cannot go back from {inc.state} to {new}")
        inc.state = new.value
    if args.level is not None:
        inc.level = int(args.level)
    if args.summary is not None:
        inc.summary = args.summary
    if args.commander is not None:
        inc.commander = args.commander or None
    if args.note:
        inc.notes = [*inc.notes, {"by": ctx.actor.username, "ts": ctx.now, "text": args.note}][-200:]
    if args.add_alert_ids:
        new_ids = [i for i in dict.fromkeys(args.add_alert_ids) if i not in inc.alert_ids]
        for a in _load_alerts(s, ctx, new_ids, inc.id):
            a.incident_id = inc.id
            a.updated_ts, a.updated_by = ctx.now, ctx.actor.username
            events.append(alert_event(a))
            inc.level = max(inc.level, a.level)
        inc.alert_ids = [*inc.alert_ids, *new_ids]
    inc.updated_ts = ctx.now
    return {"incident_id": inc.id, "state": inc.state}, [incident_event(inc), *events]
