"""Resume across a service crash, counted at the console: kill -9 the service mid-stream,
restart it on the same database and port, and count committed events the console never
applied (lost) and events it applied twice (duplicated). Targets: 0 and 0.

Real parts only: the service is `python -m sync_service` in a child process on SQLite; the
consoles are backend_client.ConsoleClient (outbox, resume, watchdog) in this process. Two
writer consoles raise alerts at a steady rate through their outboxes while an observer console
records the seq of every event its store applies. The service is killed (SIGKILL) several
times mid-stream. Afterwards the event log in the database is the truth the observer is
compared with, and the commands table shows whether each command id was applied once.
Also reported: how long the observer took to be back online after each restart, against the
service's own time from exec to ready (the baseline: what a restart costs before any client
work).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

NAME = "resume"
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Service:
    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url, self.log = db_url, log
        self.ws_port, self.http_port = _free_port(), _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "IOC_ADMIN_PASSWORD": "bench-admin-pw",
                    "IOC_CONFIG": "/nonexistent/bench.json", "IOC_HEARTBEAT_S": "2"}

    def start(self) -> float:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "sync_service", "--db-url", self.db_url, "--ws-port", str(self.ws_port),
               "--http-port", str(self.http_port), "--demo-users", "--no-mqtt", "--log-level", "WARNING"]
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=self.env, cwd=ROOT)
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"service exited early; see {self.log}")
            if line.startswith(b"ioc-sync ready"):
                return time.perf_counter() - t0

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _sql(db_url: str, q: str, **p: Any) -> list[Any]:
    eng = create_engine(db_url)
    try:
        with eng.connect() as c:
            return list(c.execute(text(q), p).fetchall())
    finally:
        eng.dispose()


async def _until(cond: Any, within: float) -> None:
    end = time.monotonic() + within
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.01)


async def _run(quick: bool, tmp: Path) -> dict[str, Any]:
    from app.store import Connection, StateStore
    from backend_client.client import ConsoleClient
    from backend_client.timings import ClientTimings
    from sync_service.seed import DEMO_PASSWORD

    db_url = f"sqlite:///{tmp / 'svc.db'}"
    svc = _Service(db_url, tmp / "svc.log")
    ready_s = [await asyncio.to_thread(svc.start)]
    url = f"ws://127.0.0.1:{svc.ws_port}"
    timings = ClientTimings(backoff_min_s=0.05, backoff_max_s=0.5, dead_after_s=10.0, cache_every_s=3600)

    observed = StateStore()
    applied: list[int] = []
    orig = observed.apply_events

    def recording_apply(events: Any) -> int:
        evs = list(events)
        before = observed.seq
        n = orig(evs)
        applied.extend(e.seq for e in evs if e.seq > before)
        return n

    observed.apply_events = recording_apply  # type: ignore[method-assign]
    observer = ConsoleClient(url, observed, timings=timings, local_dir=str(tmp / "observer"))
    writers = [ConsoleClient(url, StateStore(), timings=timings, local_dir=str(tmp / f"w{i}"))
               for i in range(2)]
    observer.login("operator", DEMO_PASSWORD)
    for w, user in zip(writers, ("duty", "leader"), strict=True):
        w.login(user, DEMO_PASSWORD)
    await _until(lambda: all(c.store.connection == Connection.ONLINE for c in (observer, *writers)), 30)
    snap_seq = observed.seq

    rate = 40.0  # commands/s per writer (the service's per-connection limit is 50/s)
    duration = 6.0 if quick else 20.0
    kills = 1 if quick else 3
    kill_at = [duration * (k + 1) / (kills + 1) for k in range(kills)]
    ids: list[str] = []
    back_online: list[float] = []
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < duration:
        for w in writers:
            cid, _ = w.submit("alert.raise", {"level": 1, "domain": "water", "town": "hongmei",
                                              "title": f"bench {i}"})
            if cid:
                ids.append(cid)
            i += 1
        if kill_at and time.monotonic() - t0 >= kill_at[0]:
            kill_at.pop(0)
            svc.kill()  # SIGKILL: no goodbye, commands and events in flight
            ready_s.append(await asyncio.to_thread(svc.start))
            t_ready = time.monotonic()
            await _until(lambda: observed.connection == Connection.ONLINE, 30)
            back_online.append(time.monotonic() - t_ready)
        await asyncio.sleep(1.0 / rate)
    await _until(lambda: all(len(w.dispatcher.outbox) == 0 for w in writers), 60)  # type: ignore[union-attr]
    head = _sql(db_url, "SELECT MAX(seq) FROM events")[0][0]
    await _until(lambda: observed.seq >= head, 30)
    for c in (observer, *writers):
        await c.stop()
        c.close()
    svc.stop()

    logged = {r[0] for r in _sql(db_url, "SELECT seq FROM events WHERE seq > :s", s=snap_seq)}
    lost = len(logged - set(applied))
    duplicated = len(applied) - len(set(applied))
    counts = dict(_sql(db_url, "SELECT id, COUNT(*) FROM commands GROUP BY id"))
    once = sum(1 for c in ids if counts.get(c) == 1)
    return {
        "lost": lost,
        "duplicated": duplicated,
        "events_committed": len(logged),
        "kills": kills,
        "redelivered_skipped": observer.feeder.events_skipped,
        "snapshot_reloads": observed.snapshot_reloads,
        "commands_sent": len(ids),
        "commands_applied_once": once,
        "commands_missing_or_twice": len(ids) - once,
        "service_ready_s_median": round(sorted(ready_s)[len(ready_s) // 2], 3),
        "console_back_online_after_ready_s_max": round(max(back_online), 3) if back_online else None,
    }


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ioc-bench-resume-") as d:
        out = asyncio.run(_run(quick, Path(d)))
    print(f"kill -9 x{out['kills']}: {out['events_committed']} events committed, "
          f"lost {out['lost']}, duplicated {out['duplicated']}; "
          f"{out['commands_applied_once']}/{out['commands_sent']} commands applied exactly once")
    return out
