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


# ---- 0001 -> head: a store created by an older release ---------------------------------------

def _upgrade(engine: sa.Engine, target: str) -> None:
    from alembic import command

    from sync_service.db.engine import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def _downgrade(engine: sa.Engine, target: str) -> None:
    from alembic import command

    from sync_service.db.engine import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def _head(engine: sa.Engine) -> str:
    from alembic.script import ScriptDirectory

    from sync_service.db.engine import alembic_config

    return str(ScriptDirectory.from_config(alembic_config(engine)).get_current_head())


def _kind_seq_index(engine: sa.Engine) -> list[list[str]]:
    return [list(ix["column_names"]) for ix in sa.inspect(engine).get_indexes("events")
            if ix["name"] == "ix_events_kind_seq"]


def _schema_diffs(engine: sa.Engine) -> list[object]:
    """What autogenerate would still add or drop: the migrated store against the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sync_service.db.models import Base

    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def _upgrade_from_0001(url: str) -> sa.Engine:
    engine = make_engine(url)
    _upgrade(engine, "0001")
    assert _kind_seq_index(engine) == []
    with Session(engine) as s, s.begin():
        old = append_events(s, [NewEvent("devices.stats", {"n": i}) if i % 3 else NewEvent("alert.upsert", {"n": i})
                                for i in range(30)])
    _upgrade(engine, "head")
    assert _kind_seq_index(engine) == [["kind", "seq"]]
    with Session(engine) as s:
        assert [e.seq for e in read_after(s, 0)] == [e.seq for e in old]  # the log is untouched
        assert s.scalar(sa.text("SELECT version_num FROM alembic_version")) == _head(engine)
    # a store migrated from 0001 and one created at head have the same schema: what the models say
    assert _schema_diffs(engine) == []
    migrate(engine)  # idempotent at head
    return engine


def test_sqlite_upgrade_0001_to_head_adds_events_kind_seq(sqlite_url: str) -> None:
    engine = _upgrade_from_0001(sqlite_url)
    with engine.connect() as c:
        plan = " ".join(str(r[-1]) for r in c.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE kind = 'devices.stats' ORDER BY seq DESC LIMIT 1"))
    assert "ix_events_kind_seq" in plan, plan
    _downgrade(engine, "0001")
    assert _kind_seq_index(engine) == []
    _upgrade(engine, "head")
    assert _kind_seq_index(engine) == [["kind", "seq"]]
    engine.dispose()


def test_postgres_upgrade_0001_to_head_adds_events_kind_seq(pg_url: str) -> None:
    engine = _upgrade_from_0001(pg_url)
    with engine.connect() as c:
        c.exec_driver_sql("SET enable_seqscan = off")  # 30 rows: make the planner show it can use it
        plan = " ".join(r[0] for r in c.exec_driver_sql(
            "EXPLAIN SELECT seq FROM events WHERE kind = 'devices.stats' ORDER BY seq DESC LIMIT 1"))
    assert "ix_events_kind_seq" in plan, plan
    engine.dispose()


def test_head_created_and_migrated_stores_agree(sqlite_url: str, tmp_path: object) -> None:
    """Created at head (the models' create path through the migrations) vs 0001 then upgraded."""
    fresh = make_engine(sqlite_url)
    migrate(fresh)
    migrated = _upgrade_from_0001(f"sqlite:///{tmp_path}/old.db")

    def indexes(engine: sa.Engine) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        insp = sa.inspect(engine)
        return {t: sorted((str(ix["name"]), tuple(str(c) for c in ix["column_names"])) for ix in insp.get_indexes(t))
                for t in insp.get_table_names()}

    assert indexes(fresh) == indexes(migrated)
    assert _schema_diffs(fresh) == []
    fresh.dispose()
    migrated.dispose()
