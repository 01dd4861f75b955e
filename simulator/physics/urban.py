"""City life: detectors in buildings, schools, streets, gas mains, the coast.

Rates of the rare events are per reading and chosen so that a 100,000-device city produces a
handful a day (a few false smoke alarms, a school alarm every few days, tens of kitchen
violations), like the real platforms' daily reports, not a flood.
"""

from __future__ import annotations

import numpy as np

from simulator.physics.base import DAY, Ctx, bump, hours
from simulator.weather import weekday

SIM_EPOCH = 1704038400.0  # 2024-01-01 00:00 +08: battery ages count from here
P_SMOKE_FALSE = 2e-6  # per reading: steam, dust, insects
P_KITCHEN_MEAL, P_KITCHEN_OTHER = 3e-5, 4e-6
P_SCHOOL_ALARM = 8e-7
P_SOS = 6e-7
P_INTRUSION = 2e-5
P_SPEEDING = 3e-4


def smoke_detector(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    smoke = 0.004 + 0.008 * np.abs(ctx.n(71, idx, k))
    false = ctx.u(72, idx, k) < P_SMOKE_FALSE
    smoke = np.where(false, 0.28 + 0.3 * ctx.u(73, idx, k), smoke)
    # Battery: a start level per device draining 0.02 %/day, replaced by maintenance at 20 %;
    # 0.2 % of detectors were missed and are nearly flat (the low-battery alerts).
    drain = 0.02 * np.maximum(0.0, (t - SIM_EPOCH) / DAY)
    start = 35 + 65 * ctx.u(75, idx)
    battery = 100 - (100 - start + drain) % 80
    flat = ctx.u(74, idx) < 0.002
    battery = np.where(flat, np.maximum(12 + 6 * ctx.u(75, idx) - drain, 3), battery)
    return {"smoke": np.round(smoke, 3), "battery": np.round(np.clip(battery, 0, 100), 0)}


def fire_detector(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    w = ctx.weather.at_many(t, ("temp",))
    indoor = 10 + 0.6 * w["temp"] + 2.5 * ctx.u(76, idx) + 1.2 * bump(hours(t), 15, 4)
    # Small white noise at 0.01 °C resolution: a real sensor never repeats itself exactly (no
    # false "stuck"), and even at 60x two readings 5 s apart never look like a fire's 8 °C/min.
    temp = indoor + 0.04 * ctx.n(77, idx, k)
    return {"temp": np.round(temp, 2), "alarm": np.zeros(len(idx))}


def kitchen_camera(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    h = hours(t)
    meal = ((h >= 10) & (h < 13)) | ((h >= 16.5) & (h < 20))
    p = np.where(meal, P_KITCHEN_MEAL, P_KITCHEN_OTHER)
    return {"violation": (ctx.u(78, idx, k) < p).astype(float)}


def school_alarm(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    return {"alarm": (ctx.u(79, idx, k) < P_SCHOOL_ALARM).astype(float)}


def _school_run(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(morning progress, afternoon progress) in 0..1 while the run is on, else -1."""
    h = hours(t)
    school_day = weekday(t) < 5
    am = np.where(school_day & (h >= 6.6) & (h < 8.1), (h - 6.6) / 1.5, -1.0)
    pm = np.where(school_day & (h >= 16.0) & (h < 17.8), (h - 16.0) / 1.8, -1.0)
    return am, pm


def school_bus(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    am, pm = _school_run(t)
    moving = (am >= 0) | (pm >= 0)
    stopped = ctx.u(80, idx, k) < 0.2  # at a stop or a light
    speed = np.where(moving & ~stopped, 22 + 18 * ctx.u(81, idx, k), 0.0)
    speed = np.where(moving & (ctx.u(82, idx, k) < P_SPEEDING), 62 + 14 * ctx.u(83, idx, k), speed)
    cap = np.floor(18 + 28 * ctx.u(84, idx))
    occ = np.where(am >= 0, np.floor(cap * am), np.where(pm >= 0, np.floor(cap * (1 - pm)), 0.0))
    return {"speed": np.round(speed, 1), "occupancy": occ}


def sanitation_card(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    h = hours(t)
    shift = ((h >= 5) & (h < 11)) | ((h >= 14) & (h < 18))
    rest = 64 + 12 * ctx.u(85, idx)
    hr = rest + np.where(shift, 22 + 10 * ctx.u(86, idx, ctx.day(t)), 0) + 3 * ctx.n(87, idx, k)
    sos = (ctx.u(88, idx, k) < P_SOS).astype(float)
    return {"sos": sos, "heart_rate": np.round(np.clip(hr, 30, 220), 0)}


def gas_demand(t: np.ndarray, temp: np.ndarray) -> np.ndarray:
    """Relative gas demand: breakfast, lunch and dinner cooking, more water heating when cold."""
    h = hours(t)
    cooking = 0.25 * bump(h, 7.0, 0.8) + 0.7 * bump(h, 11.5, 1.0) + 1.0 * bump(h, 18.2, 1.1)
    return (0.15 + cooking) * (1 + np.clip((22 - temp) / 25, 0, 0.6))


def gas_pressure(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    w = ctx.weather.at_many(t, ("temp",))
    zone = ctx.city.devices.site[idx]
    base = 330 + 40 * ctx.u(89, zone) + 10 * ctx.u(90, idx)  # zone regulator set-point
    p = base - 35 * gas_demand(t, w["temp"]) + 0.3 * ctx.n(91, idx, k)
    return {"pressure": np.round(p, 2)}


def traffic_flow(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray, rain: np.ndarray) -> dict[str, np.ndarray]:
    h = hours(t)
    wd = weekday(t) < 5
    workday = 0.12 + 0.85 * bump(h, 8.2, 1.0) + 0.9 * bump(h, 18.3, 1.3) + 0.45 * bump(h, 13.0, 3.0)
    weekend = 0.1 + 0.6 * bump(h, 15.0, 4.0)
    cap = 700 + 2600 * ctx.u(92, idx)
    ratio = np.clip(np.where(wd, workday, weekend) * (1 + 0.08 * ctx.n(93, idx, k)), 0.02, 1.1)
    vfree = 38 + 32 * ctx.u(94, idx)
    speed = vfree * (1 - 0.55 * np.minimum(ratio, 1.0) ** 3) * (1 - 0.012 * np.minimum(rain, 30))
    speed = speed * (1 + 0.05 * ctx.n(95, idx, k))
    return {"flow": np.round(cap * ratio, 0), "speed": np.round(np.clip(speed, 2, 150), 1)}


def coastal_radar(ctx: Ctx, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    return {"intrusion": (ctx.u(96, idx, k) < P_INTRUSION).astype(float)}
