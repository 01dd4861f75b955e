"""The simulation core (sans-I/O): which devices report in a model-time window and what they read.

    sim = Simulation(city)
    batches = sim.step(t0, t1)   # every device's latest reading due in (t0, t1]

Each device reports every `period_s` of its type at a fixed phase (hashed from the seed), so the
reading of device i at its k-th report is a pure function of (seed, i, k): stepping a day in one
call or in 86,400 one-second ticks gives the same readings. Publishing, wall clocks and speed
live in simulator.runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator import faults
from simulator.city import City
from simulator.devices import TYPE_CODES
from simulator.physics import air, urban
from simulator.physics.base import Ctx
from simulator.physics.hydro import Hydro
from simulator.platforms import UrbanCases
from simulator.scenarios.base import Action, Scenario
from simulator.weather import Weather
from sync_service.catalog import DEVICE_TYPES, DEVICE_TYPES_BY_CODE

# Metrics whose non-zero value is an event that must never be thinned away by a rate cap.
EVENT_METRICS = frozenset({"alarm", "sos", "violation", "intrusion"})


@dataclass
class TypeBatch:
    """Readings of one device type in one step (parallel arrays)."""

    code: str
    domain: str
    idx: np.ndarray  # device indices
    t: np.ndarray  # model time of each reading
    values: dict[str, np.ndarray]
    garbage: np.ndarray  # int8 faults.G_* code
    priority: np.ndarray  # bool: scenario device or an event value (never thinned)

    def __len__(self) -> int:
        return len(self.idx)


Model = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


class Simulation:
    def __init__(self, city: City, *, seed: int | None = None, weather: Weather | None = None,
                 with_faults: bool = True, platform_events: bool = True) -> None:
        self.city = city
        self.seed = city.seed if seed is None else seed
        self.ctx = Ctx(city, self.seed, weather or Weather())
        self.hydro = Hydro(self.ctx)
        self.with_faults = with_faults
        d = city.devices
        n = len(d)
        self.period = np.array([float(DEVICE_TYPES[i].period_s) for i in d.type_idx])
        self.phase = self.ctx.u(1, np.arange(n)) * self.period
        self.protected = np.zeros(n, dtype=bool)
        self.scenarios: list[Scenario] = []
        # The everyday traffic of the connected platforms (urban-management cases).
        self.platforms = UrbanCases(city, self.seed) if platform_events else None
        self._by_type = [np.flatnonzero(d.type_idx == ti) for ti in range(len(TYPE_CODES))]
        ctx, hy = self.ctx, self.hydro
        self.models: dict[str, Model] = {
            "smoke_detector": lambda i, t, k: urban.smoke_detector(ctx, i, t, k),
            "fire_detector": lambda i, t, k: urban.fire_detector(ctx, i, t, k),
            "water_level": hy.level,
            "rain_gauge": hy.rain_gauge,
            "school_alarm": lambda i, t, k: urban.school_alarm(ctx, i, t, k),
            "school_bus": lambda i, t, k: urban.school_bus(ctx, i, t, k),
            "sanitation_card": lambda i, t, k: urban.sanitation_card(ctx, i, t, k),
            "gas_pressure": lambda i, t, k: urban.gas_pressure(ctx, i, t, k),
            "manhole_cover": hy.manhole,
            "air_station": lambda i, t, k: air.air_station(ctx, i, t, k),
            "pollution_source": lambda i, t, k: air.pollution_source(ctx, i, t, k),
            "kitchen_camera": lambda i, t, k: urban.kitchen_camera(ctx, i, t, k),
            "coastal_radar": lambda i, t, k: urban.coastal_radar(ctx, i, t, k),
            "traffic_flow": lambda i, t, k: urban.traffic_flow(ctx, i, t, k, hy.rain(i, t)),
        }

    # ---- scenarios ---------------------------------------------------------------------------

    def add_scenario(self, scenario: Scenario, t0: float) -> Scenario:
        scenario.bind(self, t0)
        self.scenarios.append(scenario)
        self.hydro.invalidate()
        return scenario

    def actions(self, t0: float, t1: float) -> list[Action]:
        """Scenario actions due up to t1 (each once) and the platforms' everyday events in
        (t0, t1], in time order."""
        out = [a for s in self.scenarios for a in s.actions(t0, t1)]
        if self.platforms is not None:
            out += self.platforms.actions(t0, t1)
        return sorted(out, key=lambda a: a.t)

    # ---- readings ----------------------------------------------------------------------------

    def due(self, ti: int, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Devices of type ti with a report in (t0, t1]: (indices, report times, counters).
        A device due several times in the window reports once, at its latest time."""
        idx = self._by_type[ti]
        if len(idx) == 0:
            return idx, np.empty(0), np.empty(0, np.int64)
        p, ph = self.period[idx], self.phase[idx]
        k = np.floor((t1 - ph) / p)
        t = ph + k * p
        sel = t > t0
        return idx[sel], t[sel], k[sel].astype(np.int64)

    def step(self, t0: float, t1: float) -> list[TypeBatch]:
        """Readings due in (t0, t1]: the devices' periodic reports (after faults, with the
        scenarios' overrides), then the scenarios' injected event reports."""
        out = []
        for ti, code in enumerate(TYPE_CODES):
            idx, t, k = self.due(ti, t0, t1)
            if len(idx) == 0:
                continue
            garbage = np.zeros(len(idx), np.int8)
            t_val, k_val = t, k
            if self.with_faults:
                f = faults.apply(self.ctx, idx, t, k, self.period[idx], self.phase[idx], self.protected)
                idx, t, t_val, k_val, garbage = idx[f.keep], t[f.keep], f.t[f.keep], f.k[f.keep], f.garbage[f.keep]
                if len(idx) == 0:
                    continue
            values = self.models[code](idx, t_val, k_val)
            for s in self.scenarios:
                s.modify(code, idx, t_val, values)
            priority = self.protected[idx].copy()
            for m, v in values.items():
                if m in EVENT_METRICS:
                    priority |= v > 0
            out.append(TypeBatch(code, DEVICE_TYPES[ti].domain, idx, t, values, garbage, priority))
        for s in self.scenarios:
            for inj in s.injections(t1):
                t = np.full(len(inj.idx), inj.t)
                values = inj.values(inj.idx, t)
                out.append(TypeBatch(inj.code, DEVICE_TYPES_BY_CODE[inj.code].domain, inj.idx, t, values,
                                     np.zeros(len(inj.idx), np.int8), np.ones(len(inj.idx), bool)))
        return out
