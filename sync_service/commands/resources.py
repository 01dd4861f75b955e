"""resource.update: a resource's status or position (a vehicle moving, a station out of service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol.commands import ResourceUpdate
from protocol.enums import ErrorCode
from protocol.events import RESOURCE_UPSERT
from sync_service.commands.common import locked, wire
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.db.models import Resource
from sync_service.eventlog import NewEvent


def resource_event(r: Resource) -> NewEvent:
    return NewEvent(RESOURCE_UPSERT, wire(pe.Resource, r), domain=r.domain, town=r.town)


@command("resource.update")
def resource_update(s: Session, ctx: CommandContext, args: ResourceUpdate) -> tuple[dict[str, Any], list[NewEvent]]:
    r = locked(s, Resource, args.resource_id) or ctx.not_found("resource", args.resource_id)
    ctx.check_domain(r.domain)
    if args.status is None and args.lon is None and args.lat is None:
        raise CommandFailed(ErrorCode.BAD_ARGS, "nothing to update: give status, or lon and lat")
    if (args.lon is None) != (args.lat is None):
        raise CommandFailed(ErrorCode.BAD_ARGS, "a position needs both lon and lat")
    if args.status is not None:
        r.status = args.status.value
    if args.lon is not None and args.lat is not None:
        r.lon, r.lat = args.lon, args.lat
    r.updated_ts = ctx.now
    return {"resource_id": r.id, "status": r.status}, [resource_event(r)]
