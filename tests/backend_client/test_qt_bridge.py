"""The Qt bridge under a real qasync loop (offscreen or Xvfb): signals re-emitted on the Qt side."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from app.commandbus import CommandResult
from app.store import StateStore
from backend_client.client import ConsoleClient
from backend_client.qt_bridge import ConsoleBridge, StorePacer
from backend_client.qtloop import ConsoleEventLoop  # qasync: a hard dependency, never a skip
from tests.backend_client.helpers import FAST, free_port, wait_for

pytestmark = pytest.mark.gui


def _run(qapp: Any, coro: Coroutine[Any, Any, None]) -> None:
    loop = ConsoleEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_bridge_reports_offline_and_forwards_results(qapp: Any, tmp_path: Path) -> None:
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{free_port()}", store, timings=FAST, local_dir=str(tmp_path))
    bridge = ConsoleBridge(client)
    states: list[str] = []
    finished: list[tuple[str, Any]] = []
    bridge.connectionChanged.connect(states.append)
    bridge.commandFinished.connect(lambda cid, res: finished.append((cid, res)))

    async def main() -> None:
        bridge.start("duty1", "pw")
        await wait_for(lambda: "offline" in states, what="offline signal")
        assert bridge.connection == "offline"
        cid = bridge.sendCommand("alert.ack", {"alert_id": "not a number"})
        await wait_for(lambda: bool(finished), what="local refusal")
        assert cid == ""
        assert finished[0][1].error_code == "bad_args"
        # a command answered later (after a reconnect) reaches Qt with its id
        client.command_finished.emit("abc-123-456", CommandResult(ok=True, duplicate=True))
        assert finished[-1] == ("abc-123-456", CommandResult(ok=True, duplicate=True))
        queued_id = bridge.sendCommand("alert.ack", {"alert_id": 5})
        assert len(queued_id) == 36  # a UUID: held in the outbox until the service is back
        bridge.stop()
        await wait_for(lambda: client._task is None, what="stop")

    _run(qapp, main())
    client.close()


def test_bridge_reports_login_failure(qapp: Any, tmp_path: Path) -> None:
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{free_port()}", store, timings=FAST, local_dir=str(tmp_path))
    bridge = ConsoleBridge(client)
    codes: list[str] = []
    bridge.loginFailed.connect(codes.append)

    async def main() -> None:
        client.resume_with_token("duty1", "")  # nothing to log in with
        await wait_for(lambda: bool(codes), what="loginFailed")
        await client.stop()

    _run(qapp, main())
    client.close()
    assert codes == ["login_needed"]


def test_bridge_with_the_real_service(qapp: Any, tmp_path: Path) -> None:
    """As in the application: the service in its own process, the client on the Qt thread."""
    from tests.backend_client.service import PASSWORD, ServiceProcess

    proc = ServiceProcess(f"sqlite:///{tmp_path / 'svc.db'}", log_path=tmp_path / "svc.log")
    proc._start_blocking(60.0)
    store = StateStore()
    pacer = StorePacer(store)  # as the console: events applied in slices from the Qt loop
    states: list[str] = []
    finished: list[tuple[str, Any]] = []
    client = ConsoleClient(proc.url, store, timings=FAST, local_dir=str(tmp_path / "c"))
    bridge = ConsoleBridge(client)
    bridge.connectionChanged.connect(states.append)
    bridge.commandFinished.connect(lambda cid, res: finished.append((cid, res)))

    async def main() -> None:
        bridge.start("operator", PASSWORD)
        await wait_for(lambda: "online" in states, what="online signal")
        cid = bridge.sendCommand("alert.raise", {"level": 4, "domain": "fire", "title": "桥接测试",
                                                 "town": "nancheng"})
        await wait_for(lambda: bool(finished), what="commandFinished")
        assert finished[0][0] == cid
        assert finished[0][1].ok
        aid = finished[0][1].data["alert_id"]
        await wait_for(lambda: aid in store.alerts, what="the alert in the store")
        assert pacer.slices >= 1
        bridge.logout()
        await wait_for(lambda: states[-1] == "offline", what="offline after logout")
        await wait_for(lambda: store.session.user == "", what="logout finished")

    try:
        _run(qapp, main())
    finally:
        client.close()
        proc.stop()
    assert states[0] == "online"


def test_store_pacer_applies_a_big_frame_in_slices_with_the_loop_free_between(qapp: Any) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    from protocol.frames import Event
    store = StateStore()
    pacer = StorePacer(store, slice_ms=1.0)
    events = [Event(seq=i, ts=1, kind="alert.upsert", data=dict(
        id=i, source="rule", level=1 + i % 4, state="new", domain="fire", title=f"a{i}",
        first_ts=1.0, last_ts=1.0, updated_ts=1.0)) for i in range(1, 3001)]
    assert store.apply_events(events) == 3000  # a resume replay arriving at once: only queued
    assert store.alerts == {}
    beats: list[int] = []  # a timer that fires whenever the loop gets a turn
    probe = QTimer(interval=0)
    probe.timeout.connect(lambda: beats.append(len(store.alerts)))
    probe.start()
    loop = QEventLoop()
    done = QTimer(interval=5)
    done.timeout.connect(lambda: loop.quit() if store.backlog == 0 else None)
    done.start()
    QTimer.singleShot(20_000, loop.quit)
    loop.exec()
    probe.stop()
    done.stop()
    assert sorted(store.alerts) == list(range(1, 3001))
    assert store.seq == 3000
    assert pacer.slices > 1
    partial = {n for n in beats if 0 < n < 3000}
    assert len(partial) > 1  # the loop ran between slices, with the store part-applied
    pacer.stop()
    assert store.pacer is None
    assert store.apply_events(events[:1] + [Event(seq=3001, ts=1, kind="alert.upsert", data=dict(
        events[0].data, id=3001))]) == 1
    assert 3001 in store.alerts  # unpaced again: applied at once


def test_store_pacer_keeps_up_with_2000_events_per_second_within_its_cap(qapp: Any) -> None:
    """The pass is capped in time whatever the backlog (no minimum share that could exceed it),
    and the backlog still drains: a 20,000-event resume replay, then 2,000 alert events/s for
    3 s arriving as 20 every 10 ms, while a slow paint takes 30 ms of every 100 (a loaded wall)."""
    import time

    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from protocol.frames import Event
    store = StateStore()
    pacer = StorePacer(store, slice_ms=4.0)
    seq = {"n": 0}
    backlog: list[int] = []

    def arrive(n: int = 20) -> None:
        if time.monotonic() >= t_end:
            feed.stop()
            return
        first = seq["n"] + 1
        seq["n"] += n
        store.apply_events([Event(seq=i, ts=1, kind="alert.upsert", data=dict(
            id=i % 5000 + 1, source="rule", level=1 + i % 4, state="new", domain="fire", title=f"a{i}",
            first_ts=1.0, last_ts=1.0, updated_ts=1.0)) for i in range(first, first + n)])
        backlog.append(store.backlog)

    t_end = time.monotonic() + 3.0
    arrive(20_000)  # the replay: with a quarter per pass the first would have been ~5,000 events

    def slow_paint() -> None:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.030:
            pass

    feed = QTimer(interval=10)
    feed.setTimerType(Qt.TimerType.PreciseTimer)
    feed.timeout.connect(arrive)
    paint = QTimer(interval=100)
    paint.timeout.connect(slow_paint)
    feed.start()
    paint.start()
    loop = QEventLoop()
    QTimer.singleShot(3500, loop.quit)
    loop.exec()
    paint.stop()
    try:
        assert seq["n"] >= 24_000  # the feed really ran at about its rate
        assert store.backlog == 0
        assert store.seq == seq["n"]
        assert max(backlog[50:]) < 2000  # soon less than a second behind, however slow the paints
        # the cap, plus the signals for the slice's events and some slack for a shared machine
        assert pacer.longest_ms < 4.0 + 20.0
    finally:
        pacer.stop()
