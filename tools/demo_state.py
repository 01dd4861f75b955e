"""A deterministic, plausible city state fed into a StateStore through the real inbound path
(snapshot parts and protocol events), for screenshots, benchmarks and manual checks without a
running service. Names and proportions come from the real catalogue and town table.

With a city (demo_city(): a small synthetic CIM, the generator's sample of the town centres)
the alerts and incidents sit in its buildings, as the simulator's devices do, and
seed_city_cache() puts that city where the console's 3D view opens it from (its local cache),
so the 3D panel shows a city without a service to download one from.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commandbus import CommandResult
from app.store import Connection, SessionInfo, StateStore
from citymodel.towns import TOWN_TABLE, TOWNS_BY_CODE, load_towns
from protocol.commands import PERMISSIONS
from protocol.enums import Role
from protocol.frames import Event
from sync_service.catalog import DEVICE_TYPES, DOMAINS

if TYPE_CHECKING:
    from citymodel.buildings import BuildingTable

DEMO_CITY_SEED = 2024
DEMO_CITY_BUILDINGS = 40_000  # ~2 s to generate: the centres of the towns, enough to look like a city

DEVICE_TYPES_BY_CODE = {t.code: t for t in DEVICE_TYPES}
TITLES = [(t.domain, t.code, r["title_zh"], r["title_en"], r["metric"]) for t in DEVICE_TYPES for r in t.rules]


class RecordingSink:
    """A CommandSink that records what views send and answers at once (ok, or an error when
    told to). Screenshots and widget tests use it where no service runs."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.queries: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, CommandResult] = {}
        self._loop = asyncio.new_event_loop()

    def _done(self, res: CommandResult) -> asyncio.Future[CommandResult]:
        fut: asyncio.Future[CommandResult] = self._loop.create_future()
        fut.set_result(res)
        return fut

    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        self.sent.append((name, args))
        return self._done(self.answers.get(name, CommandResult(ok=True, data={})))

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        self.queries.append((name, args))
        return self._done(self.answers.get(name, CommandResult(ok=True, data={"items": []})))

    def close(self) -> None:
        self._loop.close()


def session(role: Role = Role.OPERATOR, user: str = "operator") -> SessionInfo:
    return SessionInfo(user=user, display_name=user, role=role.value, permissions=PERMISSIONS[role])


def demo_city(n: int = DEMO_CITY_BUILDINGS, seed: int = DEMO_CITY_SEED) -> BuildingTable:
    """A small synthetic CIM city (citymodel.generator), the same for the same arguments."""
    from citymodel.generator import generate_city
    return generate_city(seed, n)


def seed_city_cache(directory: str | Path, table: BuildingTable, version: str | None = None) -> str:
    """Write a city into a 3D-view cache directory (IOC_CITY_CACHE_DIR) the way the console's
    loader does after a download, so a city view opens it at once. Returns its version."""
    from citymodel.cache import CityCache
    from views.city3d.loader import CityLoader
    version = version or f"demo-{len(table)}"
    CityLoader(RecordingSink(), CityCache(directory)).save(table, version)
    return version


def place_in_city(cols: dict[str, list[Any]], table: BuildingTable, seed: int = 7) -> None:
    """Put the demo alerts in buildings of their towns and the incidents where they happen: the
    dongcheng fire in a tall commercial building where the district is densest, the humen flood
    at a building of that town."""
    import numpy as np

    from citymodel.buildings import USE_INDEX
    from citymodel.towns import TOWN_TABLE as TOWNS
    rnd = random.Random(seed + 1)  # its own stream: the alerts stay as they are without a city
    codes = [t.code for t in TOWNS]
    rows_of: dict[str, Any] = {c: np.flatnonzero(table.town == k) for k, c in enumerate(codes)}
    for a in cols["alerts"]:
        rows = rows_of.get(a["town"])
        if rows is not None and len(rows):
            a["building_id"] = int(table.id[rows[rnd.randrange(len(rows))]])
    for inc in cols["incidents"]:
        rows = rows_of.get(inc["town"])
        if rows is None or not len(rows):
            continue
        if inc["domain"] == "fire":
            # a tall commercial building in the thick of its town: the 3D view that flies to it
            # shows a street of buildings around it, not a lone tower in a field
            tall = rows[(table.use[rows] == USE_INDEX["commercial"]) & (table.height[rows] > 30)]
            pool = tall if len(tall) else rows
            near = [int((np.hypot(table.cx[rows] - table.cx[r], table.cy[rows] - table.cy[r]) < 300).sum())
                    for r in pool]
            row = int(pool[int(np.argmax(near))])
            inc["building_id"] = int(table.id[row])
            for a in cols["alerts"]:  # the incident's own alerts are in its building
                if a["id"] in inc["alert_ids"]:
                    a["building_id"] = inc["building_id"]
        else:
            row = int(rows[rnd.randrange(len(rows))])
        inc["lon"], inc["lat"] = float(table.lon[row]), float(table.lat[row])


