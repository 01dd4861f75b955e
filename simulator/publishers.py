"""Publishing to the service's doors (docs/ingest.md): MQTT (aiomqtt) and HTTP (aiohttp).

Both publishers own a bounded outbox and one sender task. Submitting never blocks the
simulation: when the broker or the service is away the outbox fills, the oldest messages are
dropped (and counted) once it is full, and the sender reconnects with backoff and jitter
(IOC_SIM_RECONNECT_MIN_S / IOC_SIM_RECONNECT_MAX_S) and resumes when they come back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiomqtt
import orjson

log = logging.getLogger(__name__)
MAX_BATCH = 5000  # readings per MQTT batch message and per HTTP request (the contract's cap)


def _backoff() -> tuple[float, float]:
    return (float(os.environ.get("IOC_SIM_RECONNECT_MIN_S", "0.5")),
            float(os.environ.get("IOC_SIM_RECONNECT_MAX_S", "10")))


@dataclass
class Stats:
    messages: int = 0  # MQTT messages / HTTP requests delivered
    readings: int = 0  # readings in them
    dropped: int = 0  # readings dropped because the outbox was full
    errors: int = 0  # requests refused (4xx) or failed for good
    reconnects: int = 0
    accepted: int = 0  # HTTP readings replies: readings the service accepted
    rejected: dict[str, int] = field(default_factory=dict)  # HTTP readings replies: by reason
    replies: list[tuple[str, int, Any]] = field(default_factory=list)  # last few (path, status, body)

    def reply(self, path: str, status: int, body: Any) -> None:
        self.replies.append((path, status, body))
        del self.replies[:-50]


class _Outbox:
    """Bounded FIFO of (item, readings): at most max_items messages and max_readings readings;
    beyond that the oldest go, counted in stats.dropped. The sender takes an item (`get`), then
    either finishes it (`done`) or puts it back at the head (`requeue`) to try again after a
    reconnect."""

    def __init__(self, max_items: int, stats: Stats, max_readings: int = 200_000) -> None:
        self.q: deque[tuple[Any, int]] = deque()
        self.max_items = max_items
        self.max_readings = max_readings
        self.queued = 0  # readings in q
        self.stats = stats
        self.ready = asyncio.Event()
        self.idle = asyncio.Event()  # empty and nothing in flight
        self.idle.set()

    def put(self, item: Any, n: int) -> None:
        while self.q and (len(self.q) >= self.max_items or self.queued + n > self.max_readings):
            _, lost = self.q.popleft()
            self.queued -= lost
            self.stats.dropped += lost
        self.q.append((item, n))
        self.queued += n
        self.ready.set()
        self.idle.clear()

    async def get(self) -> tuple[Any, int]:
        while not self.q:
            self.ready.clear()
            await self.ready.wait()
        self.idle.clear()
        item, n = self.q.popleft()
        self.queued -= n
        return item, n

    def requeue(self, item: Any, n: int) -> None:
        self.q.appendleft((item, n))
        self.queued += n

    def done(self) -> None:
        if not self.q:
            self.idle.set()


def chunks(items: list[Any], n: int = MAX_BATCH) -> list[list[Any]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


class MqttPublisher:
    """Per-device topics `{prefix}/{domain}/{type}/{uid}/reading` and bureau gateway batches
    `{prefix}/{domain}/batch` (at most 5000 readings each)."""

    def __init__(self, host: str, port: int, *, prefix: str = "ioc/v1", identifier: str | None = None,
                 qos: int = 0, max_queue: int = 20_000) -> None:
        self.host, self.port, self.qos = host, port, qos
        self.prefix = prefix.strip("/")
        self.identifier = identifier or f"ioc-sim-{uuid.uuid4().hex[:10]}"
        self.stats = Stats()
        self.outbox = _Outbox(max_queue, self.stats)
        self.connected = asyncio.Event()

    def submit_batch(self, domain: str, credential: str, items: list[dict[str, Any]]) -> None:
        for part in chunks(items):
            payload = orjson.dumps({"credential": credential, "readings": part})
            self.outbox.put((f"{self.prefix}/{domain}/batch", payload), len(part))

    def submit_reading(self, domain: str, device_type: str, uid: str, payload: dict[str, Any]) -> None:
        self.outbox.put((f"{self.prefix}/{domain}/{device_type}/{uid}/reading", orjson.dumps(payload)), 1)

    async def run(self) -> None:
        lo, hi = _backoff()
        delay = lo
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port, identifier=self.identifier, keepalive=30,
                                          max_queued_outgoing_messages=20000) as client:
                    self.connected.set()
                    delay = lo
                    log.info("MQTT publisher connected to %s:%s", self.host, self.port)
                    while True:
                        (topic, payload), n = await self._next(client)
                        try:
                            await client.publish(topic, payload, qos=self.qos)
                        except BaseException:
                            self.outbox.requeue((topic, payload), n)
                            raise
                        self.outbox.done()
                        self.stats.messages += 1
                        self.stats.readings += n
            except aiomqtt.MqttError as exc:
                if self.connected.is_set():
                    log.warning("MQTT publisher lost the broker (%s); reconnecting", exc)
                self.connected.clear()
                self.stats.reconnects += 1
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, hi)

    async def _next(self, client: aiomqtt.Client) -> tuple[Any, int]:
        """The next message to publish, or MqttError as soon as the broker goes away while we
        wait (aiomqtt's own message iterator watches the same future)."""
        disconnected = client._disconnected  # noqa: SLF001 - no public "connection lost" in aiomqtt 2
        get = asyncio.ensure_future(self.outbox.get())
        try:
            await asyncio.wait((get, disconnected), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            get.cancel()
            raise
        if get.done():
            return get.result()
        get.cancel()
        raise aiomqtt.MqttError("connection to the broker lost") from disconnected.exception()

    async def flush(self, wait_s: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(self.outbox.idle.wait(), wait_s)
            return True
        except TimeoutError:
            return False


class HttpPublisher:
    """Readings, events, positions and CAP to the service's HTTP door. Actions (events,
    positions, CAP) have their own outbox, sent in order, so a story's beats keep their order."""

    def __init__(self, base_url: str, *, max_queue: int = 2000, timeout_s: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.stats = Stats()
        self.readings = _Outbox(max_queue, self.stats)
        self.actions = _Outbox(max_queue, self.stats)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.up = True  # last request reached the service (logs only the changes)

    def submit_readings(self, credential: str | None, items: list[dict[str, Any]]) -> None:
        """credential None: items carry their own device "key"."""
        for part in chunks(items):
            self.readings.put(("/ingest/v1/readings", credential, orjson.dumps({"readings": part}),
                               "application/json"), len(part))

    def submit_events(self, credential: str, events: list[dict[str, Any]]) -> None:
        self.actions.put(("/ingest/v1/events", credential, orjson.dumps({"events": events}), "application/json"), 0)

    def submit_positions(self, credential: str, positions: list[dict[str, Any]]) -> None:
        self.actions.put(("/ingest/v1/positions", credential, orjson.dumps({"positions": positions}),
                          "application/json"), 0)

    def submit_cap(self, credential: str, xml: str) -> None:
        self.actions.put(("/ingest/v1/cap", credential, xml.encode("utf-8"), "application/cap+xml"), 0)

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            await asyncio.gather(self._sender(session, self.readings), self._sender(session, self.actions))

    async def _sender(self, session: aiohttp.ClientSession, box: _Outbox) -> None:
        lo, hi = _backoff()
        delay = lo
        while True:
            item, n = await box.get()
            path, credential, body, ctype = item
            headers = {"Content-Type": ctype}
            if credential:
                headers["Authorization"] = f"Bearer {credential}"
            try:
                async with session.post(self.base + path, data=body, headers=headers) as resp:
                    reply = await _reply(resp)
                    status = resp.status
                    retry_after = _seconds(resp.headers.get("Retry-After"))
            except asyncio.CancelledError:
                box.requeue(item, n)
                raise
            except (aiohttp.ClientError, TimeoutError) as exc:
                box.requeue(item, n)
                self.stats.reconnects += 1
                if self.up:
                    log.warning("service at %s unreachable (%s); retrying with backoff", self.base, exc)
                self.up = False
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, hi)
                continue  # the item stays at the head of the outbox
            delay = lo
            if not self.up:
                log.info("service at %s reachable again", self.base)
                self.up = True
            self.stats.reply(path, status, reply)
            if status in (429, 502, 503, 504):
                box.requeue(item, n)
                await asyncio.sleep(min(retry_after, hi))
                continue
            box.done()
            if 200 <= status < 300:
                self.stats.messages += 1
                self.stats.readings += n
                if isinstance(reply, dict) and n:  # a readings reply
                    self.stats.accepted += int(reply.get("accepted", 0) or 0)
                    for reason, c in (reply.get("rejected") or {}).items():
                        self.stats.rejected[reason] = self.stats.rejected.get(reason, 0) + int(c)
            else:
                self.stats.errors += 1
                log.warning("POST %s refused: %s %s", path, status, str(reply)[:300])

    async def flush(self, wait_s: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(asyncio.gather(self.readings.idle.wait(), self.actions.idle.wait()), wait_s)
            return True
        except TimeoutError:
            return False


def _seconds(header: str | None) -> float:
    try:
        return max(0.1, float(header or 1))
    except ValueError:  # an HTTP date or garbage: wait a second
        return 1.0


async def _reply(resp: aiohttp.ClientResponse) -> Any:
    raw = await resp.read()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:500].decode("utf-8", "replace")
