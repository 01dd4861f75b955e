"""Multi-screen walls on Qt's offscreen platform with several virtual screens (a subprocess per
case, so the platform can be chosen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _probe(tmp_path: Path, hall: str, n: int) -> dict[str, Any]:
    cfg = {"screens": [{"name": f"wall-{i + 1}", "x": 1920 * i, "y": 0, "width": 1920, "height": 1080,
                        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1} for i in range(n)]}
    path = tmp_path / f"screens{n}.json"
    path.write_text(json.dumps(cfg))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={path}", IOC_CONSOLE_CONFIG_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-m", "tests.views.multiscreen_probe", hall], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    line = next((x for x in res.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, res.stdout + res.stderr
    return json.loads(line[6:])


def test_three_screen_wall_gets_one_kiosk_window_per_screen(tmp_path: Path) -> None:
    out = _probe(tmp_path, "operations", 3)
    assert out["screens"] == ["wall-1", "wall-2", "wall-3"]
    wins = out["windows"]
    assert [w["screen"] for w in wins] == ["wall-1", "wall-2", "wall-3"]
    assert [w["profile_screens"] for w in wins] == [[0], [1], [2]]
    assert all(w["fullscreen"] and w["frameless"] and w["close_ignored"] for w in wins)
    assert [w["geometry"][0] for w in wins] == [0, 1920, 3840]


@pytest.mark.parametrize(("n", "expected"), [(2, [[0], [1, 2]]), (1, [[0, 1, 2]])])
def test_fewer_screens_fold_into_tabs(tmp_path: Path, n: int, expected: list[list[int]]) -> None:
    out = _probe(tmp_path, "operations", n)
    wins = out["windows"]
    assert [w["profile_screens"] for w in wins] == expected
    assert wins[-1]["tabs"] == len(expected[-1])


def test_desk_profile_is_one_closable_window(tmp_path: Path) -> None:
    out = _probe(tmp_path, "duty", 2)
    (w,) = out["windows"]
    assert not w["fullscreen"]
    assert not w["close_ignored"]


def _run(tmp_path: Path, screens: list[dict[str, Any]], *args: str) -> list[dict[str, Any]]:
    path = tmp_path / "screens.json"
    path.write_text(json.dumps({"screens": screens}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={path}", IOC_CONSOLE_CONFIG_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-m", "tests.views.screens_probe", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    line = next((x for x in res.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, res.stdout + res.stderr[-3000:]
    return json.loads(line[6:])


def test_screens_pulled_out_and_plugged_in_rebuild_the_wall(tmp_path: Path) -> None:
    """Real screenAdded/screenRemoved from the platform (not a patched screen list): two of
    three wall screens vanish at once, then one comes back."""
    from tests.views.screens_probe import WALL
    three, one, two = _run(tmp_path, WALL, "hotplug")
    assert [w["screen"] for w in three["windows"]] == ["wall-1", "wall-2", "wall-3"]
    assert one["screens"] == ["wall-1"]
    assert one["rebuilds"] == three["rebuilds"] + 1  # two screens gone at once: one rebuild
    (w,) = one["windows"]
    assert (w["screen"], w["profile_screens"], w["tabs"], w["fullscreen"]) == ("wall-1", [0, 1, 2], 3, True)
    assert two["screens"] == ["wall-1", "wall-2"]
    assert [(w["screen"], w["profile_screens"]) for w in two["windows"]] == [("wall-1", [0]), ("wall-2", [1, 2])]
    assert two["windows"][1]["geometry"] == [1920, 0, 1920, 1080]
    assert two["windows"][1]["tabs"] == 2


def test_desk_window_geometry_is_kept_per_screen_across_restarts_and_undocking(tmp_path: Path) -> None:
    from tests.views.screens_probe import DOCK, LAPTOP
    first, restarted, undocked, docked, saved = _run(tmp_path, [DOCK, LAPTOP], "geometry",
                                                     str(tmp_path / "console.json"))
    (w,) = first["windows"]
    assert w["screen"] == "dock"
    assert w["geometry"][2:] == [1600, 960]  # the first start: the default desk size, centred
    (w,) = restarted["windows"]
    assert (w["screen"], w["geometry"]) == ("dock", [200, 150, 1700, 1000])  # as the user left it
    (w,) = undocked["windows"]
    # the laptop alone: not the dock's 1700x1000 hanging off a 1366x768 screen, but maximised on it
    assert w["screen"] == "laptop"
    assert w["maximised"]
    x, y, ww, hh = w["geometry"]
    assert x >= 2560
    assert x + ww <= 2560 + 1366
    assert y + hh <= 768
    (w,) = docked["windows"]
    assert w["screen"] == "laptop"  # the laptop stayed the primary screen
    assert w["maximised"]  # restored as it was on that screen, maximised
    assert saved["saved"] == ["duty@dock", "duty@laptop"]
