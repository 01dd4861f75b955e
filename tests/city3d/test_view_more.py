"""More of the 3D city view on a real display (Xvfb + Mesa): colour by age and by live state,
town bookmarks, the alert glow at the city overview, labels that never overlap, IoT devices by
type with a per-type filter, the key-unit card with plans and site plan, the light theme, and
opening from the local cache without blocking the Qt thread."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from citymodel.buildings import BuildingTable
from citymodel.siteplan import site_plan
from citymodel.towns import TOWN_TABLE
from tests.city3d.conftest import Sink, pixel_at, push, shot
from views.city3d.colors import LEVEL_RGB, building_colors
from views.city3d.overlays import device_rgb
from views.city3d.scene import AMBIENT, DIFFUSE, SUN, SUN_INTENSITY

pytestmark = pytest.mark.gui
ROOF_LIGHT = AMBIENT + DIFFUSE * SUN_INTENSITY * float(SUN[2])  # the sun on a flat roof


def _look_down(view: Any, city: BuildingTable, i: int, dist: float = 300.0) -> tuple[float, float]:
    view.scene.set_camera(float(city.cx[i]), float(city.cy[i]), dist, 0.0, 89.0, float(city.height[i]))
    view.render()
    return view.scene.project(float(city.cx[i]), float(city.cy[i]), float(city.height[i]))


def _roof(view: Any, city: BuildingTable, i: int) -> np.ndarray:
    x, y = _look_down(view, city, i)
    return np.median(pixel_at(view, shot(view), x, y, r=1).astype(float), axis=0)


def _big(city: BuildingTable, ok: np.ndarray) -> int:
    """A building of a wide footprint among ok ones (its roof fills pixels around its centre)."""
    cand = np.flatnonzero(ok & (city.area > 400) & (city.height < 60))
    return int(cand[np.argmax(city.area[cand])])


def _snapshot(store: Any, stats: list[dict[str, Any]], types: list[tuple[str, str, str, str]]) -> None:
    store.begin_snapshot(1)
    store.snapshot_part("towns", [{"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "kind": t.kind,
                                   "population": t.population, "lon": lon, "lat": lat}
                                  for t, (lon, lat) in _town_centres()])
    store.snapshot_part("device_types", [{"code": c, "domain": d, "name_zh": zh, "name_en": en, "period_s": 60,
                                          "metrics": []} for c, d, zh, en in types])
    store.snapshot_part("devices_stats", stats)
    store.end_snapshot(1)


def _town_centres() -> list[tuple[Any, tuple[float, float]]]:
    from citymodel.towns import load_towns

    info = {t.code: t for t in TOWN_TABLE}
    return [(info[t.code], t.centroid) for t in load_towns()]


def test_colour_by_age_and_by_live_state(view: Any, city: BuildingTable, qtbot: Any) -> None:
    old = _big(city, (city.year > 0) & (city.year < 1985))
    new = _big(city, city.year >= 2015)
    view.toolbar.colour.setCurrentIndex(2)  # by age
    assert view.scene.colour_mode == "age"
    ramp = building_colors(city, "age")
    for i in (old, new):
        got = _roof(view, city, i)
        assert np.abs(got - ramp[i] * ROOF_LIGHT).max() < 8, (i, got, ramp[i])
    assert ramp[old][0] > ramp[old][2]  # brown: old
    assert ramp[new][2] > ramp[new][0]  # blue: new
    view.toolbar.colour.setCurrentIndex(3)  # live state: grey, alerting buildings glow
    grey = _roof(view, city, old)
    assert np.ptp(grey) < 25  # grey (a touch of blue)
    push(view.store, "alert.upsert", dict(id=9, source="rule", level=3, state="new", domain="fire", town="nancheng",
                                          title="火警", first_ts=time.time(), last_ts=time.time(),
                                          updated_ts=time.time(), building_id=int(city.id[old])))
    qtbot.waitUntil(lambda: view.scene.layer("alerts") is not None, timeout=3000)
    x, y = _look_down(view, city, old)
    px = pixel_at(view, shot(view), x, y, r=1)
    assert (np.abs(px.astype(int) - LEVEL_RGB[3]).max(axis=1) < 40).mean() > 0.5  # orange, unlit


def test_town_bookmarks_and_go_town(view: Any, qtbot: Any) -> None:
    assert set(view.bookmarks) == {t.code for t in TOWN_TABLE}
    humen = view.bookmarks["humen"]
    i = view.toolbar.towns.findData("humen")
    view.toolbar.towns.setCurrentIndex(i)
    view.toolbar.towns.activated.emit(i)  # as a user choosing it
    qtbot.waitUntil(lambda: view._fly is None, timeout=5000)
    st = view.scene.camera_state()
    assert st["x"] == pytest.approx(humen["x"], abs=1.0)
    assert st["y"] == pytest.approx(humen["y"], abs=1.0)
    assert st["dist"] == pytest.approx(humen["dist"], rel=0.01)
    view.go_town("overview")
    qtbot.waitUntil(lambda: view._fly is None, timeout=5000)
    back = view.scene.camera_state()
    view.scene.overview()
    assert back["dist"] == pytest.approx(view.scene.camera_state()["dist"], rel=0.01)
    assert back["dist"] > 3 * humen["dist"]


def test_red_alert_glows_at_the_city_overview(view: Any, city: BuildingTable, qtbot: Any) -> None:
    view.scene.overview()
    view.render()
    i = int(np.argmax(city.height))
    x, y = view.scene.project(float(city.cx[i]), float(city.cy[i]), float(city.height[i]) + 3.0)

    def red(img: np.ndarray) -> int:
        px = pixel_at(view, img, x, y, r=10).astype(int)
        return int(((px[:, 0] > 200) & (px[:, 1] < 60) & (px[:, 2] < 60)).sum())

    assert red(shot(view)) < 5
    push(view.store, "alert.upsert", dict(id=4, source="rule", level=4, state="new", domain="fire", town="nancheng",
                                          title="火警", first_ts=time.time(), last_ts=time.time(),
                                          updated_ts=time.time(), building_id=int(city.id[i])))
    qtbot.waitUntil(lambda: view.scene.layer("alerts") is not None, timeout=3000)
    assert view.scene.camera_state()["dist"] > 10_000  # still the overview: one building is a pixel
    assert red(shot(view)) >= 100  # the 16 px roof marker: visible from across the city


def test_labels_of_every_set_never_overlap_and_incidents_win(view: Any, city: BuildingTable, qtbot: Any) -> None:
    """An incident near a town's centre, fire stations around it, a device cluster and the town
    names: all placed in one pass; no two placed labels overlap and the incident's is shown."""
    types = [("smoke_detector", "fire", "独立式烟感", "Smoke detector"),
             ("water_level", "water", "水位计", "Water-level gauge")]
    stats = [{"domain": d, "device_type": c, "town": t.code, "total": 500 + 10 * k, "online": 1, "offline": 0,
              "faulty": 0} for k, t in enumerate(TOWN_TABLE) for c, d, _, _ in types]
    _snapshot(view.store, stats, types)
    (gc, (lon, lat)) = next(tc for tc in _town_centres() if tc[0].code == "guancheng")
    now = time.time()
    for k in range(6):
        push(view.store, "resource.upsert", dict(id=100 + k, kind="fire_station", name=f"莞城消防站{k}", domain="fire",
                                                 lon=lon + 0.004 * (k - 3), lat=lat + 0.002, updated_ts=now))
    push(view.store, "incident.upsert", dict(id=5, title="莞城中心火灾", level=4, state="open", domain="fire",
                                             lon=lon, lat=lat, created_ts=now, created_by="op", updated_ts=now))
    view.scene.overview()
    qtbot.waitUntil(lambda: view.scene.layer("incident") is not None and
                    "device_cluster_labels" in view.scene.labels.sets, timeout=3000)
    view._on_timer_tick()
    shot(view)
    placed = view.scene.labels.last
    kinds = {name for name, _, _ in placed}
    assert {"incident_labels", "town_labels", "device_cluster_labels"} <= kinds
    assert "fire_station_labels" in view.scene.labels.sets
    boxes = np.array([b for _, _, b in placed])
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            p, q = boxes[a], boxes[b]
            assert p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1], (placed[a], placed[b])
    assert view.scene.labels.sets["incident_labels"].shown.all()
    n_all = sum(len(s.texts) for s in view.scene.labels.sets.values())
    assert len(placed) < n_all  # at the overview some station labels had to give way


