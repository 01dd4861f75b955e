"""Rows for the sync service tests: alerts and resources in chosen domains, and events."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol.events import ALERT_UPSERT, METRICS_TICK, SYSTEM_NOTICE
from sync_service.commands.common import wire
from sync_service.db.models import Alert, Resource
from sync_service.eventlog import NewEvent


def add_alert(s: Session, domain: str, *, level: int = 3, title: str = "测试告警", town: str = "nancheng",
              state: str = "new", **kw: Any) -> Alert:
    now = time.time()
    a = Alert(source="manual", level=level, state=state, domain=domain, town=town, title=title,
              title_en="test alert", message="", dedup_key=f"test:{domain}:{now}", group_key="",
              first_ts=now, last_ts=now, count=1, notes=[], updated_ts=now, **kw)
    s.add(a)
    s.flush()
    return a


def add_resource(s: Session, domain: str, kind: str = "fire_vehicle", name: str = "南城中队 1 号车") -> Resource:
    r = Resource(kind=kind, name=name, domain=domain, town="nancheng", lon=113.75, lat=23.02,
                 status="available", capacity=6, detail={}, updated_ts=time.time())
    s.add(r)
    s.flush()
    return r


def alerts_with_events(domains: list[str]) -> Any:
    """A write_events fn: one alert per domain, each with its alert.upsert event."""
    def fn(s: Session) -> tuple[list[int], list[NewEvent]]:
        ids, evs = [], []
        for d in domains:
            a = add_alert(s, d, title=f"{d} 告警")
            ids.append(a.id)
            evs.append(NewEvent(ALERT_UPSERT, wire(pe.Alert, a), domain=d, town=a.town))
        return ids, evs
    return fn


def notices(n: int, start: int = 0) -> Any:
    """A write_events fn: n city-wide system.notice events numbered from start."""
    def fn(s: Session) -> tuple[None, list[NewEvent]]:
        return None, [NewEvent(SYSTEM_NOTICE, {"level": "info", "text": f"通知 {i}", "text_en": f"n{i}", "i": i})
                      for i in range(start, start + n)]
    return fn


def metrics_tick(i: int) -> Any:
    def fn(s: Session) -> tuple[None, list[NewEvent]]:
        return None, [NewEvent(METRICS_TICK, {"ts": time.time(), "city": {"i": i}, "towns": {}})]
    return fn
