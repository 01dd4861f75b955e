"""The 3D city view on a real display (Xvfb + Mesa): pixels, picking, tools, live overlays."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest

from citymodel.buildings import BuildingTable
from citymodel.generator import generate_city
from citymodel.geo import to_lonlat
from citymodel.tiles import LOD_DISTRICT, LOD_FULL
from tests.city3d.conftest import pixel_at, push, shot

pytestmark = pytest.mark.gui


def _tall(city: BuildingTable) -> int:
    """A mid-rise building standing a little apart is easy to see and to click."""
    cand = np.flatnonzero((city.height > 30) & (city.height < 80))
    return int(cand[0])


def _look_at(view: Any, city: BuildingTable, i: int, dist: float = 450.0) -> tuple[float, float]:
    view.scene.set_camera(float(city.cx[i]), float(city.cy[i]), dist, 0.0, 70.0, float(city.height[i]))
    view.render()
    return view.scene.project(float(city.cx[i]), float(city.cy[i]), float(city.height[i]))


def _alert(i: int, building_id: int, level: int, state: str = "new") -> dict[str, Any]:
    now = time.time()
    return dict(id=i, source="rule", level=level, state=state, domain="fire", town="nancheng", title=f"火警{i}",
                first_ts=now, last_ts=now, updated_ts=now, building_id=building_id)


def _is(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> bool:
    return bool((np.abs(px.astype(int) - np.array(rgb)).max(axis=1) <= tol).mean() > 0.5)


def test_red_alert_building_glows_red_and_clears(view: Any, city: BuildingTable, qtbot: Any) -> None:
    i = _tall(city)
    x, y = _look_at(view, city, i)
    before = pixel_at(view, shot(view), x, y)
    assert not _is(before, (255, 0, 0))
    push(view.store, "alert.upsert", _alert(1, int(city.id[i]), 4))
    qtbot.waitUntil(lambda: view.scene.layer("alerts") is not None, timeout=3000)
    assert _is(pixel_at(view, shot(view), x, y), (255, 0, 0))
    push(view.store, "alert.upsert", _alert(1, int(city.id[i]), 2))  # downgraded to yellow
    qtbot.waitUntil(lambda: _is(pixel_at(view, shot(view), x, y), (255, 220, 0)), timeout=3000)
    push(view.store, "alert.upsert", _alert(1, int(city.id[i]), 2, state="closed"))
    qtbot.waitUntil(lambda: view.scene.layer("alerts") is None, timeout=3000)
    assert not _is(pixel_at(view, shot(view), x, y), (255, 220, 0))


def test_click_picks_building_and_fills_the_card(view: Any, city: BuildingTable) -> None:
    i = _tall(city)
    bid = int(city.id[i])
    view.commands.answers["devices.list"] = {"items": [
        {"id": "smoke-1", "device_type": "smoke_detector", "health": "online", "name": "3楼烟感"}]}
    view.commands.answers["keyunits.list"] = {"items": [
        {"id": 9, "name": "测试商场", "category": "商场", "address": "南城", "contact": "张三", "key_parts": ["配电房"]}]}
    push(view.store, "alert.upsert", _alert(5, bid, 3))
    x, y = _look_at(view, city, i)
    row = view.click(int(x), int(y))
    assert row == i
    assert ("devices.list", {"building_id": bid, "limit": 200}) in view.commands.queries
    assert ("keyunits.list", {"building_id": bid}) in view.commands.queries
    view._on_timer_tick()
    html = view.panel.toPlainText()
    assert f"建筑 #{bid}" in html
    assert "3楼烟感" in html
    assert "测试商场" in html
    assert "火警5" in html
    near = pixel_at(view, shot(view), x, y, r=12)
    cyan = (np.abs(near.astype(int) - (0, 255, 255)).max(axis=1) <= 40).sum()
    assert cyan >= 30  # the selection is drawn cyan
    view.click(5, 5)  # the sky: nothing selected
    assert view.selected is None


def test_measure_distance_and_height(view: Any, city: BuildingTable) -> None:
    i = _tall(city)
    _look_at(view, city, i, 900.0)
    view.toolbar.tool_buttons["height"].setChecked(True)
    x, y = view.scene.project(float(city.cx[i]), float(city.cy[i]), float(city.height[i]))
    view.click(int(x), int(y))
    assert f"{city.height[i]:.1f} m" in view.panel.toPlainText()
    view.toolbar.tool_buttons["distance"].setChecked(True)
    w, h = view.plotter.window_size
    view.click(w // 2 - 200, h // 2)
    view.click(w // 2 + 200, h // 2)
    assert len(view.measure.points) == 2
    a, b = view.measure.points
    assert f"{np.linalg.norm(a - b):.1f}" in view.panel.toPlainText()
    view.toolbar.tool_buttons["area"].setChecked(True)
    for dx, dy in ((-150, -100), (150, -100), (150, 100), (-150, 100)):
        view.click(w // 2 + dx, h // 2 + dy)
    assert "面积" in view.panel.toPlainText()
    assert view.scene.layer("measure_line") is not None


def test_resources_and_incidents_follow_events(view: Any, city: BuildingTable, qtbot: Any) -> None:
    i = 50
    lon, lat = float(city.lon[i]), float(city.lat[i])
    now = time.time()
    veh = dict(id=7, kind="fire_vehicle", name="莞城1号车", domain="fire", lon=lon, lat=lat, updated_ts=now)
    push(view.store, "resource.upsert", veh)
    qtbot.waitUntil(lambda: view.scene.layer("fire_vehicle") is not None, timeout=3000)
    pts = np.asarray(view.scene.layer("fire_vehicle").GetMapper().GetInput().GetPoints().GetData())
    got = view.scene.world(pts[0])
    assert got[0] == pytest.approx(city.cx[i], abs=1.0)
    lon2, lat2 = to_lonlat(city.cx[i] + 500.0, city.cy[i])
    push(view.store, "resource.upsert", veh | {"lon": float(lon2), "lat": float(lat2), "updated_ts": now + 1})
    qtbot.waitUntil(lambda: abs(view.scene.world(np.asarray(
        view.scene.layer("fire_vehicle").GetMapper().GetInput().GetPoints().GetData())[0])[0]
        - (city.cx[i] + 500.0)) < 1.0, timeout=3000)
    inc = dict(id=3, title="莞城火灾", level=4, state="open", domain="fire", building_id=int(city.id[i]),
               created_ts=now, created_by="op", updated_ts=now)
    push(view.store, "incident.upsert", inc)
    qtbot.waitUntil(lambda: view.scene.layer("incident") is not None, timeout=3000)
    # focus -> the view flies to the incident's building
    push(view.store, "focus.set", {"incident_id": 3, "by": "leader", "ts": now})
    qtbot.waitUntil(lambda: view._fly is None and abs(view.scene.camera_state()["x"] - city.cx[i]) < 1.0,
                    timeout=5000)
    assert view.scene.camera_state()["dist"] < 2000


def test_surroundings_highlight_and_command(view: Any, city: BuildingTable) -> None:
    i = 50
    view.select(i)
    res = view.request_surroundings(250.0)
    assert res is not None
    assert res["buildings"][0]["id"] == int(city.id[i])
    name, args = view.commands.sent[-1]
    assert name == "surroundings.query"
    assert args["radius_m"] == 250.0
    assert args["lon"] == pytest.approx(float(city.lon[i]))
    assert view.scene.layer("surround") is not None
    assert view.scene.layer("surround_ring") is not None
    assert "周边分析" in view.panel.toPlainText()
    # the service's answer arrives as an event (from any hall) and is shown
    push(view.store, "surroundings.result", res | {"radius_m": 123.0})
    assert "123" in view.panel.toPlainText()


def test_lod_switches_between_overview_and_street(view: Any, city: BuildingTable) -> None:
    view.scene.overview()
    view.render()
    assert (view.scene.lod[view.scene.lod >= 0] == LOD_DISTRICT).all()
    overview_tris = view.scene.stats["triangles_visible"]
    i = _tall(city)
    _look_at(view, city, i, 500.0)
    assert (view.scene.lod == LOD_FULL).any()
    assert (view.scene.lod == -1).any()  # frustum culling at street level
    assert view.scene.stats["triangles_visible"] != overview_tris
    # 2D: parallel projection straight down
    view.set_2d(True)
    assert view.plotter.camera.GetParallelProjection()
    assert view.scene.camera_state()["elevation"] > 89
    view.set_2d(False)
    view.set_colour_mode("use")
    assert view.scene.colour_mode == "use"


def test_devices_cluster_far_and_show_one_by_one_near(view: Any, city: BuildingTable, qtbot: Any) -> None:
    from citymodel.towns import TOWN_TABLE

    store = view.store
    store.begin_snapshot(1)
    store.snapshot_part("towns", [{"code": "nancheng", "name_zh": "南城街道", "name_en": "Nancheng", "kind": "street",
                                   "population": 1, "lon": 113.75, "lat": 23.01}])
    store.snapshot_part("devices_stats", [{"domain": "fire", "device_type": "smoke_detector", "town": "nancheng",
                                           "total": 1234, "online": 1200, "offline": 30, "faulty": 4}])
    store.end_snapshot(1)
    view.scene.overview()
    qtbot.waitUntil(lambda: view.scene.layer("device_cluster") is not None, timeout=3000)
    assert view.scene.layer("device") is None
    i = int(np.flatnonzero(city.town == [t.code for t in TOWN_TABLE].index("nancheng"))[0])
    view.commands.answers["devices.list"] = {"items": [
        {"id": f"s{k}", "device_type": "smoke_detector", "domain": "fire", "town": "nancheng", "health": "online",
         "lon": float(city.lon[i]) + k * 1e-4, "lat": float(city.lat[i])} for k in range(5)]}
    view.scene.set_camera(float(city.cx[i]), float(city.cy[i]), 800.0, 0.0, 50.0)
    qtbot.waitUntil(lambda: view.scene.layer("device") is not None, timeout=3000)
    assert ("devices.list", {"town": "nancheng", "limit": 2000}) in view.commands.queries
    pts = np.asarray(view.scene.layer("device").GetMapper().GetInput().GetPoints().GetData())
    assert len(pts) == 5
    assert view.scene.layer("device_cluster") is None  # near: no clusters
    view.scene.overview()
    qtbot.waitUntil(lambda: view.scene.layer("device") is None, timeout=3000)
    assert view.scene.layer("device_cluster") is not None


async def test_city_is_fetched_once_the_connection_is_up(display: None, qtbot: Any, qapp: Any, tmp_path: Any,
                                                        monkeypatch: Any) -> None:
    """The view is built before the login completes: its first fetch finds the console offline.
    It must not stay empty: when the connection comes up it asks again and opens the city."""
    from app.store import Connection, StateStore
    from tests.city3d.test_loader import ScriptedSink
    from views.city3d import create_city_view

    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / "cache"))
    small = generate_city(5, 1200)
    sink = ScriptedSink(small)
    sink.offline = True
    store = StateStore()
    v = create_city_view(store, sink)
    qtbot.addWidget(v)

    async def settle() -> None:  # the cache worker, the fetch and the sliced build
        while v.busy:
            qapp.processEvents()
            await asyncio.sleep(0.01)

    await settle()
    assert v.scene is None
    assert v._fetch_state == "again"
    assert v.status.text() == "正在加载城市模型…"  # waiting, not "unavailable"
    sink.offline = False
    store.set_connection(Connection.ONLINE)
    await settle()
    assert v.scene is not None
    assert len(v.scene.table) == len(small)
    assert v._fetch_state == "done"
    n = len(sink.calls)
    store.set_connection(Connection.RECONNECTING)
    store.set_connection(Connection.ONLINE)
    await settle()
    assert len(sink.calls) == n  # fetched: a reconnect does not download the city again
    v.shutdown()
