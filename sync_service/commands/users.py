"""user.create (admins): a new account with a role and a domain scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.commands import UserCreate
from protocol.enums import ErrorCode, Role
from sync_service.auth import create_user
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.db.models import Domain, User
from sync_service.eventlog import NewEvent


@command("user.create")
def user_create(s: Session, ctx: CommandContext, args: UserCreate) -> tuple[dict[str, Any], list[NewEvent]]:
    if s.scalar(select(User.id).where(User.username == args.username)) is not None:
        ctx.conflict(f"user {args.username!r} already exists")
    domains = None if args.domains is None else sorted(set(args.domains))
    if domains is not None:
        known = set(s.scalars(select(Domain.code)))
        unknown = [d for d in domains if d not in known]
        if unknown:
            raise CommandFailed(ErrorCode.BAD_ARGS, f"user.create: unknown domain {unknown[0]!r}")
    if args.role == Role.BUREAU_OPERATOR and not domains:
        raise CommandFailed(ErrorCode.BAD_ARGS, "user.create: a bureau operator needs its domains")
    user = create_user(s, args.username, args.password, args.role, domains=domains,
                       display_name=args.display_name)
    return {"user_id": user.id, "username": user.username, "role": user.role, "domains": domains}, []
