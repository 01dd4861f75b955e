"""Registry of command and query handlers.

A command handler runs inside the writer's transaction and returns (result, events):

    @command("alert.ack")
    def ack(s: Session, ctx: CommandContext, args: AlertAck) -> tuple[dict, list[NewEvent]]:
        alert = s.get(Alert, args.alert_id) or ctx.not_found("alert", args.alert_id)
        ctx.check_domain(alert.domain)
        ...
        return {"alert_id": alert.id}, [NewEvent(ALERT_UPSERT, data, domain=alert.domain, town=alert.town)]

The framework (server) validates args with protocol.commands, checks the role permission,
deduplicates by command id (CommandRecord), appends the events, writes the audit entry and
commits before the result is sent. A handler raises CommandFailed for a typed refusal; the
transaction is rolled back and the refusal is stored as the command's result too (a retried id
gets the same refusal).

Two optional hooks:
- `ctx.after_commit(fn)`: fn() runs on the event loop once the command's transaction has
  committed (not for a refusal, a rollback or a repeated id): effects outside the store, such
  as the in-memory credential cache or closing a user's live sessions, never run for a change
  that did not happen.
- `@command(name, prepare=fn)`: fn(s, ctx, args) runs in a READ session before the writer
  transaction and its return value is `ctx.prepared` in the handler (a CommandFailed it raises
  is raised in the handler, after the exactly-once check). For slow pure work such as scrypt
  (~50 ms on purpose), which must not hold the single writer thread.

A query handler runs in a read session and returns a JSON-able dict:

    @query("devices.list")
    def devices_list(s: Session, ctx: CommandContext, args: DeviceList) -> dict: ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from pydantic import BaseModel
from sqlalchemy.orm import Session

from protocol.enums import ErrorCode
from sync_service.eventlog import NewEvent


class CommandFailed(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    domains: frozenset[str] | None  # None = every domain
    session_id: str = ""

    def sees(self, domain: str | None) -> bool:
        return domain is None or self.domains is None or domain in self.domains


@dataclass
class CommandContext:
    actor: Actor
    now: float = field(default_factory=time.time)
    command_id: str | None = None
    services: dict[str, Any] = field(default_factory=dict)  # named service objects (rule engine...)
    prepared: Any = None  # what the command's prepare hook returned (see the module doc)
    committed: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run fn on the event loop once this command has committed (never if it does not)."""
        self.committed.append(fn)

    def check_domain(self, domain: str | None) -> None:
        if not self.actor.sees(domain):
            raise CommandFailed(ErrorCode.FORBIDDEN, f"outside your domain scope: {domain}")

    def not_found(self, what: str, ident: object) -> NoReturn:
        raise CommandFailed(ErrorCode.NOT_FOUND, f"unknown {what} {ident!r}")

    def conflict(self, message: str) -> NoReturn:
        raise CommandFailed(ErrorCode.CONFLICT, message)


CommandHandler = Callable[[Session, CommandContext, Any], tuple[dict[str, Any], list[NewEvent]]]
QueryHandler = Callable[[Session, CommandContext, Any], dict[str, Any]]
PrepareHook = Callable[[Session, CommandContext, Any], Any]

COMMAND_HANDLERS: dict[str, CommandHandler] = {}
PREPARE_HOOKS: dict[str, PrepareHook] = {}
QUERY_HANDLERS: dict[str, QueryHandler] = {}
# result fields shown once to the caller and never stored (device keys): see dispatch.py
SECRET_RESULT_FIELDS: dict[str, tuple[str, ...]] = {}


def command(name: str, *, secret_result: tuple[str, ...] = (),
            prepare: PrepareHook | None = None) -> Callable[[CommandHandler], CommandHandler]:
    """secret_result: result fields the caller sees once; the stored result (what a retried id
    gets back) has them removed and `<field>_redacted: true` instead. prepare: see the module doc."""
    def deco(fn: CommandHandler) -> CommandHandler:
        if name in COMMAND_HANDLERS:
            raise RuntimeError(f"command {name} registered twice")
        COMMAND_HANDLERS[name] = fn
        if secret_result:
            SECRET_RESULT_FIELDS[name] = secret_result
        if prepare is not None:
            PREPARE_HOOKS[name] = prepare
        return fn

    return deco


def query(name: str) -> Callable[[QueryHandler], QueryHandler]:
    def deco(fn: QueryHandler) -> QueryHandler:
        if name in QUERY_HANDLERS:
            raise RuntimeError(f"query {name} registered twice")
        QUERY_HANDLERS[name] = fn
        return fn

    return deco


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
