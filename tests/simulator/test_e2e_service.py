"""End to end against the real sync service (ingest + alerts, SQLite) and the real Mosquitto:
the simulator provisions its city, publishes a few model minutes of the Nancheng fire and the
typhoon's first warning, and the service ends up with the readings, the data-quality counts,
the fire alerts in the tower, the CAP warning and the fire engines on their way."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simulator.city import build_city
from simulator.engine import Simulation
from simulator.provision import provision
from simulator.publishers import HttpPublisher, MqttPublisher
from simulator.runner import Runner
from simulator.scenarios import make
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Alert, DataQualityCount, Device, Resource
from sync_service.seed import seed_reference
from tests.sync_service.server_helpers import service

SECRET = "e2e-secret"


async def _until(pred, what: str, limit_s: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit_s
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.mqtt
async def test_simulated_city_through_the_real_service(sqlite_url: str, mqtt_broker: tuple[str, int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_SIM_RECONNECT_MIN_S", "0.05")
    city = build_city(5, 5000)
    engine = make_engine(sqlite_url)
    migrate(engine)
    with Session(engine) as s, s.begin():
        seed_reference(s)
        provision(s, city, SECRET)
    prefix = f"sime2e-{uuid.uuid4().hex[:10]}/ioc/v1"
    host, port = mqtt_broker
    async with service(sqlite_url, parts=("sync_service.ingest", "sync_service.alerts"), mqtt_enabled=True,
                       mqtt_host=host, mqtt_port=port, mqtt_prefix=prefix, embedded_mqtt_fallback=False) as svc:
        comps = svc.ctx.components
        sim = Simulation(city)
        fire = sim.add_scenario(make("fire"), time.time())
        sim.add_scenario(make("typhoon"), time.time())
        http = HttpPublisher(f"http://127.0.0.1:{comps['http'].port}")
        mqtt = MqttPublisher(host, port, prefix=prefix)
        runner = Runner(sim, secret=SECRET, http=http, mqtt=mqtt, speed=60)
        tasks = [asyncio.create_task(http.run()), asyncio.create_task(mqtt.run())]
        try:
            await asyncio.wait_for(mqtt.connected.wait(), 10)
            for k in range(1, 13):  # 6 wall seconds at 60x: six model minutes
                runner.tick(runner.wall0 + 0.5 * k)
            assert await http.flush(60)
            assert await mqtt.flush(60)
            expected = runner.stats.readings
            await _until(lambda: comps["mqtt"].messages >= mqtt.stats.messages, "the service to get every message")
            await comps["ingest"].flush()
            await comps["alerts"].drain()
            await comps["ingest"].flush_state(audit=False)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        assert http.stats.errors == 0
        with Session(engine) as s:
            reported = s.scalar(select(func.count()).select_from(Device).where(Device.last_ts.is_not(None)))
            assert reported > 0.5 * len(city.devices)
            assert expected > reported
            tower_uids = [city.devices.uid[int(i)] for i in fire.tower_smoke]
            smoke_alerts = s.scalars(select(Alert).where(Alert.device_id.in_(tower_uids))).all()
            assert smoke_alerts, "no smoke alarm from the tower"
            assert max(a.level for a in smoke_alerts) == 4
            cap = s.scalars(select(Alert).where(Alert.source == "cap")).all()
            assert len(cap) == 1
            assert cap[0].level == 1
            assert "台风" in cap[0].title
            moving = s.scalars(select(Resource).where(Resource.id.in_([v.id for v in fire.vehicles]))).all()
            assert {r.status for r in moving} <= {"dispatched", "busy"}  # on the way or on scene
            assert "available" not in {r.status for r in moving}
            assert any((r.lon, r.lat) != (r.detail["home_lon"], r.detail["home_lat"]) for r in moving)
            dq = dict(s.execute(select(DataQualityCount.reason, func.sum(DataQualityCount.count))
                                .group_by(DataQualityCount.reason)).all())
            if runner.stats.garbage:
                assert sum(dq.values()) > 0, "garbage sent but nothing counted"
            assert "auth_invalid" not in dq
            assert "auth_domain" not in dq


async def test_typhoon_warning_chains_through_the_real_service(sqlite_url: str) -> None:
    """The whole typhoon CAP story (two chains: alerts, escalations, downgrades, cancels) posted
    to the real service: one alert per signal, its level following the chain, closed at the end."""
    city = build_city(5, 2000)
    engine = make_engine(sqlite_url)
    migrate(engine)
    with Session(engine) as s, s.begin():
        seed_reference(s)
        provision(s, city, SECRET)
    async with service(sqlite_url, parts=("sync_service.ingest", "sync_service.alerts")) as svc:
        sim = Simulation(city)
        sc = sim.add_scenario(make("typhoon"), time.time())
        http = HttpPublisher(f"http://127.0.0.1:{svc.ctx.components['http'].port}")
        runner = Runner(sim, secret=SECRET, http=http)
        task = asyncio.create_task(http.run())
        levels: list[tuple[str, int, str]] = []
        try:
            for a in sim.actions(sc.t0 - 1, sc.t0 + sc.duration_s):
                if a.kind != "cap":
                    continue
                xml = a.payload(time.time())
                http.submit_cap(runner.bureau("weather"), xml)
                assert await http.flush(30)
                with Session(engine) as s:
                    for al in s.scalars(select(Alert).where(Alert.source == "cap")):
                        levels.append((al.title, al.level, al.state))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert http.stats.errors == 0
        with Session(engine) as s:
            alerts = s.scalars(select(Alert).where(Alert.source == "cap").order_by(Alert.id)).all()
            assert len(alerts) == 2  # typhoon and rainstorm: one alert per signal
            assert {a.state for a in alerts} == {"closed"}
            assert all(a.domain == "weather" for a in alerts)
        typhoon_levels = [lv for t, lv, _ in levels if "台风" in t]
        # blue -> yellow -> orange -> red -> yellow as the chain went (each seen after its post)
        assert [x for i, x in enumerate(typhoon_levels) if i == 0 or x != typhoon_levels[i - 1]] == [1, 2, 3, 4, 2]
