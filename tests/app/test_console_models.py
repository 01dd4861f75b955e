"""Qt-free view models of the console: settings, hall profiles, folding, playlist, filters,
KPIs, actions and the notification manager."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app import halls
from app.actions import ACTIONS, ACTIONS_BY_ID
from app.alert_filter import AlertFilter
from app.kpi import band, kpi_state, trend
from app.notifications import NotificationManager, Severity
from app.playlist import Playlist
from app.settings import ConsoleSettings, load_settings, save_settings
from protocol.commands import COMMANDS, PERMISSIONS
from protocol.enums import Role


@pytest.fixture(autouse=True)
def _config_dir(tmp_path: Path, monkeypatch: Any) -> Path:
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_settings_roundtrip_env_override_and_bad_file(tmp_path: Path, monkeypatch: Any) -> None:
    s = ConsoleSettings(user="duty", hall="duty", language="en", mute=True, filters={"duty": {"levels": [4]}})
    save_settings(s)
    assert load_settings() == s
    monkeypatch.setenv("IOC_CONSOLE_HALL", "operations")
    assert load_settings().hall == "operations"
    monkeypatch.delenv("IOC_CONSOLE_HALL")
    (tmp_path / "console.json").write_text("{not json", encoding="utf-8")
    assert load_settings() == ConsoleSettings()  # defaults, never a crash
    assert (tmp_path / "console.json.bad").exists()


def test_settings_migrate_v1(tmp_path: Path) -> None:
    (tmp_path / "console.json").write_text(json.dumps({"schema_version": 1, "last_hall": "front",
                                                       "geometry": [1, 2, 3, 4]}), encoding="utf-8")
    s = load_settings()
    assert s.hall == "front"
    assert s.geometry["primary"].w == 3
    assert s.schema_version == 2


def test_shipped_profiles_cover_the_halls() -> None:
    ps = halls.available_profiles()
    assert list(ps)[:5] == ["front", "operations", "decision", "intelligence", "duty"]
    assert ps["decision"].sends_focus
    assert "decisions" in ps["decision"].panels()
    assert ps["front"].screens[0].mode == "playlist"
    assert len(ps["operations"].screens) >= 3
    assert not ps["duty"].kiosk
    assert ps["duty"].theme == "light"
    for p in ps.values():
        assert p.name_zh
        assert p.name_en


def test_bad_profiles_are_typed_errors(tmp_path: Path) -> None:
    base = halls.shipped_profiles()["duty"].model_dump()
    overlap = json.loads(json.dumps(base))
    overlap["screens"][0]["pages"][0]["cells"].append({"panel": "kpi", "row": 1, "col": 0})
    with pytest.raises(halls.LayoutError, match="overlaps"):
        halls.parse_profile(overlap, "x.json")
    with pytest.raises(halls.LayoutError, match="schema_version"):
        halls.parse_profile({**base, "schema_version": 9})
    outside = json.loads(json.dumps(base))
    outside["screens"][0]["pages"][0]["cells"][0]["col"] = 7
    with pytest.raises(halls.LayoutError, match="does not fit"):
        halls.parse_profile(outside)
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "broken.json").write_text("[]", encoding="utf-8")
    errors: list[str] = []
    assert "duty" in halls.available_profiles(errors)  # a broken user file does not hide the rest
    assert "broken.json" in errors[0]


def test_user_copy_overrides_and_edits_roundtrip() -> None:
    p = halls.shipped_profiles()["operations"]
    src, dst = (0, 0, 1), (2, 0, 0)
    a = p.screens[0].pages[0].cells[1].panel
    b = p.screens[2].pages[0].cells[0].panel
    moved = halls.move_cell(p, src, dst)
    assert moved.screens[0].pages[0].cells[1].panel == b
    assert moved.screens[2].pages[0].cells[0].panel == a
    halls.save_user_profile(moved)
    assert halls.available_profiles()["operations"] == moved
    replaced = halls.set_cell_panel(moved, (1, 0, 0), "town_map")
    assert replaced.screens[1].pages[0].cells[0].panel == "town_map"


@pytest.mark.parametrize(("screens", "physical", "kiosk", "expected"), [
    (3, 3, True, [[0], [1], [2]]),
    (3, 2, True, [[0], [1, 2]]),
    (3, 1, True, [[0, 1, 2]]),
    (2, 4, True, [[0], [1]]),
    (3, 3, False, [[0, 1, 2]]),
])
def test_fold_screens(screens: int, physical: int, kiosk: bool, expected: list[list[int]]) -> None:
    assert halls.fold_screens(screens, physical, kiosk) == expected


def test_playlist_rotates_pauses_on_interaction_and_red_alert() -> None:
    pl = Playlist(3, interval_s=10, idle_resume_s=30)
    pl.start(0)
    assert not pl.tick(5)
    assert pl.tick(10)
    assert pl.page == 1
    pl.interaction(12)
    assert not pl.tick(25)  # in use
    assert not pl.tick(41)  # idle for 29 s: still paused
    assert not pl.tick(50)  # resumed at 42: the interval restarts, no instant jump
    assert pl.tick(53)
    assert pl.page == 2
    pl.red_alert = True
    assert not pl.tick(100)
    pl.red_alert = False
    assert not pl.tick(105)
    assert pl.tick(110)
    assert pl.page == 0  # wraps


def test_filter_dict_roundtrip_and_garbage() -> None:
    f = AlertFilter(levels={4, 3}, towns={"humen"}, text="火")
    assert AlertFilter.from_dict(f.to_dict()) == f
    assert AlertFilter.from_dict({"levels": ["x"]}) == AlertFilter()
    assert AlertFilter.from_dict({"states": ["bogus", "new"]}).states == {"new"}


def test_kpi_helpers() -> None:
    assert trend([10, 10, 10, 10.01]) == 0
    assert trend([10, 10, 10, 12]) == 1
    assert trend([10, 10, 10, 8]) == -1
    assert band(5, 10, 20) == "ok"
    assert band(15, 10, 20) == "warn"
    assert band(85, 95, 90, higher_is_worse=False) == "alarm"
    hist = [{"ts": 1, "city": {"aqi": 50}}, {"ts": 2, "city": {"aqi": "n/a"}}, {"ts": 3, "city": {"aqi": 80}}]
    st = kpi_state(hist, "aqi", warn=75)
    assert (st.value, st.previous, st.band, st.history) == (80, 50, "warn", (50.0, 80.0))


def test_actions_match_protocol_commands() -> None:
    for a in ACTIONS:
        assert a.command is None or a.command in COMMANDS
        assert a.title_zh
        assert a.title_en
    leader, operator = PERMISSIONS[Role.LEADER], PERMISSIONS[Role.OPERATOR]
    assert ACTIONS_BY_ID["task.approve"].allowed(leader)
    assert not ACTIONS_BY_ID["task.approve"].allowed(operator)
    assert ACTIONS_BY_ID["app.mute"].allowed(frozenset())
    keys = [a.key for a in ACTIONS if a.key]
    assert len(keys) == len(set(keys))


def test_notification_manager_takes_excepthook() -> None:
    nm = NotificationManager()
    got: list[Any] = []
    nm.notified.connect(got.append)
    nm.install()
    try:
        assert sys.excepthook == nm.receive_exception
        try:
            raise ValueError("bad layout")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        nm.uninstall()
    assert sys.excepthook is not nm.receive_exception
    assert got[0].severity == Severity.ERROR
    assert got[0].message == "ValueError: bad layout"
    assert "Traceback" not in got[0].message
