"""Deterministic ingest keys of the simulated city (docs/ingest.md, "Credentials").

The service provisions the simulated devices with sha256(device_key) and the simulator signs its
readings with the key itself; both derive it from one shared secret, so nothing has to be
exchanged between the two processes.
"""

from __future__ import annotations

import hashlib
import hmac


def _derive(secret: str, label: str) -> str:
    # hmac.digest is the one-shot C path: 100,000 keys at provisioning in a fraction of a second
    return hmac.digest(secret.encode("utf-8"), label.encode("utf-8"), "sha256").hex()[:32]


def device_key(secret: str, uid: str) -> str:
    """Level-3 key of one device: hmac_sha256(secret, "device:" + uid) hex, first 32 chars."""
    return _derive(secret, "device:" + uid)


def bureau_key(secret: str, domain: str) -> str:
    """Level-2 key of a bureau gateway: hmac_sha256(secret, "bureau:" + domain) hex[:32]."""
    return _derive(secret, "bureau:" + domain)


def key_hash(key: str) -> str:
    """What the store keeps: sha256(key) hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
