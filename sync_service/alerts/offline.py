"""Offline detection: a sweep over the devices in memory every few seconds.

- Health: a device that reported before and has been silent for HEALTH_OFFLINE_PERIODS nominal
  periods (or its type's offline rule's periods, if fewer) becomes offline.
- Alert: a device type with an offline rule (offline_periods N) raises an offline alert after N
  silent periods; the first reading afterwards resolves it (AlertManager.on_online, called by
  the ingest pipeline).
- Mass outage guard: when a sweep finds very many devices newly silent at once, it is the
  network or a gateway, not the devices; one system.notice is raised instead of thousands of
  alerts (their health still shows offline).
Time is the service's wall clock at arrival, not the devices' clocks. Every window runs from
max(the device's last reading, service start or its registration) (DeviceRegistry.add): a fresh
start counts no device offline and raises no offline alert until a whole window has passed.

Several processes on one store (docs/ingest.md, "Scale-out"): only the leader sweeps. Each
process flushes the devices it took readings from (seen_ts, health, last values) every
config.state_flush_s; the leader merges what is newer than its own view every
config.leader_merge_s (`merge`), so a device reporting only to another process is not silent
here. A window then also allows for that delay (`margin_s`). Taking over, the leader first
merges every device, applies the leadership floor (leader.py) as a start would, and loads
which devices have an open offline alert; losing leadership it forgets those flags (the new
leader resolves such alerts when the devices report again, to whichever process).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import AlertSource, AlertState, DeviceHealth
from protocol.events import SYSTEM_NOTICE
from sync_service.alerts.engine import RuleEngine
from sync_service.alerts.manager import AlertManager
from sync_service.context import ServiceContext
from sync_service.db.models import Alert, Device
from sync_service.eventlog import NewEvent
from sync_service.ingest.registry import DeviceInfo, DeviceRegistry, float_values
from sync_service.leader import leadership, leading

log = logging.getLogger(__name__)
HEALTH_OFFLINE_PERIODS = 3
MASS_OUTAGE_MIN = 50  # newly offline devices in one sweep beyond which it is an outage ...
MASS_OUTAGE_FRACTION = 0.10  # ... and beyond this fraction of the (unrevoked) devices
SEEN_SLACK_S = 2.0  # on top of flush + merge intervals: writer queue, clocks
_SEEN_COLS = (Device.pk, Device.seen_ts, Device.health, Device.last_ts, Device.last_values)


class OfflineDetector:
    def __init__(self, ctx: ServiceContext, registry: DeviceRegistry, engine: RuleEngine,
                 manager: AlertManager, interval_s: float = 5.0) -> None:
        self.ctx = ctx
        self.registry = registry
        self.engine = engine
        self.manager = manager
        self.interval_s = interval_s
        self._tasks: list[asyncio.Task[None]] = []
        self.outages = 0
        self.merged = 0  # devices whose state another process reported, merged into this view
        lead = leadership(ctx)
        self.shared = lead is not None and lead.shared
        cfg = ctx.config
        # a reading another process took reaches this view within a flush and a merge
        self.margin_s = cfg.state_flush_s + cfg.leader_merge_s + SEEN_SLACK_S if self.shared else 0.0
        self._merged_at: float | None = None

    async def start(self) -> None:
        lead = leadership(self.ctx)
        if lead is not None:
            lead.on_change(self._on_leadership)
        if leading(self.ctx):
            await self._load_alerted()
        self._tasks = [asyncio.create_task(self._loop(), name="offline-detector")]
        if self.shared:
            self._tasks.append(asyncio.create_task(self._merge_loop(), name="offline-merge"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _load_alerted(self) -> None:
        # Devices that already have an open offline alert (from before a restart, or raised by
        # the previous leader) must resolve it when they report again.
        uids = await self.ctx.db.read(lambda s: list(s.scalars(
            select(Alert.device_id).where(Alert.source == AlertSource.OFFLINE.value,
                                          Alert.state != AlertState.CLOSED.value,
                                          Alert.state != AlertState.RESOLVED.value))))
        for uid in uids:
            d = self.registry.devices.get(uid or "")
            if d is not None:
                d.offline_alerted = True

    async def _on_leadership(self, gained: bool) -> None:
        reg = self.registry
        if not gained:
            reg.watching = False
            for d in reg.devices.values():
                d.offline_alerted = False
            self._merged_at = None
            return
        lead = leadership(self.ctx)
        floor = lead.floor if lead is not None and lead.floor is not None else time.time()
        await self.merge(full=True)
        now = time.time()
        for d in reg.devices.values():  # the floor, and the rewrite of a stale "offline", as at a start
            if d.revoked:
                continue
            d.last_seen = max(d.last_seen, floor)
            if d.health == DeviceHealth.OFFLINE and now - d.last_seen <= self._health_periods(d) * reg.period(d):
                reg.set_health(d, DeviceHealth.ONLINE.value)
        await self._load_alerted()
        reg.watching = True

    def _health_periods(self, d: DeviceInfo) -> float:
        rule = self.engine.offline_rules.get(d.device_type)
        return min(HEALTH_OFFLINE_PERIODS, rule.offline_periods or HEALTH_OFFLINE_PERIODS) \
            if rule else HEALTH_OFFLINE_PERIODS

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not leading(self.ctx):
                continue
            try:
                await self.sweep(time.time())
            except Exception:
                log.exception("offline sweep failed")

    async def _merge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.config.leader_merge_s)
            if not leading(self.ctx):
                continue
            try:
                await self.merge()
            except Exception:
                log.exception("merging the devices' state failed")

    async def merge(self, *, full: bool = False) -> int:
        """Take what other processes flushed and this view lacks: a newer seen_ts brings that
        process's health and, if newer by device time, its last values; an open offline alert
        of a device seen again is resolved. Incremental: devices seen since the last merge, less
        a few flush intervals (a flush commits up to one interval after its readings, later
        when the writer is busy). Returns how many devices changed here."""
        cfg = self.ctx.config
        since = None if full or self._merged_at is None else self._merged_at - 3 * cfg.state_flush_s - cfg.leader_merge_s
        t0 = time.time()

        def read(s: Session) -> list:  # type: ignore[type-arg]
            q = select(*_SEEN_COLS).where(Device.seen_ts.is_not(None))
            return list(s.execute(q if since is None else q.where(Device.seen_ts >= since)))

        rows = await self.ctx.db.read(read)
        self._merged_at = t0
        by_pk = self.registry.by_pk
        n = 0
        for pk, seen, health, last_ts, values in rows:
            d = by_pk.get(pk)
            if d is None or seen is None or seen < d.last_seen or (seen == d.last_seen and not full):
                continue
            changed = seen > d.last_seen
            d.last_seen = seen
            if health and not d.revoked and d.health != health:
                d.health = health
                changed = True
            if last_ts is not None and (d.last_ts is None or last_ts > d.last_ts):
                d.last_ts, d.last_values = last_ts, float_values(values)
            if d.offline_alerted and health != DeviceHealth.OFFLINE and changed:
                d.offline_alerted = False
                self.manager.on_online(d, seen)
            n += changed
        self.merged += n
        return n

    async def sweep(self, now: float) -> dict[str, int]:
        """One pass; returns counts (for tests): newly offline, alerts raised."""
        newly: list[Any] = []
        to_alert = []
        seen = 0
        margin = self.margin_s
        for d in self.registry.devices.values():
            if d.revoked:
                continue
            seen += 1
            period = self.registry.period(d)
            silent = now - d.last_seen - margin
            rule = self.engine.offline_rules.get(d.device_type)
            if silent > self._health_periods(d) * period and d.health != DeviceHealth.OFFLINE:
                self.registry.set_health(d, DeviceHealth.OFFLINE.value)
                newly.append(d)
            if rule is not None and not d.offline_alerted and silent > (rule.offline_periods or 1) * period:
                to_alert.append((d, rule))
        if len(to_alert) > max(MASS_OUTAGE_MIN, MASS_OUTAGE_FRACTION * seen):
            for d, _ in to_alert:
                d.offline_alerted = True  # counted as the outage; data again clears it quietly
            self.outages += 1
            n = len(to_alert)
            await self.ctx.db.write_events(lambda s: (None, [NewEvent(SYSTEM_NOTICE, {
                "level": "warning",
                "text": f"大面积设备离线：{n} 台设备同时停止上报，请检查网络或接入网关",
                "text_en": f"Mass outage: {n} devices stopped reporting at once; check the network or gateways",
                "count": n})]))
            return {"offline": len(newly), "alerts": 0, "outage": n}
        for d, rule in to_alert:
            d.offline_alerted = True
            self.manager.on_offline(d, rule, now)
        return {"offline": len(newly), "alerts": len(to_alert), "outage": 0}