# Incident and task texts are typed by people (no English field in the protocol): Chinese in the
# demo, and these for English screenshots (incidents 1-2, then tasks 1-2).
TYPED_EN: list[dict[str, str]] = [
    {"title": "Fire in a shopping complex, Dongcheng",
     "summary": "3 smoke detectors and 1 fire detector alarmed within 15 minutes; the fire station has sent 2 engines."},
    {"title": "River above warning level, Humen"},
    {"title": "Send one engine each from the Chang'an and Humen fire stations",
     "description": "The fire has spread to the second floor; reinforcements requested."},
    {"title": "Start Humen's level III flood emergency response"},
]


def snapshot_collections(now: float | None = None, seed: int = 7, alerts: int = 400,
                         city: BuildingTable | None = None, lang: str = "zh") -> dict[str, list[Any]]:
    rnd = random.Random(seed)
    now = now or time.time()
    # at their real centres, as the service's town table has them (all at one point, the 3D
    # view stacked every town's device cluster and label on Guancheng)
    towns = [dict(code=t.code, name_zh=t.info.name_zh, name_en=t.info.name_en, kind=t.info.kind,
                  population=t.info.population, lon=round(t.centroid[0], 5), lat=round(t.centroid[1], 5))
             for t in load_towns()]
    domains = [dict(code=c, name_zh=zh, name_en=en) for c, zh, en in DOMAINS]
    dtypes = [dict(code=t.code, domain=t.domain, name_zh=t.name_zh, name_en=t.name_en, period_s=t.period_s,
                   metrics=[dict(name=m.name, unit=m.unit, min=m.min, max=m.max) for m in t.metrics])
              for t in DEVICE_TYPES]
    weights = [t.population for t in TOWN_TABLE]
    out_alerts = [make_alert(i + 1, rnd, now - rnd.uniform(0, 6 * 3600), weights) for i in range(alerts)]
    # the incidents' own alerts say what the incidents are about: the Dongcheng fire's three smoke
    # alarms and a fire detector, the Humen river level (the first ids; the rest stay random)
    story = [("dongcheng", "smoke_detector", "烟感报警", "Smoke alarm", "smoke", 4, "dispatched", 1500),
             ("dongcheng", "smoke_detector", "烟感报警", "Smoke alarm", "smoke", 4, "dispatched", 1440),
             ("dongcheng", "smoke_detector", "烟感报警", "Smoke alarm", "smoke", 4, "dispatched", 1380),
             ("dongcheng", "fire_detector", "火灾报警", "Fire alarm", "alarm", 4, "dispatched", 1320),
             ("humen", "water_level", "河道水位超警戒", "River level above warning", "level", 3, "acknowledged", 3700)]
    for a, (town_code, dtype, zh, en, metric, level, state, age) in zip(out_alerts, story, strict=False):
        town = TOWNS_BY_CODE[town_code]
        a.update(level=level, state=state, domain=DEVICE_TYPES_BY_CODE[dtype].domain, town=town_code,
                 title=f"{town.name_zh}{zh}", title_en=f"{en}, {town.name_en}", device_type=dtype,
                 device_id=f"{dtype}-{a['id']:06d}", metric=metric, first_ts=now - age, last_ts=now - age + 60,
                 updated_ts=now - age + 120, incident_id=1 if town_code == "dongcheng" else 2)
    stats = []
    for t in DEVICE_TYPES:
        for town in TOWN_TABLE:
            total = max(int(100_000 * t.share * town.population / 11_000_000), 1)
            off = int(total * rnd.uniform(0.005, 0.04))
            bad = int(total * rnd.uniform(0, 0.01))
            stats.append(dict(domain=t.domain, device_type=t.code, town=town.code, total=total,
                              online=total - off - bad, offline=off, faulty=bad))
    n_ticks = 720  # the hour the console keeps (app.store.METRICS_HISTORY): 1 h charts are full
    ticks = [metrics_tick(now - 5 * (n_ticks - 1 - k), k, rnd) for k in range(n_ticks)]
    # the alert counts in the ticks match the demo alerts, as the service's would; before, the
    # open and red counts climbed to them over the hour (red alerts piling up)
    open_ = [a for a in out_alerts if a["state"] in ("new", "acknowledged", "dispatched")]
    n_open, n_red = len(open_), sum(1 for a in open_ if a["level"] == 4)
    for k, t in enumerate(ticks):
        share = k / (n_ticks - 1)
        t["city"]["alerts_open"] = max(round(n_open * (0.86 + 0.14 * share) + wander(t["ts"], "open", 4.0)), 0)
        t["city"]["alerts_red"] = round(n_red * (0.55 + 0.45 * share))
    for t in ticks[-3:]:
        t["city"]["alerts_open"] = len(open_)
        t["city"]["alerts_red"] = sum(1 for a in open_ if a["level"] == 4)
        for a in open_:
            c = t["towns"][a["town"]]
            c["alerts_open"] += 1
            c["alerts_red"] += a["level"] == 4
    incidents = [dict(id=1, title="东城街道某商业综合体火灾", level=4, state="active", domain="fire",
                      town="dongcheng", alert_ids=[a["id"] for a in out_alerts[:4]],
                      summary="3 个烟感与 1 个火灾探测器在 15 分钟内报警；消防救援站已出动 2 车。",
                      commander="leader", created_ts=now - 1800, created_by="operator", updated_ts=now - 120),
                 dict(id=2, title="虎门镇河道水位超警戒", level=3, state="open", domain="water", town="humen",
                      alert_ids=[a["id"] for a in out_alerts[4:5]], created_ts=now - 3600, created_by="duty", updated_ts=now - 600)]
    tasks = [dict(id=1, incident_id=1, title="调派长安、虎门消防站各 1 车增援", domain="fire", state="proposed",
                  requires_approval=True, created_by="operator", created_ts=now - 300, updated_ts=now - 300,
                  description="现场火势蔓延至二层，请求增援。"),
             dict(id=2, incident_id=2, title="启动虎门镇防汛Ⅲ级应急响应", domain="water", state="proposed",
                  requires_approval=True, created_by="duty", created_ts=now - 200, updated_ts=now - 200)]
    dq = dict(ts=now, total={"auth_invalid": 41, "out_of_range": 230, "sentinel": 96, "ts_future": 12, "stuck": 57,
                             "unknown_device": 8},
              by_domain={"fire": {"out_of_range": 120, "stuck": 40}, "water": {"sentinel": 80, "auth_invalid": 30},
                         "urban": {"out_of_range": 110, "ts_future": 12}})
    if lang == "en":  # what the operators typed, as an English-speaking centre would have typed it
        for item, texts in zip(incidents + tasks, TYPED_EN, strict=True):
            item.update(texts)
    cols = {"towns": towns, "domains": domains, "device_types": dtypes, "alerts": out_alerts,
            "incidents": incidents, "tasks": tasks, "devices_stats": stats, "metrics": ticks, "dq": [dq],
            "focus": [dict(incident_id=1, by="leader", hall="decision", ts=now - 60)]}
    if city is not None:
        place_in_city(cols, city, seed)
    return cols


