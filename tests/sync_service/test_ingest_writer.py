"""The batch writer: the one-statement SQLite path and the row-by-row fallback (SQLite without
JSON functions or UPDATE ... FROM) store the same thing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Device, Reading
from sync_service.ingest.writer import ReadingWriter
from tests.sync_service.ingest_support import seed


@pytest.mark.parametrize(("mode", "bulk"), [("json", True), ("executemany", False)])
def test_rows_and_states_stored_alike(sqlite_url: str, mode: str, bulk: bool) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    db = Database(engine)
    db.run_sync(seed)
    w = ReadingWriter(engine, mode=mode)
    w.bulk_states = bulk
    rows = [(1, "level", 1.7e9 + i, 2.5 + i / 4, i % 2) for i in range(1000)] + [(2, "smoke", 1.7e9, 0.0, 0)]
    w.write(rows)
    w.write([])
    w.write_states([(1, "online", 5.0, {"level": 2.75}), (2, "faulty", None, {})])
    got = db.run_sync(lambda s: s.execute(select(Reading.device_pk, Reading.metric, Reading.ts, Reading.value,
                                                 Reading.quality).order_by(Reading.id)).all())
    assert [tuple(r) for r in got] == rows
    devs = db.run_sync(lambda s: [(d.health, d.last_ts, d.last_values) for d in
                                  s.scalars(select(Device).where(Device.pk.in_([1, 2])).order_by(Device.pk))])
    assert devs == [("online", 5.0, {"level": 2.75}), ("faulty", None, {})]
    w.close()
    db.close()
