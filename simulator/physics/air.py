"""Air quality: the stations' PM2.5 follows the real hourly record (its daily cycle, its
episodes), scaled per site; PM10 tracks PM2.5; ozone follows sunshine and temperature.
Pollution sources (stack monitors) emit VOCs and SO2 with working-hours cycles and rare
exceedance days."""

from __future__ import annotations

import numpy as np

from simulator.physics.base import Ctx, hours


def air_station(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    w = ctx.weather.at_many(t, ("pm25", "temp"))
    site = np.exp(0.15 * ctx.n(51, idx))  # a roadside site reads higher than a park
    pm25 = w["pm25"] * site * (1 + 0.06 * ctx.n(52, idx, k))
    pm10 = pm25 * (1.45 + 0.15 * ctx.u(53, idx)) * (1 + 0.05 * ctx.n(54, idx, k))
    h = hours(t - 2 * 3600)  # ozone peaks about two hours after the sun
    sun = np.maximum(0.0, np.sin(np.pi * (h - 6) / 12)) ** 1.5
    o3 = 18 + 140 * sun * np.clip((w["temp"] - 10) / 20, 0, 1.3) * (1 + 0.08 * ctx.n(55, idx, k))
    return {"pm25": np.round(np.clip(pm25, 1, 999), 1), "pm10": np.round(np.clip(pm10, 1, 1999), 1),
            "o3": np.round(np.clip(o3, 1, 999), 1)}


def pollution_source(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    h = hours(t)
    working = ((h >= 8) & (h < 22)).astype(float)
    voc0 = 8 + 30 * ctx.u(56, idx)
    so20 = 3 + 40 * ctx.u(57, idx)
    bad_day = ctx.u(58, idx, ctx.day(t)) < 1.5e-3  # a failed scrubber for the day
    excess = np.where(bad_day & (working > 0), 2.5 + ctx.u(59, idx, ctx.day(t)), 1.0)
    voc = voc0 * (0.7 + 0.5 * working) * excess * (1 + 0.08 * ctx.n(60, idx, k))
    so2 = so20 * (0.7 + 0.4 * working) * excess * (1 + 0.08 * ctx.n(61, idx, k))
    return {"voc": np.round(np.clip(voc, 0, 499), 2), "so2": np.round(np.clip(so2, 0, 999), 2)}
