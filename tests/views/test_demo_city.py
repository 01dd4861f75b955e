"""The screenshots' 3D panels show a city: the demo state puts its alerts and incidents in the
buildings of a small generated city, and a city cache seeded with it opens in a hall's 3D view
as a downloaded city would (no service). The view needs OpenGL: Xvfb with the xcb platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.halls import shipped_profiles
from app.settings import ConsoleSettings
from app.store import StateStore
from citymodel.buildings import BuildingTable
from citymodel.towns import TOWN_TABLE
from protocol.enums import Role
from tests.city3d.conftest import display  # noqa: F401 - the fixture: 3D needs Xvfb (xcb)
from tests.widgets.conftest import tick
from tools.demo_state import (
    RecordingSink,
    demo_city,
    fill_store,
    place_in_city,
    seed_city_cache,
    snapshot_collections,
)
from views.context import ViewContext

N = 8_000  # small and quick; the screenshots use 40,000


@pytest.fixture(scope="module")
def city() -> BuildingTable:
    return demo_city(N)


def test_demo_alerts_and_incidents_sit_in_buildings_of_their_towns(city: BuildingTable) -> None:
    cols = snapshot_collections(alerts=300)
    place_in_city(cols, city)
    row_of = {int(b): k for k, b in enumerate(city.id)}
    codes = [t.code for t in TOWN_TABLE]
    placed = [a for a in cols["alerts"] if a.get("building_id") is not None]
    assert len(placed) > 250  # a town the small city has no building in keeps its alerts unplaced
    for a in placed:
        assert codes[int(city.town[row_of[a["building_id"]]])] == a["town"]
    fire, flood = cols["incidents"]
    assert fire["town"] == "dongcheng"
    assert codes[int(city.town[row_of[fire["building_id"]]])] == "dongcheng"
    assert city.height[row_of[fire["building_id"]]] > 30
    own = [a for a in cols["alerts"] if a["id"] in fire["alert_ids"]]
    # the fire's own alerts: smoke and fire alarms in Dongcheng, red, in the burning building
    assert len(own) == 4
    assert {a["building_id"] for a in own} == {fire["building_id"]}
    assert {(a["domain"], a["town"], a["level"]) for a in own} == {("fire", "dongcheng", 4)}
    assert flood["lon"] is not None
    assert flood["lat"] is not None
    # the same arguments, the same city and the same places (screenshots are reproducible)
    again = snapshot_collections(alerts=300, city=demo_city(N))
    assert [a.get("building_id") for a in again["alerts"]] == [a.get("building_id") for a in cols["alerts"]]


def test_seeded_cache_opens_in_the_operations_halls_3d_view(city: BuildingTable, tmp_path: Path, qtbot: Any,
                                                           qapp: Any, monkeypatch: pytest.MonkeyPatch,
                                                           display: None) -> None:  # noqa: F811
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / "city"))
    version = seed_city_cache(tmp_path / "city", city)
    assert (tmp_path / "city" / "latest.json").read_text().count(version) == 1
    from views.city3d.widget import CityView
    from views.window import HallWindow
    from widgets.red_alert import RedAlertCenter

    store = fill_store(StateStore(), role=Role.OPERATOR, city=city)
    sink = RecordingSink()
    red = RedAlertCenter(store, sink)
    red.sound.set_muted(True)
    profile = shipped_profiles()["operations"]
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), profile, red_center=red)
    win = HallWindow(ctx, [1], kiosk=False)  # screen 2: the 3D city, towns and the camera
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    tick(qapp, 2)
    (view,) = win.findChildren(CityView)
    try:
        # the cache is read and the scene prepared in a worker thread, then built in slices
        qtbot.waitUntil(lambda: not view.loading, timeout=20_000)
        assert view.scene is not None
        assert len(view.scene.table) == N
        assert view.status.text() == f"{N:,} 栋建筑"  # not "loading the city"
        view._on_timer_tick()
        # the alerts are on their buildings: the burning one is red
        fire = store.incidents[1]
        assert fire.building_id is not None
        from views.city3d import live
        assert live.alert_levels(store)[fire.building_id] == 4
        img = np.asarray(view.plotter.screenshot(return_img=True))
        assert len(np.unique(img.reshape(-1, img.shape[2])[:, :3], axis=0)) > 50  # buildings drawn
    finally:
        view.shutdown()
        win.allow_close = True
        win.close()
        sink.close()
