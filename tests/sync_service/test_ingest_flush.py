"""Readings that arrive without an HTTP caller waiting (MQTT) are written within about FLUSH_S,
not only when a full batch of BATCH_MAX has piled up."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import orjson
from sqlalchemy import func, select

from sync_service.db.models import Reading
from sync_service.ingest.pipeline import BATCH_MAX, FLUSH_S
from tests.sync_service.ingest_support import bureau_key, device_key, running


async def test_mqtt_readings_are_written_within_the_flush_interval(sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    async with running(sqlite_url, mqtt_enabled=True, mqtt_host=mqtt_broker[0], mqtt_port=mqtt_broker[1],
                       embedded_mqtt_fallback=False) as r:
        p, now = r.ctx.config.mqtt_prefix, time.time()
        batch = {"credential": bureau_key("water"),
                 "readings": [{"device": "WL-1", "ts": now - i, "values": {"level": 3.0}} for i in range(10)]}
        async with aiomqtt.Client(*mqtt_broker, identifier=f"pub-{time.monotonic_ns()}") as c:
            await c.publish(f"{p}/water/batch", orjson.dumps(batch), qos=1)
            await c.publish(f"{p}/fire/smoke_detector/SD-1/reading",
                            orjson.dumps({"key": device_key("SD-1"), "ts": now, "values": {"smoke": 0.01}}), qos=1)
        assert 11 < BATCH_MAX
        deadline = time.monotonic() + 10 * FLUSH_S + 5.0  # generous for a loaded machine; no settle()
        n = 0
        while time.monotonic() < deadline:
            n = await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading)))
            if n == 11:
                break
            await asyncio.sleep(0.05)
        assert n == 11
        assert r.c["ingest"].pending == 0
