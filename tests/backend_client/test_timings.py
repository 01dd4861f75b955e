from __future__ import annotations

import random

import pytest

from backend_client.timings import Backoff, ClientTimings


def test_backoff_stays_within_jittered_bounds_and_caps() -> None:
    t = ClientTimings(backoff_min_s=0.5, backoff_max_s=30.0, backoff_factor=2.0, backoff_jitter=0.5)
    b = Backoff(t, random.Random(7))
    ceilings = [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    for ceiling in ceilings:
        d = b.next_delay()
        assert ceiling * 0.5 <= d <= ceiling
    # after a long outage the delay never exceeds the cap, and the power does not overflow
    b.attempt = 10_000
    assert 15.0 <= b.next_delay() <= 30.0


def test_backoff_jitter_spreads_consoles() -> None:
    t = ClientTimings(backoff_min_s=1.0, backoff_max_s=1.0, backoff_jitter=0.5)
    delays = [Backoff(t, random.Random(i)).next_delay() for i in range(200)]
    assert min(delays) >= 0.5
    assert max(delays) <= 1.0
    assert max(delays) - min(delays) > 0.3  # not all consoles come back at the same instant


def test_backoff_reset_after_success() -> None:
    t = ClientTimings(backoff_min_s=0.1, backoff_max_s=10, backoff_jitter=0.0)
    b = Backoff(t)
    assert [round(b.next_delay(), 3) for _ in range(4)] == [0.1, 0.2, 0.4, 0.8]
    b.reset()
    assert b.next_delay() == pytest.approx(0.1)


def test_timings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_CLIENT_BACKOFF_MIN_S", "0.01")
    monkeypatch.setenv("IOC_CLIENT_DEAD_AFTER_S", "0.7")
    monkeypatch.setenv("IOC_CLIENT_OUTBOX_WINDOW", "3")
    t = ClientTimings.from_env()
    assert t.backoff_min_s == 0.01
    assert t.dead_after_s == 0.7
    assert t.outbox_window == 3
    assert t.backoff_max_s == 30.0  # untouched default


def test_bad_timing_in_environment_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_CLIENT_BACKOFF_MAX_S", "soon")
    with pytest.raises(ValueError, match="IOC_CLIENT_BACKOFF_MAX_S"):
        ClientTimings.from_env()
    monkeypatch.setenv("IOC_CLIENT_BACKOFF_MAX_S", "0.1")
    monkeypatch.setenv("IOC_CLIENT_BACKOFF_MIN_S", "1")
    with pytest.raises(ValueError, match="min <= max"):
        ClientTimings.from_env()
