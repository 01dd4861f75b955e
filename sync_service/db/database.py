"""Async access to the store from the service's event loop.

All writes go through one writer thread, in order: on SQLite that is the only way to write
without lock contention, and it gives one place where events are appended and, after commit,
handed to the hub. Reads run on a small thread pool with their own sessions.

    result = await db.write(lambda s: ...)                      # a transaction, no events
    result, events = await db.write_events(fn)                   # fn(s) -> (result, [NewEvent])
    rows = await db.read(lambda s: ...)

`write_events` appends fn's events to the log in the same transaction, commits (durably:
SQLite synchronous=FULL, PostgreSQL synchronous_commit=on) and only then returns and calls the
on_commit listeners with the committed protocol Events, in seq order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from protocol.frames import Event
from sync_service.eventlog import NewEvent, append_events

T = TypeVar("T")
log = logging.getLogger(__name__)

CommitListener = Callable[[list[Event]], None]
AfterAppend = Callable[[Session, list[Event]], None]


def _sqlite_file(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"


def _sqlite_engine(engine: Engine, begin_sql: str, **pool: Any) -> Engine:
    """Another engine on the same SQLite file, with the same pragmas, its own pool and BEGIN."""
    from sync_service.db.engine import _sqlite_pragmas

    eng = create_engine(engine.url, connect_args={"check_same_thread": False, "isolation_level": None}, **pool)
    event.listen(eng, "connect", _sqlite_pragmas)

    @event.listens_for(eng, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql(begin_sql)

    return eng


def _write_engine(engine: Engine) -> Engine:
    """SQLite: the writer thread keeps ONE connection open (StaticPool). Opening a connection
    and running its pragmas per transaction (the main engine's NullPool) costs ~10 ms, several
    times the durable commit itself. Only the single writer thread uses it."""
    if not _sqlite_file(engine):
        return engine
    return _sqlite_engine(engine, "BEGIN IMMEDIATE", poolclass=StaticPool)


def _read_engine(engine: Engine, threads: int) -> Engine:
    """SQLite: pooled reader connections whose transactions BEGIN DEFERRED, so readers
    (snapshots, queries) take WAL snapshots instead of the write lock the main engine's BEGIN
    IMMEDIATE takes. Other databases (and :memory:) read through the main engine."""
    if not _sqlite_file(engine):
        return engine
    return _sqlite_engine(engine, "BEGIN", poolclass=QueuePool, pool_size=threads, max_overflow=2)


class Database:
    def __init__(self, engine: Engine, *, origin: str = "", read_threads: int = 2) -> None:
        self.engine = engine
        self.origin = origin
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self.write_engine = _write_engine(engine)
        self.write_sessionmaker = sessionmaker(self.write_engine, expire_on_commit=False)
        self.read_engine = _read_engine(engine, read_threads)
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="db-writer")
        self._readers = concurrent.futures.ThreadPoolExecutor(read_threads, thread_name_prefix="db-reader")
        self._listeners: list[CommitListener] = []

    def on_commit(self, listener: CommitListener) -> None:
        """Called on the event loop thread with the events of each committed write, in order."""
        self._listeners.append(listener)

    def _tx(self, fn: Callable[[Session], T]) -> T:
        with self.sessionmaker() as s, s.begin():
            return fn(s)

    def _write_tx(self, fn: Callable[[Session], T]) -> T:
        with self.write_sessionmaker() as s, s.begin():
            return fn(s)

    def _read_tx(self, fn: Callable[[Session], T]) -> T:
        with self.read_sessionmaker() as s, s.begin():
            return fn(s)

    def _tx_events(self, fn: Callable[[Session], tuple[T, list[NewEvent]]],
                   command_id: str | None, after_append: AfterAppend | None = None,
                   ) -> tuple[T, list[Event]]:
        with self.write_sessionmaker() as s, s.begin():
            result, new = fn(s)
            events = append_events(s, new, origin=self.origin, command_id=command_id)
            if after_append is not None:
                after_append(s, events)
        return result, events

    async def write(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._write_tx, fn)

    async def write_events(self, fn: Callable[[Session], tuple[T, list[NewEvent]]], *,
                           command_id: str | None = None,
                           after_append: AfterAppend | None = None) -> tuple[T, list[Event]]:
        """`after_append(session, events)`, if given, runs in the same transaction once the
        events have their seq (the command framework stores its result and audit entry there)."""
        loop = asyncio.get_running_loop()
        result, events = await loop.run_in_executor(self._writer, self._tx_events, fn, command_id,
                                                    after_append)
        if events:
            self._publish(events)
        return result, events

    def _publish(self, events: list[Event]) -> None:
        for listener in self._listeners:
            try:
                listener(events)
            except Exception:
                log.exception("commit listener failed")

    async def read(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read_tx, fn)

    def run_sync(self, fn: Callable[[Session], Any]) -> Any:
        """For start-up code and tests outside the loop."""
        return self._tx(fn)

    def close(self) -> None:
        # Waits for the transaction in progress (a commit is never cut off) but not for work
        # still queued behind it: at close its awaiter is gone (a stop that ran out of time).
        self._writer.shutdown(wait=True, cancel_futures=True)
        self._readers.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()
        for extra in (self.read_engine, self.write_engine):
            if extra is not self.engine:
                extra.dispose()
