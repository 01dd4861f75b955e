"""Per-connection token bucket for inbound frames.

`rate_per_s` tokens are added per second up to `burst`; a frame costs one token. A frame that
finds the bucket empty is refused (the session answers it with an error frame, code
rate_limited, and does not process it). A client that keeps sending while refused - more than
`flood_factor` (3) x burst refused frames within `flood_window_s` - is flooding: the session closes
with 1008 so it cannot keep the service busy answering refusals.
"""

from __future__ import annotations

import time
from collections import deque


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, *, flood_factor: float = 3.0,
                 flood_window_s: float = 10.0, clock: object = time.monotonic) -> None:
        self.rate = float(rate_per_s)
        self.burst = float(max(1, burst))
        self.tokens = self.burst
        self.flood_limit = int(max(1, burst) * flood_factor)
        self.flood_window_s = flood_window_s
        self._clock = clock  # injectable for tests
        self._last = self._now()
        self._refused: deque[float] = deque()
        self.refused_total = 0

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator, no-any-return]

    def take(self) -> bool:
        now = self._now()
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.refused_total += 1
        self._refused.append(now)
        return False

    def flooding(self) -> bool:
        now = self._now()
        while self._refused and self._refused[0] < now - self.flood_window_s:
            self._refused.popleft()
        return len(self._refused) > self.flood_limit
