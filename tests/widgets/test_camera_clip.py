"""The shipped camera tile: no placeholder stream URL in the layouts; a kitchen alert plays the
shipped clip (captioned as simulated), looping, never frozen; a dark stream says which one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.widgets.conftest import alert, push
from widgets.camera_tile import CameraTile, resolve

pytestmark = pytest.mark.gui
LAYOUTS = Path(__file__).resolve().parents[2] / "resources" / "layouts"


def _camera_cells() -> list[dict[str, Any]]:
    out = []
    for f in sorted(LAYOUTS.glob("*.json")):
        prof = json.loads(f.read_text(encoding="utf-8"))
        for screen in prof["screens"]:
            for page in screen["pages"]:
                out += [c["options"] for c in page["cells"] if c["panel"] == "camera"]
    return out


def test_shipped_layouts_play_a_shipped_clip_not_a_placeholder_stream() -> None:
    cells = _camera_cells()
    assert cells, "no camera tile in the shipped layouts"
    for o in cells:
        src = o["url_template"]
        assert not src.startswith("rtsp://127.0.0.1"), src  # nothing listens there
        path = Path(resolve(src.format(device_id="kc-1")))
        assert path.is_file(), path
        assert path.stat().st_size > 10_000
        assert o["simulated"] is True  # the picture is labelled for what it is


def test_kitchen_alert_plays_the_shipped_clip_in_a_loop(store: Any, qtbot: Any) -> None:
    opts = next(iter(_camera_cells()))
    push(store, "alert.upsert", alert(21, domain="market", device_id="kc-7", device_type="kitchen_camera"))
    tile = CameraTile(store, options=opts)
    qtbot.addWidget(tile)
    tile.resize(320, 260)
    tile.show()
    assert tile.state == "idle"
    assert not tile.caption.isVisible()
    tile.view_state.select_alert(21)
    qtbot.waitUntil(lambda: tile.state == "playing", timeout=10_000)
    assert not tile.no_signal.isVisible()
    assert tile.caption.text() == "kc-7 · 模拟画面（仿真城市无真实视频）"
    assert tile.video.image.width() == 320  # a real decoded picture
    # painted by the tile itself: what the wall (and a screenshot of it) sees is the picture
    shot = tile.grab(tile.video.geometry()).toImage()
    colours = {shot.pixel(x, y) for y in range(0, shot.height(), 5) for x in range(0, shot.width(), 5)}
    assert len(colours) > 20
    # the 8 s clip starts again at its end: still playing, new frames keep coming
    qtbot.wait(9_000)
    frames = tile.frames
    assert tile.state == "playing"
    qtbot.waitUntil(lambda: tile.frames > frames + 5, timeout=3_000)
    assert time.monotonic() - tile.last_frame_ts < 1.0
    tile.stop()
    assert tile.state == "idle"
    assert tile.no_signal.isVisible()  # the last frame does not stay on screen
    assert not tile.caption.isVisible()


def test_a_dark_stream_names_its_source(qtbot: Any) -> None:
    tile = CameraTile(options={"url_template": "rtsp://127.0.0.1:1/{device_id}"})
    qtbot.addWidget(tile)
    tile.show()
    tile.play("rtsp://127.0.0.1:1/kc-9", "kc-9")
    qtbot.waitUntil(lambda: tile.state == "no_signal", timeout=15_000)
    assert tile.no_signal.isVisible()
    assert tile.no_signal.text().startswith("无信号\nrtsp://127.0.0.1:1/kc-9")
    assert tile.caption.text() == "kc-9 · rtsp://127.0.0.1:1/kc-9"
