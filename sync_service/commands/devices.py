"""device.register / device.revoke (bureau operators for their domain, admins).

register: a new device of a type (its domain is the type's), with a freshly generated key that
is returned once; the store keeps only sha256(key). The key is a secret result field: the
dispatcher stores the command's result without it (a retried command id gets
`"key_redacted": true` instead of the key), so it is nowhere at rest. revoke: the device's readings are refused
from now on (the in-memory credential cache flips at once; other service processes pick the
revocation up on their periodic refresh).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.commands import DeviceRegister, DeviceRevoke
from protocol.enums import DeviceHealth
from sync_service.commands.registry import CommandContext, command
from sync_service.db.models import Device, DeviceType, Town
from sync_service.eventlog import NewEvent
from sync_service.ingest.auth import key_hash
from sync_service.ingest.registry import DeviceInfo


@command("device.register", secret_result=("key",))
def device_register(s: Session, ctx: CommandContext, args: DeviceRegister) -> tuple[dict[str, Any], list[NewEvent]]:
    dt = s.get(DeviceType, args.device_type)
    if dt is None:
        ctx.not_found("device type", args.device_type)
    ctx.check_domain(dt.domain)
    if s.get(Town, args.town) is None:
        ctx.not_found("town", args.town)
    if s.scalar(select(Device.pk).where(Device.uid == args.device_id)) is not None:
        ctx.conflict(f"device {args.device_id} is already registered")
    key = secrets.token_hex(16)
    d = Device(uid=args.device_id, device_type=dt.code, domain=dt.domain, town=args.town, lon=args.lon,
               lat=args.lat, building_id=args.building_id, name=args.name, credential_hash=key_hash(key),
               revoked=False, health=DeviceHealth.OFFLINE.value, last_ts=None, last_values={})
    s.add(d)
    s.flush()
    reg = ctx.services.get("devices")
    loop = getattr(reg, "loop", None)
    if reg is not None and isinstance(loop, asyncio.AbstractEventLoop):
        info = DeviceInfo(d.pk, d.uid, d.device_type, d.domain, d.town, d.lon, d.lat, d.building_id,
                          d.credential_hash, False, d.health, None, {})
        # The registry belongs to the event loop (the ingest path iterates it): add it there.
        loop.call_soon_threadsafe(reg.add, info, ctx.now)
    return {"device_id": d.uid, "domain": d.domain, "key": key}, []


@command("device.revoke")
def device_revoke(s: Session, ctx: CommandContext, args: DeviceRevoke) -> tuple[dict[str, Any], list[NewEvent]]:
    d = s.scalar(select(Device).where(Device.uid == args.device_id).with_for_update())
    if d is None:
        ctx.not_found("device", args.device_id)
    ctx.check_domain(d.domain)
    if d.revoked:
        ctx.conflict(f"device {d.uid} is already revoked")
    d.revoked = True
    reg = ctx.services.get("devices")
    info = reg.devices.get(d.uid) if reg is not None else None
    if info is not None:
        info.revoked = True  # one attribute store: safe from the writer thread, effective at once
    return {"device_id": d.uid, "revoked": True}, []
