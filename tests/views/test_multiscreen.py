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
