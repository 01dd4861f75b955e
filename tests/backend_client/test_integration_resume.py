"""Outbox, offline cache and resume against the real service: restarts on the same database."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import connect

from app.commandbus import CommandResult
from app.store import Connection, StateStore
from backend_client.client import ConsoleClient
from protocol.frames import Event
from tests.backend_client.helpers import FAST, free_port, wait_for
from tests.backend_client.service import PASSWORD, ServiceProcess, running_service, sql


def _raise(title: str) -> dict[str, Any]:
    return {"level": 2, "domain": "water", "title": title, "town": "hongmei"}


async def _raw_command(url: str, user: str, cid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """One command over a bare websocket: the 'first attempt that did arrive'."""
    auth = "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    async with connect(url, additional_headers=[("Authorization", auth)], proxy=None,
                       compression=None) as ws:
        await ws.send(orjson.dumps({"type": "hello", "last_seq": None}).decode())
        async with asyncio.timeout(20):
            while orjson.loads(await ws.recv())["type"] != "snapshot_end":
                pass
            await ws.send(orjson.dumps({"type": "command", "id": cid, "name": name, "args": args}).decode())
            while True:
                f = orjson.loads(await ws.recv())
                if f.get("id") == cid or f.get("ref") == cid:
                    return f


def _titles(db_url: str, prefix: str) -> list[str]:
    return [r[0] for r in sql(db_url, "SELECT title FROM alerts WHERE title LIKE :p", p=prefix + "%")]


async def test_outbox_sent_on_reconnect_exactly_once(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{port}", store, timings=FAST, local_dir=str(tmp_path))
    finished: dict[str, CommandResult] = {}
    client.command_finished.connect(lambda cid, res: finished.__setitem__(cid, res))
    try:
        async with running_service(sqlite_url, ws_port=port) as svc:
            client.login("operator", PASSWORD)
            await wait_for(lambda: store.connection == Connection.ONLINE)
            # a command whose first attempt reached the service, but whose answer we never saw
            lost_id = str(uuid.uuid4())
            first = await _raw_command(svc.url, "operator", lost_id, "alert.raise", _raise("OB lost-answer"))
            assert first["ok"]
        await wait_for(lambda: store.connection != Connection.ONLINE, what="offline after stop")

        queued = []
        for i in range(5):
            cid, fut = client.submit("alert.raise", _raise(f"OB offline {i}"))
            res = await fut
            assert res.queued
            queued.append(cid)
        client.dispatcher.outbox.add(lost_id, "alert.raise", _raise("OB lost-answer"))  # type: ignore[union-attr]
        assert len(client.dispatcher.outbox) == 6  # type: ignore[union-attr]

        async with running_service(sqlite_url, ws_port=port):
            await wait_for(lambda: len(finished) == 6, what="all outbox commands answered")
            assert len(client.dispatcher.outbox) == 0  # type: ignore[union-attr]
            for cid in queued:
                assert finished[cid].ok
                assert not finished[cid].duplicate
            assert finished[lost_id].duplicate  # the service recognised the id: not applied again
            await wait_for(lambda: sum(a.title.startswith("OB ") for a in store.alerts.values()) == 6,
                           what="alerts in the store")
    finally:
        await client.stop()
        client.close()
    rows = sql(sqlite_url, "SELECT id, COUNT(*) FROM commands GROUP BY id")
    by_id = dict(rows)
    assert all(by_id[c] == 1 for c in [*queued, lost_id])
    titles = _titles(sqlite_url, "OB ")
    assert sorted(titles) == sorted(["OB lost-answer"] + [f"OB offline {i}" for i in range(5)])
    # sent in the order they were queued
    order = [r[0] for r in sql(sqlite_url, "SELECT id FROM commands ORDER BY ts")]
    assert [o for o in order if o in queued] == queued


async def test_offline_start_from_cache_then_resume(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    async with running_service(sqlite_url, ws_port=port):
        s1 = StateStore()
        c1 = ConsoleClient(url, s1, timings=FAST, local_dir=str(tmp_path))
        c1.login("operator", PASSWORD)
        await wait_for(lambda: s1.connection == Connection.ONLINE)
        res = await c1.send("alert.raise", _raise("CACHE before"))
        await wait_for(lambda: res.data["alert_id"] in s1.alerts)  # type: ignore[index]
        await c1.stop()  # clean exit: cache written
        c1.close()
        cached_seq = s1.seq
        # life goes on at the service while the laptop is closed
        for i in range(3):
            r = await _raw_command(url, "duty", str(uuid.uuid4()), "alert.raise", _raise(f"CACHE after {i}"))
            assert r["ok"]

    s2 = StateStore()
    c2 = ConsoleClient(url, s2, timings=FAST, local_dir=str(tmp_path))
    await c2.login("operator", PASSWORD)  # done once the cache (read aside) is applied
    try:
        assert s2.seq == cached_seq
        assert any(a.title == "CACHE before" for a in s2.alerts.values())
        assert s2.data_ts == s1.data_ts
        await wait_for(lambda: s2.connection == Connection.OFFLINE, what="offline with cached data")
        async with running_service(sqlite_url, ws_port=port):
            await wait_for(lambda: s2.connection == Connection.ONLINE, what="back online")
            await wait_for(lambda: sum(a.title.startswith("CACHE after") for a in s2.alerts.values()) == 3,
                           what="events missed while offline")
            assert c2.feeder.snapshots == 0  # resumed from the cached seq: no snapshot at all
            assert s2.snapshot_reloads == 0
            assert s2.data_ts is not None
            assert s2.data_ts > (s1.data_ts or 0)
    finally:
        await c2.stop()
        c2.close()


class _Recorder:
    """Wraps store.apply_events to record the seq of every event actually applied."""

    def __init__(self, store: StateStore) -> None:
        self.applied: list[int] = []
        self._orig = store.apply_events
        self._store = store
        store.apply_events = self._apply  # type: ignore[method-assign]

    def _apply(self, events: Any) -> int:
        evs: list[Event] = list(events)
        before = self._store.seq
        n = self._orig(evs)
        self.applied += [e.seq for e in evs if e.seq > before]
        return n


async def test_resume_after_service_kill9_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'svc.db'}"
    proc = ServiceProcess(db_url, log_path=tmp_path / "svc.log")
    await proc.start()
    observer_store = StateStore()
    writer_store = StateStore()
    observer = ConsoleClient(proc.url, observer_store, timings=FAST, local_dir=str(tmp_path / "obs"))
    writer = ConsoleClient(proc.url, writer_store, timings=FAST, local_dir=str(tmp_path / "wr"))
    rec = _Recorder(observer_store)
    n_cmds = 60
    ids: list[str] = []
    try:
        observer.login("operator", PASSWORD)
        writer.login("duty", PASSWORD)
        await wait_for(lambda: observer_store.connection == writer_store.connection == Connection.ONLINE)
        snap_seq = observer_store.seq
        for i in range(n_cmds):
            cid, _fut = writer.submit("alert.raise", _raise(f"K9 {i:03d}"))
            assert cid is not None
            ids.append(cid)
            await asyncio.sleep(0.02)
            if i == 25:
                proc.kill()  # SIGKILL mid-stream: commands in flight, events unsent
            if i == 40:
                await proc.start()  # same database, same port
        await wait_for(lambda: len(writer.dispatcher.outbox) == 0, within=30,  # type: ignore[union-attr]
                       what="writer outbox drained")
        head = sql(db_url, "SELECT MAX(seq) FROM events")[0][0]
        await wait_for(lambda: observer_store.seq >= head, within=20, what="observer caught up")
    finally:
        await observer.stop()
        await writer.stop()
        observer.close()
        writer.close()
        proc.stop()
    logged = [r[0] for r in sql(db_url, "SELECT seq FROM events WHERE seq > :s ORDER BY seq", s=snap_seq)]
    assert rec.applied == sorted(set(rec.applied)), "an event was applied twice or out of order"
    assert set(logged) - set(rec.applied) == set(), "committed events never reached the console"
    assert observer.connects >= 2
    assert observer_store.snapshot_reloads == 0  # resumed from its seq, not reloaded
    # every command applied exactly once at the service
    counts = dict(sql(db_url, "SELECT id, COUNT(*) FROM commands GROUP BY id"))
    assert all(counts.get(c) == 1 for c in ids)
    titles = _titles(db_url, "K9 ")
    assert sorted(titles) == [f"K9 {i:03d}" for i in range(n_cmds)]
    k9_in_store = sorted(a.title for a in observer_store.alerts.values() if a.title.startswith("K9 "))
    assert k9_in_store == titles
    print(f"kill -9 resume: {len(logged)} events after the snapshot, lost 0, duplicated 0; "
          f"{n_cmds} commands applied once each")


async def test_gap_too_old_to_replay_is_a_counted_snapshot_reload(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    store = StateStore()
    client = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path))
    try:
        async with running_service(sqlite_url, ws_port=port, replay_window=5):
            client.login("operator", PASSWORD)
            await wait_for(lambda: store.connection == Connection.ONLINE)
        await client.stop()  # the laptop is closed for a while
        async with running_service(sqlite_url, ws_port=port, replay_window=5):
            for i in range(8):  # more than the service will replay
                r = await _raw_command(url, "duty", str(uuid.uuid4()), "alert.raise", _raise(f"GAP {i}"))
                assert r["ok"]
            client.login("operator", PASSWORD)
            await wait_for(lambda: store.snapshot_reloads == 1, what="snapshot reload")
            await wait_for(lambda: store.connection == Connection.ONLINE)
            gap = sorted(a.title for a in store.alerts.values() if a.title.startswith("GAP "))
            assert gap == [f"GAP {i}" for i in range(8)]  # reloaded whole, not a silent gap
            head = sql(sqlite_url, "SELECT MAX(seq) FROM events")[0][0]
            assert store.seq == head
    finally:
        await client.stop()
        client.close()


async def test_cache_from_another_database_is_replaced_by_a_snapshot(tmp_path: Path) -> None:
    """A console whose cached seq is ahead of the service (the service's database was replaced):
    the service sends a snapshot and the console shows the new truth, not the old cache."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    first_db = f"sqlite:///{tmp_path / 'first.db'}"
    async with running_service(first_db, ws_port=port):
        s1 = StateStore()
        c1 = ConsoleClient(url, s1, timings=FAST, local_dir=str(tmp_path / "c"))
        c1.login("operator", PASSWORD)
        await wait_for(lambda: s1.connection == Connection.ONLINE)
        for i in range(3):
            await c1.send("alert.raise", _raise(f"OLD {i}"))
        await wait_for(lambda: len(s1.alerts) == 3)
        await c1.stop()
        c1.close()
    s2 = StateStore()
    c2 = ConsoleClient(url, s2, timings=FAST, local_dir=str(tmp_path / "c"))
    async with running_service(f"sqlite:///{tmp_path / 'second.db'}", ws_port=port):
        await c2.login("operator", PASSWORD)
        try:
            assert len(s2.alerts) == 3  # the cache, shown while connecting
            await wait_for(lambda: s2.snapshot_reloads == 1, what="reload")
            await wait_for(lambda: s2.connection == Connection.ONLINE)
            assert s2.alerts == {}
        finally:
            await c2.stop()
            c2.close()


async def test_long_backlog_flushes_under_the_service_rate_limit(sqlite_url: str, tmp_path: Path) -> None:
    """80 commands queued offline meet a service that takes 20 frames/s (burst 30) while the
    console paces at 40/s: refusals are paused and resent, each command applied once, and the
    console is never cut off as a flooder."""
    port = free_port()
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{port}", store, timings=FAST, local_dir=str(tmp_path))
    client.login("operator", PASSWORD)
    try:
        await wait_for(lambda: store.connection == Connection.OFFLINE)
        ids = [client.submit("alert.raise", _raise(f"BACKLOG {i:03d}"))[0] for i in range(80)]
        async with running_service(sqlite_url, ws_port=port, rate_per_s=20.0, rate_burst=30) as svc:
            await wait_for(lambda: len(client.dispatcher.outbox) == 0, within=40,  # type: ignore[union-attr]
                           what="backlog flushed")
            assert svc.server.flood_disconnects == 0  # type: ignore[union-attr]
            assert client.dispatcher.retried > 0  # type: ignore[union-attr]  # the limit was really hit
            assert client.connects == 1
    finally:
        await client.stop()
        client.close()
    counts = dict(sql(sqlite_url, "SELECT id, COUNT(*) FROM commands GROUP BY id"))
    assert all(counts.get(c) == 1 for c in ids)
    assert sorted(_titles(sqlite_url, "BACKLOG ")) == [f"BACKLOG {i:03d}" for i in range(80)]
