"""task.create / task.decide / task.update: dispatch work, with a leader's approval when asked.

A task lives in a domain (given, or its incident's / alert's, or the creator's only domain).
requires_approval tasks start PROPOSED and wait for task.decide (leaders: approve -> APPROVED,
reject -> REJECTED); others start APPROVED. Then task.update walks it forward:
APPROVED -> DISPATCHED -> EN_ROUTE -> ON_SCENE -> DONE, or CANCELLED from any open state.
Assigned resources follow: dispatched while the task is under way, available when it ends.
The task, then its resources, are locked while a command changes them (commands/common.py):
one decision or step sent through two service processes at once is applied once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol.commands import TaskCreate, TaskDecide, TaskUpdate
from protocol.enums import ErrorCode, ResourceStatus, TaskState
from protocol.events import TASK_UPSERT
from sync_service.commands.common import locked, locked_rows, wire
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.commands.resources import resource_event
from sync_service.db.models import Alert, Incident, Resource, Task
from sync_service.eventlog import NewEvent

_FLOW = [TaskState.APPROVED, TaskState.DISPATCHED, TaskState.EN_ROUTE, TaskState.ON_SCENE, TaskState.DONE]
_FINAL = {TaskState.DONE, TaskState.CANCELLED, TaskState.REJECTED}
_UNDER_WAY = {TaskState.DISPATCHED, TaskState.EN_ROUTE, TaskState.ON_SCENE}


def task_event(t: Task) -> NewEvent:
    return NewEvent(TASK_UPSERT, wire(pe.Task, t), domain=t.domain)


@command("task.create")
def task_create(s: Session, ctx: CommandContext, args: TaskCreate) -> tuple[dict[str, Any], list[NewEvent]]:
    domain = args.domain
    if args.incident_id is not None:
        inc = s.get(Incident, args.incident_id) or ctx.not_found("incident", args.incident_id)
        ctx.check_domain(inc.domain)
        domain = domain or inc.domain
    if args.alert_id is not None:
        alert = s.get(Alert, args.alert_id) or ctx.not_found("alert", args.alert_id)
        ctx.check_domain(alert.domain)
        domain = domain or alert.domain
    if domain is None and ctx.actor.domains is not None and len(ctx.actor.domains) == 1:
        domain = next(iter(ctx.actor.domains))
    if domain is None:
        raise CommandFailed(ErrorCode.BAD_ARGS, "task.create: give domain, incident_id or alert_id")
    ctx.check_domain(domain)
    resource_ids = list(dict.fromkeys(args.resource_ids))
    if resource_ids:
        found = list(s.scalars(select(Resource).where(Resource.id.in_(resource_ids))))
        if len(found) != len(resource_ids):
            missing = set(resource_ids) - {r.id for r in found}
            ctx.not_found("resource", min(missing))
        for r in found:
            ctx.check_domain(r.domain)
    state = TaskState.PROPOSED if args.requires_approval else TaskState.APPROVED
    t = Task(incident_id=args.incident_id, alert_id=args.alert_id, title=args.title,
             description=args.description, domain=domain, state=state.value,
             requires_approval=args.requires_approval, resource_ids=resource_ids,
             assignee=args.assignee, created_by=ctx.actor.username, created_ts=ctx.now,
             decided_by=None, decided_ts=None, updated_ts=ctx.now, due_ts=None)
    s.add(t)
    s.flush()
    return {"task_id": t.id, "state": t.state}, [task_event(t)]


@command("task.decide")
def task_decide(s: Session, ctx: CommandContext, args: TaskDecide) -> tuple[dict[str, Any], list[NewEvent]]:
    t = locked(s, Task, args.task_id) or ctx.not_found("task", args.task_id)
    ctx.check_domain(t.domain)
    if t.state != TaskState.PROPOSED:
        ctx.conflict(f"task {t.id} is {t.state}, not waiting for a decision")
    t.state = (TaskState.APPROVED if args.approve else TaskState.REJECTED).value
    t.decided_by, t.decided_ts, t.updated_ts = ctx.actor.username, ctx.now, ctx.now
    if args.comment:
        t.description = (t.description + f"\n[{ctx.actor.username}] {args.comment}").strip()[:4000]
    return {"task_id": t.id, "state": t.state}, [task_event(t)]


@command("task.update")
def task_update(s: Session, ctx: CommandContext, args: TaskUpdate) -> tuple[dict[str, Any], list[NewEvent]]:
    t = locked(s, Task, args.task_id) or ctx.not_found("task", args.task_id)
    ctx.check_domain(t.domain)
    cur, new = TaskState(t.state), TaskState(args.state)
    if cur in _FINAL:
        ctx.conflict(f"task {t.id} is {cur}: it cannot change")
    if new in (TaskState.APPROVED, TaskState.REJECTED, TaskState.PROPOSED):
        ctx.conflict(f"{new} is set by task.decide, not task.update")
    if cur == TaskState.PROPOSED and new != TaskState.CANCELLED:
        ctx.conflict(f"task {t.id} waits for a leader's approval")
    if new != TaskState.CANCELLED and _FLOW.index(new) <= _FLOW.index(cur):
        ctx.conflict(f"task {t.id} cannot go from {cur} to {new}")
    t.state, t.updated_ts = new.value, ctx.now
    events = [task_event(t)]
    if t.resource_ids and (new in _UNDER_WAY) != (cur in _UNDER_WAY):
        status = ResourceStatus.DISPATCHED if new in _UNDER_WAY else ResourceStatus.AVAILABLE
        for r in locked_rows(s, Resource, t.resource_ids):
            r.status, r.updated_ts = status.value, ctx.now
            events.append(resource_event(r))
    return {"task_id": t.id, "state": t.state}, events
