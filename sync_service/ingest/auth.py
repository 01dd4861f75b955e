"""Ingest credentials (docs/ingest.md): device keys (level 3) and bureau keys (level 2).

The store keeps only sha256(key) hex; the registry caches those hashes in memory, so a check
is one hash and one constant-time compare, no query. Revocation flips the cached flag.
Refusals are never logged one by one: the pipeline counts them (dq_counts) and writes one
audit row per interval with the counts and a few sample device ids.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from protocol.enums import DQReason
from sync_service.ingest.registry import BureauInfo, DeviceInfo, DeviceRegistry


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Bureau:
    """An authenticated bureau gateway: may write its own domain's devices only."""

    domain: str
    name: str


def check_bureau(reg: DeviceRegistry, key: object) -> Bureau | DQReason:
    if not isinstance(key, str) or not key:
        return DQReason.AUTH_MISSING
    info: BureauInfo | None = reg.bureaus.get(key_hash(key))
    if info is None:
        return DQReason.AUTH_INVALID
    if info.revoked:
        return DQReason.AUTH_REVOKED
    return Bureau(info.domain, info.name)


def check_device(d: DeviceInfo, key: object, bureau: Bureau | None) -> DQReason | None:
    """May this reading write device d? A device key must be d's own; otherwise the batch's
    bureau credential must be of d's domain."""
    if d.revoked:
        return DQReason.AUTH_REVOKED
    if isinstance(key, str) and key:
        if hmac.compare_digest(key_hash(key), d.credential_hash):
            return None
        return DQReason.AUTH_INVALID
    if key is not None and not isinstance(key, str):
        return DQReason.MALFORMED
    if bureau is None:
        return DQReason.AUTH_MISSING
    if bureau.domain != d.domain:
        return DQReason.AUTH_DOMAIN
    return None
