"""The devices and device types in memory: identity, credential hash, and live state.

Loaded once at start (100k devices in about a second) and kept current by incremental
refreshes (new devices, revocations made by another service process). The live state (last
values, health) is the authority while the service runs; the pipeline flushes changed
devices to the store periodically instead of one UPDATE per reading.

Several processes on one store: each keeps the live state of the readings it takes; only the
leader (sync_service/leader.py) decides offline health, and it merges what the others flushed
(alerts/offline.py). `watching` is whether this registry is that leader's (or a lone process's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import DeviceHealth
from sync_service.catalog import STUCK_METRICS
from sync_service.db.models import BureauCredential, Device, DeviceType
from sync_service.ingest.validate import MetricRange


@dataclass(frozen=True, slots=True)
class TypeInfo:
    code: str
    domain: str
    period_s: int
    metrics: dict[str, MetricRange]


@dataclass(slots=True)
class DeviceInfo:
    pk: int
    uid: str
    device_type: str
    domain: str
    town: str
    lon: float
    lat: float
    building_id: int | None
    credential_hash: str
    revoked: bool
    health: str
    last_ts: float | None  # newest reading time (device clock)
    last_values: dict[str, float]
    last_seen: float = 0.0  # wall clock of the newest accepted reading (offline detection)
    # stuck detection (validate.stuck_update): last value and exact repeats per checked metric
    stuck: dict[str, float] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    faulty_metrics: set[str] = field(default_factory=set)
    offline_alerted: bool = False
    dirty: bool = False  # last state changed since the last flush to the store


@dataclass(frozen=True, slots=True)
class BureauInfo:
    id: int
    domain: str
    name: str
    revoked: bool


def type_info(row: DeviceType) -> TypeInfo:
    metrics: dict[str, MetricRange] = {}
    for m in row.metrics or []:
        try:
            name = str(m["name"])
            metrics[name] = MetricRange(name, float(m["min"]), float(m["max"]), name in STUCK_METRICS)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed spec in the store: that metric is then unknown, not a crash
    return TypeInfo(row.code, row.domain, int(row.period_s), metrics)


_DEVICE_COLS = (Device.pk, Device.uid, Device.device_type, Device.domain, Device.town, Device.lon,
                Device.lat, Device.building_id, Device.credential_hash, Device.revoked, Device.health,
                Device.last_ts, Device.last_values, Device.seen_ts)


def float_values(values: Any) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float)} if isinstance(values, dict) else {}


def _device(row: Any) -> DeviceInfo:
    return DeviceInfo(int(row.pk), row.uid, row.device_type, row.domain, row.town, float(row.lon),
                      float(row.lat), row.building_id, row.credential_hash, bool(row.revoked),
                      row.health or DeviceHealth.OFFLINE.value, row.last_ts, float_values(row.last_values),
                      float(row.seen_ts or 0.0))


class DeviceRegistry:
    def __init__(self) -> None:
        self.types: dict[str, TypeInfo] = {}
        self.devices: dict[str, DeviceInfo] = {}
        self.by_pk: dict[int, DeviceInfo] = {}
        self.bureaus: dict[str, BureauInfo] = {}  # by key hash
        # bureau keys this process changed (bureau_key.create/revoke) that a refresh read has not
        # shown yet: a read begun before the commit must not undo them (apply_changes)
        self._bureaus_pinned: dict[str, BureauInfo] = {}
        self._max_pk = 0
        self.loop: asyncio.AbstractEventLoop | None = None  # owner thread; set by the Loader
        # This registry's process decides offline health (the leader; a lone process): windows
        # get a floor and a stale "offline" in the store is rewritten (add). A follower leaves
        # health to the leader and only reports what its readings show.
        self.watching = True

    # ---- loading (run in a DB session, usually on a reader thread) -------------------------

    def load(self, s: Session, started: float) -> None:
        self.types = {t.code: type_info(t) for t in s.scalars(select(DeviceType))}
        for row in s.execute(select(*_DEVICE_COLS).order_by(Device.pk)):
            self.add(_device(row), started)
        self.load_bureaus(s)

    def load_bureaus(self, s: Session) -> None:
        self.bureaus = {b.key_hash: BureauInfo(b.id, b.domain, b.name, bool(b.revoked))
                        for b in s.scalars(select(BureauCredential))}

    def set_bureau(self, key_hash: str, info: BureauInfo) -> None:
        """A bureau key created or revoked by a command of this process, once committed (call on
        the loop): effective for the next message at either door."""
        self.bureaus[key_hash] = info
        self._bureaus_pinned[key_hash] = info

    def add(self, d: DeviceInfo, since: float) -> None:
        """A device loaded at start (since = service start) or registered later (since = then).

        Its offline window runs from max(its last reading, since): whatever happened while the
        service was down (or before the device existed), it has had no chance to report to this
        process yet. Until the window passes it is not offline, whatever health the store last
        recorded; the flush writes that back so the store's device lists agree with the stats.
        Only when watching: a follower's view of health is not the one the store keeps."""
        if self.watching:
            d.last_seen = max(d.last_seen, since)
            if not d.revoked and d.health == DeviceHealth.OFFLINE:
                d.health = DeviceHealth.ONLINE.value
                d.dirty = True
        self.devices[d.uid] = d
        self.by_pk[d.pk] = d
        self._max_pk = max(self._max_pk, d.pk)

    def fetch_changes(self, s: Session) -> tuple[list[DeviceInfo], set[str], dict[str, BureauInfo],
                                                    dict[str, TypeInfo]]:
        """Read (on a reader thread) what others changed: devices registered and revocations made
        by another process or tool, bureau keys, types. Apply on the loop with apply_changes."""
        new = [_device(r) for r in s.execute(select(*_DEVICE_COLS).where(Device.pk > self._max_pk))]
        revoked = set(s.scalars(select(Device.uid).where(Device.revoked.is_(True))))
        bureaus = {b.key_hash: BureauInfo(b.id, b.domain, b.name, bool(b.revoked))
                   for b in s.scalars(select(BureauCredential))}
        types = {t.code: type_info(t) for t in s.scalars(select(DeviceType))}
        return new, revoked, bureaus, types

    def apply_changes(self, changes: tuple[list[DeviceInfo], set[str], dict[str, BureauInfo],
                                           dict[str, TypeInfo]], now: float) -> list[DeviceInfo]:
        new, revoked, bureaus, types = changes
        self.types.update(types)
        fresh = [d for d in new if d.uid not in self.devices]
        for d in fresh:
            self.add(d, now)
        # Only ever set: a revocation made here a moment ago may not be in that (older) read yet,
        # and nothing un-revokes a device.
        for uid in revoked:
            d = self.devices.get(uid)
            if d is not None:
                d.revoked = True
        # A read that began before one of our own bureau changes committed shows the old state:
        # keep ours until a read shows it. A revocation read from the store always wins
        # (revocation is final, whoever made it).
        for h, mine in list(self._bureaus_pinned.items()):
            got = bureaus.get(h)
            if got is not None and (got.revoked or got.revoked == mine.revoked):
                del self._bureaus_pinned[h]
            else:
                bureaus[h] = mine
        self.bureaus = bureaus
        return fresh

    # ---- live state -------------------------------------------------------------------------

    def set_health(self, d: DeviceInfo, health: str) -> bool:
        if d.health == health:
            return False
        d.health = health
        d.dirty = True
        return True

    def period(self, d: DeviceInfo) -> float:
        t = self.types.get(d.device_type)
        return float(t.period_s) if t else 300.0

    def stats(self) -> list[dict[str, Any]]:
        """Device health counts per (domain, type, town): the devices.stats table."""
        table: dict[tuple[str, str, str], list[int]] = {}
        for d in self.devices.values():
            row = table.get((d.domain, d.device_type, d.town))
            if row is None:
                row = table[(d.domain, d.device_type, d.town)] = [0, 0, 0, 0]
            row[0] += 1
            if d.revoked or d.health == DeviceHealth.OFFLINE:
                row[2] += 1
            elif d.health == DeviceHealth.FAULTY:
                row[3] += 1
            else:
                row[1] += 1
        return [{"domain": k[0], "device_type": k[1], "town": k[2], "total": v[0], "online": v[1],
                 "offline": v[2], "faulty": v[3]} for k, v in sorted(table.items())]

    def online_pct(self) -> float:
        n = len(self.devices)
        if not n:
            return 0.0
        on = sum(1 for d in self.devices.values()
                 if not d.revoked and d.health != DeviceHealth.OFFLINE)
        return round(100.0 * on / n, 2)
