"""MQTT ingest against the real Mosquitto (mqtt_broker fixture), with a unique topic prefix
and client id per test so parallel runs never see each other's messages."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import orjson
from sqlalchemy import func, select

from sync_service.db.models import Reading
from tests.sync_service.ingest_support import bureau_key, device_key, running


async def wait_for(pred, timeout: float = 10.0) -> None:  # noqa: ANN001, ASYNC109
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def publish(broker: tuple[str, int], msgs: list[tuple[str, bytes]]) -> None:
    async with aiomqtt.Client(broker[0], broker[1], identifier=f"pub-{time.monotonic_ns()}") as c:
        for topic, payload in msgs:
            await c.publish(topic, payload, qos=1)


def mqtt_cfg(broker: tuple[str, int]) -> dict:
    return {"mqtt_enabled": True, "mqtt_host": broker[0], "mqtt_port": broker[1], "embedded_mqtt_fallback": False}


async def test_device_and_batch_topics(sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    async with running(sqlite_url, **mqtt_cfg(mqtt_broker)) as r:
        p = r.ctx.config.mqtt_prefix
        now = time.time()
        assert r.c["mqtt"].connected.is_set()
        batch = {"credential": bureau_key("water"),
                 "readings": [{"device": "WL-1", "ts": now - i, "values": {"level": 3.0 + i / 100}} for i in range(100)]}
        await publish(mqtt_broker, [
            (f"{p}/fire/smoke_detector/SD-1/reading",
             orjson.dumps({"key": device_key("SD-1"), "ts": now, "values": {"smoke": 0.02, "battery": 90}})),
            (f"{p}/water/batch", orjson.dumps(batch)),
            (f"{p}/fire/smoke_detector/SD-2/reading",
             orjson.dumps({"key": device_key("SD-1"), "ts": now, "values": {"smoke": 0.02}})),  # wrong key
            (f"{p}/fire/batch", orjson.dumps(batch | {"credential": bureau_key("fire")})),  # topic says fire, devices are water's
            (f"{p}/water/water_level/SD-1/reading", orjson.dumps({"key": device_key("SD-1"), "ts": now, "values": {"level": 1}})),
            (f"{p}/whatever", b"{}"),
            (f"{p}/water/batch", b"\xff\xfe not json"),
        ])
        pipe = r.c["ingest"]
        await wait_for(lambda: r.c["mqtt"].messages >= 7)
        assert pipe.readings_total == 101
        await r.settle()
        n = await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading)))
        assert n == 102  # 100 levels + smoke + battery
        dq = pipe.dq.snapshot()["total"]
        assert dq["auth_invalid"] == 1
        assert dq["auth_domain"] == 100
        assert dq["malformed"] == 3


async def test_alert_end_to_end_over_mqtt(sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    async with running(sqlite_url, **mqtt_cfg(mqtt_broker)) as r:
        p = r.ctx.config.mqtt_prefix
        await publish(mqtt_broker, [(f"{p}/education/school_alarm/SA-1/reading",
                                     orjson.dumps({"key": device_key("SA-1"), "ts": time.time(), "values": {"alarm": 1}}))])
        await wait_for(lambda: bool(r.kinds("alert.upsert")))
        a = r.kinds("alert.upsert")[-1]
        assert (a.data["title"], a.data["level"], a.domain, a.town) == ("校园一键报警", 4, "education", "changan")


async def test_missing_broker_falls_back_to_http_only(sqlite_url: str) -> None:
    async with running(sqlite_url, mqtt_enabled=True, mqtt_host="127.0.0.1", mqtt_port=1,
                       embedded_mqtt_fallback=True) as r:
        assert not r.c["mqtt"].connected.is_set()
        assert r.c["http"].port > 0

