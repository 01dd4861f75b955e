"""Names for alert titles and messages (Chinese first, English beside it), from the store's
reference tables so a renamed town or type shows up without a code change."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import LEVEL_ZH, Level
from sync_service.db.models import DeviceType, Town

LEVEL_EN = {Level.BLUE: "blue", Level.YELLOW: "yellow", Level.ORANGE: "orange", Level.RED: "red"}


@dataclass
class Labels:
    towns: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (zh, en)
    types: dict[str, tuple[str, str]] = field(default_factory=dict)
    metrics: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)  # (type, m) -> zh, en, unit

    def load(self, s: Session) -> None:
        self.towns = {t.code: (t.name_zh, t.name_en) for t in s.scalars(select(Town))}
        for t in s.scalars(select(DeviceType)):
            self.types[t.code] = (t.name_zh, t.name_en)
            for m in t.metrics or []:
                if isinstance(m, dict) and "name" in m:
                    self.metrics[(t.code, str(m["name"]))] = (
                        str(m.get("name_zh") or m["name"]), str(m.get("name_en") or m["name"]), str(m.get("unit") or ""))

    def town(self, code: str | None) -> tuple[str, str]:
        if not code:
            return "东莞市", "Dongguan"
        return self.towns.get(code, (code, code))

    def type(self, code: str | None) -> tuple[str, str]:
        return self.types.get(code or "", (code or "", code or ""))

    def metric(self, typ: str, name: str) -> tuple[str, str, str]:
        return self.metrics.get((typ, name), (name, name, ""))


def level_words(level: int) -> tuple[str, str]:
    try:
        lv = Level(level)
    except ValueError:
        return str(level), str(level)
    return LEVEL_ZH[lv], LEVEL_EN[lv]


def num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
