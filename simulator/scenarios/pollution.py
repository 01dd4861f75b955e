"""Pollution episode around Songshan Lake: on a still, humid day the factories round the lake
(Songshan Lake, Dalingshan, Liaobu, Dalang) over-emit VOCs and SO2, and the plume raises PM2.5 at
the nearby air stations.

Beats (model hours after the start):
    0    emissions rise at the nearest pollution sources (VOCs past 60, 80, 120 mg/m³)
    1    the environment platform reports the emission exceedance (pollution_source event)
    2    PM2.5 at the stations within 12 km climbs past 115-150 µg/m³; air_station event
    5    enforcement: emissions fall back; PM2.5 decays over two hours
    7.5  events closed                                 8  end
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.physics import air
from simulator.placement import KM_LAT, KM_LON
from simulator.scenarios.base import Scenario

H = 3600.0
LAKE = (113.880, 22.930)  # Songshan Lake, the water
SOURCES = 8
STATION_RADIUS_KM = 12.0
PLUME_UGM3, PLUME_KM = 220.0, 6.0  # PM2.5 the plume adds at the nearest station; e-folding km


@dataclass
class SongshanPollution(Scenario):
    name: str = "pollution"
    title_zh: str = "松山湖周边污染过程"
    title_en: str = "Pollution episode around Songshan Lake"
    duration_s: float = 8 * H

    def setup(self) -> None:
        sim = self.sim
        assert sim is not None
        d = sim.city.devices
        ps, aq = d.of_type("pollution_source"), d.of_type("air_station")
        dist = lambda i: np.hypot((d.lon[i] - LAKE[0]) / KM_LON, (d.lat[i] - LAKE[1]) / KM_LAT)  # noqa: E731
        self.src = ps[np.argsort(dist(ps))[:SOURCES]]
        self.stations = aq[dist(aq) <= STATION_RADIUS_KM]
        # The plume drifts over the nearest station first (wind from the lake): distances are
        # counted from it, so the nearest station always sees the full plume.
        km = dist(self.stations)
        self.station_km = km - km.min() if len(km) else km
        self.targets = {"pollution_source": self.src, "air_station": self.stations}
        self.inject_every(0, 7.5 * H, 15 * 60, "air_station", self.stations, self._air)
        lon, lat = LAKE
        self.plan(1 * H, "events", "environment", lambda ts: [self._event(ts, "pollution_source", "open")],
                  "污染源超标排放 / emission exceedance reported")
        self.plan(2 * H, "events", "environment", lambda ts: [self._event(ts, "air_station", "open")],
                  "空气质量重度污染 / heavy air pollution reported")
        self.plan(7.5 * H, "events", "environment",
                  lambda ts: [self._event(ts, "pollution_source", "closed"), self._event(ts, "air_station", "closed")],
                  "事件结案 / closed")
        self._lonlat = (lon, lat)
        self.beat(0, "周边企业排放上升 / emissions rising")
        self.beat(5 * H, "执法整改，排放回落 / enforcement, emissions fall")

    def _event(self, ts: float, kind: str, state: str) -> dict[str, Any]:
        title = ("松山湖周边企业VOCs排放超标" if kind == "pollution_source" else "松山湖片区空气质量重度污染")
        title_en = ("VOC emissions above limit round Songshan Lake" if kind == "pollution_source"
                    else "Heavy air pollution in the Songshan Lake area")
        return {"type": kind, "external_id": f"HB-{int(self.t0)}-{kind}", "ts": ts, "level": 3,
                "title": title, "title_en": title_en, "town": "songshanhu",
                "message": "生态环境局在线监测平台：多家企业排放超标，已通知执法支队现场核查。",
                "lon": self._lonlat[0], "lat": self._lonlat[1], "state": state}

    def _intensity(self, t: np.ndarray) -> np.ndarray:
        on = (t >= self.t0) & (t < self.t0 + self.duration_s)
        return (self.ramp(t, 0, 1 * H) * (1 - self.ramp(t, 5 * H, 1 * H))) * on

    def _plume(self, t: np.ndarray) -> np.ndarray:
        on = (t >= self.t0) & (t < self.t0 + self.duration_s)
        return (self.ramp(t, 0.5 * H, 1.5 * H) * (1 - self.ramp(t, 5 * H, 2 * H))) * on

    def _air(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        sim = self.sim
        assert sim is not None
        v = air.air_station(sim.ctx, idx, t, np.floor(t / 900).astype(np.int64))
        self.modify("air_station", idx, t, v)
        return v

    def modify(self, code: str, idx: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray]) -> None:
        pos, dev = self.mask(code, idx)
        if len(pos) == 0:
            return
        tt = t[pos]
        if code == "pollution_source":
            k = self._intensity(tt)
            boost = 1 + k * (3.5 + 2.0 * self.sim.ctx.u(130, dev))  # type: ignore[union-attr]
            values["voc"][pos] = np.round(np.clip(values["voc"][pos] * boost, 0, 499), 2)
            values["so2"][pos] = np.round(np.clip(values["so2"][pos] * (1 + 2 * k), 0, 999), 2)
        elif code == "air_station":
            km = self.station_km[np.searchsorted(self.stations, dev)]
            add = self._plume(tt) * PLUME_UGM3 * np.exp(-km / PLUME_KM)
            values["pm25"][pos] = np.round(values["pm25"][pos] + add, 1)
            values["pm10"][pos] = np.round(values["pm10"][pos] + 1.3 * add, 1)
