"""Publishing: MQTT to the real Mosquitto (topics and payloads as docs/ingest.md says), HTTP to a
stand-in receiver (batches, device keys, events, positions, CAP), retries and reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import datetime

import aiomqtt
import orjson
import pytest

from simulator.city import City
from simulator.devices import TYPE_CODES
from simulator.engine import Simulation
from simulator.keys import bureau_key, device_key
from simulator.publishers import HttpPublisher, MqttPublisher
from simulator.runner import Runner
from simulator.scenarios import make
from simulator.weather import CN_TZ
from sync_service.catalog import DEVICE_TYPES_BY_CODE
from sync_service.ingest.cap import parse as parse_cap
from tests.simulator.support import CuttableProxy, Receiver, free_port

SECRET = "pub-secret"
T0 = datetime(2024, 7, 3, 10, 0, tzinfo=CN_TZ).timestamp()


@pytest.fixture(autouse=True)
def _fast_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_SIM_RECONNECT_MIN_S", "0.05")
    monkeypatch.setenv("IOC_SIM_RECONNECT_MAX_S", "0.3")


async def _until(pred, what: str, limit_s: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _collect(host: str, port: int, topic: str, out: list[tuple[str, bytes]], ready: asyncio.Event) -> None:
    async with aiomqtt.Client(host, port, identifier=f"simtest-sub-{uuid.uuid4().hex[:8]}") as c:
        await c.subscribe(topic, qos=0)
        ready.set()
        async for m in c.messages:
            out.append((str(m.topic), bytes(m.payload)))


@pytest.mark.mqtt
async def test_mqtt_topics_and_payloads_follow_the_contract(mqtt_broker: tuple[str, int], city: City) -> None:
    host, port = mqtt_broker
    prefix = f"simtest-{uuid.uuid4().hex[:10]}/ioc/v1"
    got: list[tuple[str, bytes]] = []
    ready = asyncio.Event()
    sub = asyncio.create_task(_collect(host, port, f"{prefix}/#", got, ready))
    await asyncio.wait_for(ready.wait(), 10)
    mqtt = MqttPublisher(host, port, prefix=prefix)
    pub = asyncio.create_task(mqtt.run())
    runner = Runner(Simulation(city), secret=SECRET, http=HttpPublisher("http://127.0.0.1:9"), mqtt=mqtt,
                    speed=60, model_start=T0, wall_start=time.time())
    try:
        wire = runner.tick(runner.wall0 + 5)  # 5 wall seconds = 300 model seconds
        assert wire.count > 5000
        assert await mqtt.flush(30)
        await _until(lambda: sum(_n(t, p) for t, p in got) >= wire.count, "all readings at the subscriber")
    finally:
        for t in (pub, sub):
            t.cancel()
        await asyncio.gather(pub, sub, return_exceptions=True)
    d = city.devices
    uid_type = {u: TYPE_CODES[int(d.type_idx[i])] for i, u in enumerate(d.uid)}
    batches = direct = 0
    for topic, payload in got:
        parts = topic[len(prefix) + 1:].split("/")
        msg = orjson.loads(payload)
        if parts[-1] == "batch":
            domain = parts[0]
            assert msg["credential"] == bureau_key(SECRET, domain)
            assert 0 < len(msg["readings"]) <= 5000
            for r in msg["readings"]:
                assert DEVICE_TYPES_BY_CODE[uid_type[r["device"]]].domain == domain
                assert isinstance(r["ts"], float)
                assert set(r["values"]) <= {m.name for m in DEVICE_TYPES_BY_CODE[uid_type[r["device"]]].metrics}
            batches += 1
        else:
            domain, dtype, uid, leaf = parts
            assert leaf == "reading"
            assert uid_type[uid] == dtype
            assert DEVICE_TYPES_BY_CODE[dtype].domain == domain
            assert msg["key"] == device_key(SECRET, uid)
            assert d.direct[d.uid.index(uid)]
            assert set(msg) == {"key", "ts", "values"}
            direct += 1
    assert batches >= 8  # one gateway per bureau with devices reporting
    assert direct > 50
    assert runner.wire_ts(T0 + 300) == pytest.approx(runner.wall0 + 5)


def _n(topic: str, payload: bytes) -> int:
    return len(orjson.loads(payload)["readings"]) if topic.endswith("/batch") else 1


@pytest.mark.mqtt
async def test_mqtt_publisher_reconnects_and_delivers_what_waited(mqtt_broker: tuple[str, int]) -> None:
    host, port = mqtt_broker
    prefix = f"simtest-{uuid.uuid4().hex[:10]}/ioc/v1"
    proxy = CuttableProxy(host, port)
    await proxy.restore()
    got: list[tuple[str, bytes]] = []
    ready = asyncio.Event()
    sub = asyncio.create_task(_collect(host, port, f"{prefix}/#", got, ready))
    await asyncio.wait_for(ready.wait(), 10)
    mqtt = MqttPublisher("127.0.0.1", proxy.port, prefix=prefix)
    pub = asyncio.create_task(mqtt.run())
    try:
        await asyncio.wait_for(mqtt.connected.wait(), 10)
        mqtt.submit_batch("water", "k", [{"device": "a", "ts": 1.0, "values": {"level": 1.0}}])
        await _until(lambda: len(got) == 1, "first message")
        await proxy.cut()
        await _until(lambda: not mqtt.connected.is_set(), "the publisher noticing the cut")
        for i in range(3):
            mqtt.submit_batch("water", "k", [{"device": f"b{i}", "ts": 2.0, "values": {"level": 2.0}}])
        await asyncio.sleep(0.3)
        await proxy.restore()
        await _until(lambda: len(got) == 4, "the messages queued while the broker was away")
        assert mqtt.stats.reconnects >= 1
        assert mqtt.stats.dropped == 0
    finally:
        for t in (pub, sub):
            t.cancel()
        await asyncio.gather(pub, sub, return_exceptions=True)
        await proxy.cut()


async def test_http_publishing_of_readings_events_positions_and_cap(city: City) -> None:
    rx = Receiver(busy=1)
    await rx.start()
    sim = Simulation(city)
    sim.add_scenario(make("fire"), T0)
    sim.add_scenario(make("typhoon"), T0)
    http = HttpPublisher(f"http://127.0.0.1:{rx.port}")
    runner = Runner(sim, secret=SECRET, http=http, speed=60, model_start=T0 - 1, wall_start=time.time())
    task = asyncio.create_task(http.run())
    try:
        total = 0
        for s in range(1, 6):  # 5 model minutes: smoke, dispatch, the first warning
            total += runner.tick(runner.wall0 + s).count
        assert await http.flush(30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rx.stop()
    d = city.devices
    uid_domain = {u: DEVICE_TYPES_BY_CODE[TYPE_CODES[int(d.type_idx[i])]].domain for i, u in enumerate(d.uid)}
    n = 0
    for r in rx.of("readings"):
        items = r.json()["readings"]
        assert len(items) <= 5000
        if r.auth is None:  # devices with their own keys
            for it in items:
                assert it["key"] == device_key(SECRET, it["device"])
        else:
            domains = {uid_domain[it["device"]] for it in items}
            assert len(domains) == 1
            assert r.auth == f"Bearer {bureau_key(SECRET, domains.pop())}"
        n += len(items)
    assert n == total  # the 503 was retried, nothing lost or doubled
    assert http.stats.accepted == total
    positions = rx.of("positions")
    assert positions
    assert all(p.auth == f"Bearer {bureau_key(SECRET, 'fire')}" for p in positions)
    assert {x["status"] for p in positions for x in p.json()["positions"]} == {"dispatched"}
    caps = rx.of("cap")
    assert len(caps) == 1
    assert caps[0].auth == f"Bearer {bureau_key(SECRET, 'weather')}"
    assert caps[0].ctype.startswith("application/cap+xml")
    msg = parse_cap(caps[0].body)
    assert msg.msg_type == "Alert"
    assert int(msg.info("zh").level()) == 1
    assert abs(msg.sent - runner.wall0) < 5  # stamped with wall time, not model time


async def test_http_publisher_waits_for_the_service_to_come_back() -> None:
    port = free_port()
    http = HttpPublisher(f"http://127.0.0.1:{port}")
    task = asyncio.create_task(http.run())
    rx = Receiver(port=port)
    try:
        http.submit_readings("k", [{"device": "x", "ts": 1.0, "values": {"level": 1.0}}])
        http.submit_events("k", [{"type": "urban_case"}])
        await _until(lambda: http.stats.reconnects >= 2, "failed attempts while the service is down")
        await rx.start()
        assert await http.flush(20)
        assert len(rx.of("readings")) == 1
        assert len(rx.of("events")) == 1
        assert http.stats.errors == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(Exception):
            await rx.stop()


async def test_outbox_drops_oldest_when_full_and_counts_it() -> None:
    http = HttpPublisher("http://127.0.0.1:9", max_queue=3)
    for i in range(5):
        http.submit_readings("k", [{"device": str(i), "ts": 1.0, "values": {}}] * 10)
    assert http.stats.dropped == 20
    assert [orjson.loads(item[2])["readings"][0]["device"] for item, _ in http.readings.q] == ["2", "3", "4"]


def test_rate_cap_thins_but_keeps_scenario_devices(city: City) -> None:
    sim = Simulation(city)
    sc = sim.add_scenario(make("fire"), T0)
    rx_http = HttpPublisher("http://127.0.0.1:9")
    runner = Runner(sim, secret=SECRET, http=rx_http, speed=60, rate=500, model_start=T0 - 1, wall_start=0.0)
    wire = runner.tick(5.0)  # 5 wall s at 60x: ~2,000+ readings due, budget 2,500 -> under; then 10 s more
    wire = runner.tick(25.0)
    assert runner.stats.thinned > 0
    assert wire.count <= 500 * 20 + 200
    tower = {city.devices.uid[int(i)] for i in sc.tower_smoke}
    sent = {it["device"] for items in wire.batches.values() for it in items} | {u for _, _, u, _ in wire.direct}
    assert tower <= sent  # every tower detector reported
