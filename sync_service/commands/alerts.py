"""Alert commands: the lifecycle new -> acknowledged -> dispatched -> resolved -> closed
(protocol.enums.ALERT_TRANSITIONS), notes, assignment, escalation, manual alerts; and the
alert.cap query.

Each transition records who and when (updated_by/updated_ts, acknowledged_by/ts) and a note,
and emits one alert.upsert. Refusals: unknown alert -> NOT_FOUND, outside the actor's domains
-> FORBIDDEN, an illegal transition -> CONFLICT. The alert is locked while a command checks
and changes it (commands/common.py): the same transition sent through two service processes
at once is applied once, the other refused with CONFLICT.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.commands import (
    AlertAck,
    AlertAssign,
    AlertEscalate,
    AlertNote,
    AlertRaise,
    AlertRef,
    CapExport,
)
from protocol.enums import AlertSource, AlertState
from sync_service.alerts import escalation, store
from sync_service.commands.common import locked
from sync_service.commands.registry import CommandContext, command, query
from sync_service.db.models import Alert, Domain, Town, User
from sync_service.eventlog import NewEvent
from sync_service.ingest.cap_alerts import export_alert

Result = tuple[dict[str, Any], list[NewEvent]]
_WORDS = {AlertState.ACKNOWLEDGED: ("已确认", "acknowledged"), AlertState.DISPATCHED: ("已派发", "dispatched"),
          AlertState.RESOLVED: ("已处置", "resolved"), AlertState.CLOSED: ("已关闭", "closed"),
          AlertState.NEW: ("重新打开", "reopened")}


def load(s: Session, ctx: CommandContext, alert_id: int, *, lock: bool = True) -> Alert:
    """The alert, locked for the command's transaction (commands/common.py); lock=False for a
    query, which only reads."""
    a = locked(s, Alert, alert_id) if lock else s.get(Alert, alert_id)
    if a is None:
        ctx.not_found("alert", alert_id)
    ctx.check_domain(a.domain)
    return a


def _move(s: Session, ctx: CommandContext, alert_id: int, to: AlertState, note: str = "") -> Result:
    a = load(s, ctx, alert_id)
    if not store.can_transition(a, to):
        ctx.conflict(f"alert {a.id} is {a.state}: it cannot become {to.value}")
    by = ctx.actor.username
    store.transition(a, to, by, ctx.now)
    zh, en = _WORDS[to]
    store.add_note(a, by, ctx.now, f"{zh} / {en}" + (f"：{note}" if note else ""))
    return {"alert_id": a.id, "state": a.state}, [store.event(a)]


@command("alert.ack")
def alert_ack(s: Session, ctx: CommandContext, args: AlertAck) -> Result:
    return _move(s, ctx, args.alert_id, AlertState.ACKNOWLEDGED, args.note)


@command("alert.dispatch")
def alert_dispatch(s: Session, ctx: CommandContext, args: AlertRef) -> Result:
    return _move(s, ctx, args.alert_id, AlertState.DISPATCHED)


@command("alert.resolve")
def alert_resolve(s: Session, ctx: CommandContext, args: AlertRef) -> Result:
    return _move(s, ctx, args.alert_id, AlertState.RESOLVED)


@command("alert.close")
def alert_close(s: Session, ctx: CommandContext, args: AlertRef) -> Result:
    return _move(s, ctx, args.alert_id, AlertState.CLOSED)


@command("alert.reopen")
def alert_reopen(s: Session, ctx: CommandContext, args: AlertRef) -> Result:
    return _move(s, ctx, args.alert_id, AlertState.NEW)


@command("alert.note")
def alert_note(s: Session, ctx: CommandContext, args: AlertNote) -> Result:
    a = load(s, ctx, args.alert_id)
    store.add_note(a, ctx.actor.username, ctx.now, args.text)
    a.updated_ts, a.updated_by = ctx.now, ctx.actor.username
    return {"alert_id": a.id, "notes": len(a.notes)}, [store.event(a)]


@command("alert.assign")
def alert_assign(s: Session, ctx: CommandContext, args: AlertAssign) -> Result:
    a = load(s, ctx, args.alert_id)
    if a.state == AlertState.CLOSED.value:
        ctx.conflict(f"alert {a.id} is closed")
    if s.scalar(select(User.id).where(User.username == args.assignee)) is None:
        ctx.not_found("user", args.assignee)
    a.assignee = args.assignee
    store.add_note(a, ctx.actor.username, ctx.now, f"指派给 {args.assignee} / assigned to {args.assignee}")
    a.updated_ts, a.updated_by = ctx.now, ctx.actor.username
    return {"alert_id": a.id, "assignee": a.assignee}, [store.event(a)]


@command("alert.escalate")
def alert_escalate(s: Session, ctx: CommandContext, args: AlertEscalate) -> Result:
    a = load(s, ctx, args.alert_id)
    if a.state not in store.OPEN_STATES:
        ctx.conflict(f"alert {a.id} is {a.state}: only open alerts escalate")
    events = escalation.escalate(a, ctx.actor.username, ctx.now, args.reason)
    return {"alert_id": a.id, "level": a.level, "escalations": a.escalations}, events


@command("alert.raise")
def alert_raise(s: Session, ctx: CommandContext, args: AlertRaise) -> Result:
    """A manual alert (a phone report, a patrol's observation): never deduplicated, never silenced."""
    ctx.check_domain(args.domain)
    if s.get(Domain, args.domain) is None:
        ctx.not_found("domain", args.domain)
    if args.town is not None and s.get(Town, args.town) is None:
        ctx.not_found("town", args.town)
    spec = store.AlertSpec(
        source=AlertSource.MANUAL, dedup_key=f"manual:{ctx.command_id or uuid.uuid4().hex}", level=int(args.level),
        domain=args.domain, title=args.title, message=args.message, town=args.town, building_id=args.building_id,
        lon=args.lon if args.lat is not None else None, lat=args.lat if args.lon is not None else None,
        group_key=store.group_key(args.building_id, args.town, "manual"), ts=ctx.now)
    a, _ = store.raise_alert(s, spec, ctx.now, by=ctx.actor.username, reraise=False)
    store.add_note(a, ctx.actor.username, ctx.now, "人工上报 / raised by hand")
    return {"alert_id": a.id}, [store.event(a)]


@query("alert.cap")
def alert_cap(s: Session, ctx: CommandContext, args: CapExport) -> dict[str, Any]:
    a = load(s, ctx, args.alert_id, lock=False)
    _, xml = export_alert(s, a.id)
    return {"alert_id": a.id, "content_type": "application/cap+xml", "xml": xml}
