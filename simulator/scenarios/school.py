"""School one-click alarm: a guard presses the one-click alarm at a school gate (an intruder),
a second button in the teaching block follows; the alarm stays latched until the police and
the school's security reset it.

Beats (model minutes after the start): 0 gate alarm; 0:20 teaching-block alarm; alarms
re-reported every minute while latched; 12 reset (alarm 0); 15 end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenarios.base import Scenario

MIN = 60.0
RESET_S = 12 * MIN
PREFERRED_TOWNS = ("dongcheng", "nancheng", "wanjiang", "guancheng")


@dataclass
class SchoolAlarm(Scenario):
    name: str = "school"
    title_zh: str = "校园一键报警"
    title_en: str = "School one-click alarm"
    duration_s: float = 15 * MIN
    school: int = -1

    def setup(self) -> None:
        sim = self.sim
        assert sim is not None
        city, d = sim.city, sim.city.devices
        sa = d.of_type("school_alarm")
        prem = d.premises[sa]
        counts = np.bincount(prem[prem >= 0], minlength=len(city.premises))
        preferred = np.isin(city.premises.town, [city.towns.index(t) for t in city.towns if t.code in PREFERRED_TOWNS])
        score = counts * (1 + preferred)
        self.school = int(np.argmax(score))
        alarms = sa[prem == self.school][:2]
        self.targets = {"school_alarm": alarms}
        self.inject(0, "school_alarm", alarms[:1], self._on)
        self.inject_every(20, RESET_S, MIN, "school_alarm", alarms, self._state)
        self.inject(RESET_S, "school_alarm", alarms, self._off)
        self.beat(0, "校门一键报警 / gate alarm pressed")
        self.beat(20, "教学楼一键报警 / teaching-block alarm")
        self.beat(RESET_S, "警情解除、报警复位 / alarms reset")

    def _state(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return {"alarm": np.ones(len(idx))}

    _on = _state

    def _off(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return {"alarm": np.zeros(len(idx))}

    def modify(self, code: str, idx: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray]) -> None:
        pos, _ = self.mask(code, idx)
        if len(pos):
            latched = (t[pos] >= self.t0) & (t[pos] < self.t0 + RESET_S)
            values["alarm"][pos] = np.where(latched, 1.0, 0.0)
