"""Fan-out: 10 consoles connected, 5,000 events/s; end-to-end latency from ingest (the moment
the events are handed to the service) to client receive, p50/p99, against a bare websockets
broadcast server as the baseline.

The service runs in this process with its real path and process settings (as ioc-sync: cli.py
tune_process, settle_heap): every 10 ms the events due (RATE/s) are handed to
Database.write_events, which appends and commits them on the writer thread (SQLite,
synchronous=FULL); the hub fans them out, the websocket server sends them. Each event carries
`t_in`, the wall-clock time it was handed over, BEFORE it waits for the writer thread, the
INSERT and the durable commit: latency = client receive time - t_in (both processes read the
same clock). The clients run in a separate process (one asyncio loop, 10 connections) so their
decoding does not share this process's loop. The baseline server stamps the same events,
encodes once and calls websockets.broadcast() - the floor of what any websocket fan-out costs
on this machine; the ratio is what the service adds (the durable commit, scope filtering,
per-client queues).

Where the time goes, per frame and client (stage_*): in = handed over -> the writer thread
starts the transaction (queue behind other writes), tx = INSERT + commit, wake = commit
returned -> the loop runs the commit listeners, hub = -> the hub's flush begins, send = -> the
frame is handed to the client's socket (encoding, the session's queue and writer task), wire = ->
the client has the frame decoded.
`p99_split_*`: the mean of each stage over the frames in the slowest 1% end to end.

Runs: the service alone; with an 11th console (its own process) flooding frames as fast as it
can, reconnecting at once whenever cut off (its own CPU use is part of what the 10 others feel
on a 2-core machine; the same flood against the bare server is its baseline); and with readings
ingest running (HTTP door, INGEST_RATE readings/s paced, ingest + alert components), whose
readings transactions share the writer thread with the event commits.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import gc
import hashlib
import multiprocessing as mp
import sys
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
INGEST_RATE = 20_000  # readings/s offered in the ingest run (the ingest target)
INGEST_DEVICES = 20_000
STAGES = ("in", "tx", "wake", "hub", "send", "wire")
_HEAD = b'{"v":1,"type":"events","items":[{"seq":'  # an events frame (after its websocket header)
_HEAD_N = len(_HEAD)


def _pick(xs: list[float], q: float) -> float:
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2) if xs else float("nan")


# ---- the clients (child process) -------------------------------------------------------------

def _client_main(url: str, headers: list[tuple[str, str]], n: int, until: float, conn: Any) -> None:
    conn.send(asyncio.run(_clients(url, headers, n, until)))


def _flooder_main(url: str, headers: list[tuple[str, str]], until: float, conn: Any) -> None:
    stats = {"connections": 0, "refused": 0, "frames": 0}
    asyncio.run(_flooder(url, headers, until, stats))
    conn.send(stats)


async def _flooder(url: str, headers: list[tuple[str, str]], until: float, stats: dict[str, int]) -> None:
    """One more console that sends frames as fast as it can and never reads: the service must
    throttle it (rate_limited, then close 1008, then refuse its reconnects for a while) without
    the 10 others noticing. It comes back at once whenever it is cut off or refused."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    ping = orjson.dumps({"type": "ping"}).decode()
    while time.time() < until:
        try:
            async with connect(url, additional_headers=headers, compression=None, proxy=None,
                               open_timeout=2) as ws:
                stats["connections"] += 1
                await ws.send(orjson.dumps({"type": "hello", "client": "flood", "last_seq": 2**62}).decode())
                while time.time() < until:
                    await ws.send(ping)
                    stats["frames"] += 1
                    if stats["frames"] % 100 == 0:
                        await asyncio.sleep(0)
        except InvalidStatus:  # 429: refused at the handshake
            stats["refused"] += 1
            await asyncio.sleep(0.01)
        except Exception:  # closed by the service for flooding: come back and do it again
            await asyncio.sleep(0.01)


async def _clients(url: str, headers: list[tuple[str, str]], n: int, until: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    lat: list[float] = []
    frames: list[tuple[int, int, float, int, float]] = []  # (port, first seq, recv, bench seq, t_in)
    received = [0] * n
    warm = [0.0]  # set at the first event: measure after WARMUP_S of steady stream

    async def one(i: int) -> None:
        async with connect(url, additional_headers=headers, compression=None, max_size=1 << 22,
                           proxy=None, open_timeout=20) as ws:
            port = ws.local_address[1]
            await ws.send(orjson.dumps({"type": "hello", "client": "bench"}).decode())
            while time.time() < until:
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.1, until - time.time()))
                except TimeoutError:
                    break
                f = orjson.loads(raw)
                now = time.time()
                if f.get("type") != "events":
                    continue
                items = [e for e in f["items"] if "t_in" in e["data"]]  # not the alerts' own events
                if not items:
                    continue
                received[i] += len(items)
                if not warm[0]:
                    warm[0] = now + WARMUP_S
                if now > warm[0]:
                    lat.extend(now - e["data"]["t_in"] for e in items)
                    frames.append((port, f["items"][0]["seq"], now, items[0]["seq"], items[0]["data"]["t_in"]))

    await asyncio.gather(*(one(i) for i in range(n)))
    lat.sort()
    ms = [x * 1000 for x in lat]
    return {"p50_ms": _pick(ms, 0.50), "p99_ms": _pick(ms, 0.99), "max_ms": round(ms[-1], 2) if ms else None,
            "samples": len(ms), "received": sum(received), "min_per_client": min(received), "frames": frames}