def test_place_labels_priority_first_then_another_side() -> None:
    from views.city3d.labels import place_labels

    anchors = np.array([[100.0, 100.0], [100.0, 100.0], [100.0, 100.0], [100.0, 100.0], [100.0, 100.0]])
    sizes = np.full((5, 2), (60.0, 16.0))
    boxes, placed = place_labels(anchors, sizes, np.array([1, 5, 3, 2, 4]), 400, 300)
    assert placed.tolist() == [False, True, True, True, True]  # four sides, the lowest loses
    first = boxes[1]
    assert first[1] > 100  # the highest priority got the first side: above the anchor
    edge, ok = place_labels(np.array([[5.0, 150.0]]), sizes[:1], np.array([1]), 400, 300)
    assert ok.tolist() == [True]  # not above (off the screen's left edge): to the right
    assert edge[0][0] > 5.0


def test_devices_by_type_with_a_filter_in_the_layers_menu(view: Any, city: BuildingTable, qtbot: Any) -> None:
    types = [("smoke_detector", "fire", "独立式烟感", "Smoke detector"),
             ("water_level", "water", "水位计", "Water-level gauge")]
    _snapshot(view.store, [{"domain": "fire", "device_type": "smoke_detector", "town": "nancheng", "total": 900,
                            "online": 1, "offline": 0, "faulty": 0},
                           {"domain": "water", "device_type": "water_level", "town": "nancheng", "total": 40,
                            "online": 1, "offline": 0, "faulty": 0}], types)
    assert list(view.toolbar.type_actions) == ["smoke_detector", "water_level"]
    view.scene.overview()
    qtbot.waitUntil(lambda: view.scene.layer("device_cluster") is not None, timeout=3000)

    def colours(layer: str) -> set[tuple[int, ...]]:
        from vtk.util.numpy_support import vtk_to_numpy

        pd = view.scene.layer(layer).GetMapper().GetInput()
        return {tuple(int(v) for v in c) for c in vtk_to_numpy(pd.GetPointData().GetArray("rgb"))}

    assert colours("device_cluster") == {device_rgb("smoke_detector"), device_rgb("water_level")}
    assert view.scene.labels.sets["device_cluster_labels"].texts == ["设备 940"]
    html = view.panel.toPlainText()
    assert "独立式烟感" in html  # the legend names the types
    assert "水位计" in html
    view.toolbar.type_actions["smoke_detector"].setChecked(False)
    view._on_timer_tick()
    assert colours("device_cluster") == {device_rgb("water_level")}
    assert view.scene.labels.sets["device_cluster_labels"].texts == ["水位计 40"]
    # near: devices one by one, by type, the same filter
    i = int(np.flatnonzero(city.town == [t.code for t in TOWN_TABLE].index("nancheng"))[0])
    view.commands.answers["devices.list"] = {"items": [
        {"id": f"d{k}", "device_type": ("smoke_detector", "water_level")[k % 2], "domain": "fire", "town": "nancheng",
         "health": "online", "lon": float(city.lon[i]) + k * 1e-4, "lat": float(city.lat[i])} for k in range(6)]}
    view.scene.set_camera(float(city.cx[i]), float(city.cy[i]), 800.0, 0.0, 50.0)
    qtbot.waitUntil(lambda: view.scene.layer("device") is not None, timeout=3000)
    assert colours("device") == {device_rgb("water_level")}
    view.toolbar.type_actions["smoke_detector"].setChecked(True)
    view._on_timer_tick()
    assert colours("device") == {device_rgb("smoke_detector"), device_rgb("water_level")}


