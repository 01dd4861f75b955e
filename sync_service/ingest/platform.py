"""Connected platforms' events (urban-management cases, kitchen violations, coastal intrusions,
air stations, pollution sources...) become alerts; vehicles' positions update resources.

Both arrive over HTTP under a bureau credential and act only within its domain. Items are
checked on the loop (pure), then written in one transaction per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.entities import Resource as ResourceEntity
from protocol.enums import AlertSource, AlertState, DQReason, ResourceStatus
from protocol.events import RESOURCE_UPSERT
from sync_service.alerts import store
from sync_service.alerts.labels import Labels
from sync_service.alerts.silences import Silences
from sync_service.db.models import Resource
from sync_service.eventlog import NewEvent
from sync_service.ingest.registry import DeviceRegistry
from sync_service.ingest.validate import check_ts, parse_ts

MAX_ITEMS = 5000
_STATUSES = {s.value for s in ResourceStatus}


@dataclass
class Checked:
    specs: list[tuple[store.AlertSpec, bool]] = field(default_factory=list)  # (spec, closes)
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def _str(v: object, lo: int, hi: int) -> str | None:
    return v if isinstance(v, str) and lo <= len(v) <= hi else None


def _coord(v: object, lim: float) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and -lim <= v <= lim:
        return float(v)
    return None


def check_events(items: list[Any], domain: str, now: float, *, registry: DeviceRegistry, labels: Labels,
                 silences: Silences, max_past_s: float, max_future_s: float) -> Checked:
    out = Checked()
    for it in items:
        if not isinstance(it, dict):
            out.reject(DQReason.MALFORMED.value)
            continue
        kind, ext, title = _str(it.get("type"), 1, 48), _str(it.get("external_id"), 1, 180), _str(it.get("title"), 1, 200)
        level = it.get("level")
        state = it.get("state", "open")
        ts = parse_ts(it.get("ts", now))
        if (kind is None or ext is None or title is None or state not in ("open", "closed") or ts is None
                or isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4):
            out.reject(DQReason.MALFORMED.value)
            continue
        bad = check_ts(ts, now, max_past_s, max_future_s)
        if bad is not None:
            out.reject(bad.value)
            continue
        town = it.get("town") if it.get("town") in labels.towns else None
        lon, lat = _coord(it.get("lon"), 180), _coord(it.get("lat"), 90)
        dev = None
        if it.get("device") is not None:
            dev = registry.devices.get(it["device"]) if isinstance(it["device"], str) else None
            if dev is None:
                out.reject(DQReason.UNKNOWN_DEVICE.value)
                continue
            if dev.domain != domain:
                out.reject(DQReason.AUTH_DOMAIN.value)
                continue
            town = town or dev.town
            lon, lat = (lon, lat) if lon is not None and lat is not None else (dev.lon, dev.lat)
        building = dev.building_id if dev else None
        silenced = silences.match(now=now, domain=domain, device_id=dev.uid if dev else None,
                                  building_id=building, town=town,
                                  device_type=dev.device_type if dev else kind) is not None
        spec = store.AlertSpec(
            source=AlertSource.PLATFORM, dedup_key=f"platform:{domain}:{ext}", level=level, domain=domain,
            title=title, title_en=_str(it.get("title_en"), 0, 200) or "", message=_str(it.get("message"), 0, 4000) or "",
            town=town, device_id=dev.uid if dev else None, device_type=dev.device_type if dev else None,
            building_id=building, lon=lon if lat is not None else None, lat=lat if lon is not None else None,
            group_key=store.group_key(building, town, kind), external_id=ext, silenced=silenced, ts=ts)
        out.specs.append((spec, state == "closed"))
    return out


def write_events(s: Session, checked: Checked, now: float, by: str) -> tuple[list[int], list[NewEvent]]:
    touched: dict[int, Any] = {}
    for spec, closes in checked.specs:
        if closes:
            # locked: an operator's command in another process may be moving the same alert
            a = store.find_live(s, spec.dedup_key, lock=True)
            if a is None or not store.can_transition(a, AlertState.RESOLVED):
                continue  # a case we never saw open, or already resolved: nothing to do
            store.add_note(a, by, now, "平台已结案 / closed by the platform")
            store.transition(a, AlertState.RESOLVED, by, now)
        else:
            a, _ = store.raise_alert(s, spec, now, by=by)
        touched[a.id] = a
    return list(touched), [store.event(a) for a in touched.values()]


def resource_wire(r: Resource) -> dict[str, Any]:
    return ResourceEntity(id=r.id, kind=r.kind, name=r.name, domain=r.domain, town=r.town, lon=r.lon,
                          lat=r.lat, status=r.status, capacity=r.capacity, detail=dict(r.detail or {}),
                          updated_ts=r.updated_ts).model_dump(mode="json")


def write_positions(s: Session, items: list[Any], domain: str, now: float) -> tuple[dict[str, Any], list[NewEvent]]:
    accepted = 0
    rejected: dict[str, int] = {}
    latest: dict[int, Resource] = {}
    # Lock the named resources in id order first, as commands do (commands/common.py), so a
    # batch and a task.update naming the same vehicles cannot wait on each other in a loop.
    ids = sorted({it.get("resource_id") for it in items if isinstance(it, dict)
                  and isinstance(it.get("resource_id"), int) and not isinstance(it.get("resource_id"), bool)})
    rows = {r.id: r for r in s.scalars(select(Resource).where(Resource.id.in_(ids)).order_by(Resource.id)
                                       .with_for_update())} if ids else {}
    for it in items:
        rid = it.get("resource_id") if isinstance(it, dict) else None
        lon = _coord(it.get("lon"), 180) if isinstance(it, dict) else None
        lat = _coord(it.get("lat"), 90) if isinstance(it, dict) else None
        status = it.get("status") if isinstance(it, dict) else None
        if (not isinstance(rid, int) or isinstance(rid, bool) or lon is None or lat is None
                or (status is not None and status not in _STATUSES)):
            rejected["malformed"] = rejected.get("malformed", 0) + 1
            continue
        r = rows.get(rid)
        if r is None:
            rejected["not_found"] = rejected.get("not_found", 0) + 1
            continue
        if r.domain != domain:
            rejected["auth_domain"] = rejected.get("auth_domain", 0) + 1
            continue
        ts = parse_ts(it.get("ts"))
        r.lon, r.lat = lon, lat
        if status is not None:
            r.status = status
        r.updated_ts = ts if ts is not None and abs(ts - now) < 86400 else now
        latest[rid] = r
        accepted += 1
    events = [NewEvent(RESOURCE_UPSERT, resource_wire(r), domain=r.domain, town=r.town) for r in latest.values()]
    return {"accepted": accepted, "rejected": rejected}, events
