"""Real weather behind the simulation: hourly Guangzhou records 2010-2015 (UCI, CC BY 4.0).

Guangzhou's centre is 50 km from Dongguan's; same climate, same monsoon, same typhoons. The
simulation maps its model time onto the historical record: by default the same month, day and
hour (Beijing time) of BASE_YEAR, linearly interpolated between hours. 2014 is the base year: it
has PM2.5 for 92 % of its hours (2010 has none). Gaps in PM2.5 are filled by interpolation
across short gaps and, across long ones, by that month's mean for the hour of day.

Columns: pm25 (µg/m³, US Post station, else the city station), dewp (°C), humi (%), pres (hPa),
temp (°C), wind (m/s, from the cumulated wind speed column), precip (mm in the hour).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources as importlib_resources

import numpy as np

CN_TZ = timezone(timedelta(hours=8))
BASE_YEAR = 2014
FIRST_HOUR = datetime(2010, 1, 1, tzinfo=CN_TZ)  # row 0 of the file
COLUMNS = ("pm25", "dewp", "humi", "pres", "temp", "wind", "precip")
_GAP_INTERPOLATE_H = 6
CACHE_HOURS = 400  # weather hours kept in memory (the rivers look back 48 h)


@dataclass(frozen=True)
class Record:
    """The hourly table: one float64 array per column, index = hours since FIRST_HOUR."""

    cols: dict[str, np.ndarray]
    n: int

    def hour_index(self, when: datetime) -> int:
        return int((when - FIRST_HOUR).total_seconds() // 3600)


def _num(s: str) -> float:
    """NA and the record's own -9999 sentinels (a few humidity and dew-point rows) are gaps."""
    if s in ("NA", ""):
        return np.nan
    v = float(s)
    return np.nan if v <= -999 else v