def test_key_unit_card_shows_plans_and_the_site_plan(view: Any, city: BuildingTable, qtbot: Any) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QImage, QTextDocument

    i = int(np.argmax(city.height))
    bid = int(city.id[i])
    unit = {"id": 7, "name": "东莞市测试大厦", "category": "高层公共建筑", "address": "南城", "contact": "李四",
            "key_parts": ["消防控制室"], "building_id": bid, "lon": float(city.lon[i]), "lat": float(city.lat[i])}
    layout = site_plan(city, i, [{"id": 1, "name": "消火栓1", "x": float(city.cx[i]) + 40, "y": float(city.cy[i])}])
    view.commands.answers["keyunits.list"] = {"items": [unit]}
    view.commands.answers["plans.for_unit"] = {"key_unit": unit, "site_plan": layout | {"source": "generated"},
                                               "items": [{"id": 3, "key_unit_id": 7, "title": "测试大厦灭火救援预案",
                                                          "body": "…", "version": 2, "level": "detachment",
                                                          "updated_ts": time.mktime((2026, 10, 23, 12, 0, 0, 0, 0, -1))}]}
    view.select(i)
    assert ("plans.for_unit", {"id": 7}) in view.commands.queries
    view._on_timer_tick()
    text = view.panel.toPlainText()
    assert "重点单位：东莞市测试大厦" in text
    assert "测试大厦灭火救援预案 · 支队级 · 更新 2026-10-23 · v2" in text
    assert "总平面图" in text
    img = view.panel.document().resource(QTextDocument.ResourceType.ImageResource.value, QUrl("siteplan:7"))
    if not isinstance(img, QImage):
        img = view.panel.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl("siteplan:7"))
    assert isinstance(img, QImage)
    assert img.width() >= 280
    img.save(str(Path(view.loader.cache.dir).parent / "siteplan.png"))
    purple = sum(1 for x in range(0, img.width(), 2) for y in range(0, img.height(), 2)
                 if (c := img.pixelColor(x, y)).red() > 130 and c.blue() > 190 and c.green() < 150)
    assert purple > 50  # the unit's building is drawn, in the key-unit purple
    view._on_panel_link(QUrl("siteplan:7"))
    dlg = view._site_plan_dialog
    assert "东莞市测试大厦" in dlg.windowTitle()
    assert dlg.image.pixmap().width() == 640
    dlg.close()


