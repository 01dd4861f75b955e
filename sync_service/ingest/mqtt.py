"""MQTT door: subscribes to `{prefix}/#` on the broker (aiomqtt) and feeds the pipeline.

Through a shared subscription, `$share/{mqtt_share_group}/{prefix}/#` (MQTT 5, and MQTT 3.1.1
on Mosquitto 2 and most brokers): service processes on one store form one group and the broker
delivers each message to only one of them, so nothing is ingested twice.

Topics (docs/ingest.md):
    {prefix}/{domain}/{device_type}/{uid}/reading   {"key", "ts", "values"}        (device key)
    {prefix}/{domain}/batch                         {"credential", "readings": [...]} (bureau key)
Anything else under the prefix is counted as malformed. Every message is handled inside a
catch-all: no payload can stop the subscription. The connection is re-made with backoff and
jitter; with embedded_mqtt_fallback a missing broker only logs (HTTP ingest still works).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

import aiomqtt
import orjson

from protocol.enums import DQReason
from sync_service.context import ServiceContext
from sync_service.ingest.auth import check_bureau
from sync_service.ingest.pipeline import Outcome, Pipeline
from sync_service.ingest.registry import DeviceRegistry

log = logging.getLogger(__name__)
MAX_PAYLOAD = 8 << 20
MAX_BATCH = 5000
CONNECT_WAIT_S = 3.0
MAX_QUEUED_BYTES = 64 << 20  # received, not yet handled; beyond this messages are dropped (counted)
_aiomqtt_log = logging.getLogger(__name__ + ".client")
_aiomqtt_log.setLevel(logging.ERROR)  # its per-message "queue full" warning; we log a summary


class ByteBoundedQueue(asyncio.Queue):  # type: ignore[type-arg]
    """aiomqtt's incoming queue, bounded by payload bytes instead of message count: a pause of
    the store must not let thousands of 500 kB gateway batches pile up in memory, while small
    device messages can still queue by the hundred thousand. Overflow raises QueueFull, which
    aiomqtt turns into a discarded message; `dropped` counts them."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self.bytes = 0
        self.dropped = 0

    def put_nowait(self, item: Any) -> None:
        size = len(getattr(item, "payload", b"") or b"")
        if self.bytes + size > MAX_QUEUED_BYTES:
            self.dropped += 1
            raise asyncio.QueueFull
        super().put_nowait(item)

    def _put(self, item: Any) -> None:
        self.bytes += len(getattr(item, "payload", b"") or b"")
        super()._put(item)  # type: ignore[misc]

    def _get(self) -> Any:
        item = super()._get()  # type: ignore[misc]
        self.bytes -= len(getattr(item, "payload", b"") or b"")
        return item


def subscription(prefix: str, group: str) -> str:
    """The topic filter to subscribe to. Raises ValueError for a group MQTT cannot carry."""
    if (group and any(c in group for c in "/+#")) or group != group.strip() or "\x00" in group:
        raise ValueError(f"mqtt_share_group {group!r}: a share name may not contain '/', '+', '#' "
                         "or surrounding spaces")
    return f"$share/{group}/{prefix}/#" if group else f"{prefix}/#"


