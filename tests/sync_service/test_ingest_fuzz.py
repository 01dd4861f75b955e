"""Fuzz: random bytes and random JSON on every MQTT topic shape and every HTTP endpoint.
The service must answer every request with a status (never a 500), keep its MQTT subscription,
and still take a good reading afterwards. Seeded, so a failure reproduces."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import aiohttp
import aiomqtt
import orjson

from tests.sync_service.ingest_support import bureau_key, device_key, running

KEYS = ["device", "ts", "values", "key", "credential", "readings", "events", "positions", "type", "external_id",
        "level", "title", "state", "resource_id", "lon", "lat", "status", "town", "level", "smoke", "rain_1h"]


def rand_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**63 - 1, -(2**63), 2**70, -9999, float("nan"), float("inf"), 65535, 1e308, -1e-308, 3.5, time.time()])
    if kind == 3:
        return rng.choice(["", "WL-1", "SD-1", "x" * 300, "2024-13-45T99:99:99", "\u0000\ud7ff", "红色", bureau_key("water"),
                           device_key("WL-1"), "NaN", "Infinity", "<alert/>"])
    if kind == 4:
        return rng.uniform(-1e6, 1e6)
    if kind == 5:
        return rng.randrange(-10, 10)
    if kind == 6:
        return [rand_json(rng, depth + 1) for _ in range(rng.randrange(6))]
    return {rng.choice(KEYS): rand_json(rng, depth + 1) for _ in range(rng.randrange(7))}


def rand_payload(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.3:
        return rng.randbytes(rng.randrange(0, 400))
    if r < 0.4:
        return b'{"readings": [' + b"{" * rng.randrange(1, 5000) + b"]}"
    doc = rand_json(rng)
    if rng.random() < 0.6:
        doc = {"key": rng.choice([device_key("WL-1"), "bad", None, 5]), "credential": bureau_key("water"),
               "ts": rand_json(rng), "values": rand_json(rng), "readings": [rand_json(rng) for _ in range(rng.randrange(20))],
               "events": [rand_json(rng) for _ in range(5)], "positions": [rand_json(rng) for _ in range(5)]}
    # stdlib json: big integers and NaN/Infinity literals go out as written (orjson refuses them)
    return json.dumps(doc).encode()


async def test_random_bytes_and_json_never_break_the_service(sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    rng = random.Random(20240601)
    async with running(sqlite_url, mqtt_enabled=True, mqtt_host=mqtt_broker[0], mqtt_port=mqtt_broker[1],
                       embedded_mqtt_fallback=False) as r:
        p = r.ctx.config.mqtt_prefix
        topics = [f"{p}/water/water_level/WL-1/reading", f"{p}/water/batch", f"{p}/fire/batch",
                  f"{p}/water/water_level/NOPE/reading", f"{p}/x/y/z/w/v", f"{p}/water", f"{p}/water/water_level/WL-1/x"]
        n_mqtt = 400
        async with aiomqtt.Client(*mqtt_broker, identifier=f"fuzz-{time.monotonic_ns()}") as c:
            for _ in range(n_mqtt):
                await c.publish(rng.choice(topics), rand_payload(rng), qos=1)
        base = f"http://127.0.0.1:{r.c['http'].port}"
        paths = ["/ingest/v1/readings", "/ingest/v1/events", "/ingest/v1/positions", "/ingest/v1/cap"]
        statuses: set[int] = set()
        async with aiohttp.ClientSession() as http:
            for i in range(300):
                headers = {"Authorization": f"Bearer {rng.choice([bureau_key('water'), bureau_key('weather'), 'junk'])}"}
                if i % 7 == 0:
                    headers = {}
                body = rand_payload(rng) if i % 5 else b"<?xml version='1.0'?><alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>" + rng.randbytes(50)
                async with http.post(base + rng.choice(paths), data=body, headers=headers) as resp:
                    statuses.add(resp.status)
                    await resp.read()
            async with http.get(base + "/api/v1/alerts/abc/cap", headers={"Authorization": "Bearer x"}) as resp:
                statuses.add(resp.status)
        assert 500 not in statuses
        assert statuses <= {200, 400, 401, 403, 413}
        deadline = time.monotonic() + 15
        while r.c["mqtt"].messages < n_mqtt:
            assert time.monotonic() < deadline, r.c["mqtt"].messages
            await asyncio.sleep(0.05)
        assert r.c["mqtt"].errors == 0  # every payload handled by the checks, none by the catch-all
        assert r.c["mqtt"]._task is not None
        assert not r.c["mqtt"]._task.done()
        # still alive and still taking good data on both doors
        before = r.c["ingest"].readings_total
        async with aiomqtt.Client(*mqtt_broker, identifier=f"fuzz-ok-{time.monotonic_ns()}") as c:
            await c.publish(f"{p}/water/water_level/WL-2/reading",
                            orjson.dumps({"key": device_key("WL-2"), "ts": time.time(), "values": {"level": 2.2}}), qos=1)
        async with aiohttp.ClientSession() as http, http.post(
                base + "/ingest/v1/readings", headers={"Authorization": f"Bearer {bureau_key('water')}"},
                data=orjson.dumps({"readings": [{"device": "RG-1", "ts": time.time(), "values": {"rain_1h": 1.0}}]})) as resp:
            assert resp.status == 200
            assert (await resp.json())["accepted"] == 1
        deadline = time.monotonic() + 10
        while r.c["ingest"].readings_total < before + 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await r.settle()
        assert sum(r.c["ingest"].dq.snapshot()["total"].values()) > 100
