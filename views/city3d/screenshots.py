"""`python -m views.city3d.screenshots [--n N] [--out DIR]` under Xvfb: screenshots of the 3D city
view into docs/screenshots/city3d-*.png (a generated city and a small scripted situation: alerts
of every level on buildings, fire stations, vehicles, hydrants, an incident in focus)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from citymodel.buildings import USE_INDEX, BuildingTable
from citymodel.geo import to_lonlat
from citymodel.towns import load_towns
from protocol.frames import Event

ROOT = Path(__file__).resolve().parents[2]


def _push(store: Any, kind: str, data: dict[str, Any]) -> None:
    store.apply_events([Event(seq=store.seq + 1, ts=time.time(), kind=kind, data=data)])


def _situation(store: Any, table: BuildingTable, centre: int) -> None:
    """Towns, resources around the centre building, alerts of four levels, a focused incident."""
    now = time.time()
    store.begin_snapshot(1)
    store.snapshot_part("towns", [{"code": t.code, "name_zh": t.info.name_zh, "name_en": t.info.name_en,
                                   "kind": t.info.kind, "population": t.info.population,
                                   "lon": t.centroid[0], "lat": t.centroid[1]} for t in load_towns()])
    from sync_service.catalog import DEVICE_TYPES

    store.snapshot_part("device_types", [
        {"code": t.code, "domain": t.domain, "name_zh": t.name_zh, "name_en": t.name_en, "period_s": t.period_s,
         "metrics": [{"name": m.name, "unit": m.unit, "min": m.min, "max": m.max} for m in t.metrics]}
        for t in DEVICE_TYPES])
    store.snapshot_part("devices_stats", [
        {"domain": t.domain, "device_type": t.code, "town": town.code,
         "total": max(1, int(100_000 * t.share * town.info.population / 11_000_000)), "online": 1, "offline": 0,
         "faulty": 0} for t in DEVICE_TYPES for town in load_towns()])
    store.end_snapshot(1)
    x, y = float(table.cx[centre]), float(table.cy[centre])
    rng = np.random.default_rng(3)
    rid = 1
    for kind, n, spread in (("fire_station", 3, 1500), ("fire_vehicle", 5, 700), ("water_source", 25, 500)):
        for k in range(n):
            lon, lat = to_lonlat(x + rng.uniform(-spread, spread), y + rng.uniform(-spread, spread))
            name = {"fire_station": f"消防站{k + 1}", "fire_vehicle": f"消防车{k + 1}", "water_source": f"消火栓{k + 1}"}[kind]
            _push(store, "resource.upsert", {"id": rid, "kind": kind, "name": name, "domain": "fire",
                                             "lon": float(lon), "lat": float(lat), "updated_ts": now})
            rid += 1
    near = np.flatnonzero(np.hypot(table.cx - x, table.cy - y) < 450)
    for aid, (row, level) in enumerate(zip([centre, *near[::max(1, len(near) // 6)][:5].tolist()], (4, 3, 2, 1, 4, 3),
                                           strict=False), start=1):
        _push(store, "alert.upsert", {"id": aid, "source": "rule", "level": level, "state": "new", "domain": "fire",
                                      "title": "烟感报警" if level > 2 else "设备异常",
                                      "title_en": "Smoke alarm" if level > 2 else "Device fault", "first_ts": now, "last_ts": now,
                                      "updated_ts": now, "building_id": int(table.id[row])})
    _push(store, "incident.upsert", {"id": 1, "title": "高层建筑火灾", "level": 4, "state": "open", "domain": "fire",
                                     "building_id": int(table.id[centre]), "created_ts": now, "created_by": "op",
                                     "updated_ts": now})


class _RecordingSink:
    """A CommandSink for the scripted screenshots: no service; the burning building is a key
    unit with a plan and a site plan made from the city as the service makes it; every other
    answer empty and ok."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, dict[str, Any]] = {}

    def _ok(self, data: dict[str, Any]) -> Any:
        from app.commandbus import CommandResult

        f = self.loop.create_future()
        f.set_result(CommandResult(ok=True, data=data))
        return f

    def send(self, name: str, args: dict[str, Any]) -> Any:
        self.sent.append((name, args))
        return self._ok({})

    def query(self, name: str, args: dict[str, Any]) -> Any:
        if name == "keyunits.list" and "building_id" not in args:
            return self._ok({"items": []})
        return self._ok(self.answers.get(name, {"items": []}))


