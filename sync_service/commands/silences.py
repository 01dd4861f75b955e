"""silence.create / silence.cancel: put a device, building, town or device type (optionally
"type@town") under maintenance for a window. Alerts raised under it are stored with
silenced=true. The framework audits the command; each change is a silence.upsert event that
also updates the in-memory silences (sync_service.alerts.state.Loader).

Scope by domain: a silence made by a user limited to one domain applies to that domain's
alerts only (silence.domain); a device or device-type silence takes the target's domain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.commands import SilenceCancel, SilenceCreate
from protocol.entities import Silence as SilenceEntity
from protocol.enums import ErrorCode, SilenceScope
from protocol.events import SILENCE_UPSERT
from sync_service.commands.common import locked
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.db.models import Device, DeviceType, Silence, Town
from sync_service.eventlog import NewEvent

MAX_WINDOW_S = 30 * 24 * 3600  # a month: longer maintenance should be a device revocation


def to_wire(x: Silence) -> dict[str, Any]:
    return SilenceEntity(id=x.id, scope=x.scope, target=x.target, starts_ts=x.starts_ts, ends_ts=x.ends_ts,
                         reason=x.reason, created_by=x.created_by, created_ts=x.created_ts,
                         cancelled=bool(x.cancelled), domain=x.domain).model_dump(mode="json")


def _target_domain(s: Session, ctx: CommandContext, scope: SilenceScope, target: str) -> str | None:
    """Check the target exists; the domain the silence is limited to (None: every domain)."""
    if scope == SilenceScope.DEVICE:
        dev = s.scalar(select(Device).where(Device.uid == target))
        if dev is None:
            ctx.not_found("device", target)
        return dev.domain
    if scope == SilenceScope.DEVICE_TYPE:
        typ, _, town = target.partition("@")
        dt = s.get(DeviceType, typ)
        if dt is None:
            ctx.not_found("device type", typ)
        if town and s.get(Town, town) is None:
            ctx.not_found("town", town)
        return dt.domain
    if scope == SilenceScope.TOWN and s.get(Town, target) is None:
        ctx.not_found("town", target)
    if scope == SilenceScope.BUILDING and not target.isdigit():
        raise CommandFailed(ErrorCode.BAD_ARGS, "a building silence targets a building id")
    domains = ctx.actor.domains
    if domains is None:
        return None
    if len(domains) != 1:
        raise CommandFailed(ErrorCode.FORBIDDEN, "an area silence by a user of several domains must name a "
                                                 "device or device type")
    return next(iter(domains))


@command("silence.create")
def silence_create(s: Session, ctx: CommandContext, args: SilenceCreate) -> tuple[dict[str, Any], list[NewEvent]]:
    starts = args.starts_ts if args.starts_ts is not None else ctx.now
    if args.ends_ts <= starts or args.ends_ts <= ctx.now:
        raise CommandFailed(ErrorCode.BAD_ARGS, "ends_ts must be in the future and after starts_ts")
    if args.ends_ts - starts > MAX_WINDOW_S:
        raise CommandFailed(ErrorCode.BAD_ARGS, "a silence lasts at most 30 days")
    domain = _target_domain(s, ctx, args.scope, args.target)
    ctx.check_domain(domain)
    x = Silence(scope=args.scope.value, target=args.target, starts_ts=starts, ends_ts=args.ends_ts,
                reason=args.reason, created_by=ctx.actor.username, created_ts=ctx.now, cancelled=False,
                domain=domain)
    s.add(x)
    s.flush()
    return {"silence_id": x.id}, [NewEvent(SILENCE_UPSERT, to_wire(x), domain=domain)]


@command("silence.cancel")
def silence_cancel(s: Session, ctx: CommandContext, args: SilenceCancel) -> tuple[dict[str, Any], list[NewEvent]]:
    x = locked(s, Silence, args.silence_id)
    if x is None:
        ctx.not_found("silence", args.silence_id)
    ctx.check_domain(x.domain)
    if x.domain is None and ctx.actor.domains is not None:
        raise CommandFailed(ErrorCode.FORBIDDEN, "a city-wide silence can be cancelled only by a city-wide user")
    if x.cancelled:
        ctx.conflict(f"silence {x.id} is already cancelled")
    x.cancelled = True
    return {"silence_id": x.id}, [NewEvent(SILENCE_UPSERT, to_wire(x), domain=x.domain)]
