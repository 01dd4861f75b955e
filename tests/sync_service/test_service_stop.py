"""Stopping the whole service while HTTP and MQTT ingest are flooding it: stop() returns within
its bound, logs no error and no traceback, and every reading the service acknowledged (an HTTP
200: "committed") is in the store afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from typing import Any

import aiohttp
import aiomqtt
import orjson
import pytest
from sqlalchemy import func, select

from sync_service.db.models import Reading
from sync_service.service import SyncService
from tests.sync_service.ingest_support import bureau_key, make_context, seed
from tests.sync_service.server_helpers import config

N_DEVICES = 400
STOP_S = 10.0
DEVICES = {f"SD-{i}": ("smoke_detector", "nancheng", 5000 + i // 8, 113.74, 23.01) for i in range(N_DEVICES)}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _readings(k: int, n: int) -> list[dict[str, Any]]:
    now = time.time()
    # smoke crossing its red threshold up and down: alert changes keep the AlertManager busy too
    return [{"device": f"SD-{(k * n + i) % N_DEVICES}", "ts": now - (i % 50) * 0.001,
             "values": {"smoke": 0.9 if (k + i // N_DEVICES) % 2 == 0 else 0.01}} for i in range(n)]


async def _flood_http(port: int, acked: list[int], stop: asyncio.Event) -> None:
    url = f"http://127.0.0.1:{port}/ingest/v1/readings"
    headers = {"Authorization": f"Bearer {bureau_key('fire')}", "Content-Type": "application/json"}
    k = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            body = orjson.dumps({"readings": _readings(k, 2000)})
            k += 1
            try:
                async with http.post(url, data=body, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    if resp.status == 200:
                        acked.append((await resp.json())["accepted"])
                    else:
                        await asyncio.sleep(0.05)  # 503 while catching up
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.05)  # the service is going away


async def _flood_mqtt(broker: tuple[str, int], prefix: str, stop: asyncio.Event) -> None:
    with contextlib.suppress(aiomqtt.MqttError):
        async with aiomqtt.Client(broker[0], broker[1], identifier=f"flood-{uuid.uuid4().hex[:10]}") as c:
            k = 0
            while not stop.is_set():
                batch = {"credential": bureau_key("fire"), "readings": _readings(k, 1000)}
                await c.publish(f"{prefix}/fire/batch", orjson.dumps(batch), qos=0)
                k += 1
                await asyncio.sleep(0.01)


async def _stored(url: str) -> int:
    ctx = make_context(url)
    try:
        return int(await ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) or 0)
    finally:
        ctx.db.close()


async def test_stop_under_http_and_mqtt_flood_is_bounded_and_clean(sqlite_url: str,
                                                                   mqtt_broker: tuple[str, int]) -> None:
    """Twice: the second start runs on what the first stop left."""
    make_context(sqlite_url).db.run_sync(lambda s: seed(s, DEVICES))
    prefix = f"t{uuid.uuid4().hex[:10]}/ioc/v1"
    rec = _Records()
    root = logging.getLogger()
    root.addHandler(rec)
    try:
        for _ in range(2):
            svc = SyncService(config(sqlite_url, mqtt_enabled=True, mqtt_host=mqtt_broker[0],
                                     mqtt_port=mqtt_broker[1], mqtt_prefix=prefix, embedded_mqtt_fallback=False,
                                     stop_timeout_s=STOP_S))
            await svc.start()
            port = svc.ctx.components["http"].port  # type: ignore[union-attr]
            pipe = svc.ctx.components["ingest"]  # type: ignore[union-attr]
            stop_flood = asyncio.Event()
            acked: list[int] = []
            floods = [asyncio.create_task(_flood_http(port, acked, stop_flood)) for _ in range(3)]
            floods.append(asyncio.create_task(_flood_mqtt(mqtt_broker, prefix, stop_flood)))
            deadline = time.monotonic() + 20
            while pipe.pending < 2000 or len(acked) < 2 or svc.ctx.components["mqtt"].messages < 20:
                if time.monotonic() > deadline:
                    raise AssertionError("the flood did not get going")
                await asyncio.sleep(0.05)
            busy = pipe.pending
            t0 = time.monotonic()
            await svc.stop()  # while the floods keep going
            took = time.monotonic() - t0
            stop_flood.set()
            await asyncio.gather(*floods)
            print(f"stop under flood: {took:.2f} s with {busy} readings pending, "
                  f"{sum(acked)} acknowledged over HTTP")
            assert took < STOP_S + 3.0  # the budget, plus the transaction in hand and closing the store
            assert await _stored(sqlite_url) >= sum(acked)  # every acknowledged reading is on disk
        bad = [r for r in rec.records if r.levelno >= logging.ERROR or r.exc_info]
        assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]
    finally:
        root.removeHandler(rec)


async def test_alert_manager_stop_is_bounded_and_leaves_no_writer_behind(sqlite_url: str) -> None:
    """Cancelled by the service's budget half-way through its drain, the manager still stops its
    writer task: nothing tries to write after the store is closed."""
    from sync_service.alerts.engine import LevelChange
    from tests.sync_service.ingest_support import running

    async with running(sqlite_url, seed_fn=lambda s: seed(s, DEVICES)) as r:
        mgr = r.c["alerts"]
        rule = next(x for x in r.c["rules"].rules.values() if (x.device_type, x.metric) == ("smoke_detector", "smoke"))
        reg = r.c["devices"]
        now = time.time()
        for i in range(20_000):
            # 20,000 distinct alerts (50 rules x 400 detectors): changes to one alert would fold
            d = reg.devices[f"SD-{i % N_DEVICES}"]
            r_i = dataclasses.replace(rule, id=rule.id + 1000 * (i // N_DEVICES))
            mgr.on_level_change(LevelChange(r_i, d.pk, 0, 4, 0.9, now, 0.25, False))
        assert mgr.pending == 20_000
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(mgr.stop(drain_s=5.0), timeout=0.2)
        assert mgr._task is None
        assert mgr.pending == 0
        assert 0 < mgr.dropped_at_stop < 20_000
        mgr.on_level_change(LevelChange(rule, reg.devices["SD-1"].pk, 0, 4, 0.9, now, 0.25, False))
        assert mgr.pending == 0  # stopped: nothing is queued any more
        written = mgr.written
        await asyncio.sleep(0.3)
        assert mgr.written == written


async def test_pipeline_stop_counts_what_it_could_not_write(sqlite_url: str) -> None:
    from sync_service.ingest.auth import Bureau
    from tests.sync_service.ingest_support import running

    async with running(sqlite_url, seed_fn=lambda s: seed(s, DEVICES)) as r:
        pipe = r.c["ingest"]
        pipe.batch_max = 10**9  # keep them buffered
        pipe.flush_s = 60.0
        out = pipe.ingest(_readings(1, 3000), bureau=Bureau("fire", "gw"), door="test")
        assert out.accepted == 3000
        waiter = pipe.committed()
        await pipe.stop(flush_s=0.0)  # no time at all: nothing is begun
        assert pipe.unwritten_at_stop == 3000
        assert waiter.cancelled()
        assert await _stored(sqlite_url) == 0
