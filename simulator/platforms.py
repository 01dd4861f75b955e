"""The connected platforms' everyday traffic: smart urban management (智慧城管) cases posted to
/ingest/v1/events, opened when an inspector or a camera reports them and closed when handled.

About 60 cases a day, most by day; each case is a pure function of (seed, model hour, number),
so the same hours give the same cases however the run is ticked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator import rng
from simulator.city import City
from simulator.names import short
from simulator.physics.base import bump, hours
from simulator.scenarios.base import Action

H = 3600.0
MAX_OPEN_H = 4  # a case is closed within four hours
# kind (zh), kind (en), level, share
CASE_KINDS: tuple[tuple[str, str, int, float], ...] = (
    ("占道经营", "Street vending on the pavement", 1, 0.25),
    ("暴露垃圾", "Exposed rubbish", 1, 0.2),
    ("违规张贴小广告", "Illegal flyers", 1, 0.15),
    ("共享单车乱停放", "Shared bikes blocking the way", 1, 0.15),
    ("井盖缺失", "Missing manhole cover", 2, 0.05),
    ("道路破损", "Damaged road surface", 2, 0.1),
    ("违规渣土运输", "Illegal muck-truck transport", 2, 0.1),
)
_SHARES = np.cumsum([k[3] for k in CASE_KINDS]) / sum(k[3] for k in CASE_KINDS)


@dataclass
class Case:
    external_id: str
    opened: float
    closed: float
    kind: int
    town: int
    lon: float
    lat: float


class UrbanCases:
    def __init__(self, city: City, seed: int) -> None:
        self.city, self.seed = city, seed
        road = city.devices.of_type("sanitation_card")  # places on the street grid
        self._spots = road if len(road) else np.arange(len(city.devices))

    def cases(self, h: int) -> list[Case]:
        """The cases opened in model hour h."""
        t = np.array([h * H])
        rate = 0.6 + 4.0 * float(bump(hours(t), 10.5, 3.0)[0]) + 2.0 * float(bump(hours(t), 16.0, 2.5)[0])
        n = int(rng.uniform(self.seed, 300, h) * 2 * rate + 0.5)  # 0..2x the hour's mean, rounded
        out = []
        for j in range(n):
            u = [float(rng.uniform(self.seed, 301 + s, h, j)) for s in range(4)]
            spot = int(self._spots[int(u[0] * len(self._spots))])
            opened = h * H + u[1] * H
            d = self.city.devices
            out.append(Case(f"CG-{self.seed}-{h}-{j}", opened, opened + (0.5 + u[2] * (MAX_OPEN_H - 0.5)) * H,
                            int(np.searchsorted(_SHARES, u[3])), int(d.town[spot]), float(d.lon[spot]),
                            float(d.lat[spot])))
        return out

    def actions(self, t0: float, t1: float) -> list[Action]:
        out = []
        for h in range(int(t0 // H) - MAX_OPEN_H - 1, int(t1 // H) + 1):
            for c in self.cases(h):
                if t0 < c.opened <= t1:
                    out.append(Action(c.opened, "events", "urban", self._payload(c, "open")))
                if t0 < c.closed <= t1:
                    out.append(Action(c.closed, "events", "urban", self._payload(c, "closed")))
        return out

    def _payload(self, c: Case, state: str) -> Any:
        zh, en, level, _ = CASE_KINDS[c.kind]
        town = self.city.towns[c.town]

        def payload(ts: float) -> list[dict[str, Any]]:
            return [{"type": "urban_case", "external_id": c.external_id, "ts": ts, "level": level,
                     "title": f"{short(town.info.name_zh)}{zh}", "title_en": en,
                     "message": "智慧城管巡查上报" if state == "open" else "已处置结案",
                     "town": town.code, "lon": round(c.lon, 6), "lat": round(c.lat, 6), "state": state}]

        return payload
