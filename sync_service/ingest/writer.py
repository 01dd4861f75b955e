"""Batched insert of readings, on the store's writer thread, one transaction per batch.

What makes this fast on a small machine where the event loop keeps one core busy parsing:
- One long-lived connection (the writer thread is the only user): no connect and PRAGMAs per
  batch. It is dropped and re-made after any error.
- SQLite: the whole batch goes in as ONE statement, `INSERT ... SELECT ... FROM json_each(?)`,
  with the rows as one orjson-encoded array. An executemany re-acquires Python's GIL for every
  row (bind, then step without the GIL), and each re-acquisition can wait for the busy event
  loop thread; one statement is one step, run entirely in SQLite's C code without the GIL.
  bench/bench_ingest.py measures both against a raw executemany.
- PostgreSQL: a Core executemany (psycopg batches it).
- Either way the batch goes in device order: the (device_pk, metric, ts) index then takes it
  leaf page after leaf page instead of at random, about a quarter less work per row in SQLite
  for a sort that costs the writer thread ~0.2 us per row. Row ids follow that order (nothing
  reads them as arrival order; readings are read by device and time).
"""

from __future__ import annotations

import logging
import sqlite3
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, case, func, insert, or_, text, update

from sync_service.db.models import Device, Reading

log = logging.getLogger(__name__)
COLS = ("device_pk", "metric", "ts", "value", "quality")
Row = tuple[int, str, float, float, int]
_BY_DEVICE = itemgetter(0)
_JSON_INSERT = text(
    "INSERT INTO readings (device_pk, metric, ts, value, quality) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
    "json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(:rows)")

# Devices' last state, many devices per statement (UPDATE ... FROM, SQLite >= 3.33). Merged, not
# overwritten, because several processes write it (docs/ingest.md, scale-out): seen_ts only
# grows; health is taken from whoever saw the device last (seen_ts at least the stored one);
# last_ts/last_values from the newest reading by device time.
_SEEN = "json_extract(u.value, '$[4]')"
_TS = "json_extract(u.value, '$[2]')"
_NEWER = f"({_TS} IS NOT NULL AND (devices.last_ts IS NULL OR {_TS} >= devices.last_ts))"
_SQLITE_STATES = text(
    f"UPDATE devices SET health = CASE WHEN {_SEEN} >= coalesce(devices.seen_ts, 0) "
    "THEN json_extract(u.value, '$[1]') ELSE devices.health END, "
    f"last_ts = CASE WHEN {_NEWER} THEN {_TS} ELSE devices.last_ts END, "
    f"last_values = CASE WHEN {_NEWER} THEN json_extract(u.value, '$[3]') ELSE devices.last_values END, "
    f"seen_ts = max(coalesce(devices.seen_ts, 0), {_SEEN}) "
    "FROM json_each(:rows) AS u WHERE devices.pk = json_extract(u.value, '$[0]')")
_PG_NEWER = "(u.last_ts IS NOT NULL AND (d.last_ts IS NULL OR u.last_ts >= d.last_ts))"
_PG_STATES = text(
    "UPDATE devices AS d SET health = CASE WHEN u.seen_ts >= coalesce(d.seen_ts, 0) THEN u.health ELSE d.health END, "
    f"last_ts = CASE WHEN {_PG_NEWER} THEN u.last_ts ELSE d.last_ts END, "
    f"last_values = CASE WHEN {_PG_NEWER} THEN u.last_values ELSE d.last_values END, "
    "seen_ts = greatest(d.seen_ts, u.seen_ts) "
    "FROM json_to_recordset(CAST(:rows AS json)) "
    "AS u(pk bigint, health text, last_ts float8, last_values json, seen_ts float8) WHERE d.pk = u.pk")
_B_NEWER = and_(bindparam("b_ts").is_not(None), or_(Device.last_ts.is_(None), Device.last_ts <= bindparam("b_ts")))
_ROW_STATES = (update(Device).where(Device.pk == bindparam("b_pk")).values(
    health=case((bindparam("b_seen") >= func.coalesce(Device.seen_ts, 0), bindparam("b_health")), else_=Device.health),
    last_ts=case((_B_NEWER, bindparam("b_ts")), else_=Device.last_ts),
    last_values=case((_B_NEWER, bindparam("b_values", type_=Device.last_values.type)), else_=Device.last_values),
    seen_ts=case((func.coalesce(Device.seen_ts, 0) < bindparam("b_seen"), bindparam("b_seen")), else_=Device.seen_ts)))
State = tuple[int, str, float | None, dict[str, float], float]  # pk, health, last_ts, last_values, seen_ts


class ReadingWriter:
    def __init__(self, engine: Engine, *, mode: str | None = None) -> None:
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        self.mode = mode or ("json" if sqlite else "executemany")
        # UPDATE ... FROM needs SQLite 3.33 (2020); older ones update row by row.
        self.bulk_states = not sqlite or sqlite3.sqlite_version_info >= (3, 33)
        self._conn: Connection | None = None

    def _connect(self) -> Connection:
        conn = self._conn = self.engine.connect()
        if self.mode == "json":
            try:  # JSON1 is built into SQLite since 3.38 and compiled in by most distributions before
                conn.exec_driver_sql("SELECT json_extract('[1]', '$[0]')").scalar()
            except Exception:
                log.warning("SQLite without JSON functions: readings go in by executemany")
                self.mode = "executemany"
                self.bulk_states = False
            finally:
                conn.rollback()  # end the probe's implicit transaction
        return conn

    def write(self, rows: list[Row]) -> None:
        """Insert rows in one transaction (call on the writer thread only)."""
        if not rows:
            return
        rows = sorted(rows, key=_BY_DEVICE)  # stable: one device's readings keep their order
        conn = self._conn or self._connect()
        try:
            with conn.begin():
                if self.mode == "json":
                    conn.execute(_JSON_INSERT, {"rows": orjson.dumps(rows).decode()})
                else:
                    conn.execute(insert(Reading), [dict(zip(COLS, r, strict=True)) for r in rows])
        except Exception:
            self.close()
            raise

    def write_states(self, states: list[State]) -> None:
        """Devices' (pk, health, last_ts, last_values, seen_ts), merged (above), in one statement."""
        if not states:
            return
        conn = self._conn or self._connect()
        try:
            with conn.begin():
                if not self.bulk_states:
                    conn.execute(_ROW_STATES, [{"b_pk": a, "b_health": b, "b_ts": c, "b_values": d, "b_seen": e}
                                               for a, b, c, d, e in states])
                elif self.engine.dialect.name == "postgresql":
                    conn.execute(_PG_STATES, {"rows": orjson.dumps(
                        [{"pk": a, "health": b, "last_ts": c, "last_values": d, "seen_ts": e}
                         for a, b, c, d, e in states]).decode()})
                else:
                    conn.execute(_SQLITE_STATES, {"rows": orjson.dumps(states).decode()})
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing the ingest connection failed", exc_info=True)


def as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [dict(zip(COLS, r, strict=True)) for r in rows]
