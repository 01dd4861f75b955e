"""High-rise fire in Nancheng: a fire starts on a middle floor of the tallest tower in Nancheng
(the city's `nancheng_highrise` landmark, a key unit with a plan), spreads upwards, and the fire
brigade's nearest stations respond.

Beats (model minutes after the start):
    0    smoke at the origin floor's detector; others in the tower follow floor by floor
    2    fire brigade dispatched: the nearest station's whole turnout, two vehicles from the
         second and the aerial platform from the third; positions every 20 s on the way
    3    heat detectors rise (~13 °C/min; alarm above 68 °C)
    8    smoke drifts into neighbouring buildings (within 200 m)
    40   fire under control: heat and smoke fall
    70   vehicles return to their stations             90  end
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from protocol.enums import ResourceKind, ResourceStatus
from simulator.assets import ResourceSpec
from simulator.city import neighbours
from simulator.physics import urban
from simulator.placement import KM_LAT, KM_LON
from simulator.scenarios.base import Scenario

MIN = 60.0
SPEED_KMH = 40.0
POS_EVERY_S = 20.0
CONTROL_S, RETURN_S = 40 * MIN, 70 * MIN


@dataclass
class HighRiseFire(Scenario):
    name: str = "fire"
    title_zh: str = "南城高层建筑火灾"
    title_en: str = "High-rise fire in Nancheng"
    duration_s: float = 90 * MIN
    tower: int = -1
    vehicles: list[ResourceSpec] = field(default_factory=list)

    def setup(self) -> None:
        sim = self.sim
        assert sim is not None
        city, d = sim.city, sim.city.devices
        self.tower = city.landmarks["nancheng_highrise"]
        near = neighbours(city, self.tower, 200.0)[:6]
        smoke, fire = d.of_type("smoke_detector"), d.of_type("fire_detector")
        self.tower_smoke = smoke[d.premises[smoke] == self.tower]
        self.tower_fire = fire[d.premises[fire] == self.tower]
        self.near_smoke = smoke[np.isin(d.premises[smoke], near)]
        self.targets = {"smoke_detector": np.concatenate([self.tower_smoke, self.near_smoke]),
                        "fire_detector": self.tower_fire}
        # Floor-by-floor start times: the origin first, then upwards.
        self.smoke_start = {int(i): 0.0 if j == 0 else 45.0 + 40.0 * j for j, i in enumerate(self.tower_smoke)}
        self.fire_start = {int(i): 3 * MIN + 50.0 * j for j, i in enumerate(self.tower_fire)}
        self.inject_every(0, RETURN_S, 30, "smoke_detector", self.tower_smoke, self._smoke)
        self.inject_every(3 * MIN, RETURN_S, 30, "fire_detector", self.tower_fire, self._fire)
        self.inject_every(8 * MIN, 50 * MIN, 60, "smoke_detector", self.near_smoke, self._smoke)
        self._dispatch()
        self.beat(0, "起火楼层烟感报警 / smoke at the origin floor")
        self.beat(3 * MIN, "感温探测器升温报警 / heat detectors alarm")
        self.beat(8 * MIN, "烟气蔓延至相邻建筑 / smoke reaches neighbouring buildings")
        self.beat(CONTROL_S, "火势得到控制 / fire under control")

    # ---- detectors -----------------------------------------------------------------------------

    def _smoke(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        sim = self.sim
        assert sim is not None
        v = urban.smoke_detector(sim.ctx, idx, t, np.floor(t / 30).astype(np.int64))
        self._story_smoke(idx, t, v)
        return v

    def _story_smoke(self, idx: np.ndarray, t: np.ndarray, v: dict[str, np.ndarray]) -> None:
        in_tower = np.isin(idx, self.tower_smoke)
        start = np.array([self.smoke_start.get(int(i), 8 * MIN + 30.0 * (int(i) % 7)) for i in idx])
        peak = np.where(in_tower, 0.6 + 0.5 * self.sim.ctx.u(120, idx), 0.12 + 0.25 * self.sim.ctx.u(121, idx))
        up = self.ramp(t, 0, 1) * np.clip((t - self.t0 - start) / 120.0, 0, 1)
        down = 1 - 0.9 * self.ramp(t, CONTROL_S, 20 * MIN)
        v["smoke"] = np.round(np.maximum(v["smoke"], peak * up * down * (t < self.t0 + self.duration_s)), 3)

    def _fire(self, idx: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        sim = self.sim
        assert sim is not None
        v = urban.fire_detector(sim.ctx, idx, t, np.floor(t / 30).astype(np.int64))
        self._story_fire(idx, t, v)
        return v

    def _story_fire(self, idx: np.ndarray, t: np.ndarray, v: dict[str, np.ndarray]) -> None:
        start = np.array([self.fire_start.get(int(i), 3 * MIN) for i in idx])
        heat = 130.0 * np.clip((t - self.t0 - start) / (10 * MIN), 0, 1)
        heat *= 1 - self.ramp(t, CONTROL_S, 20 * MIN)
        heat *= (t >= self.t0) & (t < self.t0 + self.duration_s)
        v["temp"] = np.round(v["temp"] + heat, 1)
        v["alarm"] = (v["temp"] > 68).astype(float)

    def modify(self, code: str, idx: np.ndarray, t: np.ndarray, values: dict[str, np.ndarray]) -> None:
        pos, dev = self.mask(code, idx)
        if len(pos) == 0:
            return
        sub = {m: np.asarray(v)[pos].copy() for m, v in values.items()}
        if code == "smoke_detector":
            self._story_smoke(dev, t[pos], sub)
        elif code == "fire_detector":
            self._story_fire(dev, t[pos], sub)
        for m, v in sub.items():
            values[m][pos] = v

    # ---- the brigade --------------------------------------------------------------------------

    def _dispatch(self) -> None:
        sim = self.sim
        assert sim is not None
        res = sim.city.resources
        p = sim.city.premises
        tx, ty = float(p.lon[self.tower]), float(p.lat[self.tower])
        stations = [r for r in res if r.kind == ResourceKind.FIRE_STATION.value]
        dist = [np.hypot((s.lon - tx) / KM_LON, (s.lat - ty) / KM_LAT) for s in stations]
        order = np.argsort(dist)[:3]
        by_station = {s.id: [r for r in res if r.kind == ResourceKind.FIRE_VEHICLE.value
                             and r.detail.get("station_id") == s.id] for s in stations}
        first, second, third = (by_station[stations[i].id] for i in order)
        aerial = [v for v in third if "登高" in v.name or "云梯" in v.name or "举高" in v.name][:1] or third[:1]
        self.vehicles = first + second[:2] + aerial
        routes = [_route(v.lon, v.lat, tx, ty) for v in self.vehicles]
        go = 2 * MIN
        travel = [r.length_km / SPEED_KMH * 3600 for r in routes]
        for off in np.arange(go, go + max(travel) + POS_EVERY_S, POS_EVERY_S):
            self.plan(float(off), "positions", "fire", self._positions(routes, travel, float(off - go), False),
                      "消防车辆出动 / brigade dispatched" if off == go else "")
        for off in np.arange(RETURN_S, RETURN_S + max(travel) + POS_EVERY_S, POS_EVERY_S):
            self.plan(float(off), "positions", "fire", self._positions(routes, travel, float(off - RETURN_S), True),
                      "车辆返回 / vehicles return" if off == RETURN_S else "")

    def _positions(self, routes: list[_Route], travel: list[float], dt: float, back: bool) -> Any:
        out = []
        for v, r, T in zip(self.vehicles, routes, travel, strict=True):
            f = min(dt / T, 1.0) if T > 0 else 1.0
            lon, lat = r.at(1 - f if back else f)
            if back:
                status = ResourceStatus.AVAILABLE if f >= 1 else ResourceStatus.BUSY
            else:
                status = ResourceStatus.BUSY if f >= 1 else ResourceStatus.DISPATCHED
            out.append((v.id, round(lon, 6), round(lat, 6), status.value))

        def payload(ts: float) -> list[dict[str, Any]]:
            return [{"resource_id": i, "lon": lo, "lat": la, "ts": ts, "status": s} for i, lo, la, s in out]

        return payload


@dataclass
class _Route:
    """A street route: along the east-west street, then the north-south one (an L)."""

    pts: list[tuple[float, float]]

    @property
    def legs(self) -> list[float]:
        return [float(np.hypot((b[0] - a[0]) / KM_LON, (b[1] - a[1]) / KM_LAT))
                for a, b in zip(self.pts, self.pts[1:], strict=False)]

    @property
    def length_km(self) -> float:
        return sum(self.legs)

    def at(self, f: float) -> tuple[float, float]:
        target = f * self.length_km
        for (a, b), leg in zip(zip(self.pts, self.pts[1:], strict=False), self.legs, strict=True):
            if target <= leg or leg == 0:
                g = target / leg if leg > 0 else 1.0
                return a[0] + (b[0] - a[0]) * g, a[1] + (b[1] - a[1]) * g
            target -= leg
        return self.pts[-1]


def _route(x0: float, y0: float, x1: float, y1: float) -> _Route:
    return _Route([(x0, y0), (x1, y0), (x1, y1)])
