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
