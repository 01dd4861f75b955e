"""Gas-pressure drop: an excavator breaks a medium-pressure main in one pipe-network zone of
Dongcheng; pressure falls within minutes, fastest near the break; the urban-management platform
opens a repair case, the main is isolated and repaired, pressure recovers.

Beats (model minutes after the start): 0 break, pressure falling over 6 min (down to ~100 kPa
next to the break; the rule's 250/200/150 kPa levels and its 30 kPa/min rate); 6 repair case
opened; 50 repaired, pressure recovering over 20 min; 70 case closed; 75 end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.physics import urban
from simulator.placement import KM_LAT, KM_LON
from simulator.scenarios.base import Scenario

MIN = 60.0
DROP_KPA = 240.0
DECAY_KM = 1.2
REPAIRED_S = 50 * MIN
FALL_S = 6 * MIN  # ~40 kPa/min next to the break: past the rule's 30 kPa/min rate
PREFERRED_TOWNS = ("dongcheng", "nancheng", "guancheng")


@dataclass
class GasPressureDrop(Scenario):
    name: str = "gas"
    title_zh: str = "燃气管网压力骤降"
    title_en: str = "Gas-pressure drop"
    duration_s: float = 75 * MIN
    zone: int = -1

    def setup(self) -> None:
        sim = self.sim
        assert sim is not None
        city, d = sim.city, sim.city.devices
        gp = d.of_type("gas_pressure")
        pref = [city.towns.index(t) for t in city.towns if t.code in PREFERRED_TOWNS]
        zones = d.site[gp]
        counts = np.bincount(zones, minlength=4 * len(city.towns))
        counts_pref = counts * np.isin(np.arange(len(counts)) // 4, pref)
        self.zone = int(np.argmax(counts_pref if counts_pref.any() else counts))
        members = gp[zones == self.zone]
        cx, cy = d.lon[members].mean(), d.lat[members].mean()
        self.breakpoint = int(members[np.argmin(np.hypot(d.lon[members] - cx, d.lat[members] - cy))])
        bx, by = d.lon[self.breakpoint], d.lat[self.breakpoint]
        self.km = np.hypot((d.lon[members] - bx) / KM_LON, (d.lat[members] - by) / KM_LAT)
        self.members = members  # sorted: of_type returns sorted indices
        self.targets = {"gas_pressure": members}
        self.inject_every(0, self.duration_s, MIN, "gas_pressure", members, self._values)
        town = city.towns[int(d.town[self.breakpoint])]
        self._case = {"type": "urban_case", "external_id": f"CG-{int(self.t0)}-gas-{self.zone}", "level": 3,
                      "title": f"{town.info.name_zh}燃气管道破损泄漏抢修", "title_en": "Gas main broken: repair",
                      "message": "施工挖断中压燃气管道，燃气公司已关阀抢修，周边区域压力下降。",
                      "town": town.code, "lon": round(float(bx), 6), "lat": round(float(by), 6)}
        self.beat(0, "燃气管道被挖断 / gas main broken")
        self.plan(6 * MIN, "events", "urban", lambda ts: [self._event(ts, "open")], "抢修案件 / repair case opened")
        self.beat(REPAIRED_S, "抢修完成，压力恢复 / repaired, pressure recovering")
        self.plan(70 * MIN, "events", "urban", lambda ts: [self._event(ts, "closed")], "案件结案 / case closed")

    def _event(self, ts: float, state: str) -> dict[str, Any]:
        return {**self._case, "ts": ts, "state": state}

    def _values(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        sim = self.sim
        assert sim is not None
        v = urban.gas_pressure(sim.ctx, idx, t, np.floor(t / 60).astype(np.int64))
        self.modify("gas_pressure", idx, t, v)
        return v

    def modify(self, code: str, idx: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray]) -> None:
        pos, dev = self.mask(code, idx)
        if len(pos) == 0:
            return
        tt = t[pos]
        on = (tt >= self.t0) & (tt < self.t0 + self.duration_s)
        k = self.ramp(tt, 0, FALL_S) * (1 - self.ramp(tt, REPAIRED_S, 20 * MIN)) * on
        km = self.km[np.searchsorted(self.members, dev)]
        values["pressure"][pos] = np.round(np.maximum(values["pressure"][pos] - DROP_KPA * np.exp(-km / DECAY_KM) * k, 5), 1)
