"""Fan-out: 10 consoles connected, 5,000 events/s committed; end-to-end latency from commit to
client receive (p50/p99), against a bare websockets broadcast server as the baseline.

The service runs in this process with its real path: events are appended and committed by the
writer thread (SQLite, synchronous=FULL) in batches of 50 every 10 ms, the hub fans them out,
the websocket server sends them. The clients run in a separate process (one asyncio loop, 10
connections) so their decoding does not share this process's loop. Latency = client receive
time - the event's ts (stamped at append, just before the commit): both processes read the same
clock. The baseline server stamps, encodes once and calls websockets.broadcast() - the floor of
what any websocket fan-out costs on this machine; the ratio is what the service adds (the
durable commit, scope filtering, per-client queues).
A third run adds an 11th console (its own process) flooding the service with frames as fast as
it can; the same flood against the bare server is its baseline. The flooder's own CPU use is
part of what the 10 others feel on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

NAME = "fanout"
CLIENTS = 10
RATE = 5000
BATCH = 50  # events per commit: 100 commits/s
WARMUP_S = 1.0


# ---- the clients (child process) -------------------------------------------------------------

def _client_main(url: str, headers: list[tuple[str, str]], n: int, until: float, conn: Any) -> None:
    conn.send(asyncio.run(_clients(url, headers, n, until)))


def _flooder_main(url: str, headers: list[tuple[str, str]], until: float, conn: Any) -> None:
    stats = {"connections": 0, "frames": 0}
    asyncio.run(_flooder(url, headers, until, stats))
    conn.send(stats)


async def _flooder(url: str, headers: list[tuple[str, str]], until: float, stats: dict[str, int]) -> None:
    """One more console that sends frames as fast as it can and never reads: the service must
    throttle it (rate_limited, then close 1008) without the 10 others noticing."""
    from websockets.asyncio.client import connect

    ping = orjson.dumps({"type": "ping"}).decode()
    while time.time() < until:
        try:
            async with connect(url, additional_headers=headers, compression=None, proxy=None) as ws:
                stats["connections"] += 1
                await ws.send(orjson.dumps({"type": "hello", "client": "flood", "last_seq": 2**62}).decode())
                while time.time() < until:
                    await ws.send(ping)
                    stats["frames"] += 1
                    if stats["frames"] % 100 == 0:
                        await asyncio.sleep(0)
        except Exception:  # closed by the service for flooding: come back and do it again
            await asyncio.sleep(0.01)


async def _clients(url: str, headers: list[tuple[str, str]], n: int, until: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    lat: list[float] = []
    received = [0] * n
    warm = [0.0]  # set at the first event: measure after WARMUP_S of steady stream

    async def one(i: int) -> None:
        async with connect(url, additional_headers=headers, compression=None, max_size=1 << 22,
                           proxy=None) as ws:
            await ws.send(orjson.dumps({"type": "hello", "client": "bench"}).decode())
            while time.time() < until:
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.1, until - time.time()))
                except TimeoutError:
                    break
                now = time.time()
                f = orjson.loads(raw)
                if f.get("type") != "events":
                    continue
                items = f["items"]
                received[i] += len(items)
                if not warm[0]:
                    warm[0] = now + WARMUP_S
                if now > warm[0]:
                    lat.extend(now - e["ts"] for e in items)


    await asyncio.gather(*(one(i) for i in range(n)))
    lat.sort()
    ms = [x * 1000 for x in lat]
    pick = (lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 2)) if ms else (lambda q: float("nan"))
    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ms[-1], 2) if ms else None,
            "samples": len(ms), "received": sum(received), "min_per_client": min(received)}


def _spawn_clients(url: str, headers: list[tuple[str, str]], seconds: float) -> tuple[Any, Any, float]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    until = time.time() + seconds + 3.0  # connect time included
    p = ctx.Process(target=_client_main, args=(url, headers, CLIENTS, until, child), daemon=True)
    p.start()
    return p, parent, until


def _spawn_flooder(url: str, headers: list[tuple[str, str]], until: float) -> tuple[Any, Any]:
    """In its own process: a flooder sharing the measuring clients' loop would delay them itself."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_flooder_main, args=(url, headers, until, child), daemon=True)
    p.start()
    return p, parent


async def _paced(seconds: float, tick: Any) -> int:
    """Every 10 ms `await tick(k, n)` with the n events due by the clock (RATE/s): a commit that
    took longer than 10 ms makes the next batch bigger, as an ingest pipeline would."""
    t0 = time.monotonic()
    made = 0
    k = 0
    while (elapsed := time.monotonic() - t0) < seconds:
        n = min(int(elapsed * RATE) + BATCH - made, 20 * BATCH)
        if n > 0:
            await tick(k, n)
            made += n
            k += 1
        await asyncio.sleep(BATCH / RATE)
    return made


# ---- the service -------------------------------------------------------------------------------

