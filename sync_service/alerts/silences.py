"""Silences: a device, building, town or device type (optionally "type@town") under
maintenance, for a time window. Alerts raised under a silence are still stored, with
silenced=true, so consoles list them without sound or banner.

The active silences are cached in memory (a handful at any time) and kept current from
silence.upsert events and a periodic reload (silences made by another service process).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import SilenceScope
from sync_service.db.models import Silence


@dataclass(frozen=True, slots=True)
class ActiveSilence:
    id: int
    scope: str
    target: str
    starts_ts: float
    ends_ts: float
    domain: str | None

    @classmethod
    def from_data(cls, d: Silence | dict) -> ActiveSilence:
        get = d.get if isinstance(d, dict) else (lambda k: getattr(d, k))
        return cls(int(get("id")), str(get("scope")), str(get("target")), float(get("starts_ts")),
                   float(get("ends_ts")), get("domain"))

    def covers(self, *, now: float, domain: str, device_id: str | None, building_id: int | None,
               town: str | None, device_type: str | None) -> bool:
        if not self.starts_ts <= now < self.ends_ts:
            return False
        if self.domain is not None and self.domain != domain:
            return False  # a bureau's silence never hides another bureau's alerts
        if self.scope == SilenceScope.DEVICE:
            return device_id == self.target
        if self.scope == SilenceScope.BUILDING:
            return building_id is not None and str(building_id) == self.target
        if self.scope == SilenceScope.TOWN:
            return town == self.target
        if self.scope == SilenceScope.DEVICE_TYPE:
            typ, _, where = self.target.partition("@")
            return device_type == typ and (not where or town == where)
        return False


class Silences:
    def __init__(self) -> None:
        self._by_id: dict[int, ActiveSilence] = {}

    def load(self, s: Session, now: float) -> None:
        rows = s.scalars(select(Silence).where(Silence.cancelled.is_(False), Silence.ends_ts > now))
        self._by_id = {r.id: ActiveSilence.from_data(r) for r in rows}

    def replace(self, other: Silences) -> None:
        self._by_id = other._by_id

    def apply(self, data: dict) -> None:
        """From a silence.upsert event's data (a protocol Silence)."""
        try:
            sid = int(data["id"])
            if data.get("cancelled"):
                self._by_id.pop(sid, None)
            else:
                self._by_id[sid] = ActiveSilence.from_data(data)
        except (KeyError, TypeError, ValueError):
            return

    def active(self, now: float) -> list[ActiveSilence]:
        return [x for x in self._by_id.values() if x.starts_ts <= now < x.ends_ts]

    def match(self, *, now: float, domain: str, device_id: str | None = None,
              building_id: int | None = None, town: str | None = None,
              device_type: str | None = None) -> ActiveSilence | None:
        for x in self._by_id.values():
            if x.covers(now=now, domain=domain, device_id=device_id, building_id=building_id,
                        town=town, device_type=device_type):
                return x
        return None
