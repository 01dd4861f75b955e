"""Rain and rivers: rain gauges, river water levels, water in manholes.

Rain at a point = the record's hourly precipitation (scaled by any scenario) times a spatial
field of drifting rain cells (a few Gaussian cells per 3-hour block, blended between blocks), so
neighbouring gauges agree and distant ones differ.

River level at a gauge = base + flood-season rise + tide + routed rain + storm surge:
- tide: M2 and S2 constituents (spring-neap beat), amplitude ~1 m at the estuary dying out
  upstream, later upstream;
- routed rain: a linear reservoir cascade, i.e. the catchment rain of the last 48 h convolved
  with a gamma unit hydrograph (shape 3) peaking `lag` hours later; the lag grows downstream
  (4 h at Shilong to 12 h at the mouth), the rise per mm/h shrinks as the river widens.
"""

from __future__ import annotations

import numpy as np

from simulator.physics.base import Ctx
from simulator.placement import load_rivers

CITY_BOX = (113.50, 22.60, 114.30, 23.20)
CELLS = 4
BLOCK_S = 3 * 3600.0
TAPS = 48
LAGS = np.arange(3, 17)  # hours, one routed series per lag class
T_M2, T_S2 = 12.4206 * 3600, 12.0 * 3600
RAIN_ZERO = 0.1  # mm/h below which a gauge reads 0
FLOOD_MAX_M = 6.0  # the most rain can raise a river here before it spreads over the polders


def _kernel(lag: float) -> np.ndarray:
    j = np.arange(TAPS, dtype=float)
    g = j**2 * np.exp(-j / (lag / 2.0))
    return g / g.sum()


_KERNELS = np.stack([_kernel(float(L)) for L in LAGS])  # (classes, TAPS)


def _prune(cache: dict[int, object], h: int, keep: int = 400) -> None:
    """Keep a cache keyed by model hour bounded on long runs (the rivers look back 48 h)."""
    if len(cache) > keep:
        for old in [k for k in cache if k < h - keep // 2]:
            del cache[old]


class Hydro:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._catch: dict[int, float] = {}
        self._routed: dict[int, np.ndarray] = {}
        self.surge: list = []  # callables t -> metres at the mouth (typhoon scenario)
        d = ctx.city.devices
        river_codes = [r.code for r in load_rivers()]
        # Effective position along the whole system: the main stem is upstream of everything.
        self._chain = np.zeros(len(d))
        for ri, code in enumerate(river_codes):
            sel = d.site == ri
            if code == "dongjiang":
                self._chain[sel] = 0.2 * d.chain[sel]
            elif code.endswith("channel"):
                self._chain[sel] = 0.5 + 0.5 * d.chain[sel]
            else:
                self._chain[sel] = 0.2 + 0.8 * d.chain[sel]

    # ---- rain -----------------------------------------------------------------------------

    def _field(self, block: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        ctx = self.ctx
        f = np.full(len(lon), 0.35)
        for j in range(CELLS):
            cx = CITY_BOX[0] + (CITY_BOX[2] - CITY_BOX[0]) * ctx.u(31, block, j)
            cy = CITY_BOX[1] + (CITY_BOX[3] - CITY_BOX[1]) * ctx.u(32, block, j)
            sig = 0.08 + 0.10 * ctx.u(33, block, j)  # degrees, ~8-18 km
            w = 0.5 + ctx.u(34, block, j)
            f += w * np.exp(-((lon - cx) ** 2 + (lat - cy) ** 2) / (2 * sig**2))
        return f / 1.25  # ~1 on average over the city

    def field(self, t: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        b = np.floor(t / BLOCK_S).astype(np.int64)
        fr = t / BLOCK_S - b
        return self._field(b, lon, lat) * (1 - fr) + self._field(b + 1, lon, lat) * fr

    def rain(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Rain rate (mm/h) at the devices idx at times t."""
        d = self.ctx.city.devices
        lon, lat = d.lon[idx], d.lat[idx]
        p = self.ctx.weather.at_many(t, ("precip",))["precip"] * self.ctx.rain_mult(t, lon, lat)
        r = p * self.field(t, lon, lat)
        return np.where(r < RAIN_ZERO, 0.0, r)

    def rain_gauge(self, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
        r = self.rain(idx, t) * (1 + 0.04 * self.ctx.n(35, idx, k))
        return {"rain_1h": np.round(np.clip(r, 0, 299), 1)}

    def manhole(self, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
        ctx = self.ctx
        water = 12 + 18 * ctx.u(36, idx) + 4.0 * self.rain(idx, t) + 1.5 * ctx.n(37, idx, k)
        displaced = ctx.u(38, idx, ctx.day(t)) < 2e-4  # a cover knocked out for the day
        tilt = np.abs(ctx.n(39, idx, k)) * 0.6 + np.where(displaced, 20 + 20 * ctx.u(40, idx), 0)
        return {"tilt": np.round(tilt, 1), "water": np.round(np.clip(water, 0, 499), 1)}

    # ---- rivers ----------------------------------------------------------------------------

    def catchment(self, h: int) -> float:
        """Catchment rain (mm/h) in model hour h."""
        v = self._catch.get(h)
        if v is None:
            _prune(self._catch, h)
            _prune(self._routed, h)
            t = np.array([h * 3600.0])
            p = self.ctx.weather.hourly(h)["precip"]
            v = self._catch[h] = float(p * self.ctx.rain_mult(t, np.array([113.75]), np.array([23.05]))[0])
        return v

    def routed(self, h: int) -> np.ndarray:
        """Routed catchment rain at hour h for each lag class (mm/h equivalent)."""
        v = self._routed.get(h)
        if v is None:
            past = np.array([self.catchment(h - j) for j in range(TAPS)])
            v = self._routed[h] = _KERNELS @ past
        return v

    def invalidate(self) -> None:
        """Forget cached rain (a scenario changed the weather)."""
        self._catch.clear()
        self._routed.clear()

    def level(self, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
        ctx = self.ctx
        c = self._chain[idx]
        base = 1.7 + 0.7 * (1 - c) + 0.15 * ctx.n(41, idx)
        doy = ((t + 8 * 3600) / 86400.0) % 365.25
        season = 0.35 * np.maximum(0.0, np.sin(2 * np.pi * (doy - 95) / 365.25))
        amp = 0.12 + 0.9 * c**1.5
        lag = 2.5 * 3600 * (1 - c)
        tide = amp * (np.cos(2 * np.pi * (t - lag) / T_M2) + 0.4 * np.cos(2 * np.pi * (t - lag) / T_S2 + 1.1)) / 1.2
        cls = np.clip(np.round(4 + 8 * c).astype(int) - LAGS[0], 0, len(LAGS) - 1)
        h = np.floor(t / 3600.0).astype(np.int64)
        fr = t / 3600.0 - h
        hs = np.unique(h)
        r0 = {int(x): self.routed(int(x)) for x in hs}
        r1 = {int(x): self.routed(int(x) + 1) for x in hs}
        routed = np.array([r0[int(a)][b] * (1 - f) + r1[int(a)][b] * f for a, b, f in zip(h, cls, fr, strict=True)])
        alpha = 0.30 - 0.1 * c
        rise = FLOOD_MAX_M * np.tanh(alpha * routed / FLOOD_MAX_M)  # banks overflow: rises saturate
        surge = sum((s(t) for s in self.surge), np.zeros_like(t)) * c**2
        lv = base + season + tide + rise + surge + 0.003 * ctx.n(42, idx, k)
        return {"level": np.round(lv, 4)}
