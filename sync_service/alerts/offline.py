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
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import select

from protocol.enums import AlertSource, AlertState, DeviceHealth
from protocol.events import SYSTEM_NOTICE
from sync_service.alerts.engine import RuleEngine
from sync_service.alerts.manager import AlertManager
from sync_service.context import ServiceContext
from sync_service.db.models import Alert
from sync_service.eventlog import NewEvent
from sync_service.ingest.registry import DeviceRegistry

log = logging.getLogger(__name__)
HEALTH_OFFLINE_PERIODS = 3
MASS_OUTAGE_MIN = 50  # newly offline devices in one sweep beyond which it is an outage ...
MASS_OUTAGE_FRACTION = 0.10  # ... and beyond this fraction of the (unrevoked) devices


class OfflineDetector:
    def __init__(self, ctx: ServiceContext, registry: DeviceRegistry, engine: RuleEngine,
                 manager: AlertManager, interval_s: float = 5.0) -> None:
        self.ctx = ctx
        self.registry = registry
        self.engine = engine
        self.manager = manager
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.outages = 0

    async def start(self) -> None:
        # Devices that already have an open offline alert (from before a restart) must resolve
        # it when they report again.
        uids = await self.ctx.db.read(lambda s: list(s.scalars(
            select(Alert.device_id).where(Alert.source == AlertSource.OFFLINE.value,
                                          Alert.state != AlertState.CLOSED.value,
                                          Alert.state != AlertState.RESOLVED.value))))
        for uid in uids:
            d = self.registry.devices.get(uid or "")
            if d is not None:
                d.offline_alerted = True
        self._task = asyncio.create_task(self._loop(), name="offline-detector")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep(time.time())
            except Exception:
                log.exception("offline sweep failed")

    async def sweep(self, now: float) -> dict[str, int]:
        """One pass; returns counts (for tests): newly offline, alerts raised."""
        newly: list[Any] = []
        to_alert = []
        seen = 0
        for d in self.registry.devices.values():
            if d.revoked:
                continue
            seen += 1
            period = self.registry.period(d)
            silent = now - d.last_seen
            rule = self.engine.offline_rules.get(d.device_type)
            health_periods = min(HEALTH_OFFLINE_PERIODS, rule.offline_periods or HEALTH_OFFLINE_PERIODS) \
                if rule else HEALTH_OFFLINE_PERIODS
            if silent > health_periods * period and d.health != DeviceHealth.OFFLINE:
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
