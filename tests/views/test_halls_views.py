"""Hall windows from every shipped profile, playlists, focus following, screen changes,
language switching and the translation's completeness."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel

from app.halls import shipped_profiles
from app.settings import ConsoleSettings
from protocol.enums import Role
from tests.widgets.conftest import alert, push, tick
from tools.demo_state import RecordingSink, fill_store
from views.context import ViewContext
from views.page import PanelFrame
from views.screen_view import ScreenView
from views.wall import WallManager
from views.window import HallWindow
from widgets.red_alert import RedAlertCenter


@pytest.fixture
def make_ctx(sink: RecordingSink, tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    made: list[ViewContext] = []

    def make(hall: str, role: Role = Role.OPERATOR) -> ViewContext:
        from app.store import StateStore
        store = fill_store(StateStore(), alerts=120, role=role)
        red = RedAlertCenter(store, sink)
        red.sound.set_muted(True)
        ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()[hall], red_center=red)
        made.append(ctx)
        return ctx
    return make


@pytest.mark.parametrize("hall", ["front", "operations", "decision", "intelligence", "duty"])
def test_every_profile_builds_every_panel(hall: str, make_ctx: Any, qtbot: Any, qapp: Any) -> None:
    ctx = make_ctx(hall)
    win = HallWindow(ctx, list(range(len(ctx.profile.screens))), kiosk=False)
    qtbot.addWidget(win)
    win.resize(1600, 900)
    win.show()
    tick(qapp, 2)
    frames = win.findChildren(PanelFrame)
    assert sorted(f.panel_id for f in frames) == sorted(ctx.profile.panels())
    for f in frames:  # no "unknown panel" or "failed to load" stand-ins
        assert not (isinstance(f.body, QLabel) and ("面板" in f.body.text()))
    assert win.banner is not None
    assert win.banner.isVisible()  # the demo state has unacknowledged red alerts
    assert not win.grab().isNull()


def test_front_hall_playlist_rotates_and_pauses(make_ctx: Any, qtbot: Any, qapp: Any) -> None:
    ctx = make_ctx("front")
    push(ctx.store, "alert.upsert", alert(99_999, level=4, state="acknowledged"))
    for a in ctx.store.unacknowledged_red():
        push(ctx.store, "alert.upsert", {**a.model_dump(mode="json"), "state": "acknowledged"})
    tick(qapp)
    sv = ScreenView(ctx, ctx.profile.screens[0])
    qtbot.addWidget(sv)
    sv.show()
    assert sv.playlist is not None
    t0 = time.monotonic()
    sv.playlist.start(t0)
    interval = ctx.profile.screens[0].rotate_s
    sv.tick(t0 + interval + 0.1)
    assert sv.current_page() == 1
    sv.playlist.interaction(t0 + interval + 1)  # someone touches the screen
    sv.tick(t0 + 2 * interval + 2)
    assert sv.current_page() == 1
    assert "暂停" in sv.indicator.text()
    sv.playlist._last_interaction = -1e18
    push(ctx.store, "alert.upsert", alert(123_456, level=4))  # red alert: the rotation stops
    tick(qapp)
    sv.tick(t0 + 10 * interval)
    assert sv.current_page() == 1
    assert "红色告警" in sv.indicator.text()
    push(ctx.store, "alert.upsert", alert(123_456, level=4, state="acknowledged"))
    tick(qapp)
    sv.tick(t0 + 10 * interval + 1)  # the pause restarted the interval: not yet
    assert sv.current_page() == 1
    sv.tick(t0 + 11 * interval + 1)
    assert sv.current_page() == 2


def test_focus_from_the_decision_room_brings_up_the_incident(make_ctx: Any, qtbot: Any, qapp: Any) -> None:
    ctx = make_ctx("duty", Role.DUTY_OFFICER)
    wall = WallManager(ctx, kiosk=False)
    (win,) = wall.build()
    qtbot.addWidget(win)
    sv = win.current_screen()
    sv.show_page(2)
    assert sv.current_page() == 2
    push(ctx.store, "focus.set", dict(incident_id=2, by="leader", hall="decision", ts=time.time()))
    assert sv.current_page() == 0  # the page with the incident panel
    assert ctx.view_state.incident_id == 2
    tick(qapp)
    assert wall.panel("incident").incident_id == 2
    wall.teardown()


def test_screens_changing_rebuilds_the_wall(make_ctx: Any, qtbot: Any, qapp: Any, monkeypatch: Any) -> None:
    ctx = make_ctx("operations")
    wall = WallManager(ctx, kiosk=True)
    # fresh QScreen wrappers each call, as physical_screens() itself does
    monkeypatch.setattr(wall, "physical_screens", lambda: list(qapp.screens()) * 3)
    wins = wall.build()
    assert [w.screen_indices for w in wins] == [[0], [1], [2]]
    monkeypatch.setattr(wall, "physical_screens", lambda: list(qapp.screens()))  # two vanished
    wall._on_app_screens_changed(None)
    qtbot.waitUntil(lambda: wall.rebuilds == 2, timeout=3000)
    assert [w.screen_indices for w in wall.windows] == [[0, 1, 2]]
    assert wall.windows[0].tabs is not None
    assert wall.windows[0].tabs.count() == 3
    wall.teardown()


def test_english_ui_everywhere(make_ctx: Any, qtbot: Any, qapp: Any) -> None:
    from views.theme import apply_language
    assert apply_language(qapp, "en"), "run `make translations` (resources/i18n/ioc_en.qm missing)"
    ctx = make_ctx("duty", Role.DUTY_OFFICER)
    win = HallWindow(ctx, [0], kiosk=False)
    qtbot.addWidget(win)
    win.show()
    tick(qapp)
    assert win.header.mute.text() == "✕ Muted"
    feed = win.panel("alert_feed")
    assert feed.model.headerData(0, __import__("PySide6.QtCore").QtCore.Qt.Orientation.Horizontal) == "Level"
    assert feed.model.data(feed.model.index(0, 0)) == "Red"
    frames = {f.panel_id: f.title.text() for f in win.findChildren(PanelFrame)}
    assert frames["alert_feed"] == "Alert feed"
    chinese = [w.text() for w in win.findChildren(QLabel)
               if w.isVisible() and any("\u4e00" <= ch <= "\u9fff" for ch in w.text())]
    # Chinese left on screen may only be data from the service (titles, summaries, names)
    data = [i.title for i in ctx.store.incidents.values()] + [i.summary for i in ctx.store.incidents.values()]
    data += [t.title for t in ctx.store.tasks.values()] + [t.name_zh for t in ctx.store.towns.values()]
    assert all(any(d and d in t for d in data) for t in chinese), chinese


def test_translation_is_complete(tmp_path: Path) -> None:
    from resources.i18n import update
    ts = tmp_path / "check.ts"
    ts.write_bytes(update.TS.read_bytes())
    update.run_lupdate(ts)
    todo = update.unfinished(ts)
    assert todo == [], f"untranslated strings (run python -m resources.i18n.update): {todo[:10]}"
    root = ET.parse(ts).getroot()
    assert sum(1 for _ in root.iter("message")) > 100


def test_alert_feed_filters_survive_a_restart(tmp_path: Path, monkeypatch: Any, sink: RecordingSink,
                                             qtbot: Any, qapp: Any) -> None:
    """Filters set with the feed's controls are written to console.json as they change and come
    back on the next start, per hall; a hand-broken filter in the file gives the default."""
    import json

    from app.alert_filter import AlertFilter
    from app.settings import load_settings, save_settings, settings_path
    from app.store import StateStore
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))

    def start(hall: str) -> Any:
        """What the shell does at start: settings from the file, the hall's window."""
        ctx = ViewContext(fill_store(StateStore(), alerts=300), sink, load_settings(), shipped_profiles()[hall])
        ctx.save_settings = lambda: save_settings(ctx.settings)
        win = HallWindow(ctx, [0], kiosk=False)
        qtbot.addWidget(win)
        win.show()
        tick(qapp)
        return win.panel("alert_feed")

    feed = start("operations")
    assert feed.current_filter() == AlertFilter()  # the first start: open alerts, nothing else
    feed.level_buttons[4].click()
    feed.level_buttons[3].click()
    feed.domain_box.setCurrentIndex(feed.domain_box.findData("fire"))
    feed.state_box.setCurrentIndex(feed.state_box.findData("*"))
    qtbot.keyClicks(feed.search, "Smoke")  # typed (QTest types ASCII): matches the English titles too
    saved = json.loads(settings_path().read_text(encoding="utf-8"))["filters"]["operations"]
    assert saved == {"levels": [3, 4], "domains": ["fire"], "towns": [], "states": [], "text": "Smoke"}
    shown = feed.model.ids()
    assert shown
    feed.window().close()

    again = start("operations")  # the console restarted
    assert sorted(lv for lv, b in again.level_buttons.items() if b.isChecked()) == [3, 4]
    assert again.domain_box.currentData() == "fire"
    assert again.state_box.currentData() == "*"
    assert again.search.text() == "Smoke"
    assert again.model.ids() == shown
    assert all(a.level >= 3 and a.domain == "fire" and "smoke" in a.title_en.lower()
               for a in (again.model.alert_at(r) for r in range(again.model.rowCount())))
    assert start("duty").current_filter() == AlertFilter()  # another hall has its own

    data = json.loads(settings_path().read_text(encoding="utf-8"))
    data["filters"]["operations"] = {"levels": ["red"], "text": 5}  # edited by hand, badly
    settings_path().write_text(json.dumps(data), encoding="utf-8")
    assert start("operations").current_filter() == AlertFilter()


