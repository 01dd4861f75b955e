"""End to end through the console's own entry (views.shell.run, what main.py calls): the real
sync service with its simulator (subprocess, SQLite, demo users), Mosquitto, and the whole
console under Xvfb - login dialog, wall of the operations hall (deferred panels, the offline
cache read aside), StorePacer and collector tuning. A red alert injected through MQTT appears
in the feed, sounds, is acknowledged from the keyboard, and the acknowledgement is in the
service's event log."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from sqlalchemy import create_engine, select

from app.store import Connection, StateStore
from views.embedded import EmbeddedService


@pytest.fixture
def service(tmp_path: Path, mqtt_broker: tuple[str, int]) -> Iterator[tuple[EmbeddedService, str, str]]:
    prefix = f"ioc-e2e-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "ioc.db"
    env = {"IOC_MQTT_HOST": mqtt_broker[0], "IOC_MQTT_PORT": str(mqtt_broker[1]), "IOC_MQTT_PREFIX": prefix,
           "IOC_EMBEDDED_MQTT_FALLBACK": "false", "IOC_CONFIG": str(tmp_path / "none.json"),
           "IOC_SIM_DEVICES": "2000", "IOC_CIM_BUILDINGS": "3000"}
    svc = EmbeddedService(log_path=tmp_path / "service.log", db_url=f"sqlite:///{db}", env=env)
    svc.start(timeout_s=120)
    try:
        yield svc, prefix, f"sqlite:///{db}"
    finally:
        svc.stop()


@pytest.fixture
def console_env(tmp_path: Path, monkeypatch: Any, qapp: Any) -> Iterator[None]:
    """The console's files in tmp_path; the process-wide state run() changes put back after."""
    for var, sub in (("IOC_CONSOLE_CONFIG_DIR", "config"), ("IOC_CLIENT_DIR", "client"),
                     ("IOC_CITY_CACHE_DIR", "city")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    thresholds = gc.get_threshold()
    sheet = qapp.styleSheet()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    qapp.setStyleSheet(sheet)
    qapp.setQuitOnLastWindowClosed(True)
    asyncio.set_event_loop(None)


async def _until(pred: Callable[[], bool], what: str, limit_s: float = 90.0) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _register_smoke_detector(url: str, tmp_path: Path) -> str:
    """A bureau registers the device through the protocol; its key comes back once."""
    from backend_client.client import ConsoleClient
    from sync_service.seed import DEMO_PASSWORD
    bureau = ConsoleClient(url, StateStore(), local_dir=str(tmp_path / "bureau"))
    bureau.login("bureau_fire", DEMO_PASSWORD)
    try:
        await _until(lambda: bureau.store.connection == Connection.ONLINE, "bureau login")
        res = await bureau.send("device.register", {"device_id": "E2E-CONSOLE-SD", "device_type": "smoke_detector",
                                                    "town": "nancheng", "lon": 113.75, "lat": 23.0})
        assert res.ok, res
        return str(res.data["key"])
    finally:
        await bureau.stop()
        bureau.close()


def test_the_real_console_logs_in_sounds_a_mqtt_red_alert_and_acknowledges_it(
        service: Any, mqtt_broker: tuple[str, int], console_env: None, qapp: Any, tmp_path: Path) -> None:
    from sync_service.seed import DEMO_PASSWORD
    from views.shell import Shell, run

    svc, prefix, db_url = service
    seen: dict[str, Any] = {}
    failure: list[BaseException] = []

    async def scenario(shell: Shell) -> None:
        # the login dialog, filled and sent from the keyboard
        await _until(lambda: shell.login is not None and shell.login.isVisible(), "the login dialog")
        dlg = shell.login
        assert dlg.server.text() == svc.url  # --server fills it in
        dlg.user.clear()
        QTest.keyClicks(dlg.user, "operator")
        QTest.keyClicks(dlg.password, DEMO_PASSWORD)
        dlg.hall.setCurrentIndex(dlg.hall.findData("operations"))
        QTest.keyClick(dlg.password, Qt.Key.Key_Return)
        await _until(lambda: shell.wall is not None and bool(shell.wall.windows), "the wall")
        store = shell.store
        await _until(lambda: store.connection == Connection.ONLINE and store.session.user == "operator",
                     "the operator online")
        key = await _register_smoke_detector(svc.url, tmp_path)

        async with aiomqtt.Client(mqtt_broker[0], mqtt_broker[1], identifier=f"e2e-{uuid.uuid4().hex[:8]}") as c:
            await c.publish(f"{prefix}/fire/smoke_detector/E2E-CONSOLE-SD/reading",
                            orjson.dumps({"key": key, "ts": time.time(), "values": {"smoke": 0.7, "battery": 90}}),
                            qos=1)
        await _until(lambda: any(a.device_id == "E2E-CONSOLE-SD" and a.level == 4 for a in store.alerts.values()),
                     "the red alert in the console's store")
        alert = next(a for a in store.alerts.values() if a.device_id == "E2E-CONSOLE-SD")
        assert shell.wall is not None
        assert shell.ctx is not None
        (win,) = shell.wall.windows  # one screen: the hall's three screens are tabs of one window
        feed = win.panel("alert_feed")
        await _until(lambda: feed.model.row_of(alert.id) >= 0, "the row in the feed (the refresh tick)")
        red = shell.ctx.red_center
        await _until(lambda: red.sound.plays >= 1, "the alarm sound")
        assert win.banner is not None
        await _until(lambda: win.banner.isVisible(), "the red banner")

        assert feed.select_alert(alert.id)
        feed.table.setFocus()
        QTest.keyClick(feed.table, Qt.Key.Key_A)  # acknowledge with the keyboard
        await _until(lambda: store.alerts[alert.id].state.value == "acknowledged", "the acknowledgement event")
        assert store.alerts[alert.id].acknowledged_by == "operator"
        await _until(lambda: not win.banner.isVisible(), "the banner to go")
        seen["alert_id"] = alert.id
        seen["cold"] = shell.builder.painted  # the wall's first frame came and the rest was built after it

    def on_start(shell: Shell) -> None:
        async def guarded() -> None:
            try:
                await asyncio.wait_for(scenario(shell), 240)
            except BaseException as exc:  # noqa: BLE001 - reported by the test after run() returns
                failure.append(exc)
            finally:
                shell.quit()
        seen["task"] = asyncio.get_running_loop().create_task(guarded())

    QTimer.singleShot(300_000, qapp.quit)  # a console that never quits must not hang the suite
    try:
        code = run(["ioc-console", "--server", svc.url, "--no-kiosk", "--lang", "zh"], on_start=on_start)
    except BaseException:
        print("service log (tail):\n" + (svc.log_path.read_text(errors="replace")[-3000:] if svc.log_path else ""))
        raise
    if failure:
        print("service log (tail):\n" + (svc.log_path.read_text(errors="replace")[-3000:] if svc.log_path else ""))
        raise failure[0]
    assert code == 0
    assert seen["cold"]

    engine = create_engine(db_url)
    from sync_service.db.models import EventRecord
    with engine.connect() as conn:
        rows = conn.execute(select(EventRecord.kind, EventRecord.data, EventRecord.command_id)
                            .where(EventRecord.kind == "alert.upsert")).all()
    acks = [r for r in rows if r.data.get("id") == seen["alert_id"] and r.data.get("state") == "acknowledged"]
    assert acks, "no acknowledgement in the service's event log"
    assert acks[-1].data["acknowledged_by"] == "operator"
    assert acks[-1].command_id  # written by the console's command, not by the service itself