async def _service_run(seconds: float, flood: bool = False) -> dict[str, Any]:
    from protocol.events import SYSTEM_NOTICE
    from sync_service.config import ServiceConfig
    from sync_service.eventlog import NewEvent
    from sync_service.service import SyncService

    tmp = tempfile.mkdtemp(prefix="bench-fanout-")
    cfg = ServiceConfig(db_url=f"sqlite:///{Path(tmp) / 'ioc.db'}", ws_port=0, http_port=0, demo_users=True,
                        admin_password="bench-admin-pw", mqtt_enabled=False, send_queue_max=200_000)
    svc = SyncService(cfg, parts=())
    await svc.start()
    try:
        auth = "Basic " + base64.b64encode(b"operator:ioc-demo-2024").decode()
        proc, pipe, until = _spawn_clients(svc.url, [("Authorization", auth)], seconds)
        await _wait_sessions(lambda: sum(1 for s in svc.server.sessions if s.state == "live"))
        flooder = _spawn_flooder(svc.url, [("Authorization", auth)], until) if flood else None

        def batch(k: int, n: int) -> Any:
            evs = [NewEvent(SYSTEM_NOTICE, {"level": "info", "text": "演练", "text_en": "drill", "k": k, "i": i},
                            domain="fire" if i % 5 == 0 else None) for i in range(n)]
            return lambda s: (None, evs)

        async def tick(k: int, n: int) -> None:
            await svc.ctx.db.write_events(batch(k, n))

        made = await _paced(seconds, tick)
        await asyncio.sleep(max(0.0, until - time.time()))
        res = await asyncio.to_thread(pipe.recv)
        proc.join(10)
        res["made"] = made
        if flooder is not None:
            res.update({f"flood_{k}": v for k, v in (await asyncio.to_thread(flooder[1].recv)).items()})
            flooder[0].join(10)
        res["flood_disconnects"] = svc.server.flood_disconnects
        return res
    finally:
        await svc.stop()


async def _wait_sessions(count: Any, n: int = CLIENTS, limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while count() < n:
        if time.monotonic() > deadline:
            raise TimeoutError("clients did not connect")
        await asyncio.sleep(0.05)


# ---- the baseline: bare websockets broadcast --------------------------------------------------------

async def _baseline_run(seconds: float, flood: bool = False) -> dict[str, Any]:
    from websockets.asyncio.server import broadcast, serve

    conns: set[Any] = set()

    async def handler(ws: Any) -> None:
        conns.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            conns.discard(ws)

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        proc, pipe, until = _spawn_clients(f"ws://127.0.0.1:{port}", [], seconds)
        await _wait_sessions(lambda: len(conns))
        flooder = _spawn_flooder(f"ws://127.0.0.1:{port}", [], until) if flood else None
        seq = 0

        async def tick(k: int, n: int) -> None:
            nonlocal seq
            now = time.time()
            items = []
            for i in range(n):
                seq += 1
                items.append({"seq": seq, "ts": now, "kind": "system.notice", "domain": None, "town": None,
                              "data": {"level": "info", "text": "演练", "text_en": "drill", "k": k, "i": i}})
            broadcast(conns, orjson.dumps({"v": 1, "type": "events", "items": items}).decode())

        made = await _paced(seconds, tick)
        await asyncio.sleep(max(0.0, until - time.time()))
        res = await asyncio.to_thread(pipe.recv)
        proc.join(10)
        res["made"] = made
        if flooder is not None:
            res.update({f"flood_{k}": v for k, v in (await asyncio.to_thread(flooder[1].recv)).items()})
            flooder[0].join(10)
        return res


def run(quick: bool) -> dict[str, float | int | str]:
    seconds = 4.0 if quick else 10.0
    svc = asyncio.run(_service_run(seconds))
    flooded = asyncio.run(_service_run(seconds, flood=True))
    base = asyncio.run(_baseline_run(seconds))
    base_flooded = asyncio.run(_baseline_run(seconds, flood=True))
    print(f"service : {svc}\nflooded : {flooded}\nbaseline: {base}\nbaseline flooded: {base_flooded}")
    ratio = round(svc["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else float("nan")
    return {
        "clients": CLIENTS, "events_per_s": RATE, "seconds": seconds,
        "p50_ms": svc["p50_ms"], "p99_ms": svc["p99_ms"], "max_ms": svc["max_ms"],
        "delivered_per_client_min": svc["min_per_client"], "events_made": svc["made"],
        "baseline_p50_ms": base["p50_ms"], "baseline_p99_ms": base["p99_ms"],
        "p99_ratio_to_baseline": ratio,
        # the same run with an 11th console flooding frames as fast as it can
        "flood_p50_ms": flooded["p50_ms"], "flood_p99_ms": flooded["p99_ms"],
        "flood_frames_sent": flooded["flood_frames"], "flood_connections": flooded["flood_connections"],
        "flood_disconnects": flooded["flood_disconnects"],
        # the bare broadcast server under the same flood (it reads and ignores every frame): how
        # much of the flood's effect is the machine's 2 cores rather than the service
        "flood_baseline_p99_ms": base_flooded["p99_ms"],
    }


if __name__ == "__main__":
    print(run(quick=True))
