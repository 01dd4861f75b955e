"""Device faults at realistic low rates, so the service's data-quality counters and offline
detection have something to count:

- dead: 0.2 % of devices never report (flat battery, stolen, never commissioned);
- offline: on a given day 0.4 % of devices drop out for 2-12 hours (network, power);
- stuck: on a given day 0.15 % of devices freeze from some hour to midnight, repeating their
  last reading exactly (a hung firmware);
- garbage: 0.03 % of readings carry one bad thing: NaN (JSON null), a -9999 sentinel, an
  out-of-range value, a wrong type (a string), a 1970 timestamp, or one a year ahead.

All are pure functions of (seed, device, day or emission counter): the same devices fail the
same way on every run with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.physics.base import DAY, Ctx

P_DEAD = 0.002
P_OFFLINE_DAY = 0.004
P_STUCK_DAY = 0.0015
P_GARBAGE = 3e-4

GARBAGE_NONE, G_NAN, G_SENTINEL, G_RANGE, G_TYPE, G_TS_1970, G_TS_NEXT_YEAR = range(7)
GARBAGE_NAMES = {G_NAN: "nan", G_SENTINEL: "sentinel", G_RANGE: "out_of_range", G_TYPE: "wrong_type",
                 G_TS_1970: "ts_1970", G_TS_NEXT_YEAR: "ts_next_year"}


@dataclass
class Faulted:
    keep: np.ndarray  # bool: the reading is sent at all
    t: np.ndarray  # the model time the values are computed at (frozen for stuck devices)
    k: np.ndarray  # the emission counter the noise is drawn with (frozen likewise)
    garbage: np.ndarray  # int8 GARBAGE_* code per reading


def apply(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray, period: np.ndarray, phase: np.ndarray,
          protected: np.ndarray) -> Faulted:
    """Faults for readings of devices idx at times t (counter k). protected devices (those a
    running scenario tells its story with) never fail."""
    ok = ~protected[idx]
    day = ctx.day(t)
    day0 = day * DAY - 8 * 3600  # local midnight, unix seconds
    dead = ctx.u(100, idx) < P_DEAD
    off_start = day0 + ctx.u(102, idx, day) * DAY
    off_len = (2 + 10 * ctx.u(103, idx, day)) * 3600
    offline = (ctx.u(101, idx, day) < P_OFFLINE_DAY) & (t >= off_start) & (t < off_start + off_len)
    keep = ~(ok & (dead | offline))
    stuck_from = day0 + ctx.u(105, idx, day) * DAY
    k_s = np.ceil((stuck_from - phase) / period)
    t_s = phase + k_s * period
    stuck = ok & (ctx.u(104, idx, day) < P_STUCK_DAY) & (t >= t_s)
    t_eff = np.where(stuck, t_s, t)
    k_eff = np.where(stuck, k_s, k).astype(np.int64)
    bad = ok & (ctx.u(106, idx, k) < P_GARBAGE)
    code = (1 + np.floor(ctx.u(107, idx, k) * 6)).astype(np.int8)
    return Faulted(keep, t_eff, k_eff, np.where(bad, code, GARBAGE_NONE).astype(np.int8))
