"""The hub: committed events -> every connected session, in strict seq order, each encoded once.

Sources of events, all funnelled into one ordered stream:
- local commits (Database.on_commit): delivered at once when they follow the last delivered seq
  directly (the common case on one process);
- anything else (a seq gap: another process's commit on PostgreSQL, a rolled-back seq, a writer
  that bypassed write_events): the pump reads the log after the last delivered seq. It wakes on
  `kick()` (the PostgreSQL LISTEN connection in scaleout.py calls it on NOTIFY ioc_events) and
  polls every `poll_s` as a safety net.

seq order equals commit order (eventlog.py), so reading "after the last delivered seq" never
skips an event that commits later with a lower seq.

Fan-out: events delivered in one loop iteration are coalesced into one Batch; a Batch encodes
its Events frames once per distinct scope (usually 1-3: all domains, and each bureau) and every
session of that scope sends the same bytes. Sessions own bounded queues (server/session.py);
the hub never waits for a client.

The hub also keeps the latest "state" events that have no table (focus.set, devices.stats,
dq.counts, recent metrics.tick) for snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from typing import Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import events as ek
from protocol.frames import MAX_EVENTS_PER_FRAME, Event, Events, encode_frame
from sync_service.context import ServiceContext
from sync_service.db.models import EventRecord
from sync_service.eventlog import head_seq, read_after, to_wire
from sync_service.server.scope import Scope, filter_events

log = logging.getLogger(__name__)

READ_CHUNK = 2000
METRICS_KEPT = 120  # ticks in a snapshot: 10 minutes at one tick per 5 s
STATE_KINDS = (ek.FOCUS_SET, ek.DEVICES_STATS, ek.DQ_COUNTS)
STATE_KEPT = 8


FRAME_TARGET_BYTES = 256 * 1024  # well under MAX_FRAME_BYTES, the clients' receive limit
_EVENTS_HEAD = encode_frame(Events(items=[]))[:-3]  # b'{"v":1,"type":"events","items":'


def pack(items: list[bytes], head: bytes, tail: bytes, *, max_items: int,
         max_bytes: int = FRAME_TARGET_BYTES) -> list[tuple[bytes, int]]:
    """JSON-encoded items -> frames `head [item,item...] tail` of at most max_items items and
    about max_bytes (one item larger than that still travels alone): [(bytes, n_items)]."""
    out: list[tuple[bytes, int]] = []
    chunk: list[bytes] = []
    size = 0
    for it in items:
        if chunk and (len(chunk) >= max_items or size + len(it) > max_bytes):
            out.append((head + b"[" + b",".join(chunk) + b"]" + tail, len(chunk)))
            chunk, size = [], 0
        chunk.append(it)
        size += len(it) + 1
    if chunk:
        out.append((head + b"[" + b",".join(chunk) + b"]" + tail, len(chunk)))
    return out


def encode_events(events: list[Event]) -> list[tuple[bytes, int]]:
    """Events frames of at most MAX_EVENTS_PER_FRAME events and ~FRAME_TARGET_BYTES each."""
    # a plain dict per event: the data is JSON already, pydantic's dump would only copy it
    items = [orjson.dumps({"seq": e.seq, "ts": e.ts, "kind": e.kind, "domain": e.domain, "town": e.town,
                           "data": e.data}) for e in events]
    return pack(items, _EVENTS_HEAD, b"}", max_items=MAX_EVENTS_PER_FRAME)


class Batch:
    """Events delivered together; frames are encoded lazily, once per scope."""

    __slots__ = ("events", "first_seq", "last_seq", "_by_scope")

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.first_seq = events[0].seq
        self.last_seq = events[-1].seq
        self._by_scope: dict[Scope, tuple[list[Event], list[tuple[bytes, int]]]] = {}

    def _get(self, scope: Scope) -> tuple[list[Event], list[tuple[bytes, int]]]:
        hit = self._by_scope.get(scope)
        if hit is None:
            evs = filter_events(self.events, scope)
            hit = self._by_scope[scope] = (evs, encode_events(evs))
        return hit

    def events_for(self, scope: Scope) -> list[Event]:
        return self._get(scope)[0]

    def frames_for(self, scope: Scope) -> list[tuple[bytes, int]]:
        return self._get(scope)[1]


class Subscriber(Protocol):
    scope: Scope

    def on_hub_batch(self, batch: Batch) -> None: ...


class Hub:
    def __init__(self, ctx: ServiceContext, *, poll_s: float = 1.0) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self.last_seq = 0
        self.subscribers: set[Subscriber] = set()
        self.delivered = 0
        self.batches = 0
        self.reads = 0
        self._pending: list[Event] = []
        self._flush_scheduled = False
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._state: dict[str, deque[Event]] = {k: deque(maxlen=STATE_KEPT) for k in STATE_KINDS}
        self._metrics: deque[Event] = deque(maxlen=METRICS_KEPT)

    # ---- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self.last_seq, state, metrics = await self.ctx.db.read(self._load_state)
        for ev in state:
            self._state[ev.kind].append(ev)
        self._metrics.extend(metrics)
        self.ctx.db.on_commit(self._on_db_commit)
        self._task = asyncio.get_running_loop().create_task(self._pump(), name="hub-pump")
        self.ctx.components["hub"] = self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _load_state(self, s: Session) -> tuple[int, list[Event], list[Event]]:
        """The newest state events, looked for within the replay window only (each kind is a
        range of the (kind, seq) index; older state is not worth resuming from anyway)."""
        head = head_seq(s)
        floor = max(0, head - self.ctx.config.replay_window)
        recent = (EventRecord.seq > floor,)
        state: list[Event] = []
        for kind in STATE_KINDS:
            rows = s.scalars(select(EventRecord).where(EventRecord.kind == kind, *recent)
                             .order_by(EventRecord.seq.desc()).limit(STATE_KEPT)).all()
            state.extend(to_wire(r) for r in reversed(rows))
        rows = s.scalars(select(EventRecord).where(EventRecord.kind == ek.METRICS_TICK, *recent)
                         .order_by(EventRecord.seq.desc()).limit(METRICS_KEPT)).all()
        return head, state, [to_wire(r) for r in reversed(rows)]

    # ---- subscribers ----------------------------------------------------------------------------
    def subscribe(self, sub: Subscriber) -> int:
        """From now on `sub` receives every batch; returns the seq it starts after."""
        self.subscribers.add(sub)
        return self.last_seq

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    # ---- sources ----------------------------------------------------------------------------
    def kick(self) -> None:
        """Something may have been committed elsewhere: read the log soon."""
        self._kick.set()

    def _on_db_commit(self, events: list[Event]) -> None:
        if not events or events[-1].seq <= self.last_seq:
            return
        if events[0].seq == self.last_seq + 1:
            self._deliver(events)
        else:
            self._kick.set()  # a gap: the log has the events in between (or a rolled-back seq)

    async def _pump(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=self.poll_s)
            self._kick.clear()
            try:
                await self.catch_up()
            except Exception:  # a database hiccup: try again at the next poll, never die
                log.exception("hub: reading the event log failed")
                await asyncio.sleep(self.poll_s)

    async def catch_up(self) -> None:
        """Deliver everything committed after the last delivered seq."""
        while True:
            after = self.last_seq
            events = await self.ctx.db.read(lambda s, a=after: read_after(s, a, READ_CHUNK))
            self.reads += 1
            fresh = [e for e in events if e.seq > self.last_seq]
            if fresh:
                self._deliver(fresh)
            if len(events) < READ_CHUNK:
                return

    # ---- fan-out ----------------------------------------------------------------------------
    def _deliver(self, events: list[Event]) -> None:
        self.last_seq = events[-1].seq
        for ev in events:
            if ev.kind in self._state:
                self._state[ev.kind].append(ev)
            elif ev.kind == ek.METRICS_TICK:
                self._metrics.append(ev)
        self._pending.extend(events)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        events, self._pending = self._pending, []
        if not events:
            return
        batch = Batch(events)
        self.delivered += len(events)
        self.batches += 1
        for sub in list(self.subscribers):
            try:
                sub.on_hub_batch(batch)
            except Exception:
                log.exception("hub: a subscriber failed")

    # ---- state for snapshots ------------------------------------------------------------------
    def state_events(self, upto_seq: int) -> dict[str, Event]:
        """The newest focus.set / devices.stats / dq.counts at or before upto_seq (or, if every
        kept one is newer, the oldest kept: these kinds replace the whole state, so the later
        event re-applied on top is harmless)."""
        out: dict[str, Event] = {}
        for kind, kept in self._state.items():
            best = None
            for ev in kept:
                if ev.seq <= upto_seq:
                    best = ev
            if best is None and kept:
                best = kept[0]
            if best is not None:
                out[kind] = best
        return out

    def metrics_ticks(self, upto_seq: int) -> list[Event]:
        return [ev for ev in self._metrics if ev.seq <= upto_seq]


def last_seq_of(events: Iterable[Event], default: int) -> int:
    last = default
    for ev in events:
        last = ev.seq
    return last
