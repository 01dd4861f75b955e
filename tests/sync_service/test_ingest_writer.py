"""The batch writer: the one-statement SQLite path, the row-by-row fallback (SQLite without
JSON functions or UPDATE ... FROM) and PostgreSQL store the same thing; devices' state is
merged (several processes write it), never set back by an older report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Device, Reading
from sync_service.ingest.writer import ReadingWriter
from tests.sync_service.ingest_support import seed


@pytest.mark.parametrize(("mode", "bulk", "store"), [("json", True, "sqlite"), ("executemany", False, "sqlite"),
                                                     ("executemany", True, "postgresql")])
def test_rows_and_states_stored_alike(request: pytest.FixtureRequest, mode: str, bulk: bool, store: str) -> None:
    engine = make_engine(str(request.getfixturevalue("sqlite_url" if store == "sqlite" else "pg_url")))
    migrate(engine)
    db = Database(engine)
    db.run_sync(seed)
    w = ReadingWriter(engine, mode=mode)
    w.bulk_states = bulk
    rows = [(1, "level", 1.7e9 + i, 2.5 + i / 4, i % 2) for i in range(1000)] + [(2, "smoke", 1.7e9, 0.0, 0)]
    w.write(rows)
    w.write([])
    w.write_states([(1, "online", 5.0, {"level": 2.75}, 100.0), (2, "faulty", None, {}, 100.0)])
    got = db.run_sync(lambda s: s.execute(select(Reading.device_pk, Reading.metric, Reading.ts, Reading.value,
                                                 Reading.quality).order_by(Reading.id)).all())
    assert [tuple(r) for r in got] == rows
    devs = db.run_sync(lambda s: [(d.health, d.last_ts, d.last_values) for d in
                                  s.scalars(select(Device).where(Device.pk.in_([1, 2])).order_by(Device.pk))])
    assert devs == [("online", 5.0, {"level": 2.75}), ("faulty", None, {})]

    def state() -> list[tuple[object, ...]]:
        return db.run_sync(lambda s: [(d.health, d.last_ts, d.last_values, d.seen_ts) for d in
                                      s.scalars(select(Device).where(Device.pk.in_([1, 2])).order_by(Device.pk))])

    # Another process reports later for device 1, with an older reading (by device time): health
    # and seen follow it, the values stay the newest. Then an older report arrives for both
    # (a leader's offline mark from before another process saw them again): nothing goes back.
    w.write_states([(1, "faulty", 4.0, {"level": 9.0}, 110.0), (2, "online", 7.0, {"smoke": 0.1}, 105.0)])
    assert state() == [("faulty", 5.0, {"level": 2.75}, 110.0), ("online", 7.0, {"smoke": 0.1}, 105.0)]
    w.write_states([(1, "offline", 5.0, {"level": 2.75}, 100.0), (2, "offline", None, {}, 104.0)])
    assert state() == [("faulty", 5.0, {"level": 2.75}, 110.0), ("online", 7.0, {"smoke": 0.1}, 105.0)]
    # the same seen time wins (the leader marking a silent device offline), and a newer reading
    w.write_states([(1, "offline", 6.0, {"level": 3.0}, 110.0)])
    assert state()[0] == ("offline", 6.0, {"level": 3.0}, 110.0)
    w.close()
    db.close()
