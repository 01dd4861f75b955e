"""What a scenario is: a timed story laid over the ordinary city.

A scenario is bound to a simulation at a model start time t0. From then on it may
- change the weather (replay a real storm, scale the rain, add a storm surge);
- override the periodic readings of the devices it tells its story with (`modify`); those
  devices are protected from faults and from rate-limit thinning;
- inject extra readings at exact times (`inject`): detectors report an alarm the moment it
  happens, not at their next heartbeat;
- post actions at given times (`plan`): CAP warnings, platform events, vehicle positions, each
  over HTTP under a bureau's credential. A payload is built when it is sent, from the wire
  timestamp of its model time, so its times are the times the service sees.
`timeline()` lists the beats, for logs and docs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from simulator.engine import Simulation

ValueFn = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]  # (device idx, times) -> values


@dataclass
class Action:
    """One HTTP post. kind: "cap" (payload(ts) -> CAP XML text), "events" (-> list of events),
    "positions" (-> list of positions); domain: whose bureau credential signs it."""

    t: float
    kind: str
    domain: str
    payload: Callable[[float], Any]
    note: str = ""


@dataclass
class Injection:
    t: float
    code: str  # device type
    idx: np.ndarray
    values: ValueFn


@dataclass
class Scenario:
    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    duration_s: float = 3600.0
    t0: float = 0.0
    sim: Simulation | None = None
    targets: dict[str, np.ndarray] = field(default_factory=dict)  # device type -> device indices
    _actions: list[Action] = field(default_factory=list)
    _inj: list[Injection] = field(default_factory=list)
    _beats: list[tuple[float, str]] = field(default_factory=list)
    _sent: int = 0
    _injected: int = 0

    # ---- life cycle ----------------------------------------------------------------------

    def bind(self, sim: Simulation, t0: float) -> None:
        self.sim, self.t0 = sim, t0
        self.setup()
        self._actions.sort(key=lambda a: a.t)
        self._inj.sort(key=lambda j: j.t)
        for idx in self.targets.values():
            sim.protected[idx] = True

    def setup(self) -> None:
        """Choose the devices, register weather changes, plan actions and injections."""

    def modify(self, code: str, idx: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Override (in place) the values of this scenario's devices among idx of type code."""

    def timeline(self) -> list[tuple[float, str]]:
        """(offset in model seconds, what happens) for the story's beats."""
        return sorted(self._beats + [(a.t - self.t0, a.note) for a in self._actions if a.note])

    def active(self, t: float) -> bool:
        return self.t0 <= t < self.t0 + self.duration_s

    # ---- planning --------------------------------------------------------------------------

    def plan(self, offset_s: float, kind: str, domain: str, payload: Callable[[float], Any], note: str = "") -> None:
        self._actions.append(Action(self.t0 + offset_s, kind, domain, payload, note))

    def beat(self, offset_s: float, note: str) -> None:
        """A beat of the story with no action of its own (for the timeline)."""
        self._beats.append((offset_s, note))

    def inject(self, offset_s: float, code: str, idx: np.ndarray, values: ValueFn) -> None:
        if len(idx):
            self._inj.append(Injection(self.t0 + offset_s, code, np.asarray(idx, dtype=np.int64), values))

    def inject_every(self, start_s: float, end_s: float, step_s: float, code: str, idx: np.ndarray,
                     values: ValueFn) -> None:
        for off in np.arange(start_s, end_s, step_s):
            self.inject(float(off), code, idx, values)

    # ---- what the engine asks ------------------------------------------------------------------

    def actions(self, t0: float, t1: float) -> list[Action]:
        """Actions due up to t1 not yet returned, in order (one due before t0, e.g. after a
        slow tick, is still returned: a story never skips a beat)."""
        out = []
        while self._sent < len(self._actions) and self._actions[self._sent].t <= t1:
            out.append(self._actions[self._sent])
            self._sent += 1
        return out

    def injections(self, t1: float) -> list[Injection]:
        out = []
        while self._injected < len(self._inj) and self._inj[self._injected].t <= t1:
            out.append(self._inj[self._injected])
            self._injected += 1
        return out

    # ---- helpers -----------------------------------------------------------------------------

    def mask(self, code: str, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions within idx, the device indices there) of this scenario's devices."""
        tgt = self.targets.get(code)
        if tgt is None or len(tgt) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        hit = np.flatnonzero(np.isin(idx, tgt))
        return hit, idx[hit]

    def ramp(self, t: np.ndarray | float, start_s: float, ramp_s: float) -> np.ndarray:
        """0 before t0+start_s, rising linearly to 1 over ramp_s."""
        return np.clip((np.asarray(t, dtype=float) - self.t0 - start_s) / max(ramp_s, 1e-9), 0.0, 1.0)
