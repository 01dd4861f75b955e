"""From rule level changes and offline detection to alert rows and alert.upsert events.

The rule engine runs on the event loop inside the ingest path and must never wait for the
store, so its changes are queued here and written by one task in transactions of up to
MAX_PER_TX alerts, soon after they happen (a red alert should reach the wall in well under a
second). Silences are matched on the loop, where the cache lives.

Bounded whatever the arrival rate: what waits is one entry per alert (dedup key), not one per
change. Changes to an alert that is not written yet fold into its entry (`_Pending.add`): N
raises become one write with the newest value and message, the highest level, the summed
count, the first and last times; a raise-clear-raise... run folds too, as far as the store
would end in the same state whatever the alert's state was (see `_Pending._fold_episodes`), so
an entry holds at most a handful of steps. Per alert, the steps are written in the order they
happened; the DB ends where writing every change one by one would have left it (tested against
exactly that), with repeated "back to normal" notes counted in one note.

More than MAX_PENDING alerts waiting (a storm over many distinct sources): orange and red are
never shed (the cap yields); a blue, yellow or clear-only entry makes room by shedding the
oldest entry of a strictly lower level, else it is shed itself. Shed changes are counted
(`shed`, by level; `metrics.tick` city.alerts_shed) and logged.

Order: orange and red news (an alert not written in the last NEWS_S, or risen above the level
last written) first, in a transaction of their own; then the other orange and red, with a fifth
of each transaction kept for the lower levels so they are not starved; FIFO within each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from protocol.enums import AlertSource, AlertState, Level
from sync_service.alerts import store
from sync_service.alerts.engine import LevelChange, Rule
from sync_service.alerts.labels import Labels, level_words, num
from sync_service.alerts.silences import Silences
from sync_service.context import ServiceContext
from sync_service.eventlog import NewEvent
from sync_service.ingest.registry import DeviceInfo, DeviceRegistry

log = logging.getLogger(__name__)
MAX_PER_TX = 500  # alerts per transaction
MAX_PENDING = 20_000  # alerts waiting to be written before lower levels are shed
URGENT = int(Level.ORANGE)  # orange and red: never shed, written first
LOW_SHARE = 5  # 1/LOW_SHARE of each transaction goes to lower levels when they wait
STOP_DRAIN = 0.25  # of config.stop_timeout_s: how long queued alert changes may be written at stop
RETRIES = 4  # a transaction the store refused is tried again this many times (backoff), then dropped
RETRY_S = 0.25
SHED_LOG_S = 30.0
NEWS_S = 60.0  # an orange/red alert not written for this long (or risen above it) is news: first
RECENT_MAX = 2 * MAX_PENDING  # alerts remembered as written lately (tier, when)
AUTO_RESOLVE_MAX_LEVEL = Level.YELLOW  # quiet, unacknowledged low alerts resolve themselves
BACK = "已恢复正常"
BACK_OFFLINE = "设备恢复上报"


@dataclass(slots=True)
class _Up:
    """A raise, or consecutive raises of one alert folded together."""

    level: int  # the highest
    first_ts: float  # observed time of the first: a created or re-opened alert starts there
    last_ts: float
    counts: bool  # the first is a new occurrence (a level rise is not)
    more: int  # occurrences among the raises after the first
    ch: LevelChange | None  # the newest rule change (its spec is built when written) ...
    device: DeviceInfo
    spec: store.AlertSpec | None  # ... or the newest spec, built (offline raises, retried writes)
    at: float  # service clock of the newest: silences are matched at it
    flaps: int = 0  # clears folded away in between (see _fold_episodes): counted in a note
    flap_value: float | None = None


@dataclass(slots=True)
class _Down:
    """Back to normal (n times in a row, newest value)."""

    value: float | None  # None: an offline alert's device reports again
    ts: float
    n: int = 1


def _fold_into(a: _Up, b: _Up, *, restart: bool = False) -> None:
    """a := a then b, as one raise (in place: a is the entry's own). restart: b re-opens what
    a's episode left resolved, so level and first_ts are b's; else the alert stays open from a
    on: the higher level, a's first_ts."""
    if restart:
        a.level, a.first_ts = b.level, b.first_ts
    elif b.level > a.level:
        a.level = b.level
    if b.last_ts > a.last_ts:
        a.last_ts = b.last_ts
    a.more += int(b.counts) + b.more
    a.ch, a.device, a.spec, a.at = b.ch, b.device, b.spec, b.at
    if b.flaps:
        a.flaps += b.flaps
        a.flap_value = b.flap_value


class _Pending:
    """The changes to one alert that wait to be written, folded so their number stays small."""

    __slots__ = ("key", "offline", "ops", "tier", "changes", "seq", "where")

    def __init__(self, key: str, offline: bool, seq: int) -> None:
        self.key = key
        self.offline = offline
        self.ops: list[_Up | _Down] = []
        self.tier = 0  # the highest level raised among ops (0: clears only)
        self.changes = 0  # changes folded in
        self.seq = seq  # arrival order, for fairness among levels
        self.where: OrderedDict[str, _Pending] | None = None  # the queue it waits in

    def add(self, op: _Up | _Down) -> None:
        self.changes += 1
        ops = self.ops
        last = ops[-1] if ops else None
        if type(op) is _Down:
            if type(last) is _Down:
                # a second clear: at most a note on an alert the first left open (or nothing)
                last.n += op.n
                last.value = op.value
                if op.ts > last.ts:
                    last.ts = op.ts
            else:
                ops.append(op)
            return
        assert type(op) is _Up
        if op.level > self.tier:
            self.tier = min(op.level, int(Level.RED))
        if type(last) is _Up:
            _fold_into(last, op)  # exact: raise after raise only updates the open alert
        else:
            ops.append(op)
        if len(ops) >= 4:
            self._fold_episodes()

    def _fold_episodes(self) -> None:
        """[.., C, Ra, Ca, Rb] -> [.., C, Rab] when that leaves the store in the same state.
        After a clear C the alert is absent, resolved, or open and "sticky" (acknowledged, or
        above AUTO_RESOLVE_MAX_LEVEL: a rule's clear only adds a note); an offline clear
        resolves whatever is open. So: a sticky Ra (rule, level >= orange) keeps the alert open
        through Ca and Rb merely updates it -> one raise from Ra on. A non-sticky Ra is resolved
        by Ca (or, sticky by acknowledgement, is only updated), and Rb re-opens it -> one raise
        with Rb's level and first_ts, exact while Ra's level is not above Rb's (else the
        acknowledged case would lose Ra's level: kept apart, at most two such episodes stay)."""
        ops = self.ops
        while len(ops) >= 4 and type(ops[-4]) is _Down:
            ra, ca, rb = ops[-3], ops[-2], ops[-1]
            if type(ra) is not _Up or type(ca) is not _Down or type(rb) is not _Up:
                break
            if not self.offline and ra.level > AUTO_RESOLVE_MAX_LEVEL:
                restart = False
            elif self.offline or ra.level <= rb.level:
                restart = True
            else:
                break
            ra.flaps += ca.n
            ra.flap_value = ca.value  # the newest clear so far (rb's own, if any, are newer)
            _fold_into(ra, rb, restart=restart)
            del ops[-2:]


def rule_key(rule_id: int, uid: str) -> str:
    return f"rule:{rule_id}:{uid}"


def offline_key(uid: str) -> str:
    return f"offline:{uid}"


def _back_text(value: float | None) -> Callable[[int], str]:
    """The words of a "back to normal" note for n occurrences."""
    if value is None:
        return lambda n: (f"{BACK_OFFLINE} / device reporting again" if n == 1
                          else f"{BACK_OFFLINE} ×{n} / device reporting again ×{n}")
    v = num(value)
    return lambda n: (f"{BACK}（{v}）/ back to normal" if n == 1
                      else f"{BACK} ×{n}（最近 {v}）/ back to normal ×{n} (last {v})")


class AlertManager:
    def __init__(self, ctx: ServiceContext, registry: DeviceRegistry, silences: Silences,
                 labels: Labels) -> None:
        self.ctx = ctx
        self.registry = registry
        self.silences = silences
        self.labels = labels
        self.max_pending = MAX_PENDING
        self._entries: dict[str, _Pending] = {}
        self._tiers: list[OrderedDict[str, _Pending]] = [OrderedDict() for _ in range(int(Level.RED) + 1)]
        self._news: OrderedDict[str, _Pending] = OrderedDict()  # orange/red news, before the tiers
        self._recent: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (tier, monotonic)
        self._seq = 0
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        self.written = 0  # alert events written, for tests and metrics
        self.received = 0  # changes handed to the manager
        self.folded = 0  # of those, folded into an alert already waiting
        self.pending_max = 0  # most alerts waiting at once
        self.shed: dict[int, int] = {}  # level (0: clears) -> changes shed at the cap
        self.failed = 0  # changes dropped after the store refused them RETRIES times
        self.dropped_at_stop = 0  # changes not written when stop() ran out of time
        self._shed_logged = 0.0

    # ---- figures ----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Alerts waiting to be written (each one write, however many changes it folds)."""
        return len(self._entries)

    @property
    def shed_total(self) -> int:
        return sum(self.shed.values())

    def indicators(self) -> dict[str, int]:
        """For metrics.tick (city): the backlog and what overload cost."""
        return {"alerts_pending": self.pending + self._in_flight, "alerts_shed": self.shed_total}

    # ---- producers (event loop) ---------------------------------------------------------

    def on_level_change(self, ch: LevelChange) -> None:
        d = self.registry.by_pk.get(ch.device_pk)
        if d is None:
            return
        key = rule_key(ch.rule.id, d.uid)
        if ch.new == 0:
            self._push(key, False, _Down(ch.value, ch.ts))
        elif ch.new > ch.old:
            self._push(key, False, _Up(ch.new, ch.ts, ch.ts, ch.old == 0, 0, ch, d, None, time.time()))
        # a lower but non-zero level: the open alert keeps its highest level; nothing to write

    def on_offline(self, d: DeviceInfo, rule: Rule, now: float) -> None:
        tz, te = self.labels.type(d.device_type)
        mins = round((rule.offline_periods or 1) * self.registry.period(d) / 60)
        spec = self._device_spec(d, AlertSource.OFFLINE, offline_key(d.uid), rule.offline_level,
                                 f"{tz}离线", f"{te} offline",
                                 f"设备 {d.uid} 超过 {rule.offline_periods} 个上报周期（约 {mins} 分钟）无数据"
                                 f" / no data for {rule.offline_periods} periods (~{mins} min)", now, now)
        spec.rule_id = rule.id
        spec.group_key = f"offline:{d.town}:{d.device_type}"
        self._push(spec.dedup_key, True, _Up(spec.level, now, now, True, 0, None, d, spec, now))

    def on_online(self, d: DeviceInfo, now: float) -> None:
        self._push(offline_key(d.uid), True, _Down(None, now))

    def _push(self, key: str, offline: bool, op: _Up | _Down) -> None:
        if self._stopped:
            return  # stopping: nothing would write it
        self.received += 1
        e = self._entries.get(key)
        if e is None:
            level = min(op.level, int(Level.RED)) if isinstance(op, _Up) else 0
            if len(self._entries) >= self.max_pending and not self._make_room(level):
                self._count_shed(level, 1)
                return
            self._seq += 1
            e = self._entries[key] = _Pending(key, offline, self._seq)
            self._place(e, self._tiers[0])
        else:
            self.folded += 1
        tier = e.tier
        e.add(op)
        if e.tier != tier and e.where is not self._news:
            assert e.where is not None
            del e.where[key]
            self._place(e, self._news if e.tier >= URGENT and self._is_news(key, e.tier) else self._tiers[e.tier])
        if len(self._entries) > self.pending_max:
            self.pending_max = len(self._entries)
        self._idle.clear()
        self._wake.set()

    @staticmethod
    def _place(e: _Pending, where: OrderedDict[str, _Pending], *, front: bool = False) -> None:
        where[e.key] = e
        e.where = where
        if front:
            where.move_to_end(e.key, last=False)

    def _is_news(self, key: str, tier: int) -> bool:
        """Not written in the last NEWS_S, or at a lower level: a new alert, a re-raise after a
        quiet spell, a level rise - not the hundredth update of an alert flapping on the wall."""
        seen = self._recent.get(key)
        return seen is None or tier > seen[0] or time.monotonic() - seen[1] > NEWS_S

    def _remember(self, batch: list[_Pending]) -> None:
        now = time.monotonic()
        recent = self._recent
        for e in batch:
            seen = recent.pop(e.key, None)
            recent[e.key] = (max(e.tier, seen[0]) if seen and now - seen[1] <= NEWS_S else e.tier, now)
        while recent and (len(recent) > RECENT_MAX or now - next(iter(recent.values()))[1] > NEWS_S):
            recent.popitem(last=False)

    def _make_room(self, level: int) -> bool:
        """At the cap: shed the oldest waiting alert of the lowest level below `level` (never
        orange or red). True if the newcomer may be queued."""
        for t in range(min(level, URGENT)):
            if self._tiers[t]:
                key, victim = self._tiers[t].popitem(last=False)
                del self._entries[key]
                self._count_shed(t, victim.changes)
                return True
        return level >= URGENT  # orange and red are never shed: the cap yields to them

    def _count_shed(self, level: int, n: int) -> None:
        self.shed[level] = self.shed.get(level, 0) + n
        now = time.monotonic()
        if now - self._shed_logged >= SHED_LOG_S:
            self._shed_logged = now
            log.warning("alert backlog at its cap (%d alerts waiting): %d changes shed so far, by level %s",
                        len(self._entries), self.shed_total, dict(sorted(self.shed.items())))

    # ---- specs ----------------------------------------------------------------------------

    def _device_spec(self, d: DeviceInfo, source: AlertSource, key: str, level: int, title: str,
                     title_en: str, message: str, ts: float, at: float) -> store.AlertSpec:
        silenced = self.silences.match(now=at, domain=d.domain, device_id=d.uid,
                                       building_id=d.building_id, town=d.town,
                                       device_type=d.device_type) is not None
        return store.AlertSpec(
            source=source, dedup_key=key, level=level, domain=d.domain, title=title, title_en=title_en,
            message=message, town=d.town, device_id=d.uid, device_type=d.device_type,
            building_id=d.building_id, lon=d.lon, lat=d.lat,
            group_key=store.group_key(d.building_id, d.town, d.device_type), silenced=silenced, ts=ts)

    def _rule_spec(self, ch: LevelChange, d: DeviceInfo, at: float) -> store.AlertSpec:
        r = ch.rule
        tz, te = self.labels.type(d.device_type)
        mz, me, unit = self.labels.metric(d.device_type, r.metric)
        townz, towne = self.labels.town(d.town)
        lz, le = level_words(ch.new)
        if ch.by_rate:
            zh = f"{mz}变化过快，达每分钟 {num(ch.threshold)}{unit} 以上（当前 {num(ch.value)}{unit}）"
            en = f"{me} changing faster than {num(ch.threshold)}{unit}/min (now {num(ch.value)}{unit})"
        else:
            cmp_zh, cmp_en = ("≥", "at or above") if r.above else ("≤", "at or below")
            zh = f"{mz} {num(ch.value)}{unit}，{cmp_zh}{lz}阈值 {num(ch.threshold)}{unit}"
            en = f"{me} {num(ch.value)}{unit}, {cmp_en} the {le} threshold {num(ch.threshold)}{unit}"
        msg = f"{townz} {tz} {d.uid}：{zh} / {towne} {te} {d.uid}: {en}"
        spec = self._device_spec(d, AlertSource.RULE, rule_key(r.id, d.uid), ch.new,
                                 r.title_zh or f"{tz}{mz}告警", r.title_en or f"{te} {me} alert", msg, ch.ts, at)
        spec.metric, spec.value, spec.threshold, spec.rule_id = r.metric, ch.value, ch.threshold, r.id
        return spec

    def _specs(self, batch: list[_Pending]) -> None:
        """Build the specs of the raises about to be written (on the loop: labels, silences).
        Built once per write, not once per change: a flapping alarm costs one."""
        for e in batch:
            for op in e.ops:
                if isinstance(op, _Up):
                    if op.spec is None and op.ch is not None:
                        op.spec = self._rule_spec(op.ch, op.device, op.at)
                    if op.spec is not None:
                        op.spec.level, op.spec.ts = op.level, op.last_ts

    # ---- the writer task --------------------------------------------------------------------

    async def start(self) -> None:
        self._stopped = False
        self._task = asyncio.create_task(self._run(), name="alert-manager")

    async def stop(self, drain_s: float | None = None) -> None:
        """Write what is queued, for at most drain_s (default STOP_DRAIN of the stop budget; the
        doors are closed by now, so the queue only shrinks), then stop the writer task - also
        when this call is itself cancelled, so no write is attempted after the store closes.
        What could not be written is counted and logged; rule state starts afresh anyway."""
        if drain_s is None:
            drain_s = STOP_DRAIN * self.ctx.config.stop_timeout_s
        try:
            if self._task is not None and not self._idle.is_set():
                try:
                    await asyncio.wait_for(self._idle.wait(), drain_s)
                except TimeoutError:
                    pass
        finally:
            self._stopped = True
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
                self._task = None
            if self._entries:
                changes = sum(e.changes for e in self._entries.values())
                self.dropped_at_stop += changes
                log.warning("stopped with %d alert changes (%d alerts) not written (over %.0f s to write)",
                            changes, len(self._entries), drain_s)
                self._entries.clear()
                for t in (*self._tiers, self._news):
                    t.clear()
            self._idle.set()

    async def drain(self) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        await self._idle.wait()

    def _take(self, n: int) -> list[_Pending]:
        """Up to n alerts to write: orange and red news first (by themselves), then the other
        orange and red, but a share for the rest (oldest first) whenever some wait, so a red
        storm does not starve them."""
        tiers = self._tiers
        if self._news:
            # news alone: a short transaction, so it is not held up by hundreds of routine updates
            out = [self._news.popitem(last=False)[1] for _ in range(min(n, len(self._news)))]
            for e in out:
                del self._entries[e.key]
            self._remember(out)
            return out
        low = [t for t in tiers[:URGENT] if t]
        room_urgent = n - (max(1, n // LOW_SHARE) if low else 0)
        urgent = tuple(reversed(tiers[URGENT:]))
        out: list[_Pending] = []
        for t in urgent:
            while t and len(out) < room_urgent:
                out.append(t.popitem(last=False)[1])
        while low and len(out) < n:
            t = min(low, key=lambda od: next(iter(od.values())).seq)
            out.append(t.popitem(last=False)[1])
            if not t:
                low.remove(t)
        for t in urgent:
            while t and len(out) < n:
                out.append(t.popitem(last=False)[1])
        for e in out:
            del self._entries[e.key]
        self._remember(out)
        return out

    def _requeue(self, batch: list[_Pending]) -> None:
        """Put a batch the store refused back in front, in its order, folding in what arrived
        meanwhile after it."""
        for old in reversed(batch):
            newer = self._entries.pop(old.key, None)
            if newer is not None:
                assert newer.where is not None
                del newer.where[old.key]
                for op in newer.ops:
                    old.add(op)
                old.changes += newer.changes - len(newer.ops)
            self._entries[old.key] = old
            self._place(old, self._news if old.where is self._news else self._tiers[old.tier], front=True)

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._entries:
                batch = self._take(MAX_PER_TX)
                self._in_flight = len(batch)
                self._specs(batch)
                try:
                    _, events = await self.ctx.db.write_events(lambda s, b=batch: self._apply(s, b))
                    self.written += len(events)
                    failures = 0
                except Exception:
                    # The store refused (disk full, lock timeout): try again a few times with
                    # backoff, then log and drop (the rule state re-raises on the next crossing).
                    failures += 1
                    if failures <= RETRIES:
                        log.warning("writing %d alerts failed (attempt %d), retrying", len(batch), failures,
                                    exc_info=True)
                        self._requeue(batch)
                        self._in_flight = 0
                        await asyncio.sleep(RETRY_S * 2 ** (failures - 1))
                        continue
                    self.failed += sum(e.changes for e in batch)
                    failures = 0
                    log.exception("writing %d alerts failed %d times: dropped", len(batch), RETRIES + 1)
                finally:
                    self._in_flight = 0
            self._idle.set()

    def _apply(self, s: Session, batch: list[_Pending]) -> tuple[None, list[NewEvent]]:
        """One transaction: each entry's steps applied to its source's live alert (loaded with
        FOR UPDATE on PostgreSQL). A new alert whose source got a live one from another process
        meanwhile (the insert meets uq_alerts_dedup_open) is folded into that one instead."""
        now = time.time()
        entries = {e.key: e for e in batch}
        final: dict[str, store.AlertRow] = {}
        todo = list(entries)
        for _ in range(3):
            live = store.load_live(s, todo, lock=True)
            created: list[store.AlertRow] = []
            updated: list[store.AlertRow] = []
            for key in todo:
                a = self._fold(entries[key], live.get(key), now)
                if a is not None:
                    (updated if a.id is not None else created).append(a)
                    final[key] = a
            missed = store.save_rows(s, created, updated)
            if not missed:
                break
            todo = [a.dedup_key for a in missed]
            log.info("%d alerts were opened by another process meanwhile: merged into them", len(todo))
        else:
            raise RuntimeError(f"alerts {todo[:3]}... conflict again and again")  # retried by _run
        # in the batch's order: orange and red first
        return None, [store.event(final[e.key]) for e in batch if e.key in final]

    @staticmethod
    def _fold(e: _Pending, a: store.AlertRow | None, now: float) -> store.AlertRow | None:
        """Apply an entry's steps to its live alert `a` (None: there is none); returns the row to
        write (a new one has id None), or None when nothing changed."""
        changed = False
        kind = BACK_OFFLINE if e.offline else BACK
        for op in e.ops:
            if isinstance(op, _Up):
                assert op.spec is not None
                if a is None:
                    a = store.new_row(op.spec, now, more=op.more, first_ts=op.first_ts)
                else:
                    store.update_alert(a, op.spec, now, reraise=op.counts, more=op.more, first_ts=op.first_ts)
                if op.flaps:
                    store.add_repeated_note(a, "system", now, kind,
                                            _back_text(None if e.offline else op.flap_value), op.flaps)
                changed = True
                continue
            if a is None or a.state == AlertState.RESOLVED.value:
                continue
            auto = e.offline or (a.level <= AUTO_RESOLVE_MAX_LEVEL and a.state == AlertState.NEW.value)
            store.add_repeated_note(a, "system", now, kind, _back_text(op.value), op.n)
            if auto and store.can_transition(a, AlertState.RESOLVED):
                store.transition(a, AlertState.RESOLVED, "system", now)
            a.updated_ts, a.updated_by = now, "system"
            changed = True
        return a if changed else None