class MqttIngest:
    door = True  # started after, and stopped before, everything behind it (SyncService)

    def __init__(self, ctx: ServiceContext, pipeline: Pipeline, registry: DeviceRegistry) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.registry = registry
        self.prefix = ctx.config.mqtt_prefix.strip("/")
        self.topic_filter = subscription(self.prefix, ctx.config.mqtt_share_group)
        self.connected = asyncio.Event()
        self.messages = 0
        self.errors = 0
        self.dropped = 0  # messages discarded because handling fell too far behind
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        cfg = self.ctx.config
        if not cfg.mqtt_enabled:
            return
        self._task = asyncio.create_task(self._run(), name="mqtt-ingest")
        try:
            await asyncio.wait_for(self.connected.wait(), CONNECT_WAIT_S)
        except TimeoutError:
            if not cfg.embedded_mqtt_fallback:
                await self.stop()
                raise RuntimeError(f"MQTT broker {cfg.mqtt_host}:{cfg.mqtt_port} not reachable") from None
            log.warning("MQTT broker %s:%s not reachable; HTTP ingest only, retrying in the background",
                        cfg.mqtt_host, cfg.mqtt_port)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.connected.clear()

    async def _run(self) -> None:
        cfg = self.ctx.config
        ident = f"ioc-ingest-{self.ctx.server_id or 'svc'}-{os.getpid()}-{random.randrange(1 << 30):x}"
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(cfg.mqtt_host, cfg.mqtt_port, identifier=ident[:64], keepalive=30,
                                          queue_type=ByteBoundedQueue, logger=_aiomqtt_log) as client:
                    queue = client._queue  # noqa: SLF001 - our ByteBoundedQueue, for its drop count
                    granted = await client.subscribe(self.topic_filter, qos=1)
                    if _refused(granted) and self.topic_filter != f"{self.prefix}/#":
                        # a broker without shared subscriptions: one process still ingests
                        # everything once; several would each ingest it
                        log.warning("MQTT broker refused the shared subscription %s; subscribing to %s/# "
                                    "(run one service process per broker)", self.topic_filter, self.prefix)
                        granted = await client.subscribe(f"{self.prefix}/#", qos=1)
                    if _refused(granted):
                        raise aiomqtt.MqttError(f"subscription to {self.prefix}/# refused")
                    self.connected.set()
                    delay = 0.5
                    log.info("MQTT ingest subscribed to %s on %s:%s", self.topic_filter, cfg.mqtt_host, cfg.mqtt_port)
                    async for msg in client.messages:
                        if not self.pipeline.has_room():
                            await self.pipeline.wait_room()  # the queue above fills meanwhile
                        await self.handle(str(msg.topic), msg.payload)
                        if isinstance(queue, ByteBoundedQueue) and queue.dropped:
                            self._note_dropped(queue.dropped)
                            queue.dropped = 0
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                log.warning("MQTT connection lost (%s); reconnecting in %.1fs", exc, delay)
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 30.0)

    def _note_dropped(self, n: int) -> None:
        self.dropped += n
        now = time.monotonic()
        if now - getattr(self, "_drop_logged", 0.0) > 10.0:
            self._drop_logged = now
            log.warning("MQTT ingest fell behind: %d messages dropped so far", self.dropped)

    async def handle(self, topic: str, payload: Any) -> Outcome:
        """One message. Never raises: anything unexpected is counted as malformed."""
        self.messages += 1
        try:
            return await self._handle(topic, payload)
        except Exception:
            self.errors += 1
            log.exception("MQTT message on %r could not be handled", topic[:200])
            self.pipeline.reject_message("", DQReason.MALFORMED, "mqtt")
            return Outcome(rejected={DQReason.MALFORMED.value: 1})

    async def _handle(self, topic: str, payload: Any) -> Outcome:
        p = self.pipeline
        parts = topic[len(self.prefix) + 1:].split("/") if topic.startswith(self.prefix + "/") else []
        data = _json(payload)
        if len(parts) == 4 and parts[3] == "reading" and isinstance(data, dict):
            domain, dtype, uid = parts[0], parts[1], parts[2]
            d = self.registry.devices.get(uid)
            if d is not None and (d.domain != domain or d.device_type != dtype):
                p.reject_message(d.domain, DQReason.MALFORMED, "mqtt")  # topic names another type
                return Outcome(rejected={DQReason.MALFORMED.value: 1})
            out = Outcome()
            p.one(uid, data.get("key"), data.get("ts"), data.get("values"), None, "mqtt", time.time(), out)
            return out
        if len(parts) == 2 and parts[1] == "batch" and isinstance(data, dict):
            readings = data.get("readings")
            if not isinstance(readings, list) or len(readings) > MAX_BATCH:
                p.reject_message("", DQReason.MALFORMED, "mqtt")
                return Outcome(rejected={DQReason.MALFORMED.value: 1})
            bureau = check_bureau(self.registry, data.get("credential"))
            if isinstance(bureau, DQReason) or bureau.domain != parts[0]:
                reason = bureau if isinstance(bureau, DQReason) else DQReason.AUTH_DOMAIN
                domain = "" if isinstance(bureau, DQReason) else bureau.domain
                p.dq.count(domain, reason.value, max(len(readings), 1))
                p.dq.refused("mqtt-batch", reason, domain, parts[0], time.time(), max(len(readings), 1))
                return Outcome(rejected={reason.value: max(len(readings), 1)})
            return await p.ingest_async(readings, bureau=bureau, door="mqtt")
        p.reject_message("", DQReason.MALFORMED, "mqtt")
        return Outcome(rejected={DQReason.MALFORMED.value: 1})


def _refused(granted: Any) -> bool:
    """SUBACK: MQTT 3.1.1 grants a QoS per filter (0x80 = failure); MQTT 5 gives reason codes."""
    for g in granted or ():
        code = getattr(g, "value", g)
        if isinstance(code, int) and code >= 0x80:
            return True
    return False


def _json(payload: Any) -> Any:
    if isinstance(payload, bytes | bytearray | memoryview | str) and 0 < len(payload) <= MAX_PAYLOAD:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
    return None
