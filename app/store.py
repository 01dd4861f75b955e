"""The console's state store: what the service has told us, applied in sequence order.

Data flows one way: backend_client feeds snapshot parts and events in; views subscribe to the
signals. Events at or below the applied sequence are ignored, so a replay after reconnect never
applies anything twice. A snapshot is built aside and swapped in whole at its end.

Paced application (the console sets `pacer`, see backend_client.qt_bridge.StorePacer): a frame
of up to 500 events, or a resume replay of thousands, would hold the Qt thread for tens of ms if
applied at once. With a pacer, apply_events only queues (in order, duplicates dropped) and asks
the pacer to call drain(budget) from the event loop, which applies what fits in the time budget
and emits the signals for that slice; a snapshot's parts are queued the same way, validated in
those slices and swapped in once complete. Without one (tests, tools) everything applies at once.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from app.signals import Signal
from protocol import events as ek
from protocol.entities import (
    Alert,
    AlertRule,
    DeviceStat,
    DeviceType,
    Domain,
    Focus,
    Incident,
    Resource,
    Silence,
    Task,
    Town,
)
from protocol.enums import AlertState, Level
from protocol.frames import Event

log = logging.getLogger(__name__)

METRICS_HISTORY = 720  # ticks kept for sparklines and live trends (an hour at 5 s)
DRAIN_CHECK_EVERY = 4  # paced application looks at the clock after this many events (~40 us)


class Connection(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"  # showing cached state


@dataclass
class SessionInfo:
    user: str = ""
    display_name: str = ""
    role: str = ""
    domains: list[str] | None = None
    permissions: frozenset[str] = frozenset()
    server_id: str = ""


_FREED_IN_SLICES = ("alerts", "incidents", "tasks", "resources", "silences", "device_stats")


@dataclass
class _Collections:
    towns: dict[str, Town] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)
    device_types: dict[str, DeviceType] = field(default_factory=dict)
    rules: dict[int, AlertRule] = field(default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    incidents: dict[int, Incident] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    resources: dict[int, Resource] = field(default_factory=dict)
    silences: dict[int, Silence] = field(default_factory=dict)
    device_stats: dict[tuple[str, str, str], DeviceStat] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    metrics_history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=METRICS_HISTORY))
    dq: dict[str, Any] = field(default_factory=dict)
    focus: Focus | None = None
    surroundings: dict[str, Any] | None = None


_UPSERTS: dict[str, tuple[str, type[BaseModel], str]] = {
    ek.ALERT_UPSERT: ("alerts", Alert, "id"),
    ek.INCIDENT_UPSERT: ("incidents", Incident, "id"),
    ek.TASK_UPSERT: ("tasks", Task, "id"),
    ek.RESOURCE_UPSERT: ("resources", Resource, "id"),
    ek.SILENCE_UPSERT: ("silences", Silence, "id"),
    ek.RULE_UPSERT: ("rules", AlertRule, "id"),
}
_SNAPSHOT_MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "towns": (Town, "code"),
    "domains": (Domain, "code"),
    "device_types": (DeviceType, "code"),
    "rules": (AlertRule, "id"),
    "alerts": (Alert, "id"),
    "incidents": (Incident, "id"),
    "tasks": (Task, "id"),
    "resources": (Resource, "id"),
    "silences": (Silence, "id"),
}


class StateStore:
    """Evented state. Signals (payloads):

    - reset(): a snapshot or cache replaced everything
    - alerts_changed(set[int]), incidents_changed(set[int]), tasks_changed(set[int]),
      resources_changed(set[int]), silences_changed(set[int]), rules_changed(set[int])
    - stats_changed(), metrics_changed(dict tick), dq_changed(), focus_changed(Focus|None),
      surroundings_changed(dict), notice(dict)
    - red_alert(Alert): a red alert became new and unsilenced (sound and banner; fires once per
      alert id until acknowledged)
    - connection_changed(Connection), session_changed(SessionInfo)
    """

    def __init__(self) -> None:
        self.c = _Collections()
        self._seq = 0  # the last applied event (the `seq` property)
        self._backlog: deque[Event] = deque()  # queued by apply_events when paced
        self._backlog_top = 0  # highest seq queued
        self._seq_after_backlog = 0  # a seq set from outside while events were queued
        # called (no arguments) when queued events wait for drain(); None: apply at once
        self.pacer: Callable[[], None] | None = None
        self._open_counts: dict[tuple[int, str, str], int] = {}  # see open_alert_counts
        self._red_new: dict[int, None] = {}  # ids of unacknowledged red alerts (see unacknowledged_red)
        self.connection = Connection.CONNECTING
        self.data_ts: float | None = None  # when the data was last known fresh (for offline age)
        self.session = SessionInfo()
        self.snapshot_reloads = 0
        self.bad_events = 0  # events that did not validate (skipped and logged, never fatal)
        self._pending: _Collections | None = None  # a snapshot being received (or validated, paced)
        self._pending_seq = 0
        self._pending_counts: dict[tuple[int, str, str], int] = {}
        self._pending_red: dict[int, None] = {}
        self._parts: deque[tuple[str, list[dict[str, Any]], int]] = deque()
        self._pending_ended = False
        self._announced_red: set[int] = set()
        # collections a paced snapshot replaced, emptied a slice at a time by drain(): freeing
        # 30k alerts at once was ~20-25 ms of the swap's stall
        self._replaced: list[dict[Any, Any]] = []
        self.reset = Signal("reset")
        self.alerts_changed = Signal("alerts_changed")
        self.incidents_changed = Signal("incidents_changed")
        self.tasks_changed = Signal("tasks_changed")
        self.resources_changed = Signal("resources_changed")
        self.silences_changed = Signal("silences_changed")
        self.rules_changed = Signal("rules_changed")
        self.stats_changed = Signal("stats_changed")
        self.metrics_changed = Signal("metrics_changed")
        self.dq_changed = Signal("dq_changed")
        self.focus_changed = Signal("focus_changed")
        self.surroundings_changed = Signal("surroundings_changed")
        self.notice = Signal("notice")
        self.red_alert = Signal("red_alert")
        self.connection_changed = Signal("connection_changed")
        self.session_changed = Signal("session_changed")

    # ---- sequence ------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        """The last applied sequence number (what a resume asks to continue after)."""
        return self._seq

    @seq.setter
    def seq(self, value: int) -> None:
        # The client adopts a seq the service says we are synced to (heartbeat synced_seq).
        # Queued events below it (or a snapshot) are still to be applied: adopted once they are.
        if self._backlog or self._pending is not None:
            self._seq_after_backlog = max(self._seq_after_backlog, value)
        else:
            self._seq = value

    @property
    def backlog(self) -> int:
        """Events and snapshot items queued for drain() (0 when not paced)."""
        parts = sum(len(items) - start for _c, items, start in self._parts) if self._pending is not None else 0
        return len(self._backlog) + parts

    # ---- convenient read access ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # store.alerts, store.towns, ... read through to the current collections
        c = self.__dict__.get("c")
        if c is not None and name in _Collections.__dataclass_fields__:
            return getattr(c, name)
        raise AttributeError(name)

    @property
    def open_alert_counts(self) -> dict[tuple[int, str, str], int]:
        """Open alerts (new, acknowledged, dispatched) per (level, town, domain), "" for none;
        kept as events apply, so panels count without scanning 100k alerts (read only)."""
        return self._open_counts

    def can(self, command: str) -> bool:
        return command in self.session.permissions

    def unacknowledged_red(self) -> list[Alert]:
        """New, unsilenced red alerts: from an index kept as alerts apply (the banner, the sound
        and the feed ask on every snapshot; a scan of 100k alerts was ~30 ms each time)."""
        alerts = self.c.alerts
        return [alerts[i] for i in self._red_new]

    # ---- connection and session ----------------------------------------------------------
    def set_connection(self, state: Connection) -> None:
        if state != self.connection:
            self.connection = state
            self.connection_changed.emit(state)

    def set_session(self, info: SessionInfo) -> None:
        self.session = info
        self.session_changed.emit(info)

    # ---- snapshot ------------------------------------------------------------------------
    # Paced, a snapshot's parts are only queued as they arrive; drain() validates their items
    # in its time slices (100k alerts are ~1-2 s of pydantic work: never in one pass) and, once
    # the end has come and every part is in, swaps the collections in. Events queued meanwhile
    # wait behind the swap. Unpaced (tests, tools) each part is validated as it comes.
    def begin_snapshot(self, seq: int) -> None:
        self._pending = _Collections()
        self._pending_seq = seq
        self._pending_counts = {}
        self._pending_red = {}
        self._parts = deque()  # (collection, items, index of the next item to validate)
        self._pending_ended = False
        self._drop_backlog()  # the snapshot has them, or the new session sends them after it

    def snapshot_part(self, collection: str, items: list[dict[str, Any]]) -> None:
        if self._pending is None:
            raise RuntimeError("snapshot_part before begin_snapshot")
        if self.pacer is None:
            _load_items(self._pending, self._pending_counts, self._pending_red, collection, items, 0, None)
            return
        was_idle = not self._busy()
        self._parts.append((collection, items, 0))
        if was_idle:
            self.pacer()

    def end_snapshot(self, seq: int) -> None:
        if self._pending is None or seq != self._pending_seq:
            raise RuntimeError("snapshot_end does not match snapshot_begin")
        if self.pacer is None:
            self._swap_snapshot()
            return
        was_idle = not self._busy()
        self._pending_ended = True
        if was_idle:
            self.pacer()

    @property
    def snapshot_pending(self) -> bool:
        """A snapshot received (or being received) but not yet swapped in."""
        return self._pending is not None

    def drop_unfinished_snapshot(self) -> None:
        """A new connection: a snapshot whose end never came is abandoned (events of the new
        session must not wait behind it); one that did end is still swapped in."""
        if self._pending is None or self._pending_ended:
            return
        self._pending, self._parts = None, deque()
        if self._backlog and self.pacer is not None:
            self.pacer()

    def _drain_snapshot(self, deadline: float) -> bool:
        """Validate queued parts until the deadline, then swap if all is in. True when done."""
        pending, parts = self._pending, self._parts
        assert pending is not None
        while parts:
            collection, items, start = parts[0]
            done = _load_items(pending, self._pending_counts, self._pending_red, collection, items, start, deadline)
            if done < len(items):
                parts[0] = (collection, items, done)
                return False
            parts.popleft()
            if time.perf_counter() >= deadline:
                return False
        if not self._pending_ended:
            return False
        self._swap_snapshot()
        return True

    def _swap_snapshot(self) -> None:
        assert self._pending is not None
        if self.pacer is not None:
            # entity maps only: nothing outside the store keeps them (metrics and dq dicts are
            # handed to panels and the offline cache as they are)
            self._replaced.extend(d for name in _FREED_IN_SLICES if (d := getattr(self.c, name)))
        self.c, self._pending = self._pending, None
        self._open_counts, self._red_new = self._pending_counts, self._pending_red
        self._parts = deque()
        self._seq = self._pending_seq  # queued events at or below it are dropped when drained
        self.data_ts = time.time()
        self._announced_red &= set(self.c.alerts)
        self.reset.emit()
        for a in self.unacknowledged_red():
            self._maybe_announce(a)

    # ---- events --------------------------------------------------------------------------
    def apply_events(self, events: Iterable[Event]) -> int:
        """Apply events in order; returns how many were new. Emits one signal per collection.
        With a pacer the new ones are queued for drain() instead (and counted the same)."""
        if self.pacer is not None:
            return self._queue(events)
        applied, _ = self._apply_batch(events, None)
        return applied

    def drain(self, budget_s: float) -> bool:
        """Apply what is queued - a snapshot's parts and its swap first, then events - for at
        most about budget_s (the clock is read every few items), emit the signals for it, and
        say whether some is still queued. The budget is a hard cap, whatever the backlog: an
        event costs ~10-30 us, so a 6 ms slice is hundreds of events and the pacer, called again
        on the next loop pass while work waits, keeps up with thousands per second even when
        passes are slow (bench_ui records the backlog)."""
        deadline = time.perf_counter() + budget_s
        if self._pending is not None and (self._parts or self._pending_ended):
            if not self._drain_snapshot(deadline):
                return True
        backlog = self._backlog
        if backlog and self._pending is None:
            self._apply_batch(_take(backlog), deadline)
        if not backlog and self._seq_after_backlog:
            self._seq = max(self._seq, self._seq_after_backlog)
            self._seq_after_backlog = 0
        if self._replaced and not backlog:
            self._free_replaced(deadline)
        return self._busy()

    def _free_replaced(self, deadline: float) -> None:
        replaced = self._replaced
        while replaced:
            d = replaced[-1]
            for _ in range(min(len(d), 500)):
                d.popitem()
            if not d:
                replaced.pop()
            if time.perf_counter() >= deadline:
                return

    def _busy(self) -> bool:
        """Work queued for drain(): events (not behind a snapshot still being received) or a
        received snapshot's parts and swap."""
        if self._pending is not None:
            return bool(self._parts) or self._pending_ended
        return bool(self._backlog) or bool(self._replaced)

    def drain_all(self) -> None:
        """Apply everything queued now (before the pacer goes away, or a caller that must see it)."""
        while self.drain(3600.0):
            pass

    def _drop_backlog(self) -> None:
        self._backlog.clear()
        self._backlog_top = 0
        self._seq_after_backlog = 0

    def _queue(self, events: Iterable[Event]) -> int:
        top = max(self._seq, self._backlog_top) if self._backlog else self._seq
        n = 0
        was_empty = not self._backlog
        for ev in events:
            if ev.seq <= top:
                continue
            top = ev.seq
            self._backlog.append(ev)
            n += 1
        self._backlog_top = top
        if n and was_empty and self.pacer is not None:
            self.pacer()
        return n

    def _apply_batch(self, events: Iterable[Event], deadline: float | None) -> tuple[int, bool]:
        touched: dict[str, set[Any]] = {}
        flags: set[str] = set()
        applied = 0
        stopped = False
        for ev in events:
            if ev.seq <= self._seq:
                continue
            self._seq = ev.seq
            applied += 1
            try:
                self._apply_one(ev, touched, flags)
            except (ValidationError, KeyError, TypeError, ValueError) as exc:
                # one malformed event (a newer or buggy service) must not stop the rest of
                # the batch nor the connection: skipped, counted and logged
                self.bad_events += 1
                log.warning("skipping event seq %s (%s): %s", ev.seq, ev.kind, exc)
            if deadline is not None and applied % DRAIN_CHECK_EVERY == 0 and time.perf_counter() >= deadline:
                stopped = True
                break
        if applied:
            self.data_ts = time.time()
        self._emit(touched, flags)
        return applied, stopped

    def _apply_one(self, ev: Event, touched: dict[str, set[Any]], flags: set[str]) -> None:
        c = self.c
        up = _UPSERTS.get(ev.kind)
        if up is not None:
            coll, model, key = up
            obj = model.model_validate(ev.data)
            target = getattr(c, coll)
            k = getattr(obj, key)
            if coll == "alerts":
                counts = self._open_counts
                _count_open(counts, target.get(k), -1)
                _count_open(counts, obj, 1)
                _index_red(self._red_new, obj)
            target[k] = obj
            touched.setdefault(coll, set()).add(k)
            return
        match ev.kind:
            case ek.RULE_DELETED:
                c.rules.pop(int(ev.data["id"]), None)
                touched.setdefault("rules", set()).add(int(ev.data["id"]))
            case ek.FOCUS_SET:
                c.focus = Focus.model_validate(ev.data)
                flags.add("focus")
            case ek.DEVICES_STATS:
                c.device_stats = _stats_table(ev.data.get("items", []))
                flags.add("stats")
            case ek.METRICS_TICK:
                c.metrics = ev.data
                c.metrics_history.append(ev.data)
                flags.add("metrics")
            case ek.DQ_COUNTS:
                c.dq = ev.data
                flags.add("dq")
            case ek.SURROUNDINGS_RESULT:
                c.surroundings = ev.data
                flags.add("surroundings")
            case ek.SYSTEM_NOTICE:
                self.notice.emit(ev.data)
            case _:
                pass  # newer server, older console: unknown kinds are skipped, not fatal

    def _emit(self, touched: dict[str, set[Any]], flags: set[str]) -> None:
        for coll, ids in touched.items():
            getattr(self, f"{coll}_changed").emit(ids)
        if "alerts" in touched:
            for aid in touched["alerts"]:
                a = self.c.alerts.get(aid)
                if a is not None:
                    self._maybe_announce(a)
        if "stats" in flags:
            self.stats_changed.emit()
        if "metrics" in flags:
            self.metrics_changed.emit(self.c.metrics)
        if "dq" in flags:
            self.dq_changed.emit()
        if "focus" in flags:
            self.focus_changed.emit(self.c.focus)
        if "surroundings" in flags:
            self.surroundings_changed.emit(self.c.surroundings)

    def _maybe_announce(self, a: Alert) -> None:
        if a.level == Level.RED and a.state == AlertState.NEW and not a.silenced:
            if a.id not in self._announced_red:
                self._announced_red.add(a.id)
                self.red_alert.emit(a)
        else:
            self._announced_red.discard(a.id)

    # ---- offline cache -------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """Everything needed to reopen offline: collections, seq and data time."""
        c = self.c
        out: dict[str, Any] = {"seq": self.seq, "data_ts": self.data_ts}
        for name in _SNAPSHOT_MODELS:
            out[name] = [m.model_dump(mode="json") for m in getattr(c, name).values()]
        out["devices_stats"] = [s.model_dump(mode="json") for s in c.device_stats.values()]
        out["metrics"] = c.metrics
        out["metrics_history"] = list(c.metrics_history)
        out["dq"] = c.dq
        out["focus"] = c.focus.model_dump(mode="json") if c.focus else None
        return out

    def load(self, data: dict[str, Any]) -> None:
        self.install(prepare_state(data))

    def install(self, prepared: PreparedState) -> None:
        """Swap in a state made by prepare_state (possibly in a worker thread: validating a big
        offline cache is seconds of work that must not run on the Qt thread)."""
        self._drop_backlog()
        self._pending, self._parts, self._pending_ended = None, deque(), False
        self.c = prepared.c
        self._open_counts = prepared.open_counts
        self._red_new = prepared.red_new
        self._seq = prepared.seq
        self.data_ts = prepared.data_ts
        self.reset.emit()


