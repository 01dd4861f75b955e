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

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from protocol.frames import Event
from sync_service.eventlog import NewEvent, append_events

T = TypeVar("T")
log = logging.getLogger(__name__)

CommitListener = Callable[[list[Event]], None]


class Database:
    def __init__(self, engine: Engine, *, origin: str = "", read_threads: int = 2) -> None:
        self.engine = engine
        self.origin = origin
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="db-writer")
        self._readers = concurrent.futures.ThreadPoolExecutor(read_threads, thread_name_prefix="db-reader")
        self._listeners: list[CommitListener] = []

    def on_commit(self, listener: CommitListener) -> None:
        """Called on the event loop thread with the events of each committed write, in order."""
        self._listeners.append(listener)

    def _tx(self, fn: Callable[[Session], T]) -> T:
        with self.sessionmaker() as s, s.begin():
            return fn(s)

    def _tx_events(self, fn: Callable[[Session], tuple[T, list[NewEvent]]],
                   command_id: str | None) -> tuple[T, list[Event]]:
        with self.sessionmaker() as s, s.begin():
            result, new = fn(s)
            events = append_events(s, new, origin=self.origin, command_id=command_id)
        return result, events

    async def write(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._tx, fn)

    async def write_events(self, fn: Callable[[Session], tuple[T, list[NewEvent]]], *,
                           command_id: str | None = None) -> tuple[T, list[Event]]:
        loop = asyncio.get_running_loop()
        result, events = await loop.run_in_executor(self._writer, self._tx_events, fn, command_id)
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
        return await loop.run_in_executor(self._readers, self._tx, fn)

    def run_sync(self, fn: Callable[[Session], Any]) -> Any:
        """For start-up code and tests outside the loop."""
        return self._tx(fn)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()
