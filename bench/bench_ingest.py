"""Ingest throughput into SQLite through the real ingest path, against a raw SQLite baseline.

- ingest.readings_per_s: readings (one device, one timestamp, 1-3 values) per second accepted
  AND committed, sustained over a window, through the real HTTP door: a load generator in a
  separate process POSTs bureau batches of 5,000 readings (3 in flight) to the service running
  here with its ingest, alerts and metrics components (rules evaluated, device state flushed).
  The HTTP reply is sent only after the commit, so this is a committed rate.
- ingest.values_per_s: the same in stored rows (values).
- ingest.raw_sqlite_rows_per_s: stdlib sqlite3 executemany of the same rows into the same
  schema (indexes, WAL, synchronous=FULL), 5,000 rows per transaction: the ceiling.
- ingest.ratio_to_raw: values_per_s / raw_sqlite_rows_per_s.
- ingest.mqtt_readings_per_s: the same load as MQTT batch messages through Mosquitto (when a
  broker is reachable on 127.0.0.1:1883).
- ingest.pipeline_only_readings_per_s: parse + validate + rules in-process, no I/O (the loop's
  share of the cost).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing as mp
import os
import random
import socket
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

NAME = "ingest"
NORMAL = {"level": (1, 3), "rain_1h": (0, 5), "smoke": (0.0, 0.05), "battery": (50, 100), "temp": (20, 35),
          "alarm": (0, 0), "speed": (30, 50), "occupancy": (0, 40), "sos": (0, 0), "heart_rate": (60, 100),
          "pressure": (350, 450), "tilt": (0, 5), "water": (1, 20), "pm25": (20, 60), "pm10": (30, 80),
          "o3": (20, 80), "voc": (5, 30), "so2": (1, 20), "violation": (0, 0), "intrusion": (0, 0),
          "flow": (100, 2000)}
BATCH = 5000
NOISE = 0.002  # of the metric's normal span, between two readings of one device
ALARMING = 1000  # one device in ALARMING reads smoke above the red threshold
TS_MARK = 1_000_000_000  # placeholder second in pre-encoded payloads, replaced at send time
TS_MARK_BYTES = b'"ts":%d.' % TS_MARK
MQTT_OFFERED = 25_000  # readings/s offered on the MQTT door (above the 20,000 target)
HTTP_INFLIGHT = 6  # concurrent POSTs: several bureau gateways posting at once


def _devices(n: int, seed: int = 7) -> list[tuple[str, str, str, list[str]]]:
    """(uid, type, domain, metrics) spread by the catalogue's shares."""
    from sync_service.catalog import DEVICE_TYPES

    rng = random.Random(seed)
    types = list(DEVICE_TYPES)
    weights = [t.share for t in types]
    out = []
    for i in range(n):
        t = rng.choices(types, weights)[0]
        out.append((f"B-{t.code[:4]}-{i:06d}", t.code, t.domain, [m.name for m in t.metrics]))
    return out


def _bodies(devs: list[tuple[str, str, str, list[str]]], domain: str, count: int, seed: int,
            ts_base: float | None = None) -> list[list[dict]]:
    """`count` batches of BATCH readings of `domain`'s devices, in turn.

    Like a quiet city: each device's values hover around its own level, a little above and a
    little below it on alternate readings (never the same value twice running, which would look
    stuck; never a change fast enough to trip a rate rule), and one device in ALARMING reads
    above its red threshold (a few real alerts). Timestamps are ts_base + [0, 1) s; with the
    default TS_MARK the senders stamp the current second at send time (_stamp), so readings
    arrive in time order as from live devices."""
    rng = random.Random(seed)
    mine = [d for d in devs if d[2] == domain]
    base = {(uid, m): rng.uniform(*NORMAL[m]) for uid, _, _, metrics in mine for m in metrics}
    tsb = TS_MARK if ts_base is None else ts_base
    bodies = []
    for b in range(count):
        batch = []
        for j in range(BATCH):
            n = b * BATCH + j
            i = n % len(mine)
            uid, _, _, metrics = mine[i]
            side = 1 if (n // len(mine)) % 2 else -1
            values = {}
            for m in metrics:
                lo, hi = NORMAL[m]
                values[m] = round(base[(uid, m)] + side * (hi - lo) * NOISE * (0.25 + 0.5 * rng.random()), 5)
            if i % ALARMING == 0 and "smoke" in values:
                values["smoke"] = round(0.3 + values["smoke"], 5)
            batch.append({"device": uid, "ts": tsb + rng.random(), "values": values})
        bodies.append(batch)
    return bodies


def _stamp(payload: bytes) -> bytes:
    """The payload with its readings dated in the second before last (ts_base TS_MARK replaced)."""
    return payload.replace(TS_MARK_BYTES, b'"ts":%d.' % (int(time.time()) - 2))


def _http_load(port: int, keys: dict[str, str], devs: list, stop: Any, inflight: int = HTTP_INFLIGHT) -> None:
    import aiohttp
    import orjson

    domain = max(keys, key=lambda d: sum(1 for x in devs if x[2] == d))  # fire: half of the devices
    payloads = [orjson.dumps({"readings": b}) for b in _bodies(devs, domain, 20, 1)]

    async def worker(i: int) -> None:
        async with aiohttp.ClientSession() as http:
            k = i
            while not stop.is_set():
                async with http.post(f"http://127.0.0.1:{port}/ingest/v1/readings", data=_stamp(payloads[k % len(payloads)]),
                                     headers={"Authorization": f"Bearer {keys[domain]}"}) as resp:
                    await resp.read()
                k += inflight

    async def main() -> None:
        await asyncio.gather(*(worker(i) for i in range(inflight)))

    asyncio.run(main())


def _mqtt_load(prefix: str, keys: dict[str, str], devs: list, stop: Any) -> None:
    import aiomqtt
    import orjson

    domain = max(keys, key=lambda d: sum(1 for x in devs if x[2] == d))
    payloads = [orjson.dumps({"credential": keys[domain], "readings": b}) for b in _bodies(devs, domain, 20, 2)]

    async def main() -> None:
        # Offered load: MQTT_OFFERED readings/s (a flood would measure the broker and this
        # process, which share the 2 cores, more than the service).
        interval = BATCH / MQTT_OFFERED
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"bench-{uuid.uuid4().hex[:8]}", timeout=120) as c:
            k = 0
            t0 = time.monotonic()
            while not stop.is_set():
                await c.publish(f"{prefix}/{domain}/batch", _stamp(payloads[k % len(payloads)]), qos=1)
                k += 1
                await asyncio.sleep(max(0.0, t0 + k * interval - time.monotonic()))

    asyncio.run(main())


