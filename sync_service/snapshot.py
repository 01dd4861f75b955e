"""Snapshots: the full state a console starts from, consistent with one event seq N.

Built in ONE read transaction (PostgreSQL REPEATABLE READ; SQLite WAL read snapshot): N is the
log head inside that transaction, so the tables read there reflect exactly the events up to N.
Collections (protocol.events.SNAPSHOT_COLLECTIONS): towns, domains, device_types, rules,
alerts (every not-closed one, plus closed in the last 24 h), incidents, tasks, resources,
silences (not ended or ended in the last 24 h), devices_stats, metrics (recent ticks, oldest
first), dq, focus. Everything is filtered by the viewer's domain scope.

focus / devices_stats / dq / metrics have no table: they are the latest such events. The hub
keeps them in memory up to the seq H0 it had delivered when the session subscribed (captured
synchronously then); events of those kinds in (H0, N] are read from the log here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol import events as ek
from protocol.enums import AlertState
from protocol.frames import (
    MAX_SNAPSHOT_ITEMS_PER_PART,
    Event,
    SnapshotBegin,
    SnapshotEnd,
    SnapshotPart,
    encode_frame,
)
from sync_service.commands.common import wire
from sync_service.commands.registry import Actor
from sync_service.db import models as m
from sync_service.eventlog import head_seq, to_wire
from sync_service.hub import pack
from sync_service.server.scope import Scope, visible

CLOSED_KEPT_S = 24 * 3600
STATE_KINDS = (ek.FOCUS_SET, ek.DEVICES_STATS, ek.DQ_COUNTS)


@dataclass
class Snapshot:
    seq: int
    collections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def frames(self) -> Iterator[bytes]:
        counts = {k: len(v) for k, v in self.collections.items()}
        yield encode_frame(SnapshotBegin(seq=self.seq, counts=counts))
        for name, items in self.collections.items():
            if not items:
                yield encode_frame(SnapshotPart(collection=name, items=[]))
                continue
            head = encode_frame(SnapshotPart(collection=name, items=[]))[:-3]  # ...,"items":
            for data, _n in pack([orjson.dumps(it) for it in items], head, b"}",
                                 max_items=MAX_SNAPSHOT_ITEMS_PER_PART):
                yield data
        yield encode_frame(SnapshotEnd(seq=self.seq))


def _in_scope(col: Any, scope: Scope, *, nullable: bool = False) -> Any:
    if scope is None:
        return True
    cond = col.in_(sorted(scope))
    return or_(cond, col.is_(None)) if nullable else cond


def build(s: Session, actor: Actor, h0: int, cached_state: dict[str, Event],
          cached_metrics: list[Event], now: float | None = None) -> Snapshot:
    """Run inside one read transaction (db.read). See the module docstring for h0/cached_*."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    now = time.time() if now is None else now
    scope: Scope = actor.domains
    n = head_seq(s)  # first statement: the transaction's snapshot is taken here
    c: dict[str, list[dict[str, Any]]] = {}
    c["towns"] = [wire(pe.Town, t) for t in s.scalars(select(m.Town).order_by(m.Town.code))]
    c["domains"] = [wire(pe.Domain, d) for d in
                    s.scalars(select(m.Domain).where(_in_scope(m.Domain.code, scope)).order_by(m.Domain.code))]
    types = list(s.scalars(select(m.DeviceType).where(_in_scope(m.DeviceType.domain, scope))
                           .order_by(m.DeviceType.code)))
    c["device_types"] = [wire(pe.DeviceType, t) for t in types]
    codes = [t.code for t in types]
    c["rules"] = [wire(pe.AlertRule, r) for r in
                  s.scalars(select(m.AlertRule).where(m.AlertRule.device_type.in_(codes)).order_by(m.AlertRule.id))]
    since = now - CLOSED_KEPT_S
    c["alerts"] = [wire(pe.Alert, a) for a in s.scalars(
        select(m.Alert).where(_in_scope(m.Alert.domain, scope),
                              or_(m.Alert.state != AlertState.CLOSED.value, m.Alert.updated_ts >= since))
        .order_by(m.Alert.id))]
    c["incidents"] = [wire(pe.Incident, i) for i in s.scalars(
        select(m.Incident).where(_in_scope(m.Incident.domain, scope),
                                 or_(m.Incident.state != "closed", m.Incident.updated_ts >= since))
        .order_by(m.Incident.id))]
    c["tasks"] = [wire(pe.Task, t) for t in s.scalars(
        select(m.Task).where(_in_scope(m.Task.domain, scope),
                             or_(m.Task.state.not_in(("done", "cancelled", "rejected")), m.Task.updated_ts >= since))
        .order_by(m.Task.id))]
    c["resources"] = [wire(pe.Resource, r) for r in s.scalars(
        select(m.Resource).where(_in_scope(m.Resource.domain, scope)).order_by(m.Resource.id))]
    c["silences"] = [wire(pe.Silence, x) for x in s.scalars(
        select(m.Silence).where(_in_scope(m.Silence.domain, scope, nullable=True),
                                and_(m.Silence.ends_ts >= since))
        .order_by(m.Silence.id))]

    # table-less state: cached up to h0, the log for (h0, n]
    state = {k: v for k, v in cached_state.items() if v.seq <= n}
    metrics = [e for e in cached_metrics if e.seq <= min(h0, n)]
    if n > h0:
        rows = s.scalars(select(m.EventRecord).where(
            m.EventRecord.seq > h0, m.EventRecord.seq <= n,
            m.EventRecord.kind.in_((*STATE_KINDS, ek.METRICS_TICK))).order_by(m.EventRecord.seq))
        for r in rows:
            ev = to_wire(r)
            if ev.kind == ek.METRICS_TICK:
                metrics.append(ev)
            else:
                state[ev.kind] = ev
    c["devices_stats"] = _state_items(state.get(ek.DEVICES_STATS), scope, "items")
    c["metrics"] = [v.data for e in metrics[-120:] if (v := visible(e, scope)) is not None]
    dq = state.get(ek.DQ_COUNTS)
    dqv = visible(dq, scope) if dq is not None else None
    c["dq"] = [dqv.data] if dqv is not None else []
    focus = state.get(ek.FOCUS_SET)
    fv = visible(focus, scope) if focus is not None else None
    c["focus"] = [fv.data] if fv is not None and fv.data else []
    return Snapshot(seq=n, collections=c)


def _state_items(ev: Event | None, scope: Scope, key: str) -> list[dict[str, Any]]:
    if ev is None:
        return []
    v = visible(ev, scope)
    return list(v.data.get(key, [])) if v is not None else []
