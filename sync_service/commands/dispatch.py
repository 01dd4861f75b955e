"""Runs commands and queries for a session: validation, permission, exactly-once, audit.

A command, all in ONE writer transaction:
1. the command id is looked up in CommandRecord: if it was applied before (by this user), the
   stored result comes back with duplicate=true - also after a restart, it is in the store;
2. args are validated (protocol.commands.parse_args) and the role checked (may_send);
3. the handler runs inside a savepoint and returns (result, events); a typed refusal
   (CommandFailed, or a validation/permission error) rolls the savepoint back;
4. the events are appended to the log, then the CommandRecord (ok or refusal, with the last
   seq) and an audit entry are written, and the transaction commits (durably);
5. the handler's after-commit steps run (registry.py: caches, closing sessions), and only
   then is the Result returned to the session.
A command with a prepare hook (scrypt for passwords) runs it first in a read session, off the
writer thread; a repeated id skips it.
A refusal is stored like a success: a retried id gets the same answer - except secret result
fields (SECRET_RESULT_FIELDS: the key device.register generates), which only the first answer
carries: the stored result has `<field>_redacted: true` in their place. Passwords in args are
stored as "***" (command table and audit log alike). An unexpected error
(a bug) rolls everything back and answers `internal` without storing, so a retry may succeed.

Within a process everything runs on the single writer thread in submission order, so two
copies of one id racing on two connections still apply once. Several processes on one
PostgreSQL (scale-out) behave as one service: step 1 first takes a transaction-scoped advisory
lock on the command id (COMMAND_ID_LOCK, hashtext(id)), so a copy of the id sent to another
process at the same moment waits for this one to commit, then finds its CommandRecord and
answers `duplicate`; and handlers lock the rows they check and change (commands/common.py), so
two different commands on one alert, incident or task are applied one after the other, the
second checked against what the first committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from protocol.commands import COMMANDS, QUERIES, may_query, may_send, parse_args
from protocol.enums import ErrorCode
from protocol.frames import Command, Event, ProtocolError, Query, Result
from sync_service.auth import audit
from sync_service.commands.registry import (
    COMMAND_HANDLERS,
    PREPARE_HOOKS,
    QUERY_HANDLERS,
    SECRET_RESULT_FIELDS,
    Actor,
    CommandContext,
    CommandFailed,
)
from sync_service.context import ServiceContext
from sync_service.db.models import CommandRecord
from sync_service.eventlog import NewEvent

log = logging.getLogger(__name__)
# the first key of the two-key advisory locks on command ids (a key space apart from the
# one-key locks of the event log and the leader)
COMMAND_ID_LOCK = 7_240_003
_LOCK_ID = text(f"SELECT pg_advisory_xact_lock({COMMAND_ID_LOCK}, hashtext(:id))")


@dataclass
class _Outcome:
    ok: bool = False
    data: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    duplicate: bool = False
    from_store: bool = False  # the id was in CommandRecord: nothing new to record
    seq: int | None = None
    events: list[Event] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def result(self, cid: str) -> Result:
        return Result(id=cid, ok=self.ok, data=self.data if self.ok else None,
                      error=None if self.ok else self.error, seq=self.seq, duplicate=self.duplicate)


def _err(code: ErrorCode | str, message: str) -> dict[str, str]:
    return {"code": str(code), "message": message}


class Dispatcher:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.commands_applied = 0
        self.commands_refused = 0
        self.duplicates = 0

    # ---- commands -------------------------------------------------------------------------------
    async def command(self, actor: Actor, frame: Command, *, hall: str | None = None) -> Result:
        out = _Outcome()
        now = time.time()
        try:
            prepared = await self._prepare(actor, frame, now)
        except Exception:
            log.exception("command %s (%s) could not be prepared", frame.name, frame.id)
            return Result(id=frame.id, ok=False, error=_err(ErrorCode.INTERNAL, "the command could not be applied; retry"))

        def apply(s: Session) -> tuple[_Outcome, list[NewEvent]]:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(_LOCK_ID, {"id": frame.id})
            rec = s.get(CommandRecord, frame.id)
            if rec is not None:
                out.from_store = True
                if rec.username != actor.username:
                    out.error = _err(ErrorCode.CONFLICT, "command id already used by another user")
                else:
                    out.ok, out.seq, out.duplicate = rec.ok, rec.seq, True
                    out.data = rec.result.get("data")
                    out.error = rec.result.get("error")
                return out, []
            try:
                args = parse_args(COMMANDS, frame.name, frame.args, frame.id)
                if not may_send(actor.role, frame.name):
                    raise CommandFailed(ErrorCode.FORBIDDEN, f"role {actor.role} may not send {frame.name}")
                handler = COMMAND_HANDLERS.get(frame.name)
                if handler is None:
                    raise CommandFailed(ErrorCode.UNKNOWN_COMMAND, f"{frame.name} is not available on this service")
                services = {**self.ctx.components, "hall": hall}
                cctx = CommandContext(actor=actor, now=now, command_id=frame.id, services=services,
                                      prepared=prepared)
                if isinstance(prepared, CommandFailed):
                    raise prepared
                with s.begin_nested():
                    data, events = handler(s, cctx, args)
                out.ok, out.data, out.after_commit = True, data, cctx.committed
                return out, events
            except (CommandFailed, ProtocolError) as exc:
                out.ok, out.error = False, _err(exc.code, exc.message)
                return out, []

        def record(s: Session, events: list[Event]) -> None:
            if out.from_store:
                return
            out.seq = events[-1].seq if events else None
            s.add(CommandRecord(id=frame.id, username=actor.username, name=frame.name,
                                args=_redacted(frame.args), ok=out.ok,
                                result={"data": _stored_data(frame.name, out.data), "error": out.error},
                                seq=out.seq, ts=now))
            audit(s, actor.username, frame.name, _target(frame.args), ok=out.ok, ts=now,
                  detail={"command_id": frame.id, "seq": out.seq,
                          **({"error": out.error} if out.error else {})})

        try:
            await self.ctx.db.write_events(apply, command_id=frame.id, after_append=record)
        except Exception:
            log.exception("command %s (%s) failed", frame.name, frame.id)
            return Result(id=frame.id, ok=False, error=_err(ErrorCode.INTERNAL, "the command could not be applied; retry"))
        for fn in out.after_commit:
            try:
                fn()
            except Exception:
                log.exception("a step after command %s (%s) committed failed", frame.name, frame.id)
        if out.duplicate:
            self.duplicates += 1
        elif out.ok:
            self.commands_applied += 1
        else:
            self.commands_refused += 1
        return out.result(frame.id)

    async def _prepare(self, actor: Actor, frame: Command, now: float) -> Any:
        """The command's prepare hook, in a read session (None: it has none, or it will be
        refused or answered from the store anyway). A CommandFailed is returned, not raised: the
        handler step raises it after the exactly-once check."""
        hook = PREPARE_HOOKS.get(frame.name)
        if hook is None or not may_send(actor.role, frame.name):
            return None
        try:
            args = parse_args(COMMANDS, frame.name, frame.args, frame.id)
        except ProtocolError:
            return None
        cctx = CommandContext(actor=actor, now=now, command_id=frame.id, services=self.ctx.components)

        def run(s: Session) -> Any:
            if s.get(CommandRecord, frame.id) is not None:
                return None  # a repeated id gets the stored answer: nothing to prepare
            try:
                return hook(s, cctx, args)
            except CommandFailed as exc:
                return exc

        return await self.ctx.db.read(run)

    # ---- queries ----------------------------------------------------------------------------------
    async def query(self, actor: Actor, frame: Query) -> Result:
        try:
            args = parse_args(QUERIES, frame.name, frame.args, frame.id)
        except ProtocolError as exc:
            return Result(id=frame.id, ok=False, error=_err(exc.code, exc.message))
        if not may_query(actor.role, frame.name):
            return Result(id=frame.id, ok=False,
                          error=_err(ErrorCode.FORBIDDEN, f"role {actor.role} may not query {frame.name}"))
        handler = QUERY_HANDLERS.get(frame.name)
        if handler is None:
            return Result(id=frame.id, ok=False,
                          error=_err(ErrorCode.UNKNOWN_QUERY, f"{frame.name} is not available on this service"))
        cctx = CommandContext(actor=actor, services=self.ctx.components)
        try:
            data = await self.ctx.db.read(lambda s: handler(s, cctx, args))
        except CommandFailed as exc:
            return Result(id=frame.id, ok=False, error=_err(exc.code, exc.message))
        except Exception:
            log.exception("query %s failed", frame.name)
            return Result(id=frame.id, ok=False, error=_err(ErrorCode.INTERNAL, "the query failed"))
        return Result(id=frame.id, ok=True, data=data)


def _redacted(args: dict[str, Any]) -> dict[str, Any]:
    """Args as stored: never a password in the command table or the audit log."""
    return {k: ("***" if "password" in k.lower() else v) for k, v in args.items()}


def _stored_data(name: str, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The result data as stored: secret fields (a device key) are shown once, never kept."""
    secret = SECRET_RESULT_FIELDS.get(name, ())
    if data is None or not secret:
        return data
    out = {k: v for k, v in data.items() if k not in secret}
    for k in secret:
        if k in data:
            out[f"{k}_redacted"] = True
    return out


def _target(args: dict[str, Any]) -> str:
    for key in ("alert_id", "incident_id", "task_id", "resource_id", "silence_id", "device_id",
                "username", "credential_id", "id"):
        if key in args:
            return f"{key}={args[key]}"
    return ""
