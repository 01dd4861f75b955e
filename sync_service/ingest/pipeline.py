"""The ingest path, built for throughput (docs/ingest.md, "Pipeline"):

    door (MQTT/HTTP) -> parse -> authenticate -> validate -> rules -> buffer
                                                   buffer -> batched INSERT (one tx per batch)
                                      devices' last state -> periodic UPDATE of changed devices

Everything up to the buffer runs synchronously on the event loop, per reading, with no I/O:
dictionary lookups, one sha256 per device-keyed reading, range checks, the rule engine. The
buffer is written by one task, one transaction per batch (flushed at BATCH_MAX rows or after
FLUSH_S, at most TX_MAX rows per transaction; see writer.py for how), on the store's writer
thread, while the loop keeps parsing. Devices' last values and health live in memory and are
flushed every config.state_flush_s for the devices that changed, not one UPDATE per reading.

Rules: a value that has rules goes to the rule engine here, in line - or, with several service
processes on one store, to `sh.route` (alerts/routing.py): forwarded to the leader, which
evaluates every device's rules, so rule state is one per device whichever process took the
reading.

Nothing accepted is dropped: a failed batch is retried (intake pauses above MAX_PENDING rows:
HTTP answers 503, MQTT reading stops until there is room). HTTP callers await `committed()`
so a 200 means the readings are on disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from protocol.enums import DeviceHealth, DQReason
from sync_service.alerts.state import Shared
from sync_service.catalog import SENTINELS, STUCK_REPEATS
from sync_service.context import ServiceContext
from sync_service.ingest import quality
from sync_service.ingest.auth import Bureau, check_device
from sync_service.ingest.validate import check_ts, check_value, parse_ts, stuck_update
from sync_service.ingest.writer import ReadingWriter, Row

log = logging.getLogger(__name__)
BATCH_MAX = 5000  # rows that trigger a flush without waiting FLUSH_S
TX_MAX = 20_000  # rows per transaction at most, so commands never wait long behind a batch
FLUSH_S = 0.15
MAX_PENDING = 200_000
STATE_TX_MAX = 25_000  # devices per UPDATE statement
AUDIT_FLUSH_S = 30.0
STOP_FLUSH = 0.4  # of config.stop_timeout_s: how long the buffer may be written at stop
_ONLINE, _FAULTY = DeviceHealth.ONLINE.value, DeviceHealth.FAULTY.value


@dataclass
class Outcome:
    accepted: int = 0  # readings with at least one stored value
    values: int = 0  # values stored
    rejected: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)  # stored, but marked (quality 1)

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + n

    def flag(self, reason: str, n: int = 1) -> None:
        self.flagged[reason] = self.flagged.get(reason, 0) + n

    def reply(self) -> dict[str, object]:
        """The HTTP answer: {"accepted", "rejected"} (+ "flagged" when something was)."""
        body: dict[str, object] = {"accepted": self.accepted, "rejected": self.rejected}
        if self.flagged:
            body["flagged"] = self.flagged
        return body


class Pipeline:
    def __init__(self, ctx: ServiceContext, sh: Shared) -> None:
        self.ctx = ctx
        self.sh = sh
        self.dq = quality.QualityCounters()
        self.batch_max = BATCH_MAX
        self.flush_s = FLUSH_S
        self._rows: list[Row] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # (rows_written to reach, future)
        self.writer = ReadingWriter(ctx.db.engine)
        self._in_flight = 0
        self._kick = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._room = asyncio.Event()
        self._room.set()
        self._tasks: list[asyncio.Task[None]] = []
        self.readings_total = 0  # accepted readings since start (metrics: readings_per_s)
        self.values_total = 0
        self.rows_written = 0
        self.write_failures = 0
        self.unwritten_at_stop = 0
        self._closing = False
        self._stop_deadline = 0.0  # loop time; once closing, no batch is begun after it

    # ---- intake (event loop, synchronous) -----------------------------------------------------

    def ingest(self, items: Iterable[Any], *, bureau: Bureau | None, door: str,
               now: float | None = None) -> Outcome:
        """Readings [{"device", "ts", "values", optional "key"}] under an optional bureau."""
        out = Outcome()
        now = time.time() if now is None else now
        for item in items:
            if not isinstance(item, dict):
                self._reject(out, bureau.domain if bureau else "", DQReason.MALFORMED, door, None, now)
                continue
            self.one(item.get("device"), item.get("key"), item.get("ts"), item.get("values"),
                     bureau, door, now, out)
        return out

    async def ingest_async(self, items: list[Any], *, bureau: Bureau | None, door: str,
                           chunk: int = 1000) -> Outcome:
        """As ingest, yielding to the loop every `chunk` readings: a 5,000-reading batch must not
        hold up websocket fan-out for its whole duration."""
        total = Outcome()
        for i in range(0, len(items), chunk):
            out = self.ingest(items[i:i + chunk], bureau=bureau, door=door)
            total.accepted += out.accepted
            total.values += out.values
            for k, n in out.rejected.items():
                total.reject(k, n)
            for k, n in out.flagged.items():
                total.flag(k, n)
            if i + chunk < len(items):
                await asyncio.sleep(0)
        return total

    def one(self, uid: object, key: object, ts_raw: object, values: object, bureau: Bureau | None,
            door: str, now: float, out: Outcome) -> None:
        reg = self.sh.registry
        d = reg.devices.get(uid) if isinstance(uid, str) else None
        if d is None:
            reason = DQReason.UNKNOWN_DEVICE if isinstance(uid, str) else DQReason.MALFORMED
            self._reject(out, bureau.domain if bureau else "", reason, door, uid, now)
            return
        # The usual case inline (a bureau batch for its own domain, a float time within bounds, a
        # non-empty object of values); anything else takes the full checks below.
        if key is None and bureau is not None and bureau.domain == d.domain and not d.revoked:
            bad = None
        else:
            bad = check_device(d, key, bureau)
        ts: float | None = None
        if bad is None:
            ts = ts_raw if type(ts_raw) is float else parse_ts(ts_raw)
            cfg = self.ctx.config
            if ts is None:
                bad = DQReason.MALFORMED
            elif not now - cfg.ts_max_past_s <= ts <= now + cfg.ts_max_future_s:
                bad = check_ts(ts, now, cfg.ts_max_past_s, cfg.ts_max_future_s)
            if bad is None and (not isinstance(values, dict) or not values):
                bad = DQReason.MALFORMED
        if bad is not None:
            # A bureau writing another bureau's device is counted against the bureau that did it.
            dom = bureau.domain if bad == DQReason.AUTH_DOMAIN and bureau is not None else d.domain
            self._reject(out, dom, bad, door, uid, now)
            return
        if ts is None or not isinstance(values, dict):  # narrowed above; keeps type checkers honest
            return
        typ = reg.types.get(d.device_type)
        metrics = typ.metrics if typ else {}
        engine = self.sh.engine
        route = self.sh.route
        type_rules = engine.by_type.get(d.device_type)
        newest = d.last_ts is None or ts >= d.last_ts
        last_values = d.last_values
        rows = self._rows
        pk = d.pk
        stored = 0
        for name, raw in values.items():
            spec = metrics.get(name)
            # Fast path: a number inside the range that is not a sentinel (NaN fails the range test).
            t = type(raw)
            if spec is not None and (t is float or t is int) and spec.min <= raw <= spec.max and raw not in SENTINELS:
                v = raw if t is float else float(raw)
            else:
                bad = DQReason.UNKNOWN_METRIC if spec is None else check_value(raw, spec)
                if bad is not None:
                    self._reject(out, d.domain, bad, door, uid, now)
                    continue
                v = float(raw)  # type: ignore[arg-type]
            if spec.stuck and stuck_update(d.stuck, d.repeats, name, v, spec, STUCK_REPEATS):
                rows.append((pk, name, ts, v, 1))
                d.faulty_metrics.add(name)
                self.dq.count(d.domain, DQReason.STUCK.value)
                out.flag(DQReason.STUCK.value)
            else:
                if d.faulty_metrics:
                    d.faulty_metrics.discard(name)
                rows.append((pk, name, ts, v, 0))
                if type_rules is not None:  # flagged values do not drive rules
                    rules = type_rules.get(name)
                    if rules:
                        if route is None:
                            engine.on_rules(rules, pk, v, ts)
                        else:
                            route(rules, pk, name, v, ts, now)
            if newest:
                last_values[name] = v
            stored += 1
        if not stored:
            return
        out.accepted += 1
        out.values += stored
        self.readings_total += 1
        self.values_total += stored
        if newest:
            d.last_ts = ts
        d.last_seen = now
        d.dirty = True
        health = _FAULTY if d.faulty_metrics else _ONLINE
        if d.health != health:
            d.health = health
        if d.offline_alerted:
            d.offline_alerted = False
            self.sh.manager.on_online(d, now)
        # Wake the writer: at once for a full batch, else it gathers for FLUSH_S. Without the
        # second case only an HTTP caller's committed() woke it, and MQTT readings waited in
        # memory (unqueryable, lost by a crash) until 5,000 had piled up.
        if len(rows) >= self.batch_max or not self._kick.is_set():
            self._kick.set()

    def _reject(self, out: Outcome, domain: str, reason: DQReason, door: str, uid: object, now: float) -> None:
        out.reject(reason.value)
        self.dq.count(domain, reason.value)
        self.dq.refused(door, reason, domain, uid, now)

    def reject_message(self, domain: str, reason: DQReason, door: str, now: float | None = None) -> None:
        """A whole message refused before any reading could be looked at (malformed, bad key)."""
        self._reject(Outcome(), domain, reason, door, None, time.time() if now is None else now)

    # ---- durability and back-pressure ------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._rows) + self._in_flight

    def has_room(self) -> bool:
        return self.pending < MAX_PENDING

    async def wait_room(self) -> None:
        while not self.has_room():
            self._room.clear()
            await self._room.wait()

    def committed(self) -> asyncio.Future[None]:
        """Resolves when every row accepted so far is committed (rows are written in order)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        target = self.rows_written + self.pending
        if target <= self.rows_written:
            fut.set_result(None)
        else:
            self._waiters.append((target, fut))
            self._kick.set()
        return fut

    # ---- writer tasks --------------------------------------------------------------------------

    async def start(self) -> None:
        self._closing = False
        await self.ctx.db.read(self.dq.load)
        self._tasks = [asyncio.create_task(self._flush_loop(), name="ingest-flush"),
                       asyncio.create_task(self._state_loop(), name="ingest-state")]

    async def stop(self, flush_s: float | None = None) -> None:
        """Write the buffer (the doors are closed by now), the devices' state and the dq counts,
        within about flush_s (default STOP_FLUSH of the stop budget); then close. A batch being
        written is never cancelled half-way (its rows would be committed by the writer thread
        yet counted as lost); what could not be written in time is counted and logged, and its
        waiters are cancelled."""
        if flush_s is None:
            flush_s = STOP_FLUSH * self.ctx.config.stop_timeout_s
        loop = asyncio.get_running_loop()
        deadline = self._stop_deadline = loop.time() + flush_s
        self._closing = True
        self._kick.set()
        try:
            # The flush loop finishes the batch in hand (and begins none after the deadline),
            # then ends; then whatever is left is written here, under the same deadline.
            flush_loops = [t for t in self._tasks if t.get_name() == "ingest-flush"]
            if flush_loops:
                await asyncio.wait(flush_loops, timeout=max(deadline - loop.time(), 0.1) + 1.0)
            async with self._flush_lock:
                await self._flush()
            try:
                await asyncio.wait_for(self.flush_state(audit=True), max(deadline - loop.time(), 0.5))
            except (TimeoutError, Exception) as exc:  # noqa: BLE001 - the service is stopping
                log.warning("device state not written at stop: %s", exc.__class__.__name__)
        finally:
            for t in self._tasks:
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
            left = len(self._rows)
            if left:
                self.unwritten_at_stop += left
                log.warning("stopped with %d accepted readings not written", left)
                self._rows = []
            for _, fut in self._waiters:
                fut.cancel()
            self._waiters = []
            await self.ctx.db.write(lambda _s: self.writer.close())  # on the thread that owns it

    async def _flush_loop(self) -> None:
        while not self._closing:
            await self._kick.wait()
            if self._closing:
                return
            if len(self._rows) < self.batch_max and not self._waiters:
                await asyncio.sleep(self.flush_s)  # gather a batch; the buffer keeps filling
            self._kick.clear()
            await self.flush()

    def kick(self) -> None:
        self._kick.set()

    async def flush(self) -> None:
        """Write the buffer now (retrying until the store takes it)."""
        async with self._flush_lock:
            await self._flush()

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = self._stop_deadline if self._closing else None  # stopping: bounded, no late retries
        # Only what is buffered now: under a continuous stream "until empty" would never end.
        target = self.rows_written + self.pending
        while self._rows and self.rows_written < target:
            if deadline is not None and loop.time() >= deadline:
                return
            rows, self._rows = self._rows[:TX_MAX], self._rows[TX_MAX:]
            self._in_flight = len(rows)
            delay = 0.2
            while True:
                try:
                    await self.ctx.db.write(lambda _s, r=rows: self.writer.write(r))
                    break
                except Exception:
                    self.write_failures += 1
                    if deadline is not None and loop.time() + delay >= deadline:
                        log.warning("writing %d readings failed at stop; not retried", len(rows))
                        self._rows[:0] = rows  # counted as unwritten by stop()
                        self._in_flight = 0
                        return
                    log.exception("writing %d readings failed; retrying in %.1fs", len(rows), delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            self._in_flight = 0
            self.rows_written += len(rows)
            done = [w for w in self._waiters if w[0] <= self.rows_written]
            if done:
                self._waiters = [w for w in self._waiters if w[0] > self.rows_written]
                for _, fut in done:
                    if not fut.done():
                        fut.set_result(None)
            if self.has_room():
                self._room.set()

    async def _state_loop(self) -> None:
        last_audit = time.monotonic()
        while True:
            await asyncio.sleep(self.ctx.config.state_flush_s)
            audit = time.monotonic() - last_audit >= AUDIT_FLUSH_S
            if audit:
                last_audit = time.monotonic()
            try:
                await self.flush_state(audit=audit)
            except Exception:
                log.exception("flushing device state failed")

    async def flush_state(self, *, audit: bool) -> int:
        """Changed devices' last state, dq count deltas and (when audit) the refusal audit rows."""
        dirty = [d for d in self.sh.registry.devices.values() if d.dirty]
        for d in dirty:
            d.dirty = False
        states = [(d.pk, d.health, d.last_ts, dict(d.last_values), d.last_seen) for d in dirty]
        delta, refusals = self.dq.take()
        if not audit:
            self.dq._refusals, refusals = refusals, {}
        now = time.time()
        try:
            for i in range(0, len(states), STATE_TX_MAX):
                await self.ctx.db.write(lambda _s, c=states[i:i + STATE_TX_MAX]: self.writer.write_states(c))
            if delta or refusals:
                await self.ctx.db.write(lambda s: quality.write(s, delta, refusals, now))
        except Exception:
            for d in dirty:
                d.dirty = True
            self.dq.give_back(delta)
            raise
        return len(states)