def make_alert(i: int, rnd: random.Random, ts: float, weights: list[int], level: int | None = None,
               state: str | None = None) -> dict[str, Any]:
    dom, dtype, zh, en, metric = rnd.choice(TITLES)
    town = rnd.choices(TOWN_TABLE, weights)[0]
    lv = level or rnd.choices([1, 2, 3, 4], [50, 30, 14, 6])[0]
    st = state or rnd.choices(["new", "acknowledged", "dispatched", "resolved"], [45, 30, 15, 10])[0]
    return dict(id=i, source="rule", level=lv, state=st, domain=dom, town=town.code, title=f"{town.name_zh}{zh}",
                title_en=f"{en}, {town.name_en}", device_id=f"{dtype}-{i:06d}", device_type=dtype, metric=metric,
                first_ts=ts, last_ts=ts, updated_ts=ts, count=1 + int(rnd.expovariate(0.7)))


def daily(ts: float, phase: float = 0.0) -> float:
    """A smooth daily cycle in [-1, 1] (peaks in the afternoon), the demo city's rhythm."""
    return math.sin(2 * math.pi * ((ts / 86400.0) + phase))


def _knot(key: str, n: int) -> float:
    """A value in [-1, 1] for knot n of a series, the same on every run."""
    return zlib.crc32(f"{key}:{n}".encode()) / 0x7FFFFFFF - 1.0


def _smooth_noise(ts: float, key: str, step: float) -> float:
    """Value noise: random knots every `step` seconds, joined by a cosine ease (no repeats)."""
    n = math.floor(ts / step)
    f = (1 - math.cos(math.pi * (ts / step - n))) / 2
    return _knot(key, n) * (1 - f) + _knot(key, n + 1) * f


