"""Two service processes on one PostgreSQL, one MQTT broker (the real Mosquitto): through the
shared subscription `$share/ioc-sync/{prefix}/#` each reading is delivered to one of them and
stored exactly once; with a plain subscription both would ingest everything."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import orjson
import pytest
from sqlalchemy import func, select

from sync_service.config import ServiceConfig
from sync_service.db.models import Reading
from sync_service.ingest.mqtt import _refused, subscription
from tests.sync_service.ingest_support import Running, device_key, running
from tests.sync_service.test_ingest_mqtt import mqtt_cfg, publish

UIDS = ("WL-1", "WL-2", "RG-1")
METRIC = {"WL-1": "level", "WL-2": "level", "RG-1": "rain_1h"}


def _messages(prefix: str, n: int) -> list[tuple[str, bytes]]:
    now = time.time()
    out = []
    for i in range(n):
        uid = UIDS[i % len(UIDS)]
        typ = "rain_gauge" if uid.startswith("RG") else "water_level"
        body = {"key": device_key(uid), "ts": now - i * 0.25, "values": {METRIC[uid]: 1.0 + (i % 97) / 100}}
        out.append((f"{prefix}/water/{typ}/{uid}/reading", orjson.dumps(body)))
    return out


async def _handled(instances: list[Running], want: int, within: float = 20.0) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        counts = [r.c["mqtt"].messages for r in instances]
        if sum(counts) >= want:
            await asyncio.sleep(0.5)  # anything beyond `want` (a duplicate) would show up now
            return [r.c["mqtt"].messages for r in instances]
        if time.monotonic() > deadline:
            raise AssertionError(f"only {counts} of {want} messages handled")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def two_instances(url: str, broker: tuple[str, int], **over: object):  # noqa: ANN201
    prefix = f"t{uuid.uuid4().hex[:10]}/ioc/v1"
    cfg = {**mqtt_cfg(broker), "mqtt_prefix": prefix, **over}
    async with running(url, **cfg) as a, running(url, seed_fn=lambda _s: None, **cfg) as b:
        yield prefix, [a, b]


async def test_two_instances_in_one_group_store_each_reading_once(pg_url: str, mqtt_broker: tuple[str, int]) -> None:
    n = 600
    async with two_instances(pg_url, mqtt_broker) as (prefix, inst):
        assert {r.c["mqtt"].topic_filter for r in inst} == {f"$share/ioc-sync/{prefix}/#"}
        await publish(mqtt_broker, _messages(prefix, n))
        counts = await _handled(inst, n)
        assert sum(counts) == n  # each message went to one instance only ...
        assert min(counts) > 0, counts  # ... and the broker spread them over both
        for r in inst:
            await r.settle()
        db = inst[0].ctx.db
        stored = await db.read(lambda s: s.scalar(select(func.count()).select_from(Reading)))
        dup = await db.read(lambda s: s.scalar(select(func.count()).select_from(
            select(Reading.device_pk, Reading.metric, Reading.ts).group_by(Reading.device_pk, Reading.metric, Reading.ts)
            .having(func.count() > 1).subquery())))
        assert (stored, dup) == (n, 0)
        print(f"shared subscription: {n} readings over 2 instances {counts}, stored {stored}, duplicated {dup}")


async def test_plain_subscriptions_ingest_twice(pg_url: str, mqtt_broker: tuple[str, int]) -> None:
    """The problem the group solves: mqtt_share_group "" and both instances take everything."""
    n = 60
    async with two_instances(pg_url, mqtt_broker, mqtt_share_group="") as (prefix, inst):
        assert {r.c["mqtt"].topic_filter for r in inst} == {f"{prefix}/#"}
        await publish(mqtt_broker, _messages(prefix, n))
        assert await _handled(inst, 2 * n) == [n, n]
        for r in inst:
            await r.settle()
        stored = await inst[0].ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading)))
        assert stored == 2 * n


def test_share_group_setting_and_bad_names() -> None:
    assert ServiceConfig().mqtt_share_group == "ioc-sync"
    assert subscription("ioc/v1", "ioc-sync") == "$share/ioc-sync/ioc/v1/#"
    assert subscription("ioc/v1", "") == "ioc/v1/#"
    for bad in ("a/b", "a+", "#", " x"):
        with pytest.raises(ValueError, match="mqtt_share_group"):
            subscription("ioc/v1", bad)


def test_suback_refusal_is_recognised_in_both_protocol_versions() -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.reasoncodes import ReasonCode

    assert not _refused((1,))
    assert _refused((0x80,))  # MQTT 3.1.1: failure
    assert not _refused([ReasonCode(PacketTypes.SUBACK, "Granted QoS 1")])
    assert _refused([ReasonCode(PacketTypes.SUBACK, "Shared subscription not supported")])