@pytest.fixture
def themed(qapp: Any) -> Iterator[Any]:
    """Style sheets applied as the shell applies them; cleared afterwards."""
    from views.theme import apply_theme
    yield lambda theme: apply_theme(qapp, theme)
    qapp.setStyleSheet("")
    qapp.setProperty("ioc_theme", None)
    qapp.setProperty("ioc_scale", None)


@pytest.mark.parametrize(("hall", "theme", "table_px"), [
    ("duty", "dark", 13),  # the laptop in the dark theme: laptop-size type, dark colours
    ("duty", "light", 13),
    ("operations", "light", 19),  # a wall in the light theme: still readable from 10 m
    ("operations", "dark", 19),
])
def test_type_size_follows_the_hall_not_the_colour_theme(hall: str, theme: str, table_px: int, make_ctx: Any,
                                                        themed: Any, qtbot: Any, qapp: Any) -> None:
    themed(theme)
    ctx = make_ctx(hall, Role.DUTY_OFFICER if hall == "duty" else Role.OPERATOR)
    wall = WallManager(ctx, kiosk=False)
    (win,) = wall.build()
    qtbot.addWidget(win)
    tick(qapp)
    feed = win.panel("alert_feed")
    assert feed.table.font().pixelSize() == table_px
    assert qapp.property("ioc_theme") == theme  # the colours stay the user's choice
    bg = feed.table.palette().base().color()
    assert (bg.lightness() < 80) == (theme == "dark")
    wall.teardown()


