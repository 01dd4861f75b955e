"""Drives the simulation in real time and publishes what it produces.

Model time runs `speed` times faster than the wall clock from `model_start` (default: now).
The timestamps on the wire are wall-clock times (a reading of model time t is stamped
wall0 + (t - model0) / speed, the moment it is sent), so the service never sees readings from
the future: at 60x an hour of the story passes in a minute, stamped in that minute.

Each tick (1 s of wall time) steps the simulation over the model window it covers, thins the
readings to the rate cap if needed (never a scenario's devices or an event value such as an
alarm), encodes them and hands them to the publishers: MQTT when a broker is given (bureau
gateway batches, and per-device topics for the direct devices), HTTP otherwise. Scenario
actions (CAP warnings, platform events, vehicle positions) always go over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import numpy as np

from simulator import rng
from simulator.engine import Simulation
from simulator.keys import bureau_key
from simulator.publishers import HttpPublisher, MqttPublisher
from simulator.scenarios import make as make_scenario
from simulator.scenarios.base import Action, Scenario
from simulator.wire import Encoder, WireReadings

log = logging.getLogger(__name__)
STATS_EVERY_S = 30.0


@dataclass
class RunStats:
    ticks: int = 0
    readings: int = 0  # encoded and handed to a publisher
    thinned: int = 0  # left out by the rate cap
    garbage: int = 0
    actions: int = 0
    model_t: float = 0.0


class Runner:
    def __init__(self, sim: Simulation, *, secret: str, http: HttpPublisher, mqtt: MqttPublisher | None = None,
                 speed: float = 1.0, rate: float | None = None, tick_s: float = 1.0,
                 model_start: float | None = None, wall_start: float | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.sim, self.secret, self.http, self.mqtt = sim, secret, http, mqtt
        self.speed, self.rate, self.tick_s = speed, rate, tick_s
        self.wall0 = time.time() if wall_start is None else wall_start
        self.model0 = self.wall0 if model_start is None else model_start
        self.started_wall = self.wall0
        self.model_now = self.model0
        self.encoder = Encoder(sim.city, secret)
        self.stats = RunStats(model_t=self.model0)
        self._keys: dict[str, str] = {}

    def bureau(self, domain: str) -> str:
        k = self._keys.get(domain)
        if k is None:
            k = self._keys[domain] = bureau_key(self.secret, domain)
        return k

    def model_at(self, wall: float) -> float:
        return self.model0 + (wall - self.wall0) * self.speed

    def wire_ts(self, t_model: np.ndarray) -> np.ndarray:
        return self.wall0 + (np.asarray(t_model, dtype=float) - self.model0) / self.speed

    def set_speed(self, speed: float, wall: float | None = None) -> None:
        """Change the speed from now on: re-anchor so model time and wire times stay continuous."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        now = time.time() if wall is None else wall
        self.model0, self.wall0, self.speed = self.model_at(now), now, speed

    def start_scenario(self, name: str, *, speed: float | None = None, wall: float | None = None) -> Scenario:
        """Start a scenario now (a rehearsal asked for while running), optionally at a new speed."""
        now = time.time() if wall is None else wall
        if speed is not None and speed != self.speed:
            self.set_speed(speed, now)
        sc = make_scenario(name)
        self.sim.add_scenario(sc, max(self.model_at(now), self.model_now))
        log.info("scenario %s (%s) started at %gx", name, sc.title_zh, self.speed)
        return sc

    # ---- one tick (synchronous: testable without a loop) ---------------------------------------

    def tick(self, wall: float) -> WireReadings:
        t1 = self.model_at(wall)
        t0, self.model_now = self.model_now, t1
        if t1 <= t0:
            return WireReadings()
        batches = self.sim.step(t0, t1)
        keep = self._thin(batches, (t1 - t0) / self.speed)
        wire = self.encoder.encode(batches, self.wire_ts, keep)
        self._submit(wire)
        self._act_all(self.sim.actions(t0, t1))
        self.stats.ticks += 1
        self.stats.readings += wire.count
        self.stats.garbage += wire.garbage
        self.stats.model_t = t1
        return wire

    def _thin(self, batches: list, wall_dt: float) -> list[np.ndarray] | None:
        if not self.rate:
            return None
        total = sum(len(b) for b in batches)
        budget = self.rate * max(wall_dt, 1e-3)
        if total <= budget:
            return None
        n_pri = sum(int(b.priority.sum()) for b in batches)
        p_keep = max(0.0, (budget - n_pri) / max(total - n_pri, 1))
        keep = [b.priority | (rng.uniform(self.sim.seed, 200, b.idx, np.floor(b.t).astype(np.int64)) < p_keep)
                for b in batches]
        self.stats.thinned += total - sum(int(k.sum()) for k in keep)
        return keep

    def _submit(self, wire: WireReadings) -> None:
        if self.mqtt is not None:
            for domain, items in wire.batches.items():
                if items:
                    self.mqtt.submit_batch(domain, self.bureau(domain), items)
            for domain, dtype, uid, payload in wire.direct:
                self.mqtt.submit_reading(domain, dtype, uid, payload)
            return
        for domain, items in wire.batches.items():
            if items:
                self.http.submit_readings(self.bureau(domain), items)
        if wire.direct:
            self.http.submit_readings(None, [{"device": uid, **payload} for _, _, uid, payload in wire.direct])

    def _act_all(self, actions: list[Action]) -> None:
        """Post a step's actions: CAP warnings one by one, in order; events and positions one
        request per bureau per step (positions: the latest of each vehicle in the step; at 60x a
        step holds three 20-second fixes and the service keeps only the last anyway)."""
        events: dict[str, list[dict]] = {}
        positions: dict[str, dict[int, dict]] = {}
        for a in actions:
            payload = a.payload(float(self.wire_ts(np.array([a.t]))[0]))
            if a.kind == "cap":
                self.http.submit_cap(self.bureau(a.domain), payload)
            elif a.kind == "events":
                events.setdefault(a.domain, []).extend(payload)
            elif a.kind == "positions":
                latest = positions.setdefault(a.domain, {})
                for p in payload:
                    latest[p["resource_id"]] = p
            else:
                raise ValueError(f"unknown action kind {a.kind!r}")
            self.stats.actions += 1
            if a.note:
                log.info("scenario beat: %s", a.note)
        for domain, evs in events.items():
            if evs:
                self.http.submit_events(self.bureau(domain), evs)
        for domain, latest in positions.items():
            if latest:
                self.http.submit_positions(self.bureau(domain), list(latest.values()))

    # ---- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, duration_s: float | None = None) -> RunStats:
        """Tick until stop is set (or duration_s of wall time passed), then flush briefly."""
        tasks = [asyncio.create_task(self.http.run(), name="sim-http")]
        if self.mqtt is not None:
            tasks.append(asyncio.create_task(self.mqtt.run(), name="sim-mqtt"))
        last_log = time.time()
        try:
            while not stop.is_set():
                now = time.time()
                if duration_s is not None and now - self.started_wall >= duration_s:
                    break
                self.tick(now)
                if now - last_log >= STATS_EVERY_S:
                    last_log = now
                    self._log_stats()
                delay = self.tick_s - (time.time() - now)
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                else:
                    await asyncio.sleep(0)  # overloaded: the next window is simply longer
            pubs = [p for p in (self.http, self.mqtt) if p is not None]
            await asyncio.gather(*(p.flush(2.0) for p in pubs))
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._log_stats()
        return self.stats

    def _log_stats(self) -> None:
        s = self.stats
        pubs = {"http": self.http.stats} | ({"mqtt": self.mqtt.stats} if self.mqtt else {})
        log.info("sim t=%s readings=%d thinned=%d garbage=%d actions=%d | %s",
                 time.strftime("%Y-%m-%d %H:%M", time.localtime(s.model_t)), s.readings, s.thinned, s.garbage,
                 s.actions, " ".join(f"{k}: sent={v.readings} dropped={v.dropped} errors={v.errors}"
                                     for k, v in pubs.items()))
