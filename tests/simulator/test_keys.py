from __future__ import annotations

import hashlib
import hmac

from simulator.keys import bureau_key, device_key, key_hash
from sync_service.ingest.auth import key_hash as service_key_hash


def test_device_key_is_hmac_of_the_uid_as_the_contract_says() -> None:
    expect = hmac.new(b"s3cret", b"device:sd-nancheng-00001", hashlib.sha256).hexdigest()[:32]
    assert device_key("s3cret", "sd-nancheng-00001") == expect
    assert len(expect) == 32


def test_bureau_key_is_hmac_of_the_domain() -> None:
    expect = hmac.new(b"s3cret", b"bureau:water", hashlib.sha256).hexdigest()[:32]
    assert bureau_key("s3cret", "water") == expect
    assert bureau_key("s3cret", "water") != bureau_key("s3cret", "fire")
    assert bureau_key("other", "water") != bureau_key("s3cret", "water")


def test_stored_hash_is_what_the_service_checks() -> None:
    k = device_key("s", "wl-machong-00003")
    assert key_hash(k) == service_key_hash(k) == hashlib.sha256(k.encode()).hexdigest()
