"""Client timings (overridable by environment so tests shrink them) and reconnect backoff.

Environment variables (seconds unless noted):

| variable | default | meaning |
|---|---|---|
| IOC_CLIENT_BACKOFF_MIN_S | 0.5 | first reconnect delay (before jitter) |
| IOC_CLIENT_BACKOFF_MAX_S | 30 | cap on the delay |
| IOC_CLIENT_BACKOFF_FACTOR | 2.0 | growth per failed attempt |
| IOC_CLIENT_BACKOFF_JITTER | 0.5 | fraction of the delay that is random (0..1) |
| IOC_CLIENT_DEAD_AFTER_S | 10 | no frame for this long: the link is half-open, reconnect |
| IOC_CLIENT_OPEN_TIMEOUT_S | 10 | TCP + websocket handshake |
| IOC_CLIENT_QUERY_TIMEOUT_S | 30 | a query without an answer fails with "timeout" |
| IOC_CLIENT_CACHE_EVERY_S | 30 | how often the offline cache is written while online |
| IOC_CLIENT_OUTBOX_WINDOW | 16 (count) | outbox commands in flight at once on reconnect |
| IOC_CLIENT_SEND_RATE_PER_S | 40 (per s) | command pace, below the service's 50 frames/s limit |
| IOC_CLIENT_RETRY_AFTER_S | 1 | pause after a "rate_limited" or "not_ready" refusal |
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, fields


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class ClientTimings:
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_factor: float = 2.0
    backoff_jitter: float = 0.5
    dead_after_s: float = 10.0
    open_timeout_s: float = 10.0
    query_timeout_s: float = 30.0
    cache_every_s: float = 30.0
    outbox_window: int = 16
    send_rate_per_s: float = 40.0
    retry_after_s: float = 1.0

    @classmethod
    def from_env(cls, **overrides: float) -> ClientTimings:
        values: dict[str, float] = {}
        for f in fields(cls):
            env = "IOC_CLIENT_" + f.name.upper()
            default = overrides.get(f.name, f.default)
            values[f.name] = _env_float(env, float(default))  # type: ignore[arg-type]
        values["outbox_window"] = max(1, int(values["outbox_window"]))
        t = cls(**values)  # type: ignore[arg-type]
        t.validate()
        return t

    def validate(self) -> None:
        if not 0 < self.backoff_min_s <= self.backoff_max_s:
            raise ValueError("backoff needs 0 < min <= max")
        if self.backoff_factor < 1:
            raise ValueError("backoff factor must be >= 1")
        if not 0 <= self.backoff_jitter <= 1:
            raise ValueError("backoff jitter must be within 0..1")
        if self.dead_after_s <= 0:
            raise ValueError("dead_after_s must be > 0")


class Backoff:
    """Exponential backoff with jitter.

    Attempt n (0-based) waits a random time in [(1 - jitter) * d, d] with
    d = min(max, min * factor**n): the ceiling bounds the wait, and the random part spreads
    many consoles reconnecting after a service restart so they do not arrive all at once.
    `reset()` after a connection was established.
    """

    def __init__(self, timings: ClientTimings, rng: random.Random | None = None) -> None:
        self.t = timings
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        # guard the power against overflow for very long outages
        exp = min(attempt, 64)
        return min(self.t.backoff_max_s, self.t.backoff_min_s * self.t.backoff_factor**exp)

    def next_delay(self) -> float:
        d = self.ceiling(self.attempt)
        self.attempt += 1
        return d * (1.0 - self.t.backoff_jitter * self._rng.random())

    def reset(self) -> None:
        self.attempt = 0
