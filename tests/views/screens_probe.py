"""Run in a subprocess with QT_QPA_PLATFORM=offscreen:configfile=<json>: a hall's wall while
screens are plugged in and pulled out (tests.views.offscreen_screens), printing what windows it
has after each step, as JSON.

Usage: python -m tests.views.screens_probe hotplug|geometry <settings.json>
  hotplug:  the operations wall from three screens to one and back to two
  geometry: the duty laptop's window moved on a docking monitor, the console restarted, the
            monitor pulled out and plugged back in
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication

from tests.views.offscreen_screens import config, screen, set_configuration

WALL = [screen(f"wall-{i + 1}", 1920 * i, 0, 1920, 1080) for i in range(3)]
DOCK, LAPTOP = screen("dock", 0, 0, 2560, 1440), screen("laptop", 2560, 0, 1366, 768)


def wait_rebuild(app: QApplication, wall: Any, before: int, timeout: float = 5.0) -> None:
    """Until the wall has rebuilt once more (it waits for screens to settle first)."""
    end = time.monotonic() + timeout
    while wall.rebuilds == before and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(3):
        app.processEvents()


def windows(app: QApplication, wall: Any) -> dict[str, Any]:
    return {"screens": [s.name() for s in app.screens()], "rebuilds": wall.rebuilds, "windows": [
        {"screen": w.screen().name(), "profile_screens": w.screen_indices,
         "tabs": w.tabs.count() if w.tabs is not None else 0, "geometry": list(w.geometry().getRect()),
         "maximised": w.isMaximized(), "fullscreen": w.isFullScreen()} for w in wall.windows]}


def make_wall(hall: str, settings: Any) -> Any:
    from app.halls import shipped_profiles
    from app.store import StateStore
    from tools.demo_state import RecordingSink, fill_store
    from views.context import ViewContext
    from views.wall import WallManager
    ctx = ViewContext(fill_store(StateStore(), alerts=50), RecordingSink(), settings, shipped_profiles()[hall])
    return WallManager(ctx)


def hotplug(app: QApplication) -> list[dict[str, Any]]:
    from app.settings import ConsoleSettings
    wall = make_wall("operations", ConsoleSettings())
    wall.build()
    app.processEvents()
    steps = [windows(app, wall)]
    n = wall.rebuilds
    set_configuration(config(WALL[0]))  # two screens pulled out at once: one rebuild
    wait_rebuild(app, wall, n)
    steps.append(windows(app, wall))
    n = wall.rebuilds
    set_configuration(config(WALL[0], WALL[1]))  # one plugged back in
    wait_rebuild(app, wall, n)
    steps.append(windows(app, wall))
    wall.teardown()
    return steps


def geometry(app: QApplication, settings_file: Path) -> list[dict[str, Any]]:
    from app.settings import load_settings, save_settings
    steps = []
    wall = make_wall("duty", load_settings(settings_file))
    (win,) = wall.build()
    app.processEvents()
    steps.append(windows(app, wall))
    win.setGeometry(QRect(200, 150, 1700, 1000))  # the user moves and sizes it on the big monitor
    app.processEvents()
    wall.save_geometry()
    save_settings(wall.ctx.settings, settings_file)
    wall.teardown()
    # the console restarted: settings from the file
    wall = make_wall("duty", load_settings(settings_file))
    wall.build()
    app.processEvents()
    steps.append(windows(app, wall))
    n = wall.rebuilds
    set_configuration(config(LAPTOP))  # undocked: only the laptop's own screen
    wait_rebuild(app, wall, n)
    steps.append(windows(app, wall))
    n = wall.rebuilds
    set_configuration(config(LAPTOP, DOCK))  # docked again (the laptop stays the primary screen)
    wait_rebuild(app, wall, n)
    steps.append(windows(app, wall))
    save_settings(wall.ctx.settings, settings_file)
    wall.teardown()
    steps.append({"saved": sorted(json.loads(settings_file.read_text(encoding="utf-8"))["geometry"])})
    return steps


def main() -> int:
    app = QApplication(sys.argv[:1])
    mode = sys.argv[1]
    steps = hotplug(app) if mode == "hotplug" else geometry(app, Path(sys.argv[2]))
    print("PROBE " + json.dumps(steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