def _fill(v: np.ndarray, month: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Interpolate gaps up to _GAP_INTERPOLATE_H hours; longer ones get the month-hour mean."""
    v = v.copy()
    ok = ~np.isnan(v)
    clim = np.full((13, 24), np.nanmean(v))
    for m in range(1, 13):
        for h in range(24):
            sel = ok & (month == m) & (hour == h)
            if sel.any():
                clim[m, h] = v[sel].mean()
    idx = np.arange(len(v))
    interp = np.interp(idx, idx[ok], v[ok])
    # distance to the nearest good value on each side
    last_ok = np.maximum.accumulate(np.where(ok, idx, -10**9))
    next_ok = np.minimum.accumulate(np.where(ok, idx, 10**9)[::-1])[::-1]
    short = (idx - last_ok + next_ok - idx) <= _GAP_INTERPOLATE_H + 1
    return np.where(ok, v, np.where(short, interp, clim[month, hour]))


def _wind(iws: np.ndarray, cbwd: list[str]) -> np.ndarray:
    """Iws accumulates wind speed while the direction stays; the hour's speed is the increment
    (or the value itself when the direction changed)."""
    w = iws.copy()
    for i in range(1, len(w)):
        if cbwd[i] == cbwd[i - 1] and iws[i] >= iws[i - 1]:
            w[i] = iws[i] - iws[i - 1]
    return np.clip(np.nan_to_num(w, nan=1.5), 0.0, 40.0)


@lru_cache(maxsize=1)
def load_record() -> Record:
    ref = importlib_resources.files("resources") / "data" / "guangzhou-pm25-hourly-2010-2015.csv.gz"
    with gzip.open(io.BytesIO(ref.read_bytes()), "rt", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(head)}
    month = np.array([int(r[col["month"]]) for r in body])
    hour = np.array([int(r[col["hour"]]) for r in body])
    us = np.array([_num(r[col["PM_US Post"]]) for r in body])
    city = np.array([_num(r[col["PM_City Station"]]) for r in body])
    pm = np.where(np.isnan(us), city, us)
    cols = {"pm25": _fill(pm, month, hour)}
    for name, src in (("dewp", "DEWP"), ("humi", "HUMI"), ("pres", "PRES"), ("temp", "TEMP")):
        cols[name] = _fill(np.array([_num(r[col[src]]) for r in body]), month, hour)
    cols["wind"] = _wind(np.array([_num(r[col["Iws"]]) for r in body]), [r[col["cbwd"]] for r in body])
    cols["precip"] = np.clip(np.nan_to_num(np.array([_num(r[col["precipitation"]]) for r in body])), 0, 200)
    return Record(cols, len(body))


def historical_hour(t: float, base_year: int = BASE_YEAR) -> float:
    """Model time (unix s) -> fractional hour index into the record: the same month, day and
    hour of base_year (29 February maps to the 28th)."""
    d = datetime.fromtimestamp(t, CN_TZ)
    day = min(d.day, 28) if d.month == 2 else d.day
    h = datetime(base_year, d.month, day, d.hour, tzinfo=CN_TZ)
    return (h - FIRST_HOUR).total_seconds() / 3600 + (d.minute * 60 + d.second + d.microsecond / 1e6) / 3600


def local_hour(t: np.ndarray | float) -> np.ndarray:
    """Hour of day in Beijing time, fractional."""
    return ((np.asarray(t, dtype=float) + 8 * 3600) % 86400) / 3600.0


def weekday(t: np.ndarray | float) -> np.ndarray:
    """Day of the week in Beijing time, Monday = 0 (1970-01-01 was a Thursday)."""
    days = np.floor((np.asarray(t, dtype=float) + 8 * 3600) / 86400).astype(np.int64)
    return (days + 3) % 7


class Weather:
    """Weather at model time t, from the record. A scenario may replace the mapping for a
    window (replay a real storm) or scale precipitation (see simulator.scenarios)."""

    def __init__(self, base_year: int = BASE_YEAR) -> None:
        self.rec = load_record()
        self.base_year = base_year
        # (t_start, t_end, hist_start_index, precip_scale): replays set by scenarios
        self.replays: list[tuple[float, float, float, float]] = []
        self._hours: dict[int, dict[str, float]] = {}

    def replay(self, t0: float, t1: float, hist_start: datetime, precip_scale: float = 1.0) -> None:
        """From model time t0 to t1, replay the record from hist_start (a real storm), with
        precipitation scaled by precip_scale."""
        h0 = (hist_start - FIRST_HOUR).total_seconds() / 3600
        self.replays.append((t0, t1, h0, precip_scale))
        self._hours.clear()

    def index(self, t: float) -> tuple[float, float]:
        """(fractional record index, precipitation scale) for model time t."""
        for t0, t1, h0, scale in self.replays:
            if t0 <= t < t1:
                return h0 + (t - t0) / 3600.0, scale
        return historical_hour(t, self.base_year), 1.0

    def at(self, t: float) -> dict[str, float]:
        idx, scale = self.index(t)
        i = int(np.floor(idx))
        i = min(max(i, 0), self.rec.n - 2)
        f = min(max(idx - i, 0.0), 1.0)
        out = {c: float(v[i] * (1 - f) + v[i + 1] * f) for c, v in self.rec.cols.items()}
        out["precip"] *= scale
        return out

    def hourly(self, h: int) -> dict[str, float]:
        """Weather at the full model hour h (unix hours), cached."""
        w = self._hours.get(h)
        if w is None:
            w = self._hours[h] = self.at(h * 3600.0)
            if len(self._hours) > CACHE_HOURS:  # a long run at 60x must not grow without bound
                for old in [k for k in self._hours if k < h - CACHE_HOURS // 2]:
                    del self._hours[old]
        return w

    def at_many(self, ts: np.ndarray, columns: tuple[str, ...] = COLUMNS) -> dict[str, np.ndarray]:
        """Weather at many model times (linear between full hours)."""
        ts = np.asarray(ts, dtype=float)
        h = np.floor(ts / 3600.0).astype(np.int64)
        f = ts / 3600.0 - h
        hs = np.unique(np.concatenate([h, h + 1]))
        pos = np.searchsorted(hs, h)
        out = {}
        for c in columns:
            v = np.array([self.hourly(int(x))[c] for x in hs])
            out[c] = v[pos] * (1 - f) + v[pos + 1] * f
        return out


def utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
