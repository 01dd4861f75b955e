"""Engine creation and migrations. SQLite (WAL, synchronous=FULL) by default in the user's data
directory; PostgreSQL by URL (IOC_DB_URL or the config file) with the same code."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

APP_NAME = "ioc-console"
WAL_AUTOCHECKPOINT_PAGES = 10_000  # ~40 MB of 4 kB pages (SQLite's default: 1,000)


def default_db_url() -> str:
    url = os.environ.get("IOC_DB_URL")
    if url:
        return url
    data = Path(user_data_dir(APP_NAME, appauthor=False))
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'ioc.db'}"


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # Event log, alerts, commands and audit must survive power loss: FULL on every commit.
    cur.execute("PRAGMA synchronous=FULL")
    # Checkpoint (copy the WAL into the database file, fsync it) every ~40 MB of WAL instead of
    # SQLite's 4 MB: under ingest every readings transaction outgrew 4 MB, so each paid a
    # checkpoint of its own, and index pages touched by consecutive transactions were copied
    # once per transaction instead of once per checkpoint (bench_ingest: ~30% less written to
    # disk per reading). Commits stay durable either way: the WAL is synced at every commit.
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    url = url or default_db_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if is_sqlite(url):
        engine = create_engine(
            url, echo=echo, poolclass=NullPool if ":memory:" not in url else None,
            connect_args={"check_same_thread": False, "isolation_level": None},
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling is off (isolation_level=None); begin explicitly so
        # SQLAlchemy's transactions are real, and IMMEDIATE so writers queue instead of failing.
        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # PostgreSQL: synchronous_commit on (the server default) is asserted per connection.
    engine = create_engine(url, echo=echo, pool_size=8, max_overflow=8, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _pg_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("SET synchronous_commit TO on")
        cur.close()
        dbapi_conn.commit()

    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to head. Safe to call on every start and from several processes."""
    cfg = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        # Two services starting together on one PostgreSQL: one migrates, the other waits.
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(424242)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    else:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
