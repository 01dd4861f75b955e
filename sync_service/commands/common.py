"""Helpers the command and query handlers share: ORM row -> wire dict, scope filters, and the
row locks that make a command's check-then-change atomic across service processes.

Several processes on one PostgreSQL each have their own writer thread, so two commands on the
same alert (incident, task...) may run at the same moment. A handler that checks an entity's
state and then changes it loads the entity with `locked` / `locked_rows`: SELECT ... FOR UPDATE
in the command's transaction, so a command on another process touching the same row waits for
this one to commit, then reads (and checks) what it committed: the second acknowledgement of an
alert is refused with `conflict`, two notes are both kept. Several rows are locked in id order
(as the alert manager locks alerts), an incident or task before the alerts or resources it
names, so two commands never wait for each other in a circle. SQLite renders no lock clause:
it has one writer at a time anyway.

A rule over many rows (the last enabled admin) is kept with `one_at_a_time`: commands taking
the same advisory lock run one after the other across processes, each reading what the one
before committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, false, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from sync_service.commands.registry import Actor

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
# advisory lock keys (one-key form; the event log's is 7_240_001, the leader's 7_240_002)
USERS_LOCK = 7_240_004
_ADVISORY = text("SELECT pg_advisory_xact_lock(:k)")


def wire(model: type[M], row: object) -> dict[str, Any]:
    """A row as its protocol entity (protocol/entities.py) in JSON form."""
    return model.model_validate(row, from_attributes=True).model_dump(mode="json")


def scoped(stmt: Select[Any], column: InstrumentedAttribute[Any], actor: Actor, *,
           nullable: bool = False) -> Select[Any]:
    """Restrict a select to the actor's domains (no-op for users who see every domain).
    nullable: rows without a domain are city-wide and visible to everyone."""
    if actor.domains is None:
        return stmt
    if not actor.domains:
        return stmt.where(false())
    cond = column.in_(sorted(actor.domains))
    return stmt.where(or_(cond, column.is_(None)) if nullable else cond)


def locked(s: Session, model: type[R], ident: int) -> R | None:
    """The row with this primary key, locked until the command's transaction ends (module doc),
    read afresh even if the session holds it already."""
    return s.get(model, ident, with_for_update=True, populate_existing=True)


def locked_rows(s: Session, model: type[R], ids: Iterable[int]) -> list[R]:
    """Those of these rows that exist, locked in id order (module doc)."""
    pk = model.id  # type: ignore[attr-defined]
    stmt = select(model).where(pk.in_(list(ids))).order_by(pk).with_for_update()
    return list(s.scalars(stmt.execution_options(populate_existing=True)))


def one_at_a_time(s: Session, key: int) -> None:
    """PostgreSQL: hold advisory lock `key` until the command's transaction ends, waiting for
    any other transaction holding it (module doc). SQLite: nothing to do."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(_ADVISORY, {"k": key})
