"""User administration (admins) and every user's own password.

user.create, user.disable / user.enable, user.set_role (role and domain scope together),
user.reset_password (an admin sets it), user.change_password (the sender's own; the old one
must be given); query users.list (admins). docs/protocol.md section 6 is the contract.

Sessions: disable, set_role and reset_password revoke every live session token of the user,
and once the command has committed their open connections are closed with 4001 and a reason
(session_guard.py; other service processes close theirs within GUARD_S). A new role or scope
therefore applies from the user's next login: a session never keeps a scope it lost.
change_password revokes the user's OTHER sessions and keeps the one it was sent on.

Guard rails (CONFLICT): an admin may not disable themselves or change their own role, and the
last enabled admin can be neither disabled nor demoted; an admin resets their own password
with user.change_password (which asks for the old one). User commands run one at a time also
across service processes on one PostgreSQL (an advisory lock, commands/common.py), so the
rails hold when two admins act through two processes at once.

Passwords are scrypt-hashed as at login (auth.hash_password), in the commands' prepare hooks:
on a reader thread, never holding the single writer. A wrong old password is `forbidden`;
after WRONG_MAX wrong ones within WRONG_WINDOW_S an account's further attempts are refused
unchecked until the window passes (a stolen session token is no password oracle).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol.commands import (
    UserChangePassword,
    UserCreate,
    UserDisable,
    UserList,
    UserRef,
    UserResetPassword,
    UserSetRole,
)
from protocol.enums import ErrorCode, Role
from sync_service.auth import create_user, hash_password, verify_password
from sync_service.commands.common import USERS_LOCK, one_at_a_time
from sync_service.commands.registry import CommandContext, CommandFailed, command, query
from sync_service.db.models import Domain, SessionToken, User
from sync_service.eventlog import NewEvent
from sync_service.session_guard import REASON_DISABLED, close_sessions

WRONG_MAX = 5
WRONG_WINDOW_S = 300.0
REASON_ROLE = "role or domains changed by an administrator: log in again"
REASON_RESET = "password reset by an administrator: log in again"
REASON_CHANGED = "password changed in another session: log in again"


class _WrongPasswords:
    """Wrong old passwords per account, in this process (prepare hooks run on reader threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait_s(self, username: str) -> float:
        now = time.monotonic()
        with self._lock:
            q = self._seen.get(username)
            while q and q[0] < now - WRONG_WINDOW_S:
                q.popleft()
            if not q:
                self._seen.pop(username, None)
                return 0.0
            return q[0] + WRONG_WINDOW_S - now if len(q) >= WRONG_MAX else 0.0

    def wrong(self, username: str) -> None:
        with self._lock:
            self._seen.setdefault(username, deque()).append(time.monotonic())


WRONG = _WrongPasswords()


def _user(s: Session, ctx: CommandContext, username: str, *, serialise: bool = True) -> User:
    """The user; serialise (in a command, not a prepare hook's read): user commands on every
    process one at a time, so two admins demoting each other at once cannot leave none."""
    if serialise:
        one_at_a_time(s, USERS_LOCK)
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        ctx.not_found("user", username)
    return user


def _scope(s: Session, cmd: str, role: Role, domains: list[str] | None) -> list[str] | None:
    """The domain scope as stored (sorted, unique; None = every domain), checked."""
    out = None if domains is None else sorted(set(domains))
    if out is not None:
        known = set(s.scalars(select(Domain.code)))
        unknown = [d for d in out if d not in known]
        if unknown:
            raise CommandFailed(ErrorCode.BAD_ARGS, f"{cmd}: unknown domain {unknown[0]!r}")
    if role == Role.BUREAU_OPERATOR and not out:
        raise CommandFailed(ErrorCode.BAD_ARGS, f"{cmd}: a bureau operator needs its domains")
    return out


def _other_admins(s: Session, user: User) -> int:
    return int(s.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN.value, User.disabled.is_(False), User.id != user.id)) or 0)


def _end_sessions(s: Session, ctx: CommandContext, user: User, reason: str, *, keep: str = "") -> int:
    """Revoke the user's live tokens (all but the sender's own session when keep is its id) and,
    after commit, close their connections. Returns how many tokens ended."""
    rows = s.scalars(select(SessionToken).where(SessionToken.user_id == user.id, SessionToken.revoked.is_(False),
                                                SessionToken.expires_ts > ctx.now)).all()
    ended = [r.token_hash for r in rows if not (keep and r.token_hash.startswith(keep))]
    for r in rows:
        if r.token_hash in ended:
            r.revoked = True
    if ended:
        ctx.after_commit(lambda: close_sessions(ctx.services, ended, reason))
    return len(ended)


def _hash_of(password: str, ctx: CommandContext) -> str:
    """The prepare hook's hash of this password, or (a handler called directly) made now."""
    return ctx.prepared if isinstance(ctx.prepared, str) else hash_password(password)


def user_wire(u: User, sessions: int = 0) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "domains": u.domains, "disabled": bool(u.disabled), "created_ts": u.created_ts,
            "active_sessions": sessions}


