"""Cross-hall focus through the real sync service (in-process, port 0, SQLite, with a CIM city):
the decision room's leader puts an incident in focus from the incident panel's button; the
focus.set event reaches four consoles - real ConsoleClients, real hall walls under Xvfb:

- operations hall (its profile follows the focus): the incident panel shows the incident,
  the wall brings up the page with it, the 3D city flies to the incident's building;
- front hall (its profile does not follow): its page, selection and 3D camera stay as they were;
- a water-bureau operator on the duty profile (follows, but the incident is the fire
  bureau's): only "the focus moved elsewhere", nothing of the incident; its own incident stays.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.halls import Profile, shipped_profiles
from app.settings import ConsoleSettings
from app.store import Connection, StateStore
from citymodel.generator import generate_city
from sync_service.cim import seed_buildings
from tests.backend_client.service import PASSWORD, running_service, sql
from tests.city3d.conftest import display  # noqa: F401 - the fixture: 3D needs Xvfb (xcb)
from tests.widgets.conftest import tick
from views.context import ViewContext
from views.wall import WallManager
from widgets.red_alert import RedAlertCenter

CITY_SEED, CITY_N = 7, 3000


@dataclass
class Console:
    user: str
    store: StateStore
    client: Any  # backend_client.ConsoleClient
    ctx: ViewContext
    wall: WallManager

    @property
    def win(self) -> Any:
        (w,) = self.wall.windows
        return w

    def screen_index(self) -> int:
        """The profile screen the (single, tabbed) window shows."""
        w = self.win
        return w.screen_indices[w.tabs.currentIndex()] if w.tabs is not None else w.screen_indices[0]


def _no_3d(p: Profile) -> Profile:
    """The profile with a placeholder for its 3D city (fewer render windows in one test)."""
    p = p.model_copy(deep=True)
    for s in p.screens:
        for page in s.pages:
            for c in page.cells:
                if c.panel == "city3d":
                    c.options = {**c.options, "placeholder": True}
    return p


async def _until(pred: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_focus_from_the_decision_room_reaches_the_halls_that_follow(
        display: None, qapp: Any, qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:  # noqa: F811
    from backend_client.client import ConsoleClient
    from backend_client.qtloop import ConsoleEventLoop

    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path / "config"))
    city = generate_city(CITY_SEED, CITY_N)  # what the service's CIM holds
    tallest = int(np.argmax(city.height))
    db_url = f"sqlite:///{tmp_path / 'ioc.db'}"
    profiles = shipped_profiles()
    assert profiles["operations"].follow_focus
    assert not profiles["front"].follow_focus
    assert profiles["duty"].follow_focus
    loop = ConsoleEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    consoles: list[Console] = []

    async def console(user: str, profile: Profile) -> Console:
        # each console its own city cache, as on its own machine (read when its 3D view is made)
        monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / f"city-{profile.id}-{user}"))
        store = StateStore()
        client = ConsoleClient(svc.url, store, hall=profile.id, local_dir=str(tmp_path / f"{profile.id}-{user}"))
        client.login(user, PASSWORD)
        await _until(lambda: store.connection == Connection.ONLINE and store.session.user == user, f"{user} online")
        red = RedAlertCenter(store, client)
        red.sound.set_muted(True)
        ctx = ViewContext(store, client, ConsoleSettings(mute=True), profile, red_center=red)
        wall = WallManager(ctx, kiosk=False)
        wall.build()
        c = Console(user, store, client, ctx, wall)
        consoles.append(c)
        return c

    async def ok(c: Console, name: str, args: dict[str, Any]) -> dict[str, Any]:
        res = await c.client.send(name, args)
        assert res.ok, (name, res)
        return dict(res.data or {})

    async def scenario() -> None:
        nonlocal svc
        async with running_service(db_url) as svc:
            await svc.ctx.db.write(lambda s: seed_buildings(s, CITY_SEED, CITY_N))
            dec = await console("leader", _no_3d(profiles["decision"]))
            fire_alert = (await ok(dec, "alert.raise", {
                "level": 3, "domain": "fire", "town": "nancheng", "title": "高层建筑火警",
                "building_id": int(city.id[tallest])}))["alert_id"]
            fire_inc = (await ok(dec, "incident.open", {"alert_ids": [fire_alert], "title": "高层建筑火灾"}))["incident_id"]
            water_alert = (await ok(dec, "alert.raise", {"level": 3, "domain": "water", "town": "hongmei",
                                                         "title": "河道水位超警"}))["alert_id"]
            water_inc = (await ok(dec, "incident.open", {"alert_ids": [water_alert], "title": "洪梅内涝"}))["incident_id"]

            ops = await console("operator", profiles["operations"])
            front = await console("duty", profiles["front"])
            bureau = await console("bureau_water", _no_3d(profiles["duty"]))
            for c in (ops, front):
                await _until(lambda c=c: not c.wall.panel("city3d").loading, f"{c.ctx.profile.id}: the 3D city", 120)
            assert len(ops.wall.panel("city3d").scene.table) == CITY_N

            # before: the operations wall on its third screen, its panel on the newest incident;
            # the front hall on its 3D page, at the overview
            ops.win.show_screen(2, 0)
            assert ops.screen_index() == 2
            assert ops.wall.panel("incident").incident_id == water_inc
            front_sv = front.win.current_screen()
            front_sv.show_page(3)
            front_cam = front.wall.panel("city3d").scene.camera_state()
            bureau.win.current_screen().show_page(1)
            assert fire_inc not in bureau.store.incidents
            assert water_inc in bureau.store.incidents
            assert bureau.wall.panel("incident").incident_id == water_inc

            # the leader: the fire incident in the decision room's panel, then its focus button
            panel = dec.wall.panel("incident")
            panel.show_incident(fire_inc)
            assert panel.focus_btn.isVisible()
            assert panel.focus_btn.isEnabled()
            qtbot.mouseClick(panel.focus_btn, Qt.MouseButton.LeftButton)
            for c in consoles:
                await _until(lambda c=c: c.store.focus is not None, f"{c.user}: the focus.set event")
            await _until(lambda: panel.status.text() == "已完成", "the command's result in the decision room")

            # operations hall: the incident brought up everywhere
            f = ops.store.focus
            assert (f.incident_id, f.by, f.hall, f.elsewhere) == (fire_inc, "leader", "decision", False)
            assert ops.ctx.view_state.incident_id == fire_inc
            assert ops.screen_index() == 0  # the screen with the incident panel
            assert ops.win.current_screen().current_page() == 0
            ip = ops.wall.panel("incident")
            tick(qapp)
            assert ip.incident_id == fire_inc
            assert ip.title.text() == f"#{fire_inc} 高层建筑火灾"
            assert ip.focus_flag.text() == "◉ 全局关注"
            view = ops.wall.panel("city3d")
            await _until(lambda: view._fly is None, "the operations hall's 3D flight")
            cam = view.scene.camera_state()
            assert cam["x"] == pytest.approx(float(city.cx[tallest]), abs=1.0)
            assert cam["y"] == pytest.approx(float(city.cy[tallest]), abs=1.0)
            assert cam["dist"] < 3000

            # front hall: received it, followed nothing
            assert front.store.focus.incident_id == fire_inc
            assert front.ctx.view_state.incident_id is None
            assert front.win.current_screen() is front_sv
            assert front_sv.current_page() == 3
            fview = front.wall.panel("city3d")
            assert fview._fly is None
            assert fview.scene.camera_state() == pytest.approx(front_cam)

            # the water bureau: the focus moved elsewhere, and nothing else
            bf = bureau.store.focus
            assert (bf.incident_id, bf.elsewhere, bf.by) == (None, True, "leader")
            assert fire_inc not in bureau.store.incidents
            assert bureau.ctx.view_state.incident_id is None
            assert bureau.win.current_screen().current_page() == 1
            bp = bureau.wall.panel("incident")
            tick(qapp)
            assert bp.incident_id == water_inc
            assert bp.focus_flag.text() == "◎ 全局关注已移至他处"
            assert "高层建筑" not in bp.title.text() + bp.meta.text() + bp.summary.text()

            # the decision room's own panel marks it
            tick(qapp)
            assert panel.focus_flag.text() == "◉ 全局关注"
            for c in consoles:
                await c.client.stop()

    svc: Any = None
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(), 240))
    finally:
        for c in consoles:
            c.wall.teardown()
        qapp.processEvents()
        loop.close()
        asyncio.set_event_loop(None)
    # the store has it as the decision console's command, in the decision hall
    rows = sql(db_url, "SELECT data, command_id FROM events WHERE kind = 'focus.set'")
    assert len(rows) == 1
    data, command_id = rows[0]
    assert json.loads(data)["hall"] == "decision"
    assert command_id
