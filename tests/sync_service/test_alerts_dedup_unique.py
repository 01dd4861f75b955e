"""One not-closed alert per dedup key (uq_alerts_dedup_open, migration 0004): duplicates left by
older releases are closed at upgrade, the store refuses a second live alert for a source, and
the writers (the alert manager's batches, raise_alert) merge into the live alert another
process created meanwhile instead of failing - on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol.enums import AlertSource, AlertState
from sync_service.alerts import store
from sync_service.alerts.manager import AlertManager, rule_key
from sync_service.db.engine import alembic_config, make_engine, migrate
from sync_service.db.models import Alert
from tests.sync_service.ingest_support import running
from tests.sync_service.test_alerts_backlog import change, smoke_rule


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


def _spec(key: str, level: int = 3, ts: float | None = None) -> store.AlertSpec:
    return store.AlertSpec(source=AlertSource.PLATFORM, dedup_key=key, level=level, domain="urban",
                           title="占道经营", title_en="Street vending", ts=ts or time.time())


def _live(engine: sa.Engine, key: str) -> list[Alert]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(Alert).where(Alert.dedup_key == key, Alert.state != "closed")))


def _upgrade(engine: sa.Engine, target: str) -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def test_upgrade_closes_duplicates_keeps_the_newest_and_enforces_one_live_alert(store_url: str) -> None:
    engine = make_engine(store_url)
    _upgrade(engine, "0003")
    now = time.time()
    with Session(engine) as s, s.begin():
        for state, key in [("new", "k1"), ("acknowledged", "k1"), ("closed", "k1"), ("resolved", "k1"),
                           ("new", "k2"), ("closed", "k3"), ("closed", "k3")]:
            s.add(Alert(**{**store._new_values(_spec(key), now, "test", 0, None), "state": state}))
    _upgrade(engine, "head")
    with Session(engine) as s:
        rows = [(a.dedup_key, a.state, a.updated_by) for a in s.scalars(sa.select(Alert).order_by(Alert.id))]
    assert rows == [("k1", "closed", "migration-0004"), ("k1", "closed", "migration-0004"), ("k1", "closed", "test"),
                    ("k1", "resolved", "test"), ("k2", "new", "test"), ("k3", "closed", "test"),
                    ("k3", "closed", "test")]
    # the store itself refuses a second live alert for k1 (resolved is live: a re-fire reopens it)
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(Alert(**store._new_values(_spec("k1"), now, "test", 0, None)))
    with Session(engine) as s, s.begin():  # closed ones may repeat, and a closed source opens anew
        s.add(Alert(**{**store._new_values(_spec("k3"), now, "test", 0, None), "state": "closed"}))
        s.add(Alert(**store._new_values(_spec("k3"), now, "test", 0, None)))
    assert len(_live(engine, "k3")) == 1
    migrate(engine)
    engine.dispose()


def test_live_alert_lookups_use_the_partial_index(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    with engine.connect() as c:
        plan = " ".join(str(r[-1]) for r in c.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + store._load_sql().replace(":keys", "'[\"a\",\"b\"]'")))
    assert "uq_alerts_dedup_open" in plan, plan
    engine.dispose()


async def test_manager_merges_into_an_alert_another_process_opened_meanwhile(
        store_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The manager loaded no live alert for its source, but before its insert another process
    committed one (simulated: the first load is made to miss it): the insert meets the index,
    and the raise is folded into the other process's alert - one alert, both raises counted."""
    async with running(store_url, escalate_after_s=1e9) as r:
        mgr: AlertManager = r.c["alerts"]
        d = r.c["devices"].devices["SD-1"]
        rule = smoke_rule(r)
        key = rule_key(rule.id, "SD-1")
        t0 = time.time() - 60
        other = mgr._rule_spec(change(rule, d.pk, 0, 4, 0.6, t0), d, t0)
        await r.ctx.db.write(lambda s: store.raise_alert(s, other, t0, by="system"))
        real = store.load_live
        calls: list[int] = []

        def stale_first(s: Any, keys: Any, *, lock: bool = False) -> dict[str, store.AlertRow]:
            calls.append(1)
            return {} if len(calls) == 1 else real(s, keys, lock=lock)

        monkeypatch.setattr(store, "load_live", stale_first)
        mgr.on_level_change(change(rule, d.pk, 0, 4, 0.8, t0 + 30))
        await mgr.drain()
        assert (mgr.failed, len(calls)) == (0, 2)
        assert "failed" not in caplog.text  # merged in the same transaction, not refused and retried
        [a] = _live(r.ctx.db.engine, key)
        assert (a.count, a.value, a.level, a.first_ts, a.last_ts) == (2, 0.8, 4, t0, t0 + 30)
        ev = [e for e in r.kinds("alert.upsert") if e.data["id"] == a.id][-1]
        assert ev.data["count"] == 2  # the event carries the merged alert, not a phantom new one


async def test_save_rows_reports_the_rows_it_could_not_insert(store_url: str) -> None:
    async with running(store_url) as r:
        now = time.time()
        await r.ctx.db.write(lambda s: store.raise_alert(s, _spec("platform:urban:X1"), now))

        def fn(s: Session) -> tuple[list[str], list[int | None]]:
            rows = [store.new_row(_spec(k), now) for k in ("platform:urban:X1", "platform:urban:X2")]
            missed = store.save_rows(s, rows, [])
            return [a.dedup_key for a in missed], [a.id for a in rows]

        missed, ids = await r.ctx.db.write(fn)
        assert missed == ["platform:urban:X1"]
        assert ids[0] is None
        assert ids[1] is not None
        assert len(_live(r.ctx.db.engine, "platform:urban:X1")) == 1


def test_concurrent_raises_of_one_source_from_two_processes_make_one_alert(pg_url: str) -> None:
    """Two transactions (two processes' writers) raise the same platform case at once: the second
    insert waits for the first to commit, meets the index, and updates that alert instead."""
    engine = make_engine(pg_url)
    migrate(engine)
    key = "platform:urban:CG-1"
    now = time.time()
    s1 = Session(engine)
    s1.begin()
    a1, created1 = store.raise_alert(s1, _spec(key, 2), now)  # inserted, not committed
    id1 = a1.id
    result: dict[str, Any] = {}

    def second() -> None:
        with Session(engine) as s2, s2.begin():
            a2, created2 = store.raise_alert(s2, _spec(key, 4), now + 1)
            result.update(id=a2.id, created=created2)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.5)
    assert t.is_alive()  # waiting on the first transaction's uncommitted row
    s1.commit()
    t.join(10)
    s1.close()
    [a] = _live(engine, key)
    assert created1
    assert result == {"id": id1, "created": False}
    assert (a.count, a.level, a.state) == (2, 4, AlertState.NEW.value)
    engine.dispose()
