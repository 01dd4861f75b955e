"""The simulation's physics: determinism, weather-driven patterns, faults."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from simulator import faults
from simulator.city import City
from simulator.engine import Simulation
from simulator.weather import CN_TZ, Weather, load_record

T0 = datetime(2024, 7, 3, 9, 0, tzinfo=CN_TZ).timestamp()  # a Wednesday morning


def _flatten(batches) -> set[tuple]:
    out = set()
    for b in batches:
        for j, i in enumerate(b.idx.tolist()):
            vals = tuple(sorted((m, float(v[j])) for m, v in b.values.items()))
            out.add((i, float(b.t[j]), int(b.garbage[j]), vals))
    return out


def test_same_readings_whatever_the_ticking(city: City) -> None:
    one = Simulation(city).step(T0, T0 + 60)
    sim = Simulation(city)
    ticked = [b for s in range(60) for b in sim.step(T0 + s, T0 + s + 1)]
    assert _flatten(one) == _flatten(ticked)
    assert sum(len(b) for b in one) > 1000


def test_same_seed_same_readings_different_seed_different(city: City) -> None:
    a = _flatten(Simulation(city).step(T0, T0 + 300))
    b = _flatten(Simulation(city).step(T0, T0 + 300))
    assert a == b
    c = Simulation(city, seed=99).step(T0, T0 + 300)
    assert _flatten(c) != a
    assert len(_flatten(c) & a) < 0.2 * len(a)


def test_river_levels_rise_after_rain_with_lag(city: City) -> None:
    """Replay the real Guangzhou rainstorm of 7 May 2010 (99 mm in an hour) against a dry
    spell at the same model times: the difference is the rain's effect on the rivers."""
    storm, dry = Weather(), Weather()
    start = T0
    storm.replay(start, start + 3 * 86400, datetime(2010, 5, 6, 12, tzinfo=CN_TZ))
    dry.replay(start, start + 3 * 86400, datetime(2010, 12, 10, 12, tzinfo=CN_TZ), precip_scale=0.0)
    wet, base = Simulation(city, weather=storm), Simulation(city, weather=dry)
    gauges = city.devices.of_type("water_level")
    hours = np.arange(0, 60)
    rise, rain = [], []
    for h in hours:
        t = np.full(len(gauges), start + h * 3600.0)
        k = np.zeros(len(gauges), np.int64)
        rise.append(wet.hydro.level(gauges, t, k)["level"] - base.hydro.level(gauges, t, k)["level"])
        rain.append(wet.hydro.catchment(int((start + h * 3600) // 3600)))
    rise_a, rain_a = np.array(rise), np.array(rain)
    assert rain_a.max() > 50  # the storm is in the replay
    rain_peak = int(np.argmax(rain_a))
    mean_rise = rise_a.mean(axis=1)
    assert abs(mean_rise[: max(rain_peak - 14, 1)]).max() < 0.05  # nothing before the rain arrives
    assert mean_rise.max() > 1.0  # a real flood wave
    level_peak = int(np.argmax(mean_rise))
    assert level_peak - rain_peak >= 3  # routed with lag
    assert mean_rise[rain_peak] < 0.6 * mean_rise.max()
    # downstream gauges peak later than upstream ones
    chain = wet.hydro._chain[gauges]
    up, down = chain < 0.3, chain > 0.8
    assert np.argmax(rise_a[:, up].mean(axis=1)) < np.argmax(rise_a[:, down].mean(axis=1))


def test_rain_gauges_follow_the_record_with_spatial_variation(city: City) -> None:
    w = Weather()
    w.replay(T0, T0 + 86400, datetime(2010, 5, 7, 0, tzinfo=CN_TZ))
    sim = Simulation(city, weather=w, with_faults=False)
    rg = city.devices.of_type("rain_gauge")
    t = np.full(len(rg), T0 + 2 * 3600.0)  # 02:00 on 7 May 2010: 99.1 mm in Guangzhou
    r = sim.hydro.rain_gauge(rg, t, np.zeros(len(rg), np.int64))["rain_1h"]
    assert r.max() > 80
    assert r.std() > 10  # cells: not the same everywhere
    dry = sim.hydro.rain_gauge(rg, t + 15 * 3600, np.zeros(len(rg), np.int64))["rain_1h"]
    assert dry.max() == 0.0


def test_pm25_has_the_daily_cycle_of_the_record(city: City) -> None:
    sim = Simulation(city, with_faults=False)
    aq = city.devices.of_type("air_station")
    start = datetime(2024, 1, 1, tzinfo=CN_TZ).timestamp()
    prof = np.zeros(24)
    for d in range(31):
        for h in range(24):
            t = np.full(len(aq), start + d * 86400 + h * 3600.0)
            prof[h] += sim.models["air_station"](aq, t, np.full(len(aq), d * 24 + h))["pm25"].mean()
    rec = load_record()
    jan = (datetime(2014, 1, 1, tzinfo=CN_TZ) - datetime(2010, 1, 1, tzinfo=CN_TZ)).days * 24
    expect = rec.cols["pm25"][jan:jan + 31 * 24].reshape(31, 24).mean(axis=0)
    assert np.corrcoef(prof, expect)[0, 1] > 0.95
    assert prof.max() / prof.min() > 1.2  # a real daily cycle, not flat


def test_daily_life_rush_hours_cooking_and_school_runs(city: City) -> None:
    sim = Simulation(city, with_faults=False)
    day = datetime(2024, 7, 3, tzinfo=CN_TZ).timestamp()  # Wednesday
    sunday = datetime(2024, 7, 7, tzinfo=CN_TZ).timestamp()

    def at(code: str, t: float, metric: str) -> np.ndarray:
        idx = city.devices.of_type(code)
        return sim.models[code](idx, np.full(len(idx), t), np.zeros(len(idx), np.int64))[metric]

    assert at("traffic_flow", day + 8.2 * 3600, "flow").mean() > 3 * at("traffic_flow", day + 3 * 3600, "flow").mean()
    assert at("traffic_flow", day + 8.2 * 3600, "speed").mean() < at("traffic_flow", day + 3 * 3600, "speed").mean()
    assert at("gas_pressure", day + 18.2 * 3600, "pressure").mean() < at("gas_pressure", day + 3 * 3600, "pressure").mean() - 20
    assert (at("school_bus", day + 7.5 * 3600, "speed") > 0).mean() > 0.6
    assert (at("school_bus", day + 7.5 * 3600, "occupancy") > 0).mean() > 0.6
    assert at("school_bus", day + 12 * 3600, "speed").max() == 0
    assert at("school_bus", sunday + 7.5 * 3600, "speed").max() == 0
    hr_shift = at("sanitation_card", day + 8 * 3600, "heart_rate").mean()
    assert hr_shift > at("sanitation_card", day + 23 * 3600, "heart_rate").mean() + 10


def test_faults_at_low_rates_of_every_kind(city: City) -> None:
    sim = Simulation(city)
    n = len(city.devices)
    idx = np.tile(np.arange(n), 60)
    k = np.repeat(np.arange(60), n)
    t = T0 + k * 300.0 + sim.phase[idx]
    f = faults.apply(sim.ctx, idx, t, k, sim.period[idx], sim.phase[idx], np.zeros(n, bool))
    dropped = 1 - f.keep.mean()
    assert 0.001 < dropped < 0.01  # dead and offline devices
    share = (f.garbage > 0).mean()
    assert 1e-4 < share < 1e-3
    assert set(np.unique(f.garbage[f.garbage > 0]).tolist()) == set(faults.GARBAGE_NAMES)
    protected = faults.apply(sim.ctx, idx, t, k, sim.period[idx], sim.phase[idx], np.ones(n, bool))
    assert protected.keep.all()
    assert not protected.garbage.any()


def test_a_stuck_gauge_repeats_its_value_exactly(city: City) -> None:
    sim = Simulation(city)
    wl = city.devices.of_type("water_level")
    for day in range(400):
        d0 = datetime(2024, 1, 1, tzinfo=CN_TZ).timestamp() + day * 86400
        dayno = sim.ctx.day(np.array([d0 + 1]))
        stuck = wl[(sim.ctx.u(104, wl, dayno) < faults.P_STUCK_DAY) & (sim.ctx.u(100, wl) >= faults.P_DEAD)]
        if len(stuck):
            break
    else:
        raise AssertionError("no stuck gauge in 400 days")
    i = int(stuck[0])
    values = []
    for s in range(0, 86400, 300):
        for b in sim.step(d0 + s, d0 + s + 300):
            if b.code == "water_level":
                hit = np.flatnonzero(b.idx == i)
                if len(hit):
                    values.append(float(b.values["level"][hit[0]]))
    tail = values[-5:]
    assert len(set(tail)) == 1  # frozen till midnight
    assert len(set(values)) > 5  # but it was moving before


def test_urban_management_cases_every_day(city: City) -> None:
    sim = Simulation(city)
    day0 = datetime(2024, 7, 3, tzinfo=CN_TZ).timestamp()
    once = sim.actions(day0, day0 + 86400)
    ticked = [a for k in range(288) for a in sim.actions(day0 + 300 * k, day0 + 300 * (k + 1))]
    key = lambda a: (a.t, a.payload(0.0)[0]["external_id"], a.payload(0.0)[0]["state"])  # noqa: E731
    assert [key(a) for a in once] == [key(a) for a in ticked]
    events = [a.payload(a.t)[0] for a in once]
    opened = {e["external_id"]: e for e in events if e["state"] == "open"}
    assert 30 <= len(opened) <= 100
    assert {e["type"] for e in events} == {"urban_case"}
    assert all(a.domain == "urban" for a in once)
    week = [c for h in range(int(day0 // 3600), int(day0 // 3600) + 7 * 24) for c in sim.platforms.cases(h)]
    by_hour = np.bincount([int((c.opened + 8 * 3600) % 86400 // 3600) for c in week], minlength=24)
    assert by_hour[9:18].sum() > 3 * by_hour[0:6].sum()  # mostly by day
    later = sim.actions(day0 + 86400, day0 + 86400 + 5 * 3600)
    closed_later = {a.payload(0.0)[0]["external_id"] for a in later if a.payload(0.0)[0]["state"] == "closed"}
    closed_same_day = {e["external_id"] for e in events if e["state"] == "closed"}
    assert set(opened) <= closed_same_day | closed_later  # every case is closed within hours