@pytest.mark.parametrize(("hall", "size", "theme"), [
    ("decision", (1920, 1080), "dark"), ("decision", (1920, 1080), "light"),
    ("duty", (1366, 768), "dark"), ("duty", (1366, 768), "light")])
def test_every_waiting_decision_shows_its_buttons_whole(hall: str, size: tuple[int, int], theme: str,
                                                        make_ctx: Any, themed: Any, qtbot: Any, qapp: Any) -> None:
    """The demo's two decisions, in English (the longer texts), on the screen each hall is made
    for: both cards with their approve and reject buttons entirely inside the panel (the
    second's were cut off)."""
    from PySide6.QtCore import QRect

    from tools.demo_state import TYPED_EN
    from views.theme import apply_language, apply_scale
    from widgets.decision_panel import DecisionPanel
    themed(theme)
    apply_language(qapp, "en")
    ctx = make_ctx(hall, Role.LEADER)
    for task, texts in zip(sorted(ctx.store.tasks.values(), key=lambda t: t.id), TYPED_EN[2:], strict=True):
        push(ctx.store, "task.upsert", {**task.model_dump(mode="json"), **texts})
    apply_scale(qapp, ctx.profile.type_scale())
    win = HallWindow(ctx, list(range(len(ctx.profile.screens))), kiosk=False)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    where = next((si, pi) for si, s in enumerate(ctx.profile.screens) for pi, p in enumerate(s.pages)
                 if any(c.panel == "decisions" for c in p.cells))
    win.show_screen(*where)
    tick(qapp, 3)
    panel = win.panel("decisions")
    assert isinstance(panel, DecisionPanel)
    assert len(panel.cards) == 2
    viewport = panel.inner.parentWidget()  # the scroll area's viewport: what is on screen
    seen = QRect(viewport.mapTo(win, viewport.rect().topLeft()), viewport.size())
    for card in panel.cards.values():
        for b in (card.approve, card.reject):
            r = QRect(b.mapTo(win, b.rect().topLeft()), b.size())
            assert seen.contains(r), f"{hall} {theme}: {b.text()} at {r.getRect()} outside {seen.getRect()}"
            assert b.height() >= (56 if ctx.profile.type_scale() == "wall" else 40)


