"""Each scenario tells its story: the readings cross the service's default alert thresholds
(sync_service.catalog), the actions are well-formed and in order."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from protocol.enums import ResourceKind
from simulator.city import City
from simulator.engine import Simulation
from simulator.placement import KM_LAT, KM_LON, WATER_TOWNS
from simulator.premises import USE_INDEX
from simulator.scenarios import ScheduleError, make, parse_schedule
from simulator.weather import CN_TZ
from sync_service.catalog import DEVICE_TYPES_BY_CODE
from sync_service.ingest.cap import parse as parse_cap

T0 = datetime(2024, 7, 3, 10, 0, tzinfo=CN_TZ).timestamp()


def rule(code: str, metric: str) -> dict:
    return next(r for r in DEVICE_TYPES_BY_CODE[code].rules if r["metric"] == metric)


def run(city: City, name: str, *, until: float, window: float = 10.0, lead: float = 600.0):
    sim = Simulation(city, platform_events=False)  # only the story's actions
    sc = sim.add_scenario(make(name), T0)
    readings: dict[tuple[str, int], list[tuple[float, dict[str, float]]]] = {}
    actions = []
    t = T0 - lead
    while t < T0 + until:
        for b in sim.step(t, t + window):
            if b.code not in sc.targets:
                continue
            for j, i in enumerate(b.idx.tolist()):
                if i in set(sc.targets[b.code].tolist()):
                    readings.setdefault((b.code, i), []).append(
                        (float(b.t[j]), {m: float(v[j]) for m, v in b.values.items()}))
        actions += sim.actions(t, t + window)
        t += window
    for series in readings.values():
        series.sort(key=lambda x: x[0])
    return sim, sc, readings, actions


def test_schedule_parsing() -> None:
    assert parse_schedule(["fire@30m", "typhoon", "gas@2h", "school@90s", "pollution@15"]) == [
        ("fire", 1800.0), ("typhoon", 0.0), ("gas", 7200.0), ("school", 90.0), ("pollution", 900.0)]
    with pytest.raises(ScheduleError):
        parse_schedule(["volcano"])
    with pytest.raises(ScheduleError):
        parse_schedule(["fire@soon"])


def test_nancheng_high_rise_fire(city: City) -> None:
    sim, sc, readings, actions = run(city, "fire", until=95 * 60)
    tower = city.landmarks["nancheng_highrise"]
    assert city.towns[int(city.premises.town[tower])].code == "nancheng"
    smoke_thr = rule("smoke_detector", "smoke")["thresholds"][4]
    heat = rule("fire_detector", "temp")
    origin = [(t, v["smoke"]) for t, v in readings[("smoke_detector", int(sc.tower_smoke[0]))]]
    first_alarm = min(t for t, s in origin if s >= smoke_thr)
    assert first_alarm - T0 <= 3 * 60  # smoke first, within minutes
    tower_smoke = [v["smoke"] for i in sc.tower_smoke for _, v in readings[("smoke_detector", int(i))]]
    assert sum(s >= smoke_thr for s in tower_smoke) > 50
    heat_alarm_at = []
    for i in sc.tower_fire:
        series = readings[("fire_detector", int(i))]
        temps = np.array([v["temp"] for _, v in series])
        times = np.array([t for t, _ in series])
        assert temps.max() >= heat["thresholds"][4]  # red
        rate = np.diff(temps) / (np.diff(times) / 60)
        assert rate.max() > heat["rate_per_min"]
        assert max(v["alarm"] for _, v in series) == 1.0
        heat_alarm_at.append(min(t for t, v in series if v["temp"] >= heat["thresholds"][2]))
        assert temps[-1] < heat["thresholds"][2]  # out by the end
    assert min(heat_alarm_at) > first_alarm  # smoke then heat
    near = [v["smoke"] for i in sc.near_smoke for _, v in readings.get(("smoke_detector", int(i)), [])]
    assert len(sc.near_smoke) == 0 or max(near) > 0.1  # smoke reaches the neighbours

    positions = [(a.t, a.payload(a.t)) for a in actions if a.kind == "positions"]
    assert all(a.domain == "fire" for a in actions if a.kind == "positions")
    vehicles = {r.id: r for r in city.resources if r.kind == ResourceKind.FIRE_VEHICLE.value}
    ids = {p["resource_id"] for _, ps in positions for p in ps}
    assert ids <= set(vehicles)
    assert len(ids) >= 4
    first, last_out = positions[0][1], None
    assert {p["status"] for p in first} == {"dispatched"}
    tlon, tlat = city.premises.lon[tower], city.premises.lat[tower]
    for t, ps in positions:
        if t < T0 + 70 * 60:
            last_out = ps
    assert last_out is not None
    for p in last_out:  # all on scene before they return
        assert p["status"] == "busy"
        assert np.hypot((p["lon"] - tlon) / KM_LON, (p["lat"] - tlat) / KM_LAT) < 0.05
    for p in positions[-1][1]:  # home again
        v = vehicles[p["resource_id"]]
        assert p["status"] == "available"
        assert (p["lon"], p["lat"]) == pytest.approx((v.detail["home_lon"], v.detail["home_lat"]), abs=1e-5)


def test_typhoon_rainstorm(city: City) -> None:
    sim = Simulation(city, platform_events=False)  # only the story's actions
    sc = sim.add_scenario(make("typhoon"), T0)
    caps = [a for a in sim.actions(T0 - 1, T0 + sc.duration_s) if a.kind == "cap"]
    msgs = [parse_cap(a.payload(a.t)) for a in caps]
    typhoon = [m for m in msgs if "台风" in m.info("zh").event]
    assert [m.msg_type for m in typhoon] == ["Alert", "Update", "Update", "Update", "Update", "Cancel"]
    assert [int(m.info("zh").level()) for m in typhoon[:5]] == [1, 2, 3, 4, 2]  # blue -> red, downgraded
    assert all(m.references[0][1] == typhoon[0].identifier for m in typhoon[1:])
    storm = [m for m in msgs if "暴雨" in m.info("zh").event]
    assert [int(m.info("zh").level()) for m in storm[:3]] == [2, 3, 4]
    assert {a.domain for a in caps} == {"weather"}
    assert all(m.info("en") is not None for m in msgs)
    # the rivers of the water towns rise past the orange (6.0 m) level, having started below blue
    d = city.devices
    wl = d.of_type("water_level")
    water = np.isin([city.towns[int(t)].code for t in d.town[wl]], WATER_TOWNS)
    orange = rule("water_level", "level")["thresholds"][3]
    peak, start = 0.0, None
    for h in range(0, 48):
        t = np.full(len(wl), T0 + h * 3600.0)
        lv = sim.hydro.level(wl, t, np.zeros(len(wl), np.int64))["level"][water]
        start = lv.max() if start is None else start
        peak = max(peak, float(lv.max()))
    assert start < rule("water_level", "level")["thresholds"][1]
    assert peak > orange
    rg = d.of_type("rain_gauge")
    rain = max(sim.hydro.rain(rg, np.full(len(rg), T0 + h * 3600.0)).max() for h in range(48))
    assert rain > rule("rain_gauge", "rain_1h")["thresholds"][3]  # past the orange 50 mm/h
    events = [a for a in sim.actions(T0 - 1, T0 + sc.duration_s + 3600) if a.kind == "events"]
    assert events == []  # already returned above, each action once
    ev = [e for a in sim.scenarios[0]._actions if a.kind == "events" for e in a.payload(a.t)]
    assert {e["state"] for e in ev} == {"open", "closed"}
    assert all(e["type"] == "urban_case" and e["town"] in WATER_TOWNS for e in ev)


def test_songshan_lake_pollution_episode(city: City) -> None:
    sim, sc, readings, actions = run(city, "pollution", until=8 * 3600, window=300)
    voc = max(v["voc"] for (code, _), s in readings.items() if code == "pollution_source" for _, v in s)
    assert voc > rule("pollution_source", "voc")["thresholds"][4]
    pm = max(v["pm25"] for (code, _), s in readings.items() if code == "air_station" for _, v in s)
    assert pm > rule("air_station", "pm25")["thresholds"][3]
    ev = [(a.domain, e) for a in actions if a.kind == "events" for e in a.payload(a.t)]
    assert {e["type"] for _, e in ev} == {"pollution_source", "air_station"}
    assert {d for d, _ in ev} == {"environment"}
    assert [e["state"] for _, e in ev][-2:] == ["closed", "closed"]


def test_school_one_click_alarm(city: City) -> None:
    sim, sc, readings, _ = run(city, "school", until=20 * 60, window=5)
    a, b = (int(i) for i in sc.targets["school_alarm"][:2])
    first = readings[("school_alarm", a)]
    assert min(t for t, v in first if v["alarm"] == 1) == T0  # the moment it is pressed
    assert min(t for t, v in readings[("school_alarm", b)] if v["alarm"] == 1) == T0 + 20
    assert [v["alarm"] for t, v in first if t >= T0 + 12 * 60][0] == 0.0  # reset
    assert all(v["alarm"] == 1.0 for t, v in first if T0 <= t < T0 + 12 * 60)
    assert sim.city.premises.use[sc.school] == USE_INDEX["school"]


def test_gas_pressure_drop(city: City) -> None:
    sim, sc, readings, actions = run(city, "gas", until=80 * 60, window=30)
    r = rule("gas_pressure", "pressure")
    series = readings[("gas_pressure", sc.breakpoint)]
    p = np.array([v["pressure"] for _, v in series])
    t = np.array([t for t, _ in series])
    assert p[t < T0].min() > r["thresholds"][2]  # normal before
    assert p.min() < r["thresholds"][4]  # red near the break
    assert (-np.diff(p) / (np.diff(t) / 60)).max() > r["rate_per_min"]
    assert p[-1] > r["thresholds"][2]  # recovered
    zone = [readings[("gas_pressure", int(i))] for i in sc.members]
    below = sum(min(v["pressure"] for _, v in s) < r["thresholds"][2] for s in zone)
    assert 2 <= below <= len(zone)  # a zone, fading with distance
    ev = [e for a in actions if a.kind == "events" for e in a.payload(a.t)]
    assert [e["state"] for e in ev] == ["open", "closed"]
    assert len({e["external_id"] for e in ev}) == 1
