"""Shared helpers for the client tests: free ports, waiting on conditions, fast timings."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

from backend_client.timings import ClientTimings

FAST = ClientTimings(backoff_min_s=0.05, backoff_max_s=0.3, backoff_factor=2.0, backoff_jitter=0.5,
                     dead_after_s=1.0, open_timeout_s=2.0, query_timeout_s=5.0, cache_every_s=0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(cond: Callable[[], bool], within: float = 10.0, what: str = "condition") -> None:
    end = time.monotonic() + within
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)
