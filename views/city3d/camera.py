"""Camera bookmarks per town and the smooth fly-to (eased interpolation of the orbit state)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from citymodel.geo import to_city_xy
from citymodel.towns import load_towns

FLY_S = 1.2
FPS = 30


def town_bookmarks() -> dict[str, dict[str, float]]:
    """Per town: a view of its centre from the south-east at 6-9 km."""
    out = {}
    for t in load_towns():
        lon, lat = t.centroid
        x, y = to_city_xy(lon, lat)
        size = math.sqrt(max(t.geometry.area, 1e-6)) * 100_000  # ~km scale from degrees
        out[t.code] = {"x": float(x), "y": float(y), "dist": float(min(max(size * 0.9, 5000), 12000)),
                       "azimuth": 20.0, "elevation": 50.0}
    return out


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def interpolate(a: dict[str, float], b: dict[str, float], t: float) -> dict[str, float]:
    """Camera state between a and b at t in [0, 1]: position linear, distance geometric (so a
    zoom feels even), and a rise in the middle when the jump is long (fly over, not through)."""
    e = _ease(max(0.0, min(1.0, t)))
    jump = math.hypot(b["x"] - a["x"], b["y"] - a["y"])
    base = math.exp(math.log(max(a["dist"], 1.0)) * (1 - e) + math.log(max(b["dist"], 1.0)) * e)
    rise = 1.0 + 1.5 * math.sin(math.pi * e) * min(1.0, jump / max(base * 4, 1.0))
    daz = (b["azimuth"] - a["azimuth"] + 180.0) % 360.0 - 180.0
    return {"x": a["x"] + (b["x"] - a["x"]) * e, "y": a["y"] + (b["y"] - a["y"]) * e,
            "z": a.get("z", 0.0) + (b.get("z", 0.0) - a.get("z", 0.0)) * e,
            "dist": base * rise, "azimuth": a["azimuth"] + daz * e,
            "elevation": a["elevation"] + (b["elevation"] - a["elevation"]) * e}


class FlyTo:
    """Moves a camera from its state to a target over FLY_S seconds of wall time (a slow
    software-rendered frame skips ahead instead of stretching the flight); the widget's timer
    calls step() at FPS and stops when it returns False."""

    def __init__(self, start: dict[str, float], target: dict[str, float], apply: Callable[[dict[str, float]], None],
                 duration: float = FLY_S) -> None:
        self.start, self.target, self.apply = start, target, apply
        self.duration = duration
        self.t0 = time.monotonic()

    def step(self) -> bool:
        t = min(1.0, (time.monotonic() - self.t0) / self.duration) if self.duration > 0 else 1.0
        self.apply(interpolate(self.start, self.target, t))
        return t < 1.0


def street_view(x: float, y: float, height: float = 0.0) -> dict[str, float]:
    """A view of a point from 700 m away at 35 degrees (the rescue commander's view)."""
    return {"x": x, "y": y, "z": float(np.clip(height * 0.3, 0, 60)), "dist": 700.0 + height * 2,
            "azimuth": 25.0, "elevation": 35.0}
