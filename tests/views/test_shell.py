"""Shell pieces that need no service: arguments, login validation, error dialog, settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from app.halls import available_profiles
from app.notifications import NotificationManager
from app.settings import ConsoleSettings
from views.error_dialog import ErrorDialog
from views.login import LoginDialog
from views.shell import parse_args


def test_arguments() -> None:
    a = parse_args(["--hall", "operations", "--kiosk", "--lang", "en"])
    assert (a.hall, a.kiosk, a.lang, a.embedded) == ("operations", True, "en", False)
    assert parse_args([]).kiosk is None  # the profile decides


def test_login_validates_and_remembers(qtbot: Any) -> None:
    s = ConsoleSettings(server_url="ws://10.0.0.1:8765", user="duty", hall="duty")
    d = LoginDialog(s, available_profiles())
    qtbot.addWidget(d)
    assert d.server.text() == "ws://10.0.0.1:8765"
    assert d.user.text() == "duty"
    assert d.hall.currentData() == "duty"
    got: list[tuple[str, ...]] = []
    d.submitted.connect(lambda *a: got.append(a))
    d.server.setText("http://wrong")
    d.password.setText("x")
    d._on_buttons_accepted()
    assert got == []
    assert "ws://" in d.error.text()
    d.server.setText("ws://127.0.0.1:8765")
    d._on_buttons_accepted()
    assert got == [("ws://127.0.0.1:8765", "duty", "x", "duty")]


def test_login_hall_fixed_by_flag(qtbot: Any) -> None:
    d = LoginDialog(ConsoleSettings(), available_profiles(), fixed_hall="decision")
    qtbot.addWidget(d)
    assert d.hall.currentData() == "decision"
    assert not d.hall.isEnabled()


def test_uncaught_exception_becomes_a_dialog_not_a_traceback(qtbot: Any) -> None:
    nm = NotificationManager()
    dlg = ErrorDialog(nm)
    qtbot.addWidget(dlg)
    nm.install()
    try:
        try:
            {}["missing"]  # noqa: B018 - the error we want
        except KeyError:
            sys.excepthook(*sys.exc_info())
    finally:
        nm.uninstall()
    assert dlg.isVisible()
    assert "KeyError" in dlg.text.toPlainText()
    assert "Traceback" not in dlg.text.toPlainText()
    dlg.hide()


def test_settings_dir_is_used(tmp_path: Path, monkeypatch: Any) -> None:
    from app.settings import save_settings, settings_path
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    assert save_settings(ConsoleSettings(theme="light")) == settings_path()
    assert settings_path().parent == tmp_path


def test_shell_actions_switch_language_theme_and_mute_and_persist(qapp: Any, tmp_path: Path, monkeypatch: Any,
                                                                   sink: Any, answer_confirm: Any) -> None:
    from app.halls import shipped_profiles
    from app.settings import load_settings
    from views.shell import Shell
    from views.theme import apply_language
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    shell = Shell(qapp, parse_args(["--hall", "duty"]))
    try:
        shell.client = sink
        shell.profiles = available_profiles()
        shell._open_wall(shipped_profiles()["duty"])
        (win,) = shell.wall.windows
        assert win.header.mute.text() == "♪ 声音开"
        shell.on_action("app.mute")
        assert shell.ctx.red_center.sound.muted
        assert shell.wall.windows[0].header.mute.text() == "✕ 已静音"
        shell.on_action("app.language")
        assert shell.settings.language == "en"
        (win,) = shell.wall.windows  # rebuilt in English
        assert win.header.mute.text() == "✕ Muted"
        shell.on_action("app.theme")
        assert shell.settings.theme in ("dark", "light")
        assert qapp.property("ioc_theme") == shell.settings.theme
        saved = load_settings()
        assert (saved.language, saved.mute, saved.theme) == ("en", True, shell.settings.theme)
        answer_confirm["yes"] = True
        shell.on_action("app.quit")
        assert shell.closing.is_set()
        assert shell.wall is None
    finally:
        apply_language(qapp, "zh")
        shell.notifications.uninstall()


def test_the_wall_paints_its_first_page_first_and_builds_the_rest_after(qapp: Any, qtbot: Any, sink: Any,
                                                                         tmp_path: Path, monkeypatch: Any) -> None:
    """The console's path (views.startup_builder): an operations hall on one screen is three
    tabs; only the visible page is built before the first frame, the hidden non-3D panels follow
    in idle slices after it, and the 3D city only once its tab is shown."""
    from app.halls import shipped_profiles
    from app.store import StateStore
    from tools.demo_state import fill_store
    from views.context import ViewContext
    from views.page import PanelFrame
    from views.startup_builder import PanelBuilder
    from views.startup_trace import watch_first_paint
    from views.wall import WallManager
    from widgets.red_alert import RedAlertCenter
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / "city"))
    store = fill_store(StateStore(), alerts=200)
    red = RedAlertCenter(store, sink)
    red.sound.set_muted(True)
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["operations"], red_center=red)
    builder = PanelBuilder(preload=())
    wall = WallManager(ctx, kiosk=False, builder=builder)
    (win,) = wall.build()
    try:
        every = win.findChildren(PanelFrame)
        assert sorted(f.panel_id for f in every) == sorted(ctx.profile.panels())
        frames = {f.panel_id: f for f in every}
        first_page = {c.panel for c in ctx.profile.screens[0].pages[0].cells}
        painted: list[set[str]] = []
        watch_first_paint(win, lambda: painted.append({f.panel_id for f in every if f.is_built}))
        watch_first_paint(win, builder.first_painted)
        qtbot.waitUntil(lambda: bool(painted), timeout=5000)
        assert painted[0] == first_page  # and nothing else yet
        rest = [f for f in every if f.panel_id not in first_page and f.panel_id != "city3d"]
        qtbot.waitUntil(lambda: all(f.is_built for f in rest), timeout=10_000)
        assert not frames["city3d"].is_built  # hidden: never built in the background
        assert win.tabs is not None
        win.tabs.setCurrentIndex(1)  # the 3D city's tab
        qtbot.waitUntil(lambda: frames["city3d"].is_built, timeout=60_000)
        assert frames["city3d"].body.isVisible()
        assert builder.built == len(every)
        assert win.panel("alert_feed") is frames["alert_feed"].body
    finally:
        wall.teardown()


def test_a_deferred_panel_is_built_when_asked_for(qapp: Any, qtbot: Any, sink: Any, tmp_path: Path,
                                                   monkeypatch: Any) -> None:
    """Code that looks a panel up (focus following, tests) gets it built, shown or not."""
    from app.halls import shipped_profiles
    from app.store import StateStore
    from tools.demo_state import fill_store
    from views.context import ViewContext
    from views.startup_builder import PanelBuilder
    from views.window import HallWindow
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    store = fill_store(StateStore(), alerts=50)
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["duty"])
    win = HallWindow(ctx, [0], kiosk=False, builder=PanelBuilder(preload=()))
    qtbot.addWidget(win)
    trend = win.panel("trend")  # page 3 of 5, never shown
    assert trend is not None
    assert type(trend).__name__ == "TrendChart"