def wander(ts: float, key: str, amp: float) -> float:
    """A slow, irregular wobble within [-amp, amp] of its own per series (knots every 20 and
    5 minutes): live ticks and the history answers share it, so they join up, and a 5 s tick
    does not jump like white noise."""
    return amp * (0.7 * _smooth_noise(ts, key, 1200.0) + 0.3 * _smooth_noise(ts, key + "/f", 300.0))


# base, daily amplitude, phase and wobble of the city series (live ticks and readings.series)
CITY_SERIES = {"pm25": (38.0, 12.0, 0.0, 1.5), "rain_1h": (18.0, 10.0, 0.3, 0.8), "level": (4.2, 0.6, 0.35, 0.05)}


def city_value(metric: str, ts: float) -> float:
    base, amp, phase, wob = CITY_SERIES.get(metric, (10.0, 3.0, 0.0, 0.3))
    return base + amp * daily(ts, phase) + wander(ts, metric, wob)


def metrics_tick(ts: float, k: int, rnd: random.Random) -> dict[str, Any]:
    """Keys as the service's metrics.tick has them (sync_service/metrics.py)."""
    day = daily(ts)
    towns = {t.code: {"pm25": round(38 + 14 * daily(ts, j / 34) + wander(ts, "pm25:" + t.code, 3.0)
                                    + rnd.uniform(-0.3, 0.3), 1),
                      "rain_1h": max(0.0, round(12 * daily(ts, j / 20) + wander(ts, "rain:" + t.code, 1.5), 1)),
                      "alerts_open": 0, "alerts_red": 0}
             for j, t in enumerate(TOWN_TABLE)}
    return {"ts": ts, "city": {"readings_per_s": round(330 + 40 * day + wander(ts, "readings", 12.0)
                                                       + rnd.uniform(-5, 5), 1),
                               "devices_online_pct": round(97.5 + day * 0.6 + wander(ts, "online", 0.1), 2),
                               "pm25_avg": round(city_value("pm25", ts) + rnd.uniform(-0.1, 0.1), 1),
                               "rain_1h_max": round(city_value("rain_1h", ts), 1),
                               "water_level_max": round(city_value("level", ts), 3),
                               "alerts_open": 0, "alerts_red": 0},  # set from the demo alerts
            "towns": towns}


def fill_store(store: StateStore, *, alerts: int = 400, role: Role = Role.OPERATOR, seed: int = 7,
               city: BuildingTable | None = None, lang: str = "zh") -> StateStore:
    """Load a snapshot the way backend_client does: begin, parts, end. With a city, the alerts
    and incidents are in its buildings (place_in_city); lang "en" types the incidents and tasks
    in English."""
    cols = snapshot_collections(alerts=alerts, seed=seed, city=city, lang=lang)
    store.begin_snapshot(1000)
    for name, items in cols.items():
        for k in range(0, len(items), 500):
            store.snapshot_part(name, items[k:k + 500])
    store.end_snapshot(1000)
    store.set_session(session(role, role.value if role != Role.DUTY_OFFICER else "duty"))
    store.set_connection(Connection.ONLINE)
    return store


def kitchen_alert(store: StateStore) -> int | None:
    """An open alert of a kitchen camera (the newest): selecting it plays that camera."""
    open_states = ("new", "acknowledged", "dispatched")
    kitchen = [a for a in store.alerts.values() if a.device_type == "kitchen_camera" and a.state in open_states]
    return max(kitchen, key=lambda a: a.last_ts or 0).id if kitchen else None


def refocus(store: StateStore, incident_id: int = 1, by: str = "leader") -> None:
    """The decision room puts an incident in focus (again), as a focus.set event: views that
    follow focus bring it up (the 3D city flies to it)."""
    store.apply_events([Event(seq=store.seq + 1, ts=time.time(), kind="focus.set",
                              data={"incident_id": incident_id, "by": by, "hall": "decision", "ts": time.time()})])


def alert_event(seq: int, alert: dict[str, Any]) -> Event:
    return Event(seq=seq, ts=time.time(), kind="alert.upsert", domain=alert["domain"], town=alert.get("town"),
                 data=alert)


class DemoSink(RecordingSink):
    """RecordingSink that also answers the reads a screenshot needs, from the same
    deterministic demo city: hourly history for readings.series (so 6 h and 24 h charts are
    not empty before the live ticks) and a page of devices for devices.list."""

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        if name == "readings.series":
            self.queries.append((name, args))
            now = time.time()
            step = max(int(args.get("bucket_s", 300)), 60)
            metric = str(args.get("metric", ""))
            # the same curve as the live ticks, so history and live join up
            pts = [[t, round(city_value(metric, t), 3)]
                   for t in range(int(args["since_ts"]), int(now - 3600), step)]
            return self._done(CommandResult(ok=True, data={"points": pts}))
        return super().query(name, args)
