"""Scenario scripts: timed stories operators rehearse (docs/simulator.md).

    make("typhoon")            -> a fresh TyphoonRainstorm
    parse_schedule(["fire@30m", "typhoon"]) -> [("fire", 1800.0), ("typhoon", 0.0)]
"""

from __future__ import annotations

import re

from simulator.scenarios.base import Action, Injection, Scenario
from simulator.scenarios.fire import HighRiseFire
from simulator.scenarios.gas import GasPressureDrop
from simulator.scenarios.pollution import SongshanPollution
from simulator.scenarios.school import SchoolAlarm
from simulator.scenarios.typhoon import TyphoonRainstorm

SCENARIOS: dict[str, type[Scenario]] = {
    "typhoon": TyphoonRainstorm,
    "fire": HighRiseFire,
    "pollution": SongshanPollution,
    "school": SchoolAlarm,
    "gas": GasPressureDrop,
}
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT = {"": 60.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class ScheduleError(ValueError):
    """A --scenario value that is not NAME or NAME@OFFSET (e.g. fire@30m)."""


def make(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise ScheduleError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


def parse_schedule(items: list[str]) -> list[tuple[str, float]]:
    """NAME or NAME@OFFSET (model time after the run starts; s/m/h/d, minutes if no unit)."""
    out = []
    for item in items:
        name, _, off = item.strip().partition("@")
        if name not in SCENARIOS:
            raise ScheduleError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        offset = 0.0
        if off:
            m = _OFFSET.match(off.strip())
            if not m:
                raise ScheduleError(f"bad offset {off!r} in {item!r}; use e.g. 30m, 2h, 90s")
            offset = float(m.group(1)) * _UNIT[m.group(2)]
        out.append((name, offset))
    return out


__all__ = ["SCENARIOS", "Action", "Injection", "Scenario", "ScheduleError", "make", "parse_schedule"]
