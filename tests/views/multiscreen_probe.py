"""Run in a subprocess with QT_QPA_PLATFORM=offscreen:configfile=<json> (several virtual
screens): builds a hall's wall and prints what windows it made, as JSON."""

from __future__ import annotations

import json
import sys

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication


def main() -> int:
    hall = sys.argv[1]
    app = QApplication(sys.argv[:1])
    from app.halls import shipped_profiles
    from app.settings import ConsoleSettings
    from app.store import StateStore
    from tools.demo_state import RecordingSink, fill_store
    from views.context import ViewContext
    from views.wall import WallManager
    from widgets.red_alert import RedAlertCenter

    store = fill_store(StateStore(), alerts=50)
    sink = RecordingSink()
    red = RedAlertCenter(store, sink)
    red.sound.set_muted(True)
    ctx = ViewContext(store, sink, ConsoleSettings(), shipped_profiles()[hall], red_center=red)
    wall = WallManager(ctx)
    wall.build()
    app.processEvents()
    out = {"screens": [s.name() for s in app.screens()], "windows": []}
    for w in wall.windows:
        ev = QCloseEvent()
        w.closeEvent(ev)
        out["windows"].append({
            "screen": w.screen().name(), "profile_screens": w.screen_indices,
            "tabs": w.tabs.count() if w.tabs is not None else 0,
            "fullscreen": w.isFullScreen(), "frameless": bool(int(w.windowFlags()) & 0x800),
            "close_ignored": not ev.isAccepted(), "geometry": w.geometry().getRect()})
    wall.teardown()
    print("PROBE " + json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
