"""Simulator: can 100,000 devices be simulated and encoded at 60x on this machine, and how fast
is provisioning?

- sim.build_s: build_city(seed, n) (devices, resources, key units).
- sim.readings_per_s: readings simulated, rate-checked and encoded to wire JSON per CPU second
  (60x: each step covers one model minute); sim.demand_60x_per_s: what 100k devices at their
  nominal periods need at 60x; sim.headroom_60x = the ratio (> 1: sustainable).
- sim.encode_ratio: the whole step (physics + faults + encode + JSON) against JSON-encoding the
  same readings alone (the baseline, same run).
- sim.provision_s / sim.provision_rows_per_s: provision() into a fresh SQLite store;
  sim.provision_ratio: against a raw sqlite3 executemany of the same device rows.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy.orm import Session

from simulator.city import build_city
from simulator.engine import Simulation
from simulator.publishers import chunks
from simulator.wire import Encoder
from sync_service.catalog import DEVICE_TYPES
from sync_service.db.engine import make_engine, migrate
from sync_service.seed import seed_reference

NAME = "sim"


def run(quick: bool) -> dict[str, float | int | str]:
    n = 20_000 if quick else 100_000
    t = time.perf_counter()
    city = build_city(2024, n)
    build_s = time.perf_counter() - t

    sim = Simulation(city)
    enc = Encoder(city, "bench")
    t0 = 1720000000.0
    steps = 5 if quick else 10
    readings = 0
    payloads: list[list[dict]] = []
    t = time.perf_counter()
    for k in range(steps):
        batches = sim.step(t0 + 60 * k, t0 + 60 * (k + 1))
        wire = enc.encode(batches, lambda x: x)
        for items in wire.batches.values():
            for part in chunks(items):
                orjson.dumps({"credential": "x", "readings": part})
            payloads.append(items)
        for _, _, _, p in wire.direct:
            orjson.dumps(p)
        readings += wire.count
    full_s = time.perf_counter() - t
    t = time.perf_counter()
    for items in payloads:
        for part in chunks(items):
            orjson.dumps({"credential": "x", "readings": part})
    json_s = time.perf_counter() - t
    demand = sum(round(n * d.share / sum(x.share for x in DEVICE_TYPES)) / d.period_s for d in DEVICE_TYPES) * 60

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        with Session(engine) as s, s.begin():
            seed_reference(s)
        t = time.perf_counter()
        from simulator.provision import provision

        with Session(engine) as s, s.begin():
            added = provision(s, city, "bench")
        prov_s = time.perf_counter() - t
        engine.dispose()
        rows = [(u, "x" * 64, float(i), float(i)) for i, u in enumerate(city.devices.uid)]
        con = sqlite3.connect(Path(tmp) / "raw.db")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE d (uid TEXT UNIQUE, h TEXT, lon REAL, lat REAL)")
        t = time.perf_counter()
        with con:
            con.executemany("INSERT INTO d VALUES (?, ?, ?, ?)", rows)
        raw_s = time.perf_counter() - t
        con.close()

    total_rows = sum(added.values())
    out: dict[str, float | int | str] = {
        "devices": n,
        "build_s": round(build_s, 2),
        "readings_per_s": round(readings / full_s),
        "demand_60x_per_s": round(demand),
        "headroom_60x": round(readings / full_s / demand, 2),
        "encode_ratio": round(full_s / max(json_s, 1e-9), 1),
        "provision_s": round(prov_s, 2),
        "provision_rows_per_s": round(total_rows / prov_s),
        "provision_ratio": round(prov_s / max(raw_s, 1e-9), 1),
    }
    print(f"  city of {n} built in {build_s:.1f} s; {readings} readings in {full_s:.2f} s "
          f"({out['readings_per_s']}/s, 60x needs {out['demand_60x_per_s']}/s); JSON alone {json_s:.2f} s")
    print(f"  provision {total_rows} rows in {prov_s:.1f} s (raw sqlite3 devices-only executemany {raw_s:.2f} s)")
    return out
