"""Async access to the store from the service's event loop.

All writes go through one writer thread: on SQLite that is the only way to write without lock
contention, and it gives one place where events are appended and, after commit, handed to the
hub. Reads run on a small thread pool with their own sessions.

The writer has two lanes, each in order. Event-log writes (`write_events`: commands, alerts,
notices - what consoles wait to see) start before any queued plain `write` (readings batches,
device state, logins): they wait for the transaction in progress, not for the readings queued
behind it. So that plain writes still move under a stream of event writes, one of them runs
after at most URGENT_RUN event writes in a row.

SQLite: WAL checkpoints (copying the WAL into the database file, then an fsync of it) run on a
thread of their own every CHECKPOINT_S, PASSIVE (never blocking a writer), instead of inside
whichever commit took the WAL over the auto-checkpoint size: under ingest that was a readings
commit copying ~40 MB while every event commit waited behind it on the writer thread. Commits
stay durable either way: the WAL is synced at each commit (synchronous=FULL).

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
import sqlite3
import threading
from collections import deque
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
URGENT_RUN = 8  # event writes in a row while a plain write waits
CHECKPOINT_S = 2.0


class _Writer:
    """One thread running jobs one at a time from two queues: urgent first (see the module doc)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._urgent: deque[tuple[concurrent.futures.Future[Any], Callable[[], Any]]] = deque()
        self._plain: deque[tuple[concurrent.futures.Future[Any], Callable[[], Any]]] = deque()
        self._run_len = 0
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="db-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], T], *, urgent: bool) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("the database is closed")
            (self._urgent if urgent else self._plain).append((fut, job))
            self._cv.notify()
        return fut

    def _next(self) -> tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None:
        with self._cv:
            while not (self._urgent or self._plain or self._closed):
                self._cv.wait()
            if self._urgent and (not self._plain or self._run_len < URGENT_RUN):
                self._run_len += 1
                return self._urgent.popleft()
            self._run_len = 0
            return self._plain.popleft() if self._plain else None  # None: closed and drained

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            fut, job = item
            if not fut.set_running_or_notify_cancel():
                continue  # its awaiter was cancelled while it waited
            try:
                result = job()
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiter
                fut.set_exception(exc)
            else:
                fut.set_result(result)

    def shutdown(self) -> None:
        """Wait for the job in progress; cancel the queued ones."""
        with self._cv:
            self._closed = True
            for q in (self._urgent, self._plain):
                while q:
                    q.popleft()[0].cancel()
            self._cv.notify()
        self._thread.join()


def _sqlite_file(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"


def _no_autocheckpoint(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it


def _sqlite_engine(engine: Engine, begin_sql: str, **pool: Any) -> Engine:
    """Another engine on the same SQLite file, with the same pragmas, its own pool and BEGIN."""
    from sync_service.db.engine import _sqlite_pragmas

    eng = create_engine(engine.url, connect_args={"check_same_thread": False, "isolation_level": None}, **pool)
    event.listen(eng, "connect", _sqlite_pragmas)
    event.listen(eng, "connect", _no_autocheckpoint)

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


class _Checkpointer:
    """PASSIVE WAL checkpoints of one SQLite file every `every_s`, on a thread and connection of
    their own (see the module doc)."""

    def __init__(self, path: str, every_s: float) -> None:
        self.path = path
        self.every_s = every_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="db-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        con: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.every_s):
                try:
                    if con is None:  # at the first round: the store has its file and WAL by then
                        con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # runs without the GIL
                    self.runs += 1
                except sqlite3.Error as exc:  # busy or a disk hiccup: the next round catches up
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            if con is not None:
                con.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Database:
    def __init__(self, engine: Engine, *, origin: str = "", read_threads: int = 2) -> None:
        self.engine = engine
        self._checkpointer: _Checkpointer | None = None
        if _sqlite_file(engine):
            event.listen(engine, "connect", _no_autocheckpoint)  # after engine.py's pragmas
            self._checkpointer = _Checkpointer(str(engine.url.database), CHECKPOINT_S)
        self.origin = origin
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self.write_engine = _write_engine(engine)
        self.write_sessionmaker = sessionmaker(self.write_engine, expire_on_commit=False)
        self.read_engine = _read_engine(engine, read_threads)
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = _Writer()
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
        return await asyncio.wrap_future(self._writer.submit(lambda: self._write_tx(fn), urgent=False))

    async def write_events(self, fn: Callable[[Session], tuple[T, list[NewEvent]]], *,
                           command_id: str | None = None,
                           after_append: AfterAppend | None = None) -> tuple[T, list[Event]]:
        """`after_append(session, events)`, if given, runs in the same transaction once the
        events have their seq (the command framework stores its result and audit entry there)."""
        result, events = await asyncio.wrap_future(self._writer.submit(
            lambda: self._tx_events(fn, command_id, after_append), urgent=True))
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
        self._writer.shutdown()
        self._readers.shutdown(wait=True, cancel_futures=True)
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        for extra in (self.read_engine, self.write_engine):
            if extra is not self.engine:
                extra.dispose()
