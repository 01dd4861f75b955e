"""Starting with the service unreachable: the cache opens, commands queue, queries fail fast."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.store import Connection, SessionInfo, StateStore
from backend_client import localdb
from backend_client.auth import make_verifier, token_digest
from backend_client.cache import OfflineCache
from backend_client.client import ConsoleClient
from backend_client.outbox import Outbox
from protocol.frames import Event
from tests.backend_client.data import alert, town
from tests.backend_client.helpers import FAST, free_port, wait_for


def _seed_cache(tmp_path: Path, url: str, user: str, password: str = "password-1") -> StateStore:
    """The state a console saved after an earlier online login of `user` with `password`."""
    s = StateStore()
    s.begin_snapshot(100)
    s.snapshot_part("towns", [town()])
    s.snapshot_part("alerts", [alert(1, level=4), alert(2)])
    s.end_snapshot(100)
    s.apply_events([Event(seq=120, ts=1, kind="alert.upsert", data=alert(3))])
    s.data_ts = time.time() - 3600  # an hour-old picture of the city
    s.set_session(SessionInfo(user=user, role="duty_officer",
                              permissions=frozenset({"alert.ack", "alert.note"})))
    cache = OfflineCache(localdb.db_path(url, user, tmp_path))
    cache.save_sync(s)
    cache.set_meta("password_verifier", make_verifier(password))
    cache.set_meta("token_sha256", token_digest("tok-" + user))
    return s


async def test_offline_start_shows_cached_state_and_queues(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    seeded = _seed_cache(tmp_path, url, "duty1")
    store = StateStore()
    states: list[Connection] = []
    store.connection_changed.connect(states.append)
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    started = client.login("duty1", "password-1")
    assert store.connection == Connection.CONNECTING  # at once: the window says so while the cache is read
    await started  # the cache was checked and read in a worker thread, then applied
    try:
        # the cached picture is there before any connection attempt finished
        assert store.seq == 120
        assert set(store.alerts) == {1, 2, 3}
        assert store.data_ts == seeded.data_ts
        assert store.session.role == "duty_officer"
        await wait_for(lambda: store.connection == Connection.OFFLINE, what="offline state")
        assert 3500 < (client.data_age_s() or 0) < 3700

        res = await client.send("alert.ack", {"alert_id": 1, "note": "offline ack"})
        assert res.ok
        assert res.queued
        refused = await client.send("silence.create", {"scope": "town", "target": "nancheng",
                                                       "ends_ts": 1e10, "reason": "x"})
        assert refused.error_code == "forbidden"  # the cached session's permissions apply
        q = await client.query("devices.list", {})
        assert q.error_code == "offline"
        await wait_for(lambda: client.backoff.attempt >= 3, what="several retries")
        assert Connection.ONLINE not in states
    finally:
        await client.stop()
        client.close()
    pending = Outbox(localdb.db_path(url, "duty1", tmp_path)).pending()
    assert [(p.name, p.args["alert_id"]) for p in pending] == [("alert.ack", 1)]


async def test_no_cache_and_no_service_is_offline_and_empty(tmp_path: Path) -> None:
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{free_port()}", store, timings=FAST, local_dir=str(tmp_path))
    client.login("nobody", "pw")
    try:
        await wait_for(lambda: store.connection == Connection.OFFLINE)
        assert store.seq == 0
        assert store.data_ts is None
    finally:
        await client.stop()
        client.close()


async def test_switching_user_never_shows_the_previous_users_data(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    _seed_cache(tmp_path, url, "bureau_water")
    store = StateStore()
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    await client.login("bureau_water", "password-1")
    assert store.alerts
    await client.logout()
    await client.login("bureau_fire", "pw")
    try:
        assert store.alerts == {}
        assert store.session.user == ""
    finally:
        await client.stop()
        client.close()


async def test_cache_opens_offline_only_for_the_user_who_saved_it(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    _seed_cache(tmp_path, url, "duty1", password="right-password")
    store = StateStore()
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    await client.login("duty1", "a-guess")
    try:
        await wait_for(lambda: store.connection == Connection.OFFLINE)
        assert store.alerts == {}  # the service cannot check now: nothing is shown
        assert store.data_ts is None
    finally:
        await client.stop()
    await client.login("duty1", "right-password")
    try:
        assert set(store.alerts) == {1, 2, 3}
    finally:
        await client.logout()
    assert store.alerts == {}  # logged out: nothing of this user stays on screen
    await client.resume_with_token("duty1", "tok-duty1")  # the session token saved beside it
    try:
        assert store.seq == 120
    finally:
        await client.stop()
        client.close()


async def test_the_cache_is_read_and_checked_off_the_loop_thread(tmp_path: Path, monkeypatch: Any) -> None:
    """scrypt and validating a big cache take from ~50 ms to seconds: never on the Qt thread."""
    import threading

    from backend_client import client as client_mod
    url = f"ws://127.0.0.1:{free_port()}"
    _seed_cache(tmp_path, url, "duty1")
    threads: dict[str, str] = {}
    read, check = OfflineCache.read_prepared, client_mod.check_verifier

    def spy_read(self: OfflineCache) -> Any:
        threads["read"] = threading.current_thread().name
        return read(self)

    def spy_check(password: str, verifier: str) -> bool:
        threads["scrypt"] = threading.current_thread().name
        return check(password, verifier)

    monkeypatch.setattr(OfflineCache, "read_prepared", spy_read)
    monkeypatch.setattr(client_mod, "check_verifier", spy_check)
    store = StateStore()
    resets: list[str] = []
    store.reset.connect(lambda: resets.append(threading.current_thread().name))
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    started = client.login("duty1", "password-1")
    assert store.alerts == {}  # nothing applied yet: login returned before the cache was read
    try:
        await started
        assert set(store.alerts) == {1, 2, 3}
        main = threading.main_thread().name
        assert threads["read"] != main
        assert threads["scrypt"] != main
        assert resets == [main]  # applied to the store on the loop's thread
    finally:
        await client.stop()
        client.close()


async def test_a_second_login_supersedes_one_still_reading_the_cache(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    _seed_cache(tmp_path, url, "duty1", password="right-password")
    store = StateStore()
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    first = client.login("duty1", "right-password")
    second = client.login("duty1", "a-guess")  # typed again, wrongly, before the first was read
    try:
        await second
        assert first.cancelled() or first.done()
        assert store.alerts == {}  # the last credentials decide: these do not open the cache
    finally:
        await client.stop()
        client.close()