def test_light_theme_background_and_bordered_swatches(view: Any, qapp: Any) -> None:
    from views.city3d.panel import swatch_image
    from views.theme import apply_theme

    dark_bg = shot(view)[5, 5, :3].astype(int)
    apply_theme(qapp, "light")
    try:
        qapp.processEvents()
        assert view.theme == "light"
        view.scene.set_camera(0, 0, 10.0, 0, 10)  # the sky only
        img = shot(view)
        assert img[5, 5, :3].mean() > 180 > dark_bg.mean()
    finally:
        apply_theme(qapp, "dark")
        qapp.processEvents()
    assert view.theme == "dark"
    white = swatch_image("ffffff")
    assert white.pixelColor(0, 0).lightness() < 200  # its border shows on a white panel
    assert white.pixelColor(6, 6).lightness() == 255


def test_opens_from_the_cache_without_blocking_and_flies_to_the_focus(display: None, qtbot: Any, tmp_path: Path,
                                                                     monkeypatch: Any, city: BuildingTable) -> None:
    """The view is built at once (the cache is read and the scene prepared in a thread), says
    it is loading, then shows the city and starts at the focused incident."""
    from app.store import StateStore
    from citymodel.cache import CityCache
    from views.city3d import create_city_view
    from views.city3d.loader import CityLoader

    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path))
    CityLoader(Sink(), CityCache(tmp_path)).save(city, "v-test")
    store = StateStore()
    i = int(np.argmax(city.height))
    now = time.time()
    push(store, "incident.upsert", dict(id=2, title="火灾", level=4, state="open", domain="fire",
                                        building_id=int(city.id[i]), created_ts=now, created_by="op", updated_ts=now))
    push(store, "focus.set", {"incident_id": 2, "by": "leader", "ts": now})
    t0 = time.perf_counter()
    v = create_city_view(store, Sink())
    built = time.perf_counter() - t0
    v.resize(1000, 700)
    v.show()
    qtbot.addWidget(v)
    try:
        assert v.loading
        assert v.scene is None
        assert v.status.text() == "正在加载城市模型…"
        assert built < 1.5  # widgets and an empty render window, not the city
        qtbot.waitExposed(v)
        v.grab()  # it paints while the city loads
        qtbot.waitUntil(lambda: not v.loading, timeout=20_000)
        assert len(v.scene.table) == len(city)
        assert v.status.text() == f"{len(city):,} 栋建筑"
        st = v.scene.camera_state()
        assert st["x"] == pytest.approx(float(city.cx[i]), abs=1.0)  # at the focused incident, not the overview
        assert st["dist"] < 3000
    finally:
        v.shutdown()