@dataclass
class PreparedState:
    c: _Collections
    open_counts: dict[tuple[int, str, str], int]
    red_new: dict[int, None]
    seq: int
    data_ts: float | None


def prepare_state(data: dict[str, Any]) -> PreparedState:
    """Validate a dump()'d state into fresh collections. Touches no store: any thread."""
    fresh = _Collections()
    for name in (*_SNAPSHOT_MODELS, "devices_stats", "metrics", "dq", "focus"):
        if name in data:
            _load_collection(fresh, name, data[name])
    fresh.metrics_history.extend(data.get("metrics_history", []))
    counts: dict[tuple[int, str, str], int] = {}
    red: dict[int, None] = {}
    for a in fresh.alerts.values():
        _count_open(counts, a, 1)
        _index_red(red, a)
    return PreparedState(fresh, counts, red, int(data.get("seq", 0)), data.get("data_ts"))


_OPEN = frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.DISPATCHED})  # app.alert_filter.OPEN_STATES


def _count_open(counts: dict[tuple[int, str, str], int], a: Alert | None, delta: int) -> None:
    if a is None or a.state not in _OPEN:
        return
    key = (int(a.level), a.town or "", a.domain or "")
    n = counts.get(key, 0) + delta
    if n:
        counts[key] = n
    else:
        del counts[key]


