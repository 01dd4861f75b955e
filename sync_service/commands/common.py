"""Helpers the command and query handlers share: ORM row -> wire dict, scope filters."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, false, or_
from sqlalchemy.orm import InstrumentedAttribute

from sync_service.commands.registry import Actor

M = TypeVar("M", bound=BaseModel)


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
