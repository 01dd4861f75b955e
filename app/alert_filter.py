"""What the alert feed shows and in which order: filter predicates and sort keys, Qt-free.

The feed model keeps its rows sorted by `sort_key` so an incoming change is one bisect, not a
full re-sort; the filter is a plain predicate so it can be tested without a screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocol.entities import Alert
from protocol.enums import AlertState, Level

# Columns of the alert feed, in display order. The view maps them to titles.
COLUMNS = ("level", "state", "title", "domain", "town", "count", "last_ts", "assignee")
OPEN_STATES = frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED, AlertState.DISPATCHED})
_STATE_ORDER = {s: i for i, s in enumerate(AlertState)}


@dataclass
class AlertFilter:
    """Empty sets mean "any". `text` matches title (zh and en), message, device and ids."""

    levels: set[int] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    towns: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=lambda: {s.value for s in OPEN_STATES})
    text: str = ""

    def matches(self, a: Alert) -> bool:
        if self.levels and a.level not in self.levels:
            return False
        if self.domains and a.domain not in self.domains:
            return False
        if self.towns and a.town not in self.towns:
            return False
        if self.states and a.state not in self.states:  # a StrEnum matches its value (no .value: ~3 µs)
            return False
        if self.text:
            needle = self.text.casefold()
            hay = f"{a.title} {a.title_en} {a.message} {a.device_id or ''} #{a.id} {a.external_id or ''}"
            if needle not in hay.casefold():
                return False
        return True

    def predicate(self) -> Callable[[Alert], bool]:
        """`matches` as the cheapest function that gives the same answers: the usual filter
        (open states only) is one set test per alert instead of a method call and five tests."""
        if self.levels or self.domains or self.towns or self.text:
            return self.matches
        if self.states:
            states = frozenset(self.states)
            return lambda a: a.state in states
        return lambda a: True

    def is_default(self) -> bool:
        return self == AlertFilter()

    def to_dict(self) -> dict[str, Any]:
        return {"levels": sorted(self.levels), "domains": sorted(self.domains),
                "towns": sorted(self.towns), "states": sorted(self.states), "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlertFilter:
        f = cls()
        try:
            f.levels = {int(x) for x in d.get("levels", [])}
            f.domains = {str(x) for x in d.get("domains", [])}
            f.towns = {str(x) for x in d.get("towns", [])}
            if "states" in d:
                f.states = {str(x) for x in d["states"] if str(x) in AlertState._value2member_map_}
            f.text = str(d.get("text", ""))
        except (TypeError, ValueError):
            return cls()  # a hand-edited settings file must not break the feed
        return f


def sort_key(column: str, descending: bool) -> Callable[[Alert], tuple[Any, ...]]:
    """Key for ascending bisect order. Ties break on id so the order is total and stable; a
    descending sort negates numbers (strings use an inverted tuple key). Every key ends with
    the alert id, signed as the sort (id_of_key reads it back). One lambda per column and
    direction, no helper calls inside: a 100k-alert rebuild makes 100k keys on the Qt thread."""
    order = _STATE_ORDER
    if column in ("title", "domain", "town", "assignee"):
        if descending:
            return lambda a: (tuple(-ord(ch) for ch in getattr(a, column) or "") + (1,), -a.id)
        return lambda a: (tuple(ord(ch) for ch in getattr(a, column) or ""), a.id)
    if descending:
        match column:
            case "level":
                return lambda a: (-a.level, -a.last_ts, -a.id)
            case "state":
                return lambda a: (-order[a.state], a.level, -a.id)
            case "count":
                return lambda a: (-a.count, -a.id)
            case "last_ts":
                return lambda a: (-a.last_ts, -a.id)
            case _:
                return lambda a: (-a.id,)
    match column:
        case "level":
            return lambda a: (a.level, a.last_ts, a.id)
        case "state":
            return lambda a: (order[a.state], -a.level, a.id)
        case "count":
            return lambda a: (a.count, a.id)
        case "last_ts":
            return lambda a: (a.last_ts, a.id)
        case _:
            return lambda a: (a.id,)


def id_of_key(key: tuple[Any, ...]) -> int:
    """The alert id a sort_key ends with (ids are positive; a descending key negates it)."""
    return abs(int(key[-1]))


def open_counts_by(counts: dict[tuple[int, str, str], int], by: str, min_level: int = 1,
                   town: str | None = None) -> dict[Any, int]:
    """Sums of StateStore.open_alert_counts ((level, town, domain) -> n) by "level", "town" or
    "domain", for alerts at or above min_level (and of one town if given); towns and domains
    that are unknown ("") are left out."""
    i = {"level": 0, "town": 1, "domain": 2}[by]
    out: dict[Any, int] = {lv.value: 0 for lv in Level} if by == "level" else {}
    for key, n in counts.items():
        if key[0] < min_level or (town is not None and key[1] != town):
            continue
        k = key[i]
        if k != "":
            out[k] = out.get(k, 0) + n
    return out


def level_counts(alerts: Any, only_open: bool = True) -> dict[int, int]:
    """Open alerts per level (headline for the situation summary)."""
    out = {lv.value: 0 for lv in Level}
    for a in alerts:
        if not only_open or a.state in OPEN_STATES:
            out[a.level] = out.get(a.level, 0) + 1
    return out


def town_counts(alerts: Any, min_level: int = 1) -> dict[str, int]:
    """Open alerts per town at or above a level (the town map's default indicator)."""
    out: dict[str, int] = {}
    for a in alerts:
        if a.town and a.state in OPEN_STATES and a.level >= min_level:
            out[a.town] = out.get(a.town, 0) + 1
    return out
