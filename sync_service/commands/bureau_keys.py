"""Level-2 (bureau) ingest credentials, admins only: bureau_key.create, bureau_key.revoke and
the query bureau_keys.list. docs/ingest.md ("Credentials") and docs/protocol.md section 6.

create: a fresh random key for a domain's gateway or platform, returned once (a secret result
field, like device.register's key: the stored command result and a retried id carry
`key_redacted: true` instead); the store keeps only sha256(key). revoke: final; both doors
(HTTP, MQTT) refuse the key from the next message on, as `auth_revoked` (counted per domain,
audited in aggregate, nothing stored). This process's credential cache changes once the
command commits; other service processes pick it up on their periodic refresh (15 s). A
revocation also tells the consoles of that domain (system.notice): the bureau's data stops.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.commands import BureauKeyCreate, BureauKeyList, BureauKeyRevoke
from protocol.events import SYSTEM_NOTICE
from sync_service.commands.registry import CommandContext, command, query
from sync_service.db.models import BureauCredential, Domain
from sync_service.eventlog import NewEvent
from sync_service.ingest.auth import key_hash
from sync_service.ingest.registry import BureauInfo


def _cache(ctx: CommandContext, cred: BureauCredential) -> None:
    """After commit: the in-memory credential cache the doors check (when ingest runs here)."""
    reg = ctx.services.get("devices")
    if reg is None or not hasattr(reg, "set_bureau"):
        return
    info = BureauInfo(cred.id, cred.domain, cred.name, bool(cred.revoked))
    ctx.after_commit(lambda: reg.set_bureau(cred.key_hash, info))


def key_wire(c: BureauCredential) -> dict[str, Any]:
    return {"id": c.id, "domain": c.domain, "name": c.name, "revoked": bool(c.revoked), "created_ts": c.created_ts}


@command("bureau_key.create", secret_result=("key",))
def bureau_key_create(s: Session, ctx: CommandContext, args: BureauKeyCreate) -> tuple[dict[str, Any], list[NewEvent]]:
    if s.get(Domain, args.domain) is None:
        ctx.not_found("domain", args.domain)
    if s.scalar(select(BureauCredential.id).where(BureauCredential.domain == args.domain,
                                                  BureauCredential.name == args.name,
                                                  BureauCredential.revoked.is_(False))) is not None:
        ctx.conflict(f"domain {args.domain} already has a live key named {args.name!r}")
    key = secrets.token_hex(24)
    cred = BureauCredential(domain=args.domain, name=args.name, key_hash=key_hash(key), revoked=False,
                            created_ts=ctx.now)
    s.add(cred)
    s.flush()
    _cache(ctx, cred)
    return {"credential_id": cred.id, "domain": cred.domain, "name": cred.name, "key": key}, []


@command("bureau_key.revoke")
def bureau_key_revoke(s: Session, ctx: CommandContext, args: BureauKeyRevoke) -> tuple[dict[str, Any], list[NewEvent]]:
    cred = s.get(BureauCredential, args.credential_id)
    if cred is None:
        ctx.not_found("bureau key", args.credential_id)
    if cred.revoked:
        ctx.conflict(f"bureau key {cred.id} is already revoked")
    cred.revoked = True
    _cache(ctx, cred)
    dom = s.get(Domain, cred.domain)
    zh, en = (dom.name_zh, dom.name_en) if dom is not None else (cred.domain, cred.domain)
    notice = {"level": "warning", "text": f"{zh}接入凭证「{cred.name}」已吊销，其数据将被拒收",
              "text_en": f"The {en} ingest key '{cred.name}' was revoked: its data will be refused",
              "credential_id": cred.id}
    return ({"credential_id": cred.id, "domain": cred.domain, "name": cred.name, "revoked": True},
            [NewEvent(SYSTEM_NOTICE, notice, domain=cred.domain)])


@query("bureau_keys.list")
def bureau_keys_list(s: Session, ctx: CommandContext, args: BureauKeyList) -> dict[str, Any]:
    stmt = select(BureauCredential).order_by(BureauCredential.domain, BureauCredential.id)
    if args.domain is not None:
        stmt = stmt.where(BureauCredential.domain == args.domain)
    if not args.include_revoked:
        stmt = stmt.where(BureauCredential.revoked.is_(False))
    return {"items": [key_wire(c) for c in s.scalars(stmt)]}
