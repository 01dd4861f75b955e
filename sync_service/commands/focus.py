"""focus.set: the incident every hall follows (cross-hall focus), or none."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol.commands import FocusSet
from protocol.entities import Focus
from protocol.events import FOCUS_SET
from sync_service.commands.registry import CommandContext, command
from sync_service.db.models import Incident
from sync_service.eventlog import NewEvent


@command("focus.set")
def focus_set(s: Session, ctx: CommandContext, args: FocusSet) -> tuple[dict[str, Any], list[NewEvent]]:
    domain = town = None
    if args.incident_id is not None:
        inc = s.get(Incident, args.incident_id) or ctx.not_found("incident", args.incident_id)
        ctx.check_domain(inc.domain)
        # the focus names an incident: it travels in that incident's domain; a bureau that
        # cannot see the incident gets it redacted to "focus elsewhere" (server/scope.py)
        domain, town = inc.domain, inc.town
    hall = ctx.services.get("hall")
    focus = Focus(incident_id=args.incident_id, by=ctx.actor.username,
                  hall=hall if isinstance(hall, str) else None, ts=ctx.now)
    # `elsewhere` is only ever the redactor's to add, for a session that may not see the incident
    data = focus.model_dump(mode="json", exclude={"elsewhere"})
    return {"incident_id": args.incident_id}, [NewEvent(FOCUS_SET, data, domain=domain, town=town)]
