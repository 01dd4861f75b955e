"""Core queries: devices, alert history, audit, key units and plans. Every one is scoped: a
bureau operator asking for another domain's data gets `forbidden`, never the data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import entities as pe
from protocol.commands import AlertHistory, AuditQuery, ById, DeviceGet, DeviceList, KeyUnitList
from protocol.enums import Role
from sync_service.commands.common import scoped, wire
from sync_service.commands.registry import CommandContext, query
from sync_service.db.models import Alert, AuditEntry, Device, KeyUnit, Plan, SitePlan

FIRE = "fire"  # key units and plans (六熟悉) are the fire brigade's data


def device_wire(d: Device) -> dict[str, Any]:
    return pe.Device(id=d.uid, device_type=d.device_type, domain=d.domain, town=d.town, lon=d.lon,
                     lat=d.lat, building_id=d.building_id, name=d.name, health=d.health,
                     revoked=d.revoked, last_ts=d.last_ts,
                     last_values=d.last_values or {}).model_dump(mode="json")


@query("devices.list")
def devices_list(s: Session, ctx: CommandContext, args: DeviceList) -> dict[str, Any]:
    if args.domain is not None:
        ctx.check_domain(args.domain)
    stmt = scoped(select(Device), Device.domain, ctx.actor)
    for col, val in ((Device.domain, args.domain), (Device.device_type, args.device_type),
                     (Device.town, args.town), (Device.health, args.health),
                     (Device.building_id, args.building_id)):
        if val is not None:
            stmt = stmt.where(col == val)
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = s.scalars(stmt.order_by(Device.pk).offset(args.offset).limit(args.limit))
    return {"items": [device_wire(d) for d in rows], "total": int(total), "offset": args.offset}


@query("device.get")
def device_get(s: Session, ctx: CommandContext, args: DeviceGet) -> dict[str, Any]:
    d = s.scalar(select(Device).where(Device.uid == args.device_id)) or ctx.not_found("device", args.device_id)
    ctx.check_domain(d.domain)
    return {"device": device_wire(d)}


@query("alerts.history")
def alerts_history(s: Session, ctx: CommandContext, args: AlertHistory) -> dict[str, Any]:
    if args.domain is not None:
        ctx.check_domain(args.domain)
    stmt = scoped(select(Alert), Alert.domain, ctx.actor)
    if args.domain is not None:
        stmt = stmt.where(Alert.domain == args.domain)
    if args.town is not None:
        stmt = stmt.where(Alert.town == args.town)
    if args.state is not None:
        stmt = stmt.where(Alert.state == args.state)
    if args.since_ts is not None:
        stmt = stmt.where(Alert.last_ts >= args.since_ts)
    if args.until_ts is not None:
        stmt = stmt.where(Alert.first_ts <= args.until_ts)
    rows = s.scalars(stmt.order_by(Alert.last_ts.desc(), Alert.id.desc()).limit(args.limit))
    return {"items": [wire(pe.Alert, a) for a in rows]}


@query("audit.list")
def audit_list(s: Session, ctx: CommandContext, args: AuditQuery) -> dict[str, Any]:
    """Admins and leaders read the whole log; everyone else their own entries."""
    stmt = select(AuditEntry)
    if ctx.actor.role not in (Role.ADMIN, Role.LEADER):
        stmt = stmt.where(AuditEntry.actor == ctx.actor.username)
    if args.since_ts is not None:
        stmt = stmt.where(AuditEntry.ts >= args.since_ts)
    rows = s.scalars(stmt.order_by(AuditEntry.id.desc()).limit(args.limit))
    return {"items": [{"id": e.id, "ts": e.ts, "actor": e.actor, "action": e.action, "target": e.target,
                       "ok": e.ok, "detail": e.detail} for e in rows]}


@query("keyunits.list")
def keyunits_list(s: Session, ctx: CommandContext, args: KeyUnitList) -> dict[str, Any]:
    ctx.check_domain(FIRE)
    stmt = select(KeyUnit)
    if args.town is not None:
        stmt = stmt.where(KeyUnit.town == args.town)
    if args.building_id is not None:
        stmt = stmt.where(KeyUnit.building_id == args.building_id)
    rows = s.scalars(stmt.order_by(KeyUnit.id).limit(args.limit))
    return {"items": [wire(pe.KeyUnit, k) for k in rows]}


@query("plans.for_unit")
def plans_for_unit(s: Session, ctx: CommandContext, args: ById) -> dict[str, Any]:
    ctx.check_domain(FIRE)
    unit = s.get(KeyUnit, args.id) or ctx.not_found("key unit", args.id)
    rows = s.scalars(select(Plan).where(Plan.key_unit_id == unit.id).order_by(Plan.id))
    return {"key_unit": wire(pe.KeyUnit, unit), "items": [wire(pe.Plan, p) for p in rows],
            "site_plan": site_plan_of(s, unit)}


def site_plan_of(s: Session, unit: KeyUnit) -> dict[str, Any] | None:
    """The unit's stored site plan (总平面图) with its source and date; one made from the CIM
    now (not stored: this is a read) when none was stored yet; None when it has no building."""
    from sync_service.cim.keyunits import plan_for, water_sources

    row = s.get(SitePlan, unit.id)
    if row is not None:
        return {**row.layout, "source": row.source, "updated_ts": row.updated_ts}
    layout = plan_for(s, unit, water_sources(s)) if unit.building_id is not None else None
    return None if layout is None else {**layout, "source": "generated", "updated_ts": None}