def _seed(url: str, devs: list, keys: dict[str, str]) -> None:
    from sqlalchemy import insert

    from sync_service.db.database import Database
    from sync_service.db.engine import make_engine, migrate
    from sync_service.db.models import BureauCredential, Device
    from sync_service.seed import seed_reference

    engine = make_engine(url)
    migrate(engine)
    db = Database(engine)
    towns = ["nancheng", "dongcheng", "humen", "changan", "hongmei", "songshanhu", "liaobu", "tangxia"]

    def fn(s: Any) -> None:
        seed_reference(s)
        s.flush()
        s.execute(insert(Device), [
            {"uid": uid, "device_type": typ, "domain": dom, "town": towns[i % len(towns)], "lon": 113.7, "lat": 23.0,
             "building_id": None, "name": uid, "credential_hash": hashlib.sha256(uid.encode()).hexdigest(),
             "revoked": False, "health": "offline", "last_ts": None, "last_values": {}}
            for i, (uid, typ, dom, _) in enumerate(devs)])
        for dom, key in keys.items():
            s.add(BureauCredential(domain=dom, name=f"{dom}-bench", key_hash=hashlib.sha256(key.encode()).hexdigest(),
                                   revoked=False, created_ts=time.time()))

    db.run_sync(fn)
    db.close()


def _mqtt_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


async def _service_run(url: str, devs: list, keys: dict[str, str], window_s: float, warmup_s: float) -> dict[str, float]:
    from sync_service import alerts, ingest, metrics
    from sync_service.config import ServiceConfig
    from sync_service.context import ServiceContext
    from sync_service.db.database import Database
    from sync_service.db.engine import make_engine

    mqtt = _mqtt_up()
    cfg = ServiceConfig(db_url=url, http_port=0, mqtt_enabled=mqtt, mqtt_prefix=f"bench{uuid.uuid4().hex[:6]}/ioc/v1")
    ctx = ServiceContext(config=cfg, db=Database(make_engine(url)), server_id="bench")
    comps = ingest.build_components(ctx) + alerts.build_components(ctx) + metrics.build_components(ctx)
    for c in comps:
        await c.start()
    pipe = ctx.components["ingest"]
    out: dict[str, float] = {}
    spawn = mp.get_context("spawn")
    try:
        for door in (["http", "mqtt"] if mqtt else ["http"]):
            stop = spawn.Event()
            args = (ctx.components["http"].port, keys, devs, stop) if door == "http" else (cfg.mqtt_prefix, keys, devs, stop)
            proc = spawn.Process(target=_http_load if door == "http" else _mqtt_load, args=args, daemon=True)
            proc.start()
            deadline = time.monotonic() + 120
            while pipe.readings_total <= out.get("_after_http", 0):
                await asyncio.sleep(0.1)  # the client is generating its payloads
                if time.monotonic() > deadline or not proc.is_alive():
                    raise RuntimeError(f"{door} load generator produced nothing")
            await asyncio.sleep(warmup_s)
            t0, r0, w0 = time.perf_counter(), pipe.readings_total, pipe.rows_written
            await asyncio.sleep(window_s)
            t1, r1, w1 = time.perf_counter(), pipe.readings_total, pipe.rows_written
            stop.set()
            await asyncio.to_thread(proc.join, 20)
            if proc.is_alive():
                proc.kill()
            out[f"{door}_readings_per_s"] = (r1 - r0) / (t1 - t0)
            out[f"{door}_values_per_s"] = (w1 - w0) / (t1 - t0)
            # committed readings: rows written over the window, in readings (values per reading)
            out[f"{door}_committed_readings_per_s"] = out[f"{door}_values_per_s"] * pipe.readings_total / max(
                pipe.values_total, 1)
            out[f"{door}_max_pending"] = pipe.pending
            print(f"  {door}: {out[f'{door}_readings_per_s']:.0f} readings/s, {out[f'{door}_values_per_s']:.0f} values/s "
                  f"committed", flush=True)
            await pipe.flush()
            out["_after_http"] = pipe.readings_total
        # in-process: the loop's own cost per reading (no sockets, no commit wait)
        from sync_service.ingest.auth import Bureau

        domain = max(keys, key=lambda d: sum(1 for x in devs if x[2] == d))
        bodies = _bodies(devs, domain, 4, 3, ts_base=time.time() - 2)
        pipe.batch_max = 10**9  # keep the flush task out of this measurement
        t0 = time.perf_counter()
        n = 0
        for b in bodies:
            n += pipe.ingest(b, bureau=Bureau(domain, "bench"), door="bench").accepted
        out["pipeline_only_readings_per_s"] = n / (time.perf_counter() - t0)
        pipe.batch_max = BATCH
        out["alerts_written"] = ctx.components["alerts"].written
        out["write_failures"] = pipe.write_failures
    finally:
        for c in reversed(comps):
            await c.stop()
        ctx.db.close()
    return out


