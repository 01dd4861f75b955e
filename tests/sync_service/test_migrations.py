from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sync_service.db.engine import make_engine, migrate
from sync_service.eventlog import NewEvent, append_events, head_seq, read_after

TABLES = {"events", "alerts", "devices", "readings", "users", "audit_log", "commands", "buildings"}


def _roundtrip(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # idempotent
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    with Session(engine) as s, s.begin():
        evs = append_events(s, [NewEvent("system.notice", {"text": "a"}), NewEvent("x", {}, domain="fire")])
    assert [e.seq for e in evs] == sorted(e.seq for e in evs)
    with Session(engine) as s:
        assert head_seq(s) == evs[-1].seq
        got = read_after(s, 0)
        assert [e.kind for e in got] == ["system.notice", "x"]
        assert read_after(s, evs[0].seq)[0].domain == "fire"
    engine.dispose()


def test_sqlite_migrate_and_log(sqlite_url: str) -> None:
    _roundtrip(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_postgres_migrate_and_log(pg_url: str) -> None:
    _roundtrip(pg_url)