def test_every_chart_says_what_it_shows() -> None:
    """Shipped charts and maps are titled with their quantity (a unit where it has one), and no
    two panels of a page share a title ("Trends" three times told the wall nothing)."""
    for pid, prof in shipped_profiles().items():
        for s in prof.screens:
            for p in s.pages:
                titles = []
                for c in p.cells:
                    if c.panel in ("trend", "comparison", "town_map"):
                        zh, en = c.options.get("title_zh", ""), c.options.get("title_en", "")
                        assert zh, f"{pid}: a {c.panel} without a title"
                        assert en, f"{pid}: a {c.panel} without an English title"
                        titles.append(zh)
                    if c.panel == "trend":
                        for spec in c.options["series"]:
                            assert spec.get("title_zh"), f"{pid}: series {spec['key']}"
                            assert spec.get("title_en"), f"{pid}: series {spec['key']}"
                        if any(k in str(c.options["series"]) for k in ("pm25", "rain", "water_level")):
                            assert "(" in c.options["title_zh"], f"{pid}: {c.options['title_zh']} has no unit"
                assert len(titles) == len(set(titles)), f"{pid}: {titles}"


@pytest.mark.parametrize("hall", ["front", "operations", "decision", "intelligence", "duty"])
def test_rows_get_the_height_their_stretch_asks_for(hall: str, make_ctx: Any, themed: Any, qtbot: Any,
                                                    qapp: Any) -> None:
    """On the screen the hall is made for, in English, each grid row is at least 60 % of the
    height its stretch factor gives it: no panel's minimum size takes a row from the others (a
    wrapping chart legend once squeezed the duty laptop's rain chart to a strip)."""
    from views.page import PageView
    from views.theme import apply_language, apply_scale
    themed("dark")
    apply_language(qapp, "en")
    ctx = make_ctx(hall, Role.DUTY_OFFICER if hall == "duty" else Role.OPERATOR)
    apply_scale(qapp, ctx.profile.type_scale())
    win = HallWindow(ctx, list(range(len(ctx.profile.screens))), kiosk=False)
    qtbot.addWidget(win)
    win.resize(*((1920, 1080) if ctx.profile.kiosk else (1366, 768)))
    win.show()
    for si, screen in enumerate(ctx.profile.screens):
        for pi, spec in enumerate(screen.pages):
            win.show_screen(si, pi)
            tick(qapp, 2)
            page = next(p for p in win.findChildren(PageView) if p.page is spec)
            stretch = [spec.row_stretch[r] if r < len(spec.row_stretch) else 1 for r in range(spec.rows)]
            total = page.contentsRect().height() - 8 * (spec.rows - 1)  # the grid's spacing
            for cell, frame in zip(spec.cells, page.frames, strict=True):
                share = total * sum(stretch[cell.row:cell.row + cell.rowspan]) / sum(stretch)
                got = frame.height()
                assert got >= 0.6 * share, (f"{hall} screen {si + 1} page {pi + 1}: {cell.panel} at row "
                                            f"{cell.row + 1} got {got} px of {share:.0f}")
