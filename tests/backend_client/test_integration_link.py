"""The link itself: a half-open connection noticed by the heartbeat watchdog, and the
reconnect rhythm (backoff bounds) measured on real connection attempts."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from app.store import Connection, StateStore
from backend_client.client import ConsoleClient
from backend_client.timings import ClientTimings
from tests.backend_client.helpers import FAST, wait_for
from tests.backend_client.service import PASSWORD, ServiceProcess
from tests.backend_client.tcpproxy import FreezableProxy
from tests.backend_client.test_integration_resume import _raise, _raw_command


async def test_half_open_link_detected_by_heartbeat_watchdog(tmp_path: Path) -> None:
    # the service speaks every 0.5 s; the console gives up on a silent link after 1 s
    proc = ServiceProcess(f"sqlite:///{tmp_path / 'svc.db'}", heartbeat_s=0.5, log_path=tmp_path / "svc.log")
    await proc.start()
    proxy = FreezableProxy("127.0.0.1", proc.ws_port)
    await proxy.start()
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{proxy.port}", store, timings=FAST,
                           local_dir=str(tmp_path / "c"))
    states: list[Connection] = []
    store.connection_changed.connect(states.append)
    try:
        client.login("operator", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE)
        assert client._transport is not None
        assert client._transport.dead_after_s == 1.0
        proxy.freeze_existing()  # no FIN, no RST: the socket looks alive, nothing arrives
        frozen_at = time.monotonic()
        # meanwhile the city goes on (written straight to the service, not through the proxy)
        r = await _raw_command(proc.url, "duty", str(uuid.uuid4()), "alert.raise", _raise("HALF-OPEN"))
        assert r["ok"]
        await wait_for(lambda: store.connection != Connection.ONLINE, within=10, what="link declared dead")
        noticed = time.monotonic() - frozen_at
        await wait_for(lambda: client.connects == 2 and store.connection == Connection.ONLINE,
                       within=10, what="reconnected through a fresh connection")
        await wait_for(lambda: any(a.title == "HALF-OPEN" for a in store.alerts.values()), within=5)
        print(f"half-open link noticed after {noticed:.2f} s (watchdog 1.0 s, heartbeat 0.5 s)")
        assert 0.9 <= noticed < 3.0
        assert Connection.RECONNECTING in states
        assert store.snapshot_reloads == 0  # resumed, nothing lost
    finally:
        await client.stop()
        client.close()
        await proxy.close()
        proc.stop()


def test_default_watchdog_is_ten_seconds() -> None:
    assert ClientTimings().dead_after_s == 10.0


async def test_backoff_bounds_on_real_attempts(tmp_path: Path) -> None:
    """A port that accepts TCP and hangs up (no websocket there): every attempt fails; the gaps
    between attempts must follow the backoff law, capped, with jitter."""
    attempts: list[float] = []

    async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        attempts.append(time.monotonic())
        w.close()

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    t = ClientTimings(backoff_min_s=0.1, backoff_max_s=0.4, backoff_factor=2.0, backoff_jitter=0.5,
                      dead_after_s=1.0, open_timeout_s=1.0, cache_every_s=60)
    client = ConsoleClient(f"ws://127.0.0.1:{port}", StateStore(), timings=t, local_dir=str(tmp_path))
    try:
        client.login("operator", "pw")
        await wait_for(lambda: len(attempts) >= 8, within=10, what="8 attempts")
    finally:
        await client.stop()
        client.close()
        server.close()
        await server.wait_closed()
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)][:7]
    ceilings = [0.1, 0.2, 0.4, 0.4, 0.4, 0.4, 0.4]
    print("reconnect gaps (s):", " ".join(f"{g:.3f}" for g in gaps))
    for gap, ceiling in zip(gaps, ceilings, strict=True):
        # lower bound: the jittered delay; upper: the ceiling plus a failed handshake's cost
        assert 0.5 * ceiling - 0.01 <= gap <= ceiling + 0.25, (gap, ceiling)
    assert len({round(g, 3) for g in gaps[2:]}) > 1  # jitter: not a fixed rhythm
