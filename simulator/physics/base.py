"""What the value models share: the city, the seed, the weather and the scenario modifiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator import rng
from simulator.weather import Weather, local_hour

if TYPE_CHECKING:
    from simulator.city import City

DAY = 86400.0


@dataclass
class Ctx:
    city: City
    seed: int
    weather: Weather
    # Multipliers scenarios put on the city's rain: callables (t, lon, lat) -> factor arrays.
    rain_factor: list = field(default_factory=list)

    def u(self, stream: int, idx: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
        return rng.uniform(self.seed, stream, idx, b)

    def n(self, stream: int, idx: np.ndarray, b: np.ndarray | int = 0) -> np.ndarray:
        return rng.normal(self.seed, stream, idx, b)

    def day(self, t: np.ndarray) -> np.ndarray:
        return np.floor((t + 8 * 3600) / DAY).astype(np.int64)

    def rain_mult(self, t: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        m = np.ones_like(np.asarray(t, dtype=float))
        for f in self.rain_factor:
            m = m * f(t, lon, lat)
        return m


def bump(h: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A smooth daily peak (Gaussian in hours, wrapping round midnight)."""
    d = (h - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def hours(t: np.ndarray) -> np.ndarray:
    return local_hour(t)
