"""End to end: the real sync service (subprocess, SQLite, demo users, simulator if present) and
the real console (backend client + hall window) under Xvfb. A red alert injected through MQTT
appears in the feed, sounds and flashes, is acknowledged with the keyboard in the feed, and the
acknowledgement is in the service's event log."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import orjson
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import create_engine, select

from app.halls import shipped_profiles
from app.settings import ConsoleSettings
from app.store import Connection, StateStore
from views.context import ViewContext
from views.embedded import EmbeddedService
from views.window import HallWindow
from widgets import common
from widgets.red_alert import RedAlertCenter


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


async def _until(pred: Callable[[], bool], what: str, limit_s: float = 90.0) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_mqtt_red_alert_sounds_and_is_acknowledged_from_the_ui(service: Any, mqtt_broker: tuple[str, int],
                                                                qapp: Any, qtbot: Any, tmp_path: Path) -> None:
    from backend_client.client import ConsoleClient
    from backend_client.qtloop import ConsoleEventLoop
    from sync_service.seed import DEMO_PASSWORD

    svc, prefix, db_url = service
    loop = ConsoleEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    ui: dict[str, Any] = {}

    async def scenario() -> None:
        # a bureau registers a smoke detector through the protocol; the key comes back once
        bureau = ConsoleClient(svc.url, StateStore(), local_dir=str(tmp_path / "bureau"))
        bureau.login("bureau_fire", DEMO_PASSWORD)
        await _until(lambda: bureau.store.connection == Connection.ONLINE, "bureau login")
        res = await bureau.send("device.register", {"device_id": "E2E-SD-1", "device_type": "smoke_detector",
                                                    "town": "dongcheng", "lon": 113.78, "lat": 23.03})
        assert res.ok, res
        key = res.data["key"]
        await bureau.stop()

        # the console as an operator sees it: operations hall, screen 1 (alert feed)
        store = StateStore()
        client = ConsoleClient(svc.url, store, hall="operations", local_dir=str(tmp_path / "console"))
        client.login("operator", DEMO_PASSWORD)
        await _until(lambda: store.connection == Connection.ONLINE and store.session.user == "operator",
                     "operator login")
        red = RedAlertCenter(store, client)
        ctx = ViewContext(store, client, ConsoleSettings(), shipped_profiles()["operations"], red_center=red)
        win = HallWindow(ctx, [0], kiosk=False)
        ui["win"] = win
        win.resize(1600, 900)
        win.show()
        feed = win.panel("alert_feed")

        async with aiomqtt.Client(mqtt_broker[0], mqtt_broker[1], identifier=f"e2e-{uuid.uuid4().hex[:8]}") as c:
            await c.publish(f"{prefix}/fire/smoke_detector/E2E-SD-1/reading",
                            orjson.dumps({"key": key, "ts": time.time(), "values": {"smoke": 0.6, "battery": 80}}),
                            qos=1)
        await _until(lambda: any(a.device_id == "E2E-SD-1" and a.level == 4 for a in store.alerts.values()),
                     "the red alert in the console's store")
        alert = next(a for a in store.alerts.values() if a.device_id == "E2E-SD-1")
        common.refresh_hub().tick.emit()
        await _until(lambda: feed.model.row_of(alert.id) >= 0, "the row in the feed")
        assert red.sound.plays >= 1  # QSoundEffect.play was triggered
        assert win.banner.isVisible()
        assert "烟感" in win.banner.label.text()

        assert feed.select_alert(alert.id)
        feed.table.setFocus()
        qtbot.keyClick(feed.table, Qt.Key.Key_A)  # acknowledge with the keyboard
        await _until(lambda: store.alerts[alert.id].state.value == "acknowledged", "the acknowledgement event")
        assert store.alerts[alert.id].acknowledged_by == "operator"
        await _until(lambda: not win.banner.isVisible(), "the banner to go")
        ui["alert_id"] = alert.id
        await client.stop()

    try:
        loop.run_until_complete(asyncio.wait_for(scenario(), 280))
    except BaseException:
        log = svc.log_path.read_text(errors="replace")[-3000:] if svc.log_path else ""
        print("service log (tail):\n" + log)
        raise
    finally:
        if "win" in ui:
            ui["win"].close()
        loop.close()
        asyncio.set_event_loop(None)

    engine = create_engine(db_url)
    from sync_service.db.models import EventRecord
    with engine.connect() as conn:
        rows = conn.execute(select(EventRecord.kind, EventRecord.data, EventRecord.command_id)
                            .where(EventRecord.kind == "alert.upsert")).all()
    acks = [r for r in rows if r.data.get("id") == ui["alert_id"] and r.data.get("state") == "acknowledged"]
    assert acks, "no acknowledgement in the service's event log"
    assert acks[-1].data["acknowledged_by"] == "operator"
    assert acks[-1].command_id  # written by the console's command, not by the service itself
