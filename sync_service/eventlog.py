"""The append-only event log: every state change a console may see.

Ordering: `seq` is assigned inside the writing transaction. On PostgreSQL several service
processes write; a transaction-scoped advisory lock taken before the insert serialises writers
from seq assignment to commit, so seq order equals commit order and a reader that has seen
seq N never later finds a committed event below N. (Rolled-back transactions leave gaps: seqs
are increasing, not contiguous.) On SQLite the database lock does the same.
After commit, writers NOTIFY `ioc_events` so other processes wake up and read the log.

Appending is the fan-out's hot path (bench/bench_fanout.py). On SQLite a batch goes in as ONE
statement, `INSERT ... SELECT ... FROM json_each(?) RETURNING seq`, its rows one orjson array:
an executemany binds each row under the GIL (SQLAlchemy's JSON type json.dumps each data, then
the driver re-takes the GIL per row), and every re-acquisition can wait for the busy event loop
thread; one statement runs in SQLite's C code. On PostgreSQL a Core executemany (psycopg
batches it).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from protocol.events import FOCUS_SET
from protocol.frames import Event
from sync_service.db.models import EventRecord

_EVENTS = EventRecord.__table__
EVENT_LOCK_KEY = 7_240_001
NOTIFY_CHANNEL = "ioc_events"
# Rows in array order (ORDER BY key) get ascending rowids: the sorted RETURNING seqs (SQLite
# returns them in no promised order) are the items' seqs in order. ts, origin and command_id
# are the same for the whole batch: bound once, ts exactly as the Events handed to the hub.
_JSON_APPEND = text(
    "INSERT INTO events (ts, kind, domain, town, data, origin, command_id) "
    "SELECT :ts, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), :origin, :command_id FROM json_each(:rows) ORDER BY key RETURNING seq")
# RETURNING is in SQLite since 3.35 (2021); older ones take the executemany.
_SQLITE_JSON = sqlite3.sqlite_version_info >= (3, 35)


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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOCK_KEY})
    now = time.time() if ts is None else ts
    rows = _json_rows(items) if dialect == "sqlite" and _SQLITE_JSON else None
    if rows is not None:
        seqs = sorted(session.execute(_JSON_APPEND, {"ts": now, "origin": origin, "command_id": command_id,
                                                     "rows": rows}).scalars())
    else:
        # Core executemany with RETURNING (SQLAlchemy "insertmanyvalues", in parameter order):
        # the ORM unit of work costs ~0.2 ms per row, this a few microseconds.
        seqs = session.execute(insert(_EVENTS).returning(_EVENTS.c.seq, sort_by_parameter_order=True), [
            {"ts": now, "kind": e.kind, "domain": e.domain, "town": e.town, "data": e.data, "origin": origin,
             "command_id": command_id} for e in items]).scalars().all()
    if dialect == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return [Event.model_construct(seq=q, ts=now, kind=e.kind, domain=e.domain, town=e.town, data=e.data)
            for q, e in zip(seqs, items, strict=True)]


def _json_rows(items: list[NewEvent]) -> str | None:
    """The batch as one JSON array for _JSON_APPEND; None if orjson cannot encode it (an integer
    beyond 64 bits, say), for the executemany path, whose json.dumps may."""
    try:
        # non-str keys become strings, as json.dumps (the JSON column type) would make them
        return orjson.dumps([(e.kind, e.domain, e.town, e.data) for e in items],
                            option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return None


def to_wire(r: EventRecord) -> Event:
    return Event.model_construct(seq=r.seq, ts=r.ts, kind=r.kind, domain=r.domain, town=r.town, data=r.data)


def read_after(session: Session, after_seq: int, limit: int = 5000, *, upto: int | None = None,
               domains: frozenset[str] | None = None) -> Sequence[Event]:
    """Events with after_seq < seq (<= upto), in seq order. `domains`: only events a session of
    that scope may receive in some form (city-wide ones, its domains', and focus.set, which
    others get redacted): other domains' rows are skipped in the store, never decoded. The
    caller still applies server.scope.filter_events (redaction)."""
    c = _EVENTS.c
    where = [c.seq > after_seq]
    if upto is not None:
        where.append(c.seq <= upto)
    if domains is not None:
        where.append(c.domain.is_(None) | c.domain.in_(sorted(domains)) | (c.kind == FOCUS_SET))
    rows = session.execute(
        select(c.seq, c.ts, c.kind, c.domain, c.town, c.data).where(*where).order_by(c.seq).limit(limit)
    ).all()
    return [Event.model_construct(seq=r[0], ts=r[1], kind=r[2], domain=r[3], town=r[4], data=r[5]) for r in rows]


def head_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventRecord.seq), 0))) or 0)


def oldest_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.min(EventRecord.seq), 0))) or 0)
