"""Typhoon rainstorm: a typhoon makes landfall west of the Pearl River estuary; its rain bands
sweep Dongguan for two days and the rivers of the water towns rise.

The weather is the real record of Typhoon Utor (尤特, landfall at Yangjiang on 14 August 2013)
as it passed Guangzhou, replayed from 2013-08-14 06:00, its precipitation scaled by 3.2 (Utor's
21 mm/h bursts at Guangzhou become the ~70 mm/h bursts of a direct hit) and heavier towards
the estuary in the south-west. A storm surge of up to 0.9 m builds at the river mouths after
landfall. The meteorological service posts CAP warnings, one chain per signal (typhoon blue ->
yellow -> orange -> red; rainstorm yellow -> orange -> red; downgrades; lifted), and the urban
management platform reports waterlogged roads in the water towns.

Beats (model hours after the start; the record's heaviest rain falls at +31 h and +32 h):
    0  typhoon blue          3  typhoon yellow        8  typhoon orange
    14 rainstorm yellow      20 typhoon red           22 rainstorm orange
    30 rainstorm red         31 waterlogging cases in five water towns
    38 both downgraded to yellow                      44 both lifted, cases closed
    48 end (the rivers are still falling)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from citymodel.towns import Town
from simulator.capmsg import WarningChain
from simulator.placement import WATER_TOWNS
from simulator.scenarios.base import Scenario
from simulator.weather import CN_TZ

H = 3600.0
REPLAY_FROM = datetime(2013, 8, 14, 6, tzinfo=CN_TZ)
PRECIP_SCALE = 3.2
SURGE_M = 0.9


@dataclass
class TyphoonRainstorm(Scenario):
    name: str = "typhoon"
    title_zh: str = "台风暴雨"
    title_en: str = "Typhoon rainstorm"
    duration_s: float = 48 * H
    cap_status: str = "Exercise"

    def setup(self) -> None:
        sim = self.sim
        assert sim is not None
        sim.ctx.weather.replay(self.t0, self.t0 + self.duration_s, REPLAY_FROM, PRECIP_SCALE)
        sim.ctx.rain_factor.append(self._tilt)
        sim.hydro.surge.append(self._surge)
        d = sim.city.devices
        water = np.isin(d.town, [sim.city.towns.index(t) for t in sim.city.towns if t.code in WATER_TOWNS])
        self.targets = {"water_level": d.of_type("water_level"),
                        "rain_gauge": d.of_type("rain_gauge")[water[d.of_type("rain_gauge")]]}
        key = f"{sim.seed}-{int(self.t0)}"
        typhoon = WarningChain(f"TY-{key}", "台风", "Typhoon", status=self.cap_status)
        storm = WarningChain(f"RS-{key}", "暴雨", "Rainstorm", status=self.cap_status)
        guide = "请做好防风防汛准备，水乡片区注意河道水位上涨，危险区域人员及时转移。"
        for off, chain, level, note in (
            (0.0, typhoon, 1, "台风蓝色预警 / typhoon blue"),
            (3 * H, typhoon, 2, "台风黄色预警 / typhoon yellow"),
            (8 * H, typhoon, 3, "台风橙色预警 / typhoon orange"),
            (14 * H, storm, 2, "暴雨黄色预警 / rainstorm yellow"),
            (20 * H, typhoon, 4, "台风红色预警 / typhoon red"),
            (22 * H, storm, 3, "暴雨橙色预警 / rainstorm orange"),
            (30 * H, storm, 4, "暴雨红色预警 / rainstorm red"),
            (38 * H, typhoon, 2, "台风降为黄色 / typhoon down to yellow"),
            (38 * H + 60, storm, 2, "暴雨降为黄色 / rainstorm down to yellow"),
        ):
            self.plan(off, "cap", "weather", lambda ts, c=chain, lv=level: c.message(ts, lv, instruction=guide), note)
        self.plan(44 * H, "cap", "weather", lambda ts: typhoon.message(ts, 2, msg_type="Cancel"),
                  "台风预警解除 / typhoon warning lifted")
        self.plan(44 * H + 60, "cap", "weather", lambda ts: storm.message(ts, 2, msg_type="Cancel"),
                  "暴雨预警解除 / rainstorm warning lifted")
        towns = [t for t in sim.city.towns if t.code in ("zhongtang", "machong", "wangniudun", "hongmei", "daojiao")]
        self.plan(31 * H, "events", "urban", lambda ts: [self._case(ts, t, "open") for t in towns],
                  "水乡片区道路积水 / waterlogged roads")
        self.plan(44 * H + 120, "events", "urban", lambda ts: [self._case(ts, t, "closed") for t in towns],
                  "积水案件结案 / cases closed")

    def _case(self, ts: float, town: Town, state: str) -> dict[str, Any]:
        lon, lat = town.centroid
        return {"type": "urban_case", "external_id": f"CG-{int(self.t0)}-{town.code}-waterlog",
                "ts": ts, "level": 3, "title": f"{town.info.name_zh}主干道严重积水", "title_en": "Road waterlogged",
                "message": "智慧城管巡查上报：路面积水超过30厘米，车辆无法通行。", "town": town.code,
                "lon": round(lon, 6), "lat": round(lat, 6), "state": state}

    def _tilt(self, t: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Heavier rain towards the estuary (south-west) while the scenario runs."""
        on = (t >= self.t0) & (t < self.t0 + self.duration_s)
        tilt = 1.0 + 0.35 * np.clip((113.95 - lon) / 0.4, -1, 1) * np.clip((23.15 - lat) / 0.5, 0, 1.2)
        return np.where(on, tilt, 1.0)

    def _surge(self, t: np.ndarray) -> np.ndarray:
        """Storm surge at the mouths: builds from landfall (+20 h), peaks at +30 h, gone by +42 h."""
        x = (np.asarray(t) - self.t0) / H
        return SURGE_M * np.clip(np.minimum((x - 20) / 10, (42 - x) / 12), 0, 1)
