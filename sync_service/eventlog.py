"""The append-only event log: every state change a console may see.

Ordering: `seq` is assigned inside the writing transaction. On PostgreSQL several service
processes write; a transaction-scoped advisory lock taken before the insert serialises writers
from seq assignment to commit, so seq order equals commit order and a reader that has seen
seq N never later finds a committed event below N. (Rolled-back transactions leave gaps: seqs
are increasing, not contiguous.) On SQLite the database lock does the same.
After commit, writers NOTIFY `ioc_events` so other processes wake up and read the log.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from protocol.frames import Event
from sync_service.db.models import EventRecord

EVENT_LOCK_KEY = 7_240_001
NOTIFY_CHANNEL = "ioc_events"


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    data: dict[str, Any]
    domain: str | None = None
    town: str | None = None


def append_events(
    session: Session, events: Iterable[NewEvent], *, origin: str = "", command_id: str | None = None,
    ts: float | None = None,
) -> list[Event]:
    """Add events to the log within the caller's transaction; returns them with their seq.

    The caller commits. Hold the transaction briefly after this call: on PostgreSQL it holds
    the log lock until commit.
    """
    items = list(events)
    if not items:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOCK_KEY})
    now = time.time() if ts is None else ts
    records = [
        EventRecord(ts=now, kind=e.kind, domain=e.domain, town=e.town, data=e.data, origin=origin,
                    command_id=command_id)
        for e in items
    ]
    session.add_all(records)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return [to_wire(r) for r in records]


def to_wire(r: EventRecord) -> Event:
    return Event(seq=r.seq, ts=r.ts, kind=r.kind, domain=r.domain, town=r.town, data=r.data)


def read_after(session: Session, after_seq: int, limit: int = 5000) -> Sequence[Event]:
    rows = session.scalars(
        select(EventRecord).where(EventRecord.seq > after_seq).order_by(EventRecord.seq).limit(limit)
    ).all()
    return [to_wire(r) for r in rows]


def head_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventRecord.seq), 0))) or 0)


def oldest_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.min(EventRecord.seq), 0))) or 0)