@command("user.create", prepare=lambda _s, _c, args: hash_password(args.password))
def user_create(s: Session, ctx: CommandContext, args: UserCreate) -> tuple[dict[str, Any], list[NewEvent]]:
    one_at_a_time(s, USERS_LOCK)  # the same name created through two processes: one conflict
    if s.scalar(select(User.id).where(User.username == args.username)) is not None:
        ctx.conflict(f"user {args.username!r} already exists")
    domains = _scope(s, "user.create", args.role, args.domains)
    user = create_user(s, args.username, "", args.role, domains=domains, display_name=args.display_name,
                       password_hash=_hash_of(args.password, ctx))
    return {"user_id": user.id, "username": user.username, "role": user.role, "domains": domains}, []


@command("user.disable")
def user_disable(s: Session, ctx: CommandContext, args: UserDisable) -> tuple[dict[str, Any], list[NewEvent]]:
    user = _user(s, ctx, args.username)
    if user.username == ctx.actor.username:
        ctx.conflict("you may not disable your own account")
    if user.disabled:
        ctx.conflict(f"user {user.username!r} is already disabled")
    if user.role == Role.ADMIN and not _other_admins(s, user):
        ctx.conflict("the last enabled admin cannot be disabled")
    user.disabled = True
    ended = _end_sessions(s, ctx, user, REASON_DISABLED)
    return {"username": user.username, "disabled": True, "sessions_ended": ended}, []


@command("user.enable")
def user_enable(s: Session, ctx: CommandContext, args: UserRef) -> tuple[dict[str, Any], list[NewEvent]]:
    user = _user(s, ctx, args.username)
    if not user.disabled:
        ctx.conflict(f"user {user.username!r} is not disabled")
    user.disabled = False
    return {"username": user.username, "disabled": False}, []


@command("user.set_role")
def user_set_role(s: Session, ctx: CommandContext, args: UserSetRole) -> tuple[dict[str, Any], list[NewEvent]]:
    user = _user(s, ctx, args.username)
    domains = _scope(s, "user.set_role", args.role, args.domains)
    if user.role == args.role and user.domains == domains:
        return {"username": user.username, "role": user.role, "domains": domains, "changed": False,
                "sessions_ended": 0}, []
    if user.username == ctx.actor.username:
        ctx.conflict("you may not change your own role or domains")
    if user.role == Role.ADMIN and args.role != Role.ADMIN and not user.disabled and not _other_admins(s, user):
        ctx.conflict("the last enabled admin cannot be given another role")
    user.role, user.domains = str(args.role), domains
    ended = _end_sessions(s, ctx, user, REASON_ROLE)
    return {"username": user.username, "role": user.role, "domains": domains, "changed": True,
            "sessions_ended": ended}, []


@command("user.reset_password", prepare=lambda _s, _c, args: hash_password(args.new_password))
def user_reset_password(s: Session, ctx: CommandContext,
                        args: UserResetPassword) -> tuple[dict[str, Any], list[NewEvent]]:
    user = _user(s, ctx, args.username)
    if user.username == ctx.actor.username:
        ctx.conflict("to change your own password use user.change_password (it asks for the old one)")
    user.password_hash = _hash_of(args.new_password, ctx)
    ended = _end_sessions(s, ctx, user, REASON_RESET)
    return {"username": user.username, "sessions_ended": ended}, []


def _check_old_password(s: Session, ctx: CommandContext, args: UserChangePassword) -> tuple[str, str]:
    """(the hash checked against, the new hash): on a reader thread (prepare) or, called
    directly, in the handler."""
    name = ctx.actor.username
    user = _user(s, ctx, name, serialise=False)
    wait = WRONG.wait_s(name)
    if wait > 0:
        raise CommandFailed(ErrorCode.FORBIDDEN, f"too many wrong passwords: try again in {int(wait) + 1} s")
    if not verify_password(args.old_password, user.password_hash):
        WRONG.wrong(name)
        raise CommandFailed(ErrorCode.FORBIDDEN, "the old password is wrong")
    if args.new_password == args.old_password:
        raise CommandFailed(ErrorCode.BAD_ARGS, "user.change_password: the new password must differ from the old one")
    return user.password_hash, hash_password(args.new_password)


@command("user.change_password", prepare=_check_old_password)
def user_change_password(s: Session, ctx: CommandContext,
                         args: UserChangePassword) -> tuple[dict[str, Any], list[NewEvent]]:
    checked, new_hash = ctx.prepared if isinstance(ctx.prepared, tuple) else _check_old_password(s, ctx, args)
    user = _user(s, ctx, ctx.actor.username)
    if user.password_hash != checked:
        ctx.conflict("the password was changed meanwhile; try again")
    user.password_hash = new_hash
    ended = _end_sessions(s, ctx, user, REASON_CHANGED, keep=ctx.actor.session_id)
    return {"username": user.username, "sessions_ended": ended}, []


@query("users.list")
def users_list(s: Session, ctx: CommandContext, args: UserList) -> dict[str, Any]:
    stmt = select(User).order_by(User.username)
    if args.role is not None:
        stmt = stmt.where(User.role == args.role.value)
    if not args.include_disabled:
        stmt = stmt.where(User.disabled.is_(False))
    live = dict(s.execute(select(SessionToken.user_id, func.count()).where(
        SessionToken.revoked.is_(False), SessionToken.expires_ts > ctx.now).group_by(SessionToken.user_id)).all())
    return {"items": [user_wire(u, int(live.get(u.id, 0))) for u in s.scalars(stmt)]}
