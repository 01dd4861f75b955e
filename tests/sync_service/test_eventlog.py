"""The event log's append (one json_each statement on SQLite, executemany on PostgreSQL) and the
store's writer thread: event writes ahead of queued plain writes, plain writes not starved,
WAL checkpoints off the commit path."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select, text

from sync_service.db import database
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import EventRecord
from sync_service.eventlog import NewEvent, append_events, read_after


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest):  # noqa: ANN201
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    engine = make_engine(url)
    migrate(engine)
    d = Database(engine, origin="test-origin")
    yield d
    d.close()


def _mixed(n: int) -> list[NewEvent]:
    """Events that differ in every column, with data JSON must carry exactly."""
    out = []
    for i in range(n):
        data = {"i": i, "text": f"第{i}号 \"quoted\" \\ back\nline", "x": i / 7, "big": 2**53 + i,
                "nested": {"list": [i, None, True, 1e-300, -0.0], "empty": {}}, 3: "int key"}
        out.append(NewEvent(f"kind.{i % 4}", data, domain=[None, "fire", "water"][i % 3],
                            town=None if i % 2 else f"town{i}"))
    return out


async def test_append_gives_each_event_its_own_seq_and_stores_it_exactly(db: Database) -> None:
    await db.write_events(lambda s: (None, _mixed(3)))  # something before: seqs do not start at 1
    new = _mixed(120)
    _, events = await db.write_events(lambda s: (None, new), command_id="cmd-1")
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 120
    assert seqs[0] > 3
    for ev, src in zip(events, new, strict=True):  # what the hub gets is what was appended
        assert (ev.kind, ev.domain, ev.town) == (src.kind, src.domain, src.town)
        assert ev.data is src.data
    stored = await db.read(lambda s: read_after(s, seqs[0] - 1, 1000))
    assert [e.seq for e in stored] == seqs
    for got, sent in zip(stored, events, strict=True):  # and what a replay reads is the same
        assert (got.seq, got.ts, got.kind, got.domain, got.town) == (sent.seq, sent.ts, sent.kind, sent.domain,
                                                                     sent.town)
        assert got.data == {**{k: v for k, v in sent.data.items() if k != 3}, "3": "int key"}
    rows = await db.read(lambda s: s.execute(
        select(EventRecord.origin, EventRecord.command_id).where(EventRecord.seq.in_(seqs))).all())
    assert set(rows) == {("test-origin", "cmd-1")}


async def test_data_orjson_cannot_encode_still_goes_in(db: Database) -> None:
    _, events = await db.write_events(lambda s: (None, [NewEvent("x", {"huge": 2**70}), NewEvent("y", {})]))
    stored = await db.read(lambda s: read_after(s, events[0].seq - 1))
    assert [(e.kind, e.data) for e in stored] == [("x", {"huge": 2**70}), ("y", {})]


async def test_a_failed_transaction_appends_nothing(db: Database) -> None:
    def boom(s: object) -> tuple[None, list[NewEvent]]:
        append_events(s, _mixed(5))  # type: ignore[arg-type]
        raise RuntimeError("the command failed after appending")

    with pytest.raises(RuntimeError):
        await db.write(boom)
    assert await db.read(lambda s: s.scalar(select(func.count()).select_from(EventRecord))) == 0


async def test_event_writes_go_ahead_of_queued_plain_writes(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    db = Database(engine)
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def blocker(_s: object) -> None:  # the transaction in progress when the others arrive
        started.set()
        release.wait(10)
        order.append("blocker")

    try:
        first = asyncio.ensure_future(db.write(blocker))
        await asyncio.to_thread(started.wait, 10)
        plain = [asyncio.ensure_future(db.write(lambda _s, i=i: order.append(f"plain{i}"))) for i in range(3)]
        urgent = asyncio.ensure_future(db.write_events(lambda _s: (order.append("events"), [NewEvent("x", {})])))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(first, *plain, urgent)
        assert order == ["blocker", "events", "plain0", "plain1", "plain2"]
    finally:
        release.set()
        db.close()


async def test_plain_writes_are_not_starved_by_a_stream_of_event_writes(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    db = Database(engine)
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def blocker(_s: object) -> None:
        started.set()
        release.wait(10)

    try:
        first = asyncio.ensure_future(db.write(blocker))
        await asyncio.to_thread(started.wait, 10)
        plain = asyncio.ensure_future(db.write(lambda _s: order.append("plain")))
        n = database.URGENT_RUN + 5
        urgent = [asyncio.ensure_future(db.write_events(lambda _s, i=i: (order.append(f"e{i}"), [])))
                  for i in range(n)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(first, plain, *urgent)
        assert order.index("plain") == database.URGENT_RUN
        assert [x for x in order if x != "plain"] == [f"e{i}" for i in range(n)]
    finally:
        release.set()
        db.close()


async def test_close_finishes_the_write_in_progress_and_cancels_the_queue(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    db = Database(engine)
    started = threading.Event()

    def slow(s: object) -> int:
        started.set()
        time.sleep(0.3)
        append_events(s, [NewEvent("x", {"slow": True})])  # type: ignore[arg-type]
        return 1

    running = asyncio.ensure_future(db.write(slow))
    await asyncio.to_thread(started.wait, 10)
    queued = asyncio.ensure_future(db.write_events(lambda _s: (2, [NewEvent("x", {})])))
    await asyncio.sleep(0.05)
    await asyncio.to_thread(db.close)
    assert await running == 1  # committed, not cut off
    with pytest.raises(asyncio.CancelledError):
        await queued
    with pytest.raises(RuntimeError, match="closed"):
        await db.write(lambda _s: None)
    again = make_engine(sqlite_url)
    with again.connect() as c:
        assert c.execute(text("SELECT count(*) FROM events")).scalar() == 1
    again.dispose()


async def test_wal_is_checkpointed_off_the_writer_thread(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_S", 0.1)
    engine = make_engine(sqlite_url)
    migrate(engine)
    db = Database(engine)
    path = sqlite_url.removeprefix("sqlite:///")

    def in_main_file() -> int:
        """Events in the database file itself: a reader that ignores the WAL (immutable=1)."""
        con = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            con.close()

    try:
        # commits never checkpoint (auto-checkpoint is off on every connection of the store) ...
        assert await db.write(lambda s: s.execute(text("PRAGMA wal_autocheckpoint")).scalar()) == 0
        assert await db.read(lambda s: s.execute(text("PRAGMA wal_autocheckpoint")).scalar()) == 0
        with db.engine.connect() as c:
            assert c.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        for i in range(20):
            await db.write_events(lambda _s, i=i: (None, [NewEvent("x", {"pad": "x" * 4000, "i": i})] * 10))
        # ... the checkpointer thread copies the WAL into the database file
        deadline = time.monotonic() + 10
        while in_main_file() < 200:
            assert time.monotonic() < deadline, "the WAL was not checkpointed"
            await asyncio.sleep(0.1)
        assert db._checkpointer is not None
        assert db._checkpointer.runs >= 1
    finally:
        db.close()
