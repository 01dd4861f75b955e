"""CAP messages from outside (the meteorological service's typhoon and rainstorm warnings...)
into alerts with source "cap", and alerts out as CAP.

- Alert: a new alert; external_id = the CAP identifier; dedup by sender+identifier, so the same
  message delivered twice is one alert.
- Update: updates the alert its <references> name (level may go down: a warning downgraded from
  orange to yellow is news, not noise); unknown references -> a new alert.
- Cancel: closes the referenced alert. Ack/Error and non-Actual status (Test, Draft, System)
  are acknowledged and ignored; Exercise is taken, titled 【演练】.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import AlertSource, AlertState
from sync_service.alerts import store
from sync_service.alerts.labels import Labels
from sync_service.alerts.silences import Silences
from sync_service.db.models import Alert, Town
from sync_service.eventlog import NewEvent
from sync_service.ingest.cap import CapMessage, export


@dataclass
class CapResult:
    status: str  # created | updated | cancelled | ignored
    alert_ids: list[int] = field(default_factory=list)
    reason: str = ""


def _dedup(sender: str, identifier: str) -> str:
    return f"cap:{sender}:{identifier}"[:160]


def match_town(msg: CapMessage, labels: Labels) -> str | None:
    """A town code from a geocode "townCode" or a single town named in the areas' text."""
    found: set[str] = set()
    for info in msg.infos:
        for area in info.areas:
            code = area.geocodes.get("townCode")
            if code in labels.towns:
                return code
            for c, (zh, en) in labels.towns.items():
                short = zh.removesuffix("街道").removesuffix("镇")
                if zh in area.desc or (len(short) >= 2 and short in area.desc) or (en and en in area.desc):
                    found.add(c)
    return found.pop() if len(found) == 1 else None


def to_spec(msg: CapMessage, domain: str, labels: Labels, silences: Silences, raw: str, now: float) -> store.AlertSpec:
    zh = msg.info("zh")
    en = msg.info("en")
    info = zh or en
    if info is None:
        raise ValueError("CAP alert without <info>")
    title = (info.headline or info.event or "气象预警")[:190]
    if msg.status == "Exercise":
        title = "【演练】" + title
    message = "\n".join(x for x in (info.description, info.instruction) if x)
    town = match_town(msg, labels)
    center = next((c for i in msg.infos for a in i.areas if (c := a.center()) is not None), None)
    silenced = silences.match(now=now, domain=domain, town=town, device_type=f"cap:{info.event}") is not None
    return store.AlertSpec(
        source=AlertSource.CAP, dedup_key=_dedup(msg.sender, msg.identifier), level=int(info.level()), domain=domain,
        title=title, title_en=((en.headline or en.event) if en and en is not info else "")[:200],
        message=message[:4000], town=town, lon=center[0] if center else None, lat=center[1] if center else None,
        group_key=store.group_key(None, town, "cap"), external_id=msg.identifier[:200], cap_xml=raw,
        silenced=silenced, ts=msg.sent)


def _referenced(s: Session, msg: CapMessage) -> Alert | None:
    for sender, ident, _ in msg.references:
        a = store.find_live(s, _dedup(sender, ident))
        if a is not None:
            return a
    ids = [ident for _, ident, _ in msg.references]
    if not ids:
        return None
    return s.scalars(select(Alert).where(Alert.source == AlertSource.CAP.value, Alert.external_id.in_(ids),
                                         Alert.state != AlertState.CLOSED.value).order_by(Alert.id.desc())).first()


def apply(s: Session, msg: CapMessage, spec: store.AlertSpec | None, by: str, now: float) -> tuple[CapResult, list[NewEvent]]:
    if msg.msg_type in ("Ack", "Error") or msg.status not in ("Actual", "Exercise"):
        return CapResult("ignored", reason=f"{msg.msg_type}/{msg.status} is not acted on"), []
    if msg.msg_type == "Cancel":
        a = _referenced(s, msg)
        if a is None:
            return CapResult("ignored", reason="Cancel references no known alert"), []
        store.add_note(a, by, now, f"CAP 取消 / cancelled by {msg.identifier}")
        store.transition(a, AlertState.CLOSED, by, now)
        a.cap_xml = spec.cap_xml if spec else a.cap_xml
        return CapResult("cancelled", [a.id]), [store.event(a)]
    assert spec is not None
    if msg.msg_type == "Update":
        a = _referenced(s, msg)
        if a is not None:
            a.level = spec.level
            a.title, a.title_en, a.message = spec.title, spec.title_en or a.title_en, spec.message or a.message
            a.town, a.lon, a.lat = spec.town or a.town, spec.lon if spec.lon is not None else a.lon, \
                spec.lat if spec.lat is not None else a.lat
            a.external_id, a.cap_xml, a.last_ts = spec.external_id, spec.cap_xml, max(a.last_ts, spec.ts)
            a.updated_ts, a.updated_by = now, by
            store.add_note(a, by, now, f"CAP 更新 / updated by {msg.identifier}")
            return CapResult("updated", [a.id]), [store.event(a)]
    a, created = store.raise_alert(s, spec, now, by=by, reraise=False)
    return CapResult("created" if created else "updated", [a.id]), [store.event(a)]


def town_ring(geometry: dict[str, Any] | None, max_points: int = 80) -> list[tuple[float, float]] | None:
    """A town's outline as a closed (lon, lat) ring small enough for a CAP polygon."""
    if not geometry:
        return None
    try:
        g = shape(geometry)
        if g.geom_type == "MultiPolygon":
            g = max(g.geoms, key=lambda p: p.area)
        tol = 0.0005
        ring = list(g.exterior.coords)
        while len(ring) > max_points and tol < 0.05:
            ring = list(g.simplify(tol).exterior.coords)
            tol *= 2
        return [(float(x), float(y)) for x, y, *_ in ring]
    except Exception:
        return None


def export_alert(s: Session, alert_id: int) -> tuple[Alert | None, str]:
    a = s.get(Alert, alert_id)
    if a is None:
        return None, ""
    town = s.get(Town, a.town) if a.town else None
    ring = town_ring(town.geometry) if town is not None else None
    return a, export(store.to_wire(a), town_zh=town.name_zh if town else "东莞市",
                     town_en=town.name_en if town else "Dongguan", polygon=ring)
