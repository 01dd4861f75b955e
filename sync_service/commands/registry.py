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

    def check_domain(self, domain: str | None) -> None:
        if not self.actor.sees(domain):
            raise CommandFailed(ErrorCode.FORBIDDEN, f"outside your domain scope: {domain}")

    def not_found(self, what: str, ident: object) -> NoReturn:
        raise CommandFailed(ErrorCode.NOT_FOUND, f"unknown {what} {ident!r}")

    def conflict(self, message: str) -> NoReturn:
        raise CommandFailed(ErrorCode.CONFLICT, message)


CommandHandler = Callable[[Session, CommandContext, Any], tuple[dict[str, Any], list[NewEvent]]]
QueryHandler = Callable[[Session, CommandContext, Any], dict[str, Any]]

COMMAND_HANDLERS: dict[str, CommandHandler] = {}
QUERY_HANDLERS: dict[str, QueryHandler] = {}
# result fields shown once to the caller and never stored (device keys): see dispatch.py
SECRET_RESULT_FIELDS: dict[str, tuple[str, ...]] = {}


def command(name: str, *, secret_result: tuple[str, ...] = ()) -> Callable[[CommandHandler], CommandHandler]:
    """secret_result: result fields the caller sees once; the stored result (what a retried id
    gets back) has them removed and `<field>_redacted: true` instead."""
    def deco(fn: CommandHandler) -> CommandHandler:
        if name in COMMAND_HANDLERS:
            raise RuntimeError(f"command {name} registered twice")
        COMMAND_HANDLERS[name] = fn
        if secret_result:
            SECRET_RESULT_FIELDS[name] = secret_result
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
