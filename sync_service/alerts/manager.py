"""From rule level changes and offline detection to alert rows and alert.upsert events.

The rule engine runs on the event loop inside the ingest path and must never wait for the
store, so its changes are queued here and written by one task in small transactions, soon
after they happen (end-to-end latency matters: a red alert should reach the wall in well
under a second). Silences are matched on the loop, where the cache lives.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
MAX_PER_TX = 500
STOP_DRAIN = 0.25  # of config.stop_timeout_s: how long queued alert changes may be written at stop
AUTO_RESOLVE_MAX_LEVEL = Level.YELLOW  # quiet, unacknowledged low alerts resolve themselves


@dataclass(slots=True)
class _Raise:
    spec: store.AlertSpec
    reraise: bool


@dataclass(slots=True)
class _Clear:
    dedup_key: str
    offline: bool
    ts: float
    text: str


def rule_key(rule_id: int, uid: str) -> str:
    return f"rule:{rule_id}:{uid}"


def offline_key(uid: str) -> str:
    return f"offline:{uid}"


class AlertManager:
    def __init__(self, ctx: ServiceContext, registry: DeviceRegistry, silences: Silences,
                 labels: Labels) -> None:
        self.ctx = ctx
        self.registry = registry
        self.silences = silences
        self.labels = labels
        self._queue: list[_Raise | _Clear] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        self.written = 0  # alert events written, for tests and metrics
        self.dropped_at_stop = 0

    # ---- producers (event loop) ---------------------------------------------------------

    def on_level_change(self, ch: LevelChange) -> None:
        d = self.registry.by_pk.get(ch.device_pk)
        if d is None:
            return
        key = rule_key(ch.rule.id, d.uid)
        if ch.new == 0:
            self._push(_Clear(key, False, ch.ts, f"已恢复正常（{num(ch.value)}）/ back to normal"))
        elif ch.new > ch.old:
            self._push(_Raise(self._rule_spec(ch, d), reraise=ch.old == 0))
        # a lower but non-zero level: the open alert keeps its highest level; nothing to write

    def on_offline(self, d: DeviceInfo, rule: Rule, now: float) -> None:
        tz, te = self.labels.type(d.device_type)
        mins = round((rule.offline_periods or 1) * self.registry.period(d) / 60)
        spec = self._device_spec(d, AlertSource.OFFLINE, offline_key(d.uid), rule.offline_level,
                                 f"{tz}离线", f"{te} offline",
                                 f"设备 {d.uid} 超过 {rule.offline_periods} 个上报周期（约 {mins} 分钟）无数据"
                                 f" / no data for {rule.offline_periods} periods (~{mins} min)", now)
        spec.rule_id = rule.id
        spec.group_key = f"offline:{d.town}:{d.device_type}"
        self._push(_Raise(spec, reraise=True))

    def on_online(self, d: DeviceInfo, now: float) -> None:
        self._push(_Clear(offline_key(d.uid), True, now, "设备恢复上报 / device reporting again"))

    def _push(self, item: _Raise | _Clear) -> None:
        if self._stopped:
            return  # stopping: nothing would write it
        self._queue.append(item)
        self._idle.clear()
        self._wake.set()

    # ---- specs ----------------------------------------------------------------------------

    def _device_spec(self, d: DeviceInfo, source: AlertSource, key: str, level: int, title: str,
                     title_en: str, message: str, ts: float) -> store.AlertSpec:
        silenced = self.silences.match(now=time.time(), domain=d.domain, device_id=d.uid,
                                       building_id=d.building_id, town=d.town,
                                       device_type=d.device_type) is not None
        return store.AlertSpec(
            source=source, dedup_key=key, level=level, domain=d.domain, title=title, title_en=title_en,
            message=message, town=d.town, device_id=d.uid, device_type=d.device_type,
            building_id=d.building_id, lon=d.lon, lat=d.lat,
            group_key=store.group_key(d.building_id, d.town, d.device_type), silenced=silenced, ts=ts)

    def _rule_spec(self, ch: LevelChange, d: DeviceInfo) -> store.AlertSpec:
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
                                 r.title_zh or f"{tz}{mz}告警", r.title_en or f"{te} {me} alert", msg, ch.ts)
        spec.metric, spec.value, spec.threshold, spec.rule_id = r.metric, ch.value, ch.threshold, r.id
        return spec

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
            if self._queue:
                self.dropped_at_stop += len(self._queue)
                log.warning("stopped with %d alert changes not written (over %.0f s to write)",
                            len(self._queue), drain_s)
                self._queue.clear()
            self._idle.set()

    async def drain(self) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_PER_TX], self._queue[MAX_PER_TX:]
                try:
                    _, events = await self.ctx.db.write_events(lambda s, b=batch: self._apply(s, b))
                    self.written += len(events)
                except Exception:
                    # The store refused (disk full, lock timeout): log, keep running; the rule
                    # state re-raises on the next crossing.
                    log.exception("writing %d alert changes failed", len(batch))
            self._idle.set()

    def _apply(self, s: Session, batch: list[_Raise | _Clear]) -> tuple[None, list[NewEvent]]:
        now = time.time()
        touched: dict[int, store.Alert] = {}
        for item in batch:
            if isinstance(item, _Raise):
                a, _ = store.raise_alert(s, item.spec, now, reraise=item.reraise)
                touched[a.id] = a
                continue
            a = store.find_live(s, item.dedup_key)
            if a is None or a.state == AlertState.RESOLVED.value:
                continue
            auto = item.offline or (a.level <= AUTO_RESOLVE_MAX_LEVEL and a.state == AlertState.NEW.value)
            store.add_note(a, "system", now, item.text)
            if auto and store.can_transition(a, AlertState.RESOLVED):
                store.transition(a, AlertState.RESOLVED, "system", now)
            a.updated_ts, a.updated_by = now, "system"
            touched[a.id] = a
        return None, [store.event(a) for a in touched.values()]
