"""Rule input under scale-out: the leader evaluates every device's rules.

Rule state (minimum duration, hysteresis, rate of change; engine.py) is per rule and device,
over the device's readings in order. With several processes on one store a device's readings
land on any of them (the MQTT shared subscription deals messages round-robin; HTTP batches go
to whichever process a gateway posts to), so each evaluating what it took would see part of
each series: a min-duration run split over two processes never completes, one holds a level
by hysteresis while the other clears it, rates are taken across gaps. So the leader
(sync_service/leader.py) evaluates all rules, with one engine and one alert manager, as a
single process would, and the followers forward their rule input to it:

- follower: each value that has rules, as (device pk, metric, value, reading ts, arrival
  time), is buffered and sent every FORWARD_S as NOTIFY payloads under 8,000 bytes on the
  leader's channel (leader.rules_channel), over a connection of its own, in arrival order. Each
  payload carries the follower's mark: everything it accepted before that time has been sent
  (an idle follower sends just its mark every MARK_S). While no leader is known the buffer
  waits (at most BUFFER_MAX values; the oldest are dropped, counted).
- leader with live followers ("hold"): every value, its own and forwarded ones, waits in a heap
  by arrival time until every follower's mark has passed its arrival, and is then evaluated in
  arrival order - the order one process taking all of them would have seen. The wait is the
  followers' forwarding delay (~0.1 s idle, more under load), at most HOLD_MAX_S: a follower
  whose mark lags more (or stops: it died) is not waited for, and a value of it that arrives
  after its place has passed is evaluated at once and counted `late` (the engine ignores it if
  the device has a newer reading by then).
- leader alone (SQLite, or no other live member): the pipeline calls the engine in line.

Lost: values forwarded while leadership changes hands (about a heartbeat) or while the leader's
listening connection is down. The new leader's rule state starts afresh, as after a restart.
Arrival times come from the processes' clocks: keep them in sync (NTP) well within HOLD_MAX_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections import deque
from typing import Any

import orjson

from sync_service.alerts.engine import Rule
from sync_service.alerts.state import Shared
from sync_service.context import ServiceContext
from sync_service.leader import Leadership, notify, pg_connect, rules_channel

log = logging.getLogger(__name__)
FORWARD_S = 0.05
MARK_S = 0.1
HOLD_MAX_S = 2.0
DRAIN_S = 0.05
MAX_PAYLOAD = 7800  # bytes; PostgreSQL's NOTIFY payload limit is 8,000
PAYLOADS_PER_TX = 64
BUFFER_MAX = 200_000
Item = tuple[int, str, float, float, float]  # device pk, metric, value, reading ts, arrival


class RuleRouter:
    def __init__(self, ctx: ServiceContext, sh: Shared, lead: Leadership) -> None:
        self.ctx = ctx
        self.sh = sh
        self.lead = lead
        self.mode = "local"  # "local" | "hold" | "forward"
        self._leading = lead.is_leader
        self._out: deque[Item] = deque()
        self._heap: list[tuple[float, int, int, str, float, float]] = []
        self._seq = 0
        self._mark = 0.0  # held values that arrived before this time have been evaluated
        self._marks: dict[str, tuple[float, float]] = {}  # follower -> (its mark, our monotonic when heard)
        self._mark_sent = 0.0  # monotonic: when this follower last sent its mark
        self.forwarded = 0  # values sent to the leader
        self.received = 0  # values other processes forwarded here
        self.late = 0
        self.dropped = 0
        self.unknown = 0  # forwarded for a device this process does not know (yet)
        self.held_max = 0
        self._conn: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def status(self) -> dict[str, Any]:
        return {"mode": self.mode, "forwarded": self.forwarded, "received": self.received, "late": self.late,
                "dropped": self.dropped, "unknown": self.unknown, "waiting": len(self._out) + len(self._heap),
                "held_max": self.held_max, "hold_s": round(max(0.0, time.time() - self._mark), 3)
                if self.mode == "hold" else 0.0}

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.ctx.components["rule_router"] = self
        self.lead.on_change(self._on_leadership)
        self.lead.routes = True
        self._decide()
        self._tasks = [asyncio.create_task(self._hold_loop(), name="rules-hold"),
                       asyncio.create_task(self._send_loop(), name="rules-forward")]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.sh.route = None
        if self._heap:
            self._drain(math.inf)  # accepted while leading: the alert manager (stopped after us) writes it
        if self.mode == "hold":
            self.mode = "local"  # what followers still forward is evaluated as it comes, not held
        if self._out:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self._send()
            if self._out:
                log.warning("stopped with %d rule values not forwarded to the leader", len(self._out))
        await self._close()

    async def _on_leadership(self, gained: bool) -> None:
        self._leading = gained
        if not gained:
            self._decide()  # evaluates what is held: it arrived while this process led
        self.sh.engine.states.clear()  # the leader's state only; a new leader starts afresh
        if gained:
            self._decide()

    def _decide(self) -> None:
        mode = "forward" if not self._leading else ("hold" if self.lead.others() else "local")
        if mode == self.mode:
            return
        old, self.mode = self.mode, mode
        if old == "hold":
            self._drain(math.inf)
        self.sh.route = None if mode == "local" else (self._hold if mode == "hold" else self._forward)
        if old == "forward":
            pending, self._out = list(self._out), deque()  # never sent: ours to evaluate now
            for pk, metric, value, ts, arrival in pending:
                self._take(pk, metric, value, ts, arrival)
        log.info("rule evaluation: %s (was %s)", mode, old)

    # ---- the pipeline's side (event loop, per value) ------------------------------------------

    def _forward(self, _rules: tuple[Rule, ...], pk: int, metric: str, value: float, ts: float,
                 arrival: float) -> None:
        out = self._out
        out.append((pk, metric, value, ts, arrival))
        if len(out) > BUFFER_MAX:
            out.popleft()
            self.dropped += 1

    def _hold(self, _rules: tuple[Rule, ...], pk: int, metric: str, value: float, ts: float, arrival: float) -> None:
        self._take(pk, metric, value, ts, arrival)

    def _take(self, pk: int, metric: str, value: float, ts: float, arrival: float) -> None:
        if self.mode == "hold" and arrival >= self._mark:
            heapq.heappush(self._heap, (arrival, self._seq, pk, metric, value, ts))
            self._seq += 1
        else:
            self._evaluate(pk, metric, value, ts)

    def _evaluate(self, pk: int, metric: str, value: float, ts: float) -> None:
        d = self.sh.registry.by_pk.get(pk)
        if d is None:
            self.unknown += 1
            return
        rules = self.sh.engine.by_type.get(d.device_type, {}).get(metric)
        if rules:
            self.sh.engine.on_rules(rules, pk, value, ts)

    def _drain(self, upto: float) -> None:
        heap = self._heap
        if len(heap) > self.held_max:
            self.held_max = len(heap)
        while heap and heap[0][0] < upto:  # strictly: values of one chunk share an arrival time
            _, _, pk, metric, value, ts = heapq.heappop(heap)
            self._evaluate(pk, metric, value, ts)
        self._mark = max(self._mark, min(upto, time.time()))

    # ---- forwarded input (the leader's side) --------------------------------------------------

    def on_forwarded(self, payload: str) -> None:
        try:
            msg = orjson.loads(payload)
            items, origin, mark = msg["i"], str(msg["o"]), float(msg["m"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("ignored malformed rule input: %.80r", payload)
            return
        self.received += len(items)
        if not self._leading:
            self.dropped += len(items)  # the sender took us for the leader; the new one starts afresh
            return
        for it in items:
            try:
                pk, metric, value, ts, arrival = int(it[0]), str(it[1]), float(it[2]), float(it[3]), float(it[4])
            except (IndexError, TypeError, ValueError):
                self.dropped += 1
                continue
            if self.mode == "hold" and arrival < self._mark:
                self.late += 1
            self._take(pk, metric, value, ts, arrival)
        prev = self._marks.get(origin)
        self._marks[origin] = (max(mark, prev[0]) if prev else mark, time.monotonic())

    def watermark(self, now: float) -> float:
        """Held values that arrived before this time can be evaluated: every live follower has
        sent all it took before it (its mark), or is not waited for beyond HOLD_MAX_S (no mark
        heard within that: it is starting, overloaded, or gone)."""
        fresh = time.monotonic() - HOLD_MAX_S
        w = now
        for m in self.lead.others():
            if m.routes and not m.leader:
                mark, heard = self._marks.get(m.id, (0.0, 0.0))
                w = min(w, mark if heard >= fresh else now - HOLD_MAX_S)
        return max(now - HOLD_MAX_S, w)

    async def _hold_loop(self) -> None:
        while True:
            await asyncio.sleep(DRAIN_S)
            try:
                self._decide()
                if self.mode == "hold":
                    self._drain(self.watermark(time.time()))
            except Exception:
                log.exception("rule evaluation of held values failed")

    # ---- sending (a follower's side) ----------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            await asyncio.sleep(FORWARD_S)
            if self.mode != "forward":
                continue
            try:
                if self._conn is None or self._conn.closed:  # ready before the first value waits on it
                    self._conn = await pg_connect(self.ctx, f"ioc-sync rules {self.lead.member_id}")
                if not self._out and time.monotonic() - self._mark_sent >= MARK_S:
                    await self._send()  # just the mark: the leader need not wait for us
                while self._out and self.mode == "forward":
                    if not await self._send():
                        break
            except Exception as exc:
                log.warning("forwarding rule input failed (%s: %s); retrying", type(exc).__name__, exc)
                await self._close()
                await asyncio.sleep(0.5)

    async def _send(self) -> bool:
        """Send the oldest buffered values (up to PAYLOADS_PER_TX payloads), each payload with the
        mark it makes true; False when there is no leader to send to."""
        leader = self.lead.leader_member()
        if leader is None:
            return False
        if self._conn is None or self._conn.closed:
            self._conn = await pg_connect(self.ctx, f"ioc-sync rules {self.lead.member_id}")
        started = time.time()  # everything accepted before now is in the buffer (same thread)
        out = self._out
        head = b'{"o":"' + self.lead.member_id.encode() + b'","m":'
        payloads: list[str] = []
        parts: list[bytes] = []
        size = n = taken = 0
        last = 0.0

        def seal(mark: float) -> None:
            payloads.append((head + orjson.dumps(mark) + b',"i":[' + b",".join(parts) + b"]}").decode())

        for item in out:
            enc = orjson.dumps(item)
            if size + len(enc) + 60 > MAX_PAYLOAD and parts:
                seal(last)  # all that arrived before its last value's arrival are sent (arrival order)
                parts, size = [], 0
                taken = n
                if len(payloads) >= PAYLOADS_PER_TX:
                    break
            parts.append(enc)
            size += len(enc) + 1
            last = item[4]
            n += 1
        else:
            seal(started)  # the whole buffer: all accepted before `started`
            taken = n
        await notify(self._conn, rules_channel(leader.id), payloads)
        self._mark_sent = time.monotonic()
        if out is self._out:  # else this process took over meanwhile and evaluated them itself
            for _ in range(taken):
                out.popleft()
        self.forwarded += taken
        return True

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
