"""Every shipped hall fits the screen it is made for, in Chinese and English and in both themes:
no window wider or taller than its screen (a wall window bigger than its screen is cut off at
the edge; a laptop window's buttons end up off screen). Qt's offscreen platform with one
virtual screen of the hall's size (configfile), a subprocess per hall."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.halls import shipped_profiles

ROOT = Path(__file__).resolve().parents[2]
WALL_SCREEN = (1920, 1080)
LAPTOP_SCREEN = (1366, 768)
FEED_FIRST = {"operations", "duty"}  # halls with the alert feed on the page shown first


def screen_for(profile_id: str) -> tuple[int, int]:
    """Wall halls run on full-HD wall screens; desk profiles on a common laptop screen."""
    return WALL_SCREEN if shipped_profiles()[profile_id].kiosk else LAPTOP_SCREEN


def probe(tmp_path: Path, hall: str, size: tuple[int, int]) -> dict[str, Any]:
    cfg = {"screens": [{"name": "s1", "x": 0, "y": 0, "width": size[0], "height": size[1],
                        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    path = tmp_path / "screen.json"
    path.write_text(json.dumps(cfg))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={path}", IOC_CONSOLE_CONFIG_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-m", "tests.views.fit_probe", hall], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    line = next((x for x in res.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, res.stdout + res.stderr[-3000:]
    return json.loads(line[6:])


def overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("hall", sorted(shipped_profiles()))
def test_every_hall_fits_its_screen_in_both_languages_and_themes(tmp_path: Path, hall: str) -> None:
    size = screen_for(hall)
    out = probe(tmp_path, hall, size)
    assert out["screens"] == [[0, 0, *size]]
    cases = out["cases"]
    assert {(c["lang"], c["theme"]) for c in cases} == {(lang, t) for lang in ("zh", "en") for t in ("dark", "light")}
    # a desk hall is also reopened with a geometry saved on a bigger screen
    assert any(c["saved_big"] for c in cases) == (not shipped_profiles()[hall].kiosk)
    for c in cases:
        sw, sh = c["screen"][2:]
        where = f"{hall} {c['lang']} {c['theme']}" + (" (saved on a bigger screen)" if c["saved_big"] else "")
        assert c["minimum"][0] <= sw, f"{where}: minimum width {c['minimum']} > screen {sw}x{sh}"
        assert c["minimum"][1] <= sh, f"{where}: minimum height {c['minimum']} > screen {sw}x{sh}"
        _x, _y, w, h = c["geometry"]
        assert w <= sw, f"{where}: window {w}x{h} on a {sw}x{sh} screen"
        assert h <= sh, f"{where}: window {w}x{h} on a {sw}x{sh} screen"
        fx, fy, fw, fh = c["frame"]
        assert min(fx, fy) >= 0, f"{where}: frame {c['frame']} off screen"
        assert fx + fw <= sw, f"{where}: frame {c['frame']} off screen"
        assert fy + fh <= sh, f"{where}: frame {c['frame']} off screen"
        if hall in FEED_FIRST:  # the first page shows the feed: its bars are looked at
            assert len(c["feeds"]) == 1, where
            assert len(c["feeds"][0]["filter"]) == 9, where
        for feed in c["feeds"]:
            # the bars wrap instead of widening: every control inside the feed, none on another
            # and none over the table
            controls = feed["filter"] + feed["actions"]
            for r in controls:
                assert r[0] >= 0, f"{where}: {r} outside the feed {feed['feed']}"
                assert r[0] + r[2] <= feed["feed"][2], f"{where}: {r} outside the feed {feed['feed']}"
                assert not overlap(r, feed["table"]), f"{where}: {r} over the table {feed['table']}"
            for i, a in enumerate(controls):
                for b in controls[i + 1:]:
                    assert not overlap(a, b), f"{where}: controls overlap {a} {b}"
            assert feed["table"][3] >= 100, f"{where}: the table got {feed['table'][3]} px"

