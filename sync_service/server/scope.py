"""Domain scope (分权分域): what of an event a session may see.

An event with a domain goes only to sessions whose user sees that domain. Events without a
domain are city-wide; most pass unchanged, but a few carry a table that spans domains and are
cut down to the viewer's domains (the same function serves live events, replay and snapshots,
so a bureau operator gets the same view whichever way the data reaches it):

- devices.stats: only the rows of the viewer's domains;
- dq.counts: only the viewer's domains in by_domain; total recomputed from them;
- rule.upsert: a rule belongs to its device type's domain (catalog), shown only within it;
- focus.set travels in the focused incident's domain; a viewer outside it gets the event all
  the same, redacted to "focus moved elsewhere": incident_id null, `elsewhere: true`, no
  domain or town (so a bureau whose incident had the focus learns that it lost it);
- metrics.tick: its city and town figures are aggregates over the whole city (the headline
  indicators the front hall shows visitors) and pass unchanged, but `candidates` names alert
  ids and group keys of one domain each: only the viewer's domains' candidates remain, and
  city.incident_candidates is recounted from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from protocol import events as ek
from protocol.frames import Event
from sync_service.catalog import DEVICE_TYPES_BY_CODE

Scope = frozenset[str] | None  # None: every domain


def _devices_stats(data: dict[str, Any], domains: frozenset[str]) -> dict[str, Any]:
    items = [it for it in data.get("items", []) if isinstance(it, dict) and it.get("domain") in domains]
    return {**data, "items": items}


def _dq_counts(data: dict[str, Any], domains: frozenset[str]) -> dict[str, Any]:
    by_domain = {d: v for d, v in (data.get("by_domain") or {}).items() if d in domains}
    total: dict[str, int] = {}
    for counts in by_domain.values():
        if isinstance(counts, dict):
            for reason, n in counts.items():
                if isinstance(n, (int, float)):
                    total[reason] = total.get(reason, 0) + int(n)
    return {**data, "by_domain": by_domain, "total": total}


def _focus_elsewhere(data: dict[str, Any]) -> dict[str, Any]:
    """A focus on an incident the viewer may not see: who moved it and when, not where to."""
    return {"incident_id": None, "by": data.get("by", ""), "hall": data.get("hall"), "ts": data.get("ts", 0.0),
            "elsewhere": True}


def _metrics_tick(data: dict[str, Any], domains: frozenset[str]) -> dict[str, Any]:
    cands = [c for c in data.get("candidates") or [] if isinstance(c, dict) and c.get("domain") in domains]
    out = {**data, "candidates": cands}
    city = data.get("city")
    if isinstance(city, dict) and "incident_candidates" in city:
        out["city"] = {**city, "incident_candidates": len(cands)}
    return out


REDACTORS: dict[str, Callable[[dict[str, Any], frozenset[str]], dict[str, Any]]] = {
    ek.DEVICES_STATS: _devices_stats,
    ek.DQ_COUNTS: _dq_counts,
    ek.METRICS_TICK: _metrics_tick,
}


def _rule_domain(data: dict[str, Any]) -> str | None:
    spec = DEVICE_TYPES_BY_CODE.get(str(data.get("device_type", "")))
    return spec.domain if spec is not None else None


def visible(ev: Event, scope: Scope) -> Event | None:
    """The event as this scope sees it, or None when it must not see it at all."""
    if scope is None:
        return ev
    if ev.kind == ek.FOCUS_SET and ev.domain is not None and ev.domain not in scope:
        return ev.model_copy(update={"domain": None, "town": None, "data": _focus_elsewhere(ev.data)})
    if ev.domain is not None:
        return ev if ev.domain in scope else None
    if ev.kind == ek.RULE_UPSERT:
        return ev if _rule_domain(ev.data) in scope else None
    redact = REDACTORS.get(ev.kind)
    if redact is None:
        return ev
    return ev.model_copy(update={"data": redact(ev.data, scope)})


def filter_events(events: Iterable[Event], scope: Scope) -> list[Event]:
    if scope is None:
        return list(events)
    out = []
    for ev in events:
        v = visible(ev, scope)
        if v is not None:
            out.append(v)
    return out


def scope_of(domains: Iterable[str] | None) -> Scope:
    return None if domains is None else frozenset(domains)