def _index_red(red: dict[int, None], a: Alert) -> None:
    if a.level == Level.RED and a.state == AlertState.NEW and not a.silenced:
        red[a.id] = None
    else:
        red.pop(a.id, None)


def _take(backlog: deque[Event]) -> Iterable[Event]:
    """Pop events off the front of the queue as they are consumed: a slice that stops early
    leaves the rest queued, in order."""
    while backlog:
        yield backlog.popleft()


def _stats_table(items: list[dict[str, Any]]) -> dict[tuple[str, str, str], DeviceStat]:
    out = {}
    for it in items:
        s = DeviceStat.model_validate(it)
        out[(s.domain, s.device_type, s.town)] = s
    return out


def _load_items(c: _Collections, counts: dict[tuple[int, str, str], int], red: dict[int, None], collection: str,
               items: list[dict[str, Any]], start: int, deadline: float | None) -> int:
    """Validate a snapshot part's items from `start` into `c` (keeping the open-alert counts
    and the red index), until the deadline (read every few items). Returns how far it got."""
    spec = _SNAPSHOT_MODELS.get(collection)
    if spec is None:  # small, whole-part collections (stats, metrics, dq, focus)
        _load_collection(c, collection, items)
        return len(items)
    model, key = spec
    target = getattr(c, collection)
    alerts = collection == "alerts"
    i, n = start, len(items)
    while i < n:
        it = items[i]
        i += 1
        try:
            obj = model.model_validate(it)
        except ValidationError as exc:  # skip the one bad item, keep the snapshot
            log.warning("skipping a %s item that does not validate: %s", collection, exc)
            continue
        k = getattr(obj, key)
        if alerts:
            _count_open(counts, target.get(k), -1)
            _count_open(counts, obj, 1)
            _index_red(red, obj)
        target[k] = obj
        if deadline is not None and i % DRAIN_CHECK_EVERY == 0 and time.perf_counter() >= deadline:
            break
    return i


def _load_collection(c: _Collections, collection: str, items: Any) -> None:
    spec = _SNAPSHOT_MODELS.get(collection)
    if spec is not None:
        model, key = spec
        target = getattr(c, collection)
        for it in items:
            try:
                obj = model.model_validate(it)
            except ValidationError as exc:  # skip the one bad item, keep the snapshot
                log.warning("skipping a %s item that does not validate: %s", collection, exc)
                continue
            target[getattr(obj, key)] = obj
    elif collection == "devices_stats":
        c.device_stats.update(_stats_table(items))
    elif collection == "metrics":
        # items: [tick] (latest) or a list of ticks, oldest first
        ticks = items if isinstance(items, list) else [items]
        for t in ticks:
            c.metrics_history.append(t)
        c.metrics = ticks[-1] if ticks else {}
    elif collection == "dq":
        c.dq = items[0] if isinstance(items, list) and items else (items or {})
    elif collection == "focus":
        val = items[0] if isinstance(items, list) and items else (items or None)
        c.focus = Focus.model_validate(val) if val else None
    # unknown collections from a newer server are ignored
