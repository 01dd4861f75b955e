from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from app.store import SessionInfo, StateStore
from backend_client import localdb
from backend_client.cache import OfflineCache
from protocol.frames import Event
from tests.backend_client.data import alert, town


def _filled_store() -> StateStore:
    s = StateStore()
    s.begin_snapshot(40)
    s.snapshot_part("towns", [town()])
    s.snapshot_part("alerts", [alert(1), alert(2, level=4)])
    s.snapshot_part("metrics", [{"ts": 5.0, "city": {"aqi": 61}}])
    s.end_snapshot(40)
    s.apply_events([Event(seq=41, ts=2, kind="alert.upsert", data=alert(3, state="acknowledged"))])
    s.set_session(SessionInfo(user="duty1", role="duty_officer", domains=None,
                              permissions=frozenset({"alert.ack"}), server_id="x"))
    return s


def test_cache_round_trip(tmp_path: Path) -> None:
    path = localdb.db_path("ws://h:1", "duty1", tmp_path)
    src = _filled_store()
    cache = OfflineCache(path)
    asyncio.run(cache.save(src))

    dst = StateStore()
    resets: list[int] = []
    dst.reset.connect(lambda: resets.append(1))
    cached = OfflineCache(path).load_into(dst)
    assert cached is not None
    assert cached.seq == 41
    assert dst.seq == 41
    assert set(dst.alerts) == {1, 2, 3}
    assert dst.alerts[3].state == "acknowledged"
    assert dst.towns["nancheng"].name_zh == "南城街道"
    assert dst.metrics["city"]["aqi"] == 61
    assert dst.data_ts == src.data_ts  # the age the UI shows is the data's, not the cache's
    assert dst.session.user == "duty1"
    assert dst.can("alert.ack")
    assert resets == [1]


def test_cache_saved_again_replaces_older_state(tmp_path: Path) -> None:
    cache = OfflineCache(tmp_path / "c.sqlite")
    s = _filled_store()
    cache.save_sync(s)
    s.apply_events([Event(seq=50, ts=3, kind="alert.upsert", data=alert(9))])
    cache.save_sync(s)
    t = StateStore()
    cache.load_into(t)
    assert t.seq == 50
    assert 9 in t.alerts


def test_damaged_cache_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cache = OfflineCache(path)
    cache.save_sync(_filled_store())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE cache SET data = ? WHERE key = 'state'", (b"not zlib at all",))
    conn.commit()
    conn.close()
    s = StateStore()
    assert cache.load_into(s) is None
    assert s.seq == 0
    assert s.alerts == {}


def test_no_cache_yet(tmp_path: Path) -> None:
    s = StateStore()
    assert OfflineCache(tmp_path / "none.sqlite").load_into(s) is None
    assert s.data_ts is None