def _spawn(target: Any, *args: Any) -> tuple[Any, Any]:
    """A child process sending one result back through a pipe."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=target, args=(*args, child), daemon=True)
    p.start()
    return p, parent


async def _collect(child: tuple[Any, Any]) -> Any:
    proc, pipe = child
    res = await asyncio.to_thread(pipe.recv)
    await asyncio.to_thread(proc.join, 10)
    return res


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


def _event_data(k: int, i: int, t_in: float) -> dict[str, Any]:
    return {"level": "info", "text": "演练", "text_en": "drill", "k": k, "i": i, "t_in": t_in}


# ---- readings load (child process) ----------------------------------------------------------------

def _ingest_main(port: int, key: str, domain: str, devs: list, until: float, conn: Any) -> None:
    """POST bureau batches of 5,000 readings paced at INGEST_RATE readings/s (up to 6 in flight)."""
    import aiohttp

    from bench.bench_ingest import BATCH as IBATCH
    from bench.bench_ingest import _bodies, _stamp

    payloads = [orjson.dumps({"readings": b}) for b in _bodies(devs, domain, 8, 5)]
    stats = {"posted": 0, "accepted": 0, "busy": 0}

    async def main() -> None:
        sem = asyncio.Semaphore(6)
        async with aiohttp.ClientSession() as http:
            async def post(k: int) -> None:
                try:
                    async with http.post(f"http://127.0.0.1:{port}/ingest/v1/readings",
                                         data=_stamp(payloads[k % len(payloads)]),
                                         headers={"Authorization": f"Bearer {key}"}) as resp:
                        body = await resp.read()
                        if resp.status == 200:
                            stats["accepted"] += orjson.loads(body)["accepted"]
                        else:
                            stats["busy"] += 1
                finally:
                    sem.release()

            t0 = time.monotonic()
            k = 0
            tasks = set()
            while time.time() < until:
                await sem.acquire()
                t = asyncio.create_task(post(k))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                stats["posted"] += 1
                k += 1
                await asyncio.sleep(max(0.0, t0 + k * IBATCH / INGEST_RATE - time.monotonic()))
            await asyncio.gather(*tasks, return_exceptions=True)

    t_start = time.time()
    asyncio.run(main())
    stats["accepted_per_s"] = round(stats["accepted"] / max(1e-9, time.time() - t_start))
    conn.send(stats)


# ---- the service -------------------------------------------------------------------------------

class _Stages:
    """Timestamps of each stage, recorded in the service process by wrapping its real methods
    (the bench's instruments: a tuple append per commit, per hub flush and per frame sent)."""

    def __init__(self) -> None:
        self.commits: list[tuple[int, int, float, float]] = []  # (first seq, last seq, begun, committed)
        self.wakes: dict[int, float] = {}  # last seq of a commit -> the loop ran its listeners
        self.flushes: list[tuple[int, float]] = []  # (last seq, flush begun)
        self.sends: dict[tuple[int, int], float] = {}  # (client port, first seq of frame) -> sent
        self.writes: list[float] = []  # durations of the writer thread's other transactions (readings)

    def install(self, svc: Any) -> None:
        db, hub = svc.ctx.db, svc.hub
        tx_events = db._tx_events

        def timed_tx(fn: Any, command_id: Any, after_append: Any = None) -> Any:
            t0 = time.time()
            res, events = tx_events(fn, command_id, after_append)
            if events:
                self.commits.append((events[0].seq, events[-1].seq, t0, time.time()))
            return res, events

        db._tx_events = timed_tx
        write_tx = db._write_tx

        def timed_write(fn: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return write_tx(fn)
            finally:
                self.writes.append(time.perf_counter() - t0)

        db._write_tx = timed_write
        db.on_commit(lambda events: self.wakes.__setitem__(events[-1].seq, time.time()))
        flush = hub._flush

        def timed_flush() -> None:
            if hub._pending:
                self.flushes.append((hub._pending[-1].seq, time.time()))
            flush()

        hub._flush = timed_flush

    def watch_sessions(self, sessions: Any) -> None:
        """Time each events frame as it is handed to the socket (transport.write: whichever path
        the session took to send it)."""
        for sess in sessions:
            transport = sess.ws.transport
            port = sess.ws.remote_address[1]
            write = transport.write

            def timed_write(data: Any, _write: Any = write, _port: int = port) -> None:
                _write(data)
                at = bytes(data[:64]).find(_HEAD)
                if at >= 0:
                    seq = int(bytes(data[at + _HEAD_N:at + _HEAD_N + 20]).split(b",", 1)[0])
                    self.sends[(_port, seq)] = time.time()

            transport.write = timed_write

    def split(self, frames: list[tuple[int, int, float, int, float]]) -> dict[str, float]:
        """Per-stage p50/p99 (ms) over the clients' frames, and the stages of the slowest 1%."""
        firsts = [c[0] for c in self.commits]
        flush_last = [f[0] for f in self.flushes]
        rows: list[tuple[float, ...]] = []
        for port, first, recv, seq, t_in in frames:
            i = bisect.bisect_right(firsts, seq) - 1
            j = bisect.bisect_left(flush_last, seq)
            sent = self.sends.get((port, first))
            if i < 0 or j >= len(self.flushes) or sent is None:
                continue
            _, last, begun, committed = self.commits[i]
            woke = self.wakes.get(last, committed)
            flushed = self.flushes[j][1]
            rows.append((recv - t_in, begun - t_in, committed - begun, woke - committed, flushed - woke,
                         sent - flushed, recv - sent))
        out: dict[str, float] = {"stage_frames": len(rows), "other_writes": len(self.writes)}
        if self.writes:
            ws = sorted(w * 1000 for w in self.writes)
            out.update(other_write_p50_ms=_pick(ws, 0.5), other_write_p99_ms=_pick(ws, 0.99),
                       other_write_max_ms=round(ws[-1], 2))
        if not rows:
            return out
        for k, name in enumerate(STAGES, start=1):
            xs = sorted(r[k] * 1000 for r in rows)
            out[f"stage_{name}_p50_ms"] = _pick(xs, 0.50)
            out[f"stage_{name}_p99_ms"] = _pick(xs, 0.99)
        rows.sort()
        slow = rows[int(0.99 * len(rows)):]
        for k, name in enumerate(STAGES, start=1):
            out[f"p99_split_{name}_ms"] = round(sum(r[k] for r in slow) / len(slow) * 1000, 2)
        return out


async def _service_run(seconds: float, *, flood: bool = False, ingest: bool = False) -> dict[str, Any]:
    from protocol.events import SYSTEM_NOTICE
    from sync_service.cli import settle_heap, tune_process
    from sync_service.config import ServiceConfig
    from sync_service.eventlog import NewEvent
    from sync_service.service import SyncService

    tmp = tempfile.mkdtemp(prefix="bench-fanout-")
    url = f"sqlite:///{Path(tmp) / 'ioc.db'}"
    parts: tuple[str, ...] = ()
    if ingest:
        from bench.bench_ingest import _devices, _seed

        devs = _devices(INGEST_DEVICES)
        keys = {d: hashlib.sha256(f"bench-{d}".encode()).hexdigest()[:32] for d in {x[2] for x in devs}}
        await asyncio.to_thread(_seed, url, devs, keys)
        parts = ("sync_service.ingest", "sync_service.alerts")
    cfg = ServiceConfig(db_url=url, ws_port=0, http_port=0, demo_users=True,
                        admin_password="bench-admin-pw", mqtt_enabled=False, send_queue_max=200_000)
    svc = SyncService(cfg, parts=parts)
    # the process settings ioc-sync runs with (cli.py), undone after the run for the baseline
    switch = sys.getswitchinterval()
    tune_process()
    await svc.start()
    settle_heap()
    stages = _Stages()
    stages.install(svc)
    try:
        auth = "Basic " + base64.b64encode(b"operator:ioc-demo-2024").decode()
        until = time.time() + seconds + 3.0  # connect time included
        clients = _spawn(_client_main, svc.url, [("Authorization", auth)], CLIENTS, until)
        await _wait_sessions(lambda: sum(1 for s in svc.server.sessions if s.state == "live"))
        stages.watch_sessions(svc.server.sessions)
        flooder = _spawn(_flooder_main, svc.url, [("Authorization", auth)], until) if flood else None
        loader = None
        if ingest:
            domain = max(keys, key=lambda d: sum(1 for x in devs if x[2] == d))
            loader = _spawn(_ingest_main, svc.ctx.components["http"].port, keys[domain], domain, devs, until)

        async def tick(k: int, n: int) -> None:
            t_in = time.time()
            evs = [NewEvent(SYSTEM_NOTICE, _event_data(k, i, t_in), domain="fire" if i % 5 == 0 else None)
                   for i in range(n)]
            await svc.ctx.db.write_events(lambda s: (None, evs))

        made = await _paced(seconds, tick)
        await asyncio.sleep(max(0.0, until - time.time()))
        res = await _collect(clients)
        res["made"] = made
        if flooder is not None:
            res.update({f"flood_{k}": v for k, v in (await _collect(flooder)).items()})
        if loader is not None:
            res.update({f"ingest_{k}": v for k, v in (await _collect(loader)).items()})
        res["flood_disconnects"] = svc.server.flood_disconnects
        res.update(stages.split(res.pop("frames")))
        return res
    finally:
        await svc.stop()
        sys.setswitchinterval(switch)
        gc.unfreeze()


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
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        until = time.time() + seconds + 3.0
        clients = _spawn(_client_main, url, [], CLIENTS, until)
        await _wait_sessions(lambda: len(conns))
        flooder = _spawn(_flooder_main, url, [], until) if flood else None
        seq = 0

        async def tick(k: int, n: int) -> None:
            nonlocal seq
            now = time.time()
            items = []
            for i in range(n):
                seq += 1
                items.append({"seq": seq, "ts": now, "kind": "system.notice", "domain": None, "town": None,
                              "data": _event_data(k, i, now)})
            broadcast(conns, orjson.dumps({"v": 1, "type": "events", "items": items}).decode())

        made = await _paced(seconds, tick)
        await asyncio.sleep(max(0.0, until - time.time()))
        res = await _collect(clients)
        res.pop("frames")
        res["made"] = made
        if flooder is not None:
            res.update({f"flood_{k}": v for k, v in (await _collect(flooder)).items()})
        return res


def run(quick: bool) -> dict[str, float | int | str]:
    seconds = 4.0 if quick else 10.0
    svc = asyncio.run(_service_run(seconds))
    flooded = asyncio.run(_service_run(seconds, flood=True))
    ingesting = asyncio.run(_service_run(seconds, ingest=True))
    base = asyncio.run(_baseline_run(seconds))
    base_flooded = asyncio.run(_baseline_run(seconds, flood=True))
    for label, r in (("service", svc), ("flooded", flooded), ("ingesting", ingesting), ("baseline", base),
                     ("baseline flooded", base_flooded)):
        print(f"{label}: {r}")
    ratio = round(svc["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else float("nan")
    out: dict[str, float | int | str] = {
        "clients": CLIENTS, "events_per_s": RATE, "seconds": seconds,
        "p50_ms": svc["p50_ms"], "p99_ms": svc["p99_ms"], "max_ms": svc["max_ms"],
        "delivered_per_client_min": svc["min_per_client"], "events_made": svc["made"],
        "baseline_p50_ms": base["p50_ms"], "baseline_p99_ms": base["p99_ms"],
        "p99_ratio_to_baseline": ratio,
    }
    out.update({k: v for k, v in svc.items() if k.startswith(("stage_", "p99_split_"))})
    out.update({
        # the same run with an 11th console flooding frames as fast as it can
        "flood_p50_ms": flooded["p50_ms"], "flood_p99_ms": flooded["p99_ms"],
        "flood_frames_sent": flooded["flood_frames"], "flood_connections": flooded["flood_connections"],
        "flood_refused_handshakes": flooded["flood_refused"], "flood_disconnects": flooded["flood_disconnects"],
        "flood_p99_split": " ".join(f"{s}={flooded.get(f'p99_split_{s}_ms')}" for s in STAGES),
        # the bare broadcast server under the same flood (it reads and ignores every frame): how
        # much of the flood's effect is the machine's 2 cores rather than the service
        "flood_baseline_p99_ms": base_flooded["p99_ms"],
        "flood_p99_ratio_to_baseline": (round(flooded["p99_ms"] / base_flooded["p99_ms"], 2)
                                        if base_flooded["p99_ms"] else float("nan")),
        # readings ingest at INGEST_RATE/s through the HTTP door at the same time
        "ingest_p50_ms": ingesting["p50_ms"], "ingest_p99_ms": ingesting["p99_ms"],
        "ingest_max_ms": ingesting["max_ms"], "ingest_offered_readings_per_s": INGEST_RATE,
        "ingest_accepted_readings_per_s": ingesting["ingest_accepted_per_s"],
        "ingest_busy_replies": ingesting["ingest_busy"],
        "ingest_p99_split": " ".join(f"{s}={ingesting.get(f'p99_split_{s}_ms')}" for s in STAGES),
        # the writer thread's other transactions (readings batches, device state) the event
        # commits may wait behind
        "ingest_other_tx_p50_ms": ingesting.get("other_write_p50_ms"),
        "ingest_other_tx_p99_ms": ingesting.get("other_write_p99_ms"),
    })
    return out


if __name__ == "__main__":
    print(run(quick=True))