def _raw_baseline(path: Path, devs: list, seconds: float) -> float:
    """stdlib sqlite3 executemany of the same kind of rows, same schema and pragmas, each
    transaction's rows dated like the service's (the current second)."""
    pk_of = {d[0]: i + 1 for i, d in enumerate(devs)}
    rows = [(pk_of[item["device"]], m, item["ts"], v, 0)
            for b in _bodies(devs, "fire", 4, 4, ts_base=0.0) for item in b for m, v in item["values"].items()]
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    sql = "INSERT INTO readings (device_pk, metric, ts, value, quality) VALUES (?, ?, ?, ?, ?)"
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i in range(0, len(rows), BATCH):
            now = time.time() - 2
            chunk = [(pk, m, now + ts, v, q) for pk, m, ts, v, q in rows[i:i + BATCH]]
            con.execute("BEGIN IMMEDIATE")
            con.executemany(sql, chunk)
            con.execute("COMMIT")
            n += len(chunk)
    rate = n / (time.perf_counter() - t0)
    con.close()
    return rate


def run(quick: bool) -> dict[str, float | int | str]:
    n_devices = 20_000 if quick else 100_000
    window = 5.0 if quick else 20.0
    devs = _devices(n_devices)
    keys = {d: hashlib.sha256(f"bench-{d}".encode()).hexdigest()[:32] for d in {x[2] for x in devs}}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ingest.db'}"
        t0 = time.perf_counter()
        _seed(url, devs, keys)
        seed_s = time.perf_counter() - t0
        res = asyncio.run(_service_run(url, devs, keys, window, 2.0 if quick else 5.0))
        base_path = Path(tmp) / "raw.db"
        from sync_service.db.engine import make_engine, migrate

        eng = make_engine(f"sqlite:///{base_path}")
        migrate(eng)
        eng.dispose()
        raw = _raw_baseline(base_path, devs, 3.0 if quick else 8.0)
    readings = res["http_readings_per_s"]
    values = res["http_values_per_s"]
    out: dict[str, float | int | str] = {
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "devices": n_devices,
        "readings_per_s": round(readings),
        "values_per_s": round(values),
        "committed_readings_per_s": round(res["http_committed_readings_per_s"]),
        "raw_sqlite_rows_per_s": round(raw),
        "ratio_to_raw": round(values / raw, 3) if raw else 0.0,
        "target_readings_per_s": 20_000,
        "pipeline_only_readings_per_s": round(res["pipeline_only_readings_per_s"]),
        "seed_s": round(seed_s, 1),
        "window_s": window,
        "write_failures": int(res["write_failures"]),
        "door": f"HTTP bureau batches of 5,000 readings, {HTTP_INFLIGHT} in flight, load generator in its own process",
    }
    if "mqtt_readings_per_s" in res:
        out["mqtt_offered_readings_per_s"] = MQTT_OFFERED
        out["mqtt_readings_per_s"] = round(res["mqtt_readings_per_s"])
        out["mqtt_values_per_s"] = round(res["mqtt_values_per_s"])
        out["mqtt_committed_readings_per_s"] = round(res["mqtt_committed_readings_per_s"])
    else:
        out["mqtt_readings_per_s"] = "no broker on 127.0.0.1:1883"
    for k, v in out.items():
        print(f"  {k}: {v}", flush=True)
    return out