def _key_unit(sink: _RecordingSink, table: BuildingTable, centre: int, store: Any) -> None:
    """The centre building as a key unit (六熟悉), with its plan and a site plan from the CIM."""
    from citymodel.geo import to_city_xy
    from citymodel.siteplan import site_plan

    water = []
    for r in store.resources.values():
        if str(r.kind) == "water_source":
            x, y = to_city_xy(r.lon, r.lat)
            water.append({"id": r.id, "name": r.name, "x": float(x), "y": float(y)})
    unit = {"id": 1, "name": "东莞市南城国际金融中心", "town": "nancheng", "category": "高层公共建筑",
            "address": "东莞市南城街道鸿福路88号", "contact": "消防安全管理人 值班电话 0769-22881234",
            "key_parts": ["消防控制室", "消防水泵房", "避难层", "地下车库"], "building_id": int(table.id[centre]),
            "lon": float(table.lon[centre]), "lat": float(table.lat[centre]), "qr": "lsx:dongguan:keyunit:KU-1:v1"}
    sink.answers["keyunits.list"] = {"items": [unit]}
    sink.answers["plans.for_unit"] = {"key_unit": unit, "items": [
        {"id": 1, "key_unit_id": 1, "title": "东莞市南城国际金融中心灭火救援预案", "body": "", "version": 3,
         "level": "detachment", "updated_ts": time.time() - 40 * 86400}],
        "site_plan": {**site_plan(table, centre, water), "source": "generated", "updated_ts": time.time()}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_700_000)
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--lang", choices=("zh", "en"), default="zh", help="UI language (en: files end in -en)")
    a = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from views.theme import apply_language

    apply_language(app, a.lang)
    suffix = "-en" if a.lang == "en" else ""
    from app.store import StateStore
    from citymodel.generator import generate_city
    from views.city3d import create_city_view

    table = generate_city(2024, a.n)
    tall = np.flatnonzero((table.town == 1) & (table.height > 60) & (table.use == USE_INDEX["commercial"]))
    centre = int(tall[0]) if len(tall) else int(np.argmax(table.height))
    # as in the service, the key-unit flag is where a key-unit record is: here the tower's own
    table.key_unit[:] = False
    table.key_unit[centre] = True
    store, sink = StateStore(), _RecordingSink()
    view: Any = create_city_view(store, sink, table=table)
    view.resize(1600, 900)
    view.show()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    def settle(s: float = 0.8) -> None:
        end = time.monotonic() + s
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        view._on_timer_tick()
        view.render()
        app.processEvents()

    def save(name: str) -> None:
        settle(0.3)
        view.grab().save(str(out / f"city3d-{name}{suffix}.png"))
        print("wrote", out / f"city3d-{name}{suffix}.png")

    _situation(store, table, centre)
    _key_unit(sink, table, centre, store)
    settle(1.0)
    save("overview-height")
    view.toolbar.colour.setCurrentIndex(1)  # by use
    view.go_town("nancheng")
    settle(2.0)
    save("nancheng-use")
    view.toolbar.colour.setCurrentIndex(0)
    _push(store, "focus.set", {"incident_id": 1, "by": "leader", "ts": time.time()})
    settle(2.0)
    view.select(centre)  # the burning tower itself (a click may hit the one in front of it)
    settle(0.5)
    save("incident-alerts-card")
    view.request_surroundings(300.0)
    st = view.scene.camera_state()
    view.scene.set_camera(st["x"], st["y"], 1500.0, 20.0, 55.0)
    save("surroundings")
    view.toolbar.btn_2d.setChecked(True)
    save("2d")
    view.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
