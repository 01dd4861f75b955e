"""Run in a subprocess with QT_QPA_PLATFORM=offscreen:configfile=<json> (one virtual screen of
the hall's size): builds a hall's wall in each language and theme, as the shell does, and
prints what every window's size is next to its screen's, as JSON.

Usage: python -m tests.views.fit_probe <hall> [lang,lang] [theme,theme]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget


def _rect(w: QWidget, child: QWidget) -> list[int]:
    """child's rectangle in w's coordinates: x, y, width, height."""
    top_left = child.mapTo(w, child.rect().topLeft())
    return [top_left.x(), top_left.y(), child.width(), child.height()]


def _feeds(win: QWidget) -> list[dict[str, Any]]:
    """Where the visible alert feeds put their bars and table (overlap shows a broken layout)."""
    from widgets.alert_feed import AlertFeed
    out = []
    for feed in win.findChildren(AlertFeed):
        if not feed.isVisible():
            continue
        bars = {}
        for name, bar in (("filter", feed.filter_bar), ("actions", feed.action_bar)):
            bars[name] = [_rect(feed, bar.itemAt(i).widget()) for i in range(bar.count())
                          if bar.itemAt(i).widget() is not None and not bar.itemAt(i).widget().isHidden()]
        out.append({"feed": _rect(feed, feed), "table": _rect(feed, feed.table), **bars})
    return out


def main() -> int:
    hall = sys.argv[1]
    langs = sys.argv[2].split(",") if len(sys.argv) > 2 else ["zh", "en"]
    themes = sys.argv[3].split(",") if len(sys.argv) > 3 else ["dark", "light"]
    app = QApplication(sys.argv[:1])
    from app.halls import shipped_profiles
    from app.settings import ConsoleSettings, Geometry
    from app.store import StateStore
    from protocol.enums import Role
    from tools.demo_state import RecordingSink, fill_store
    from views.context import ViewContext
    from views.theme import apply_language, apply_theme
    from views.wall import WallManager
    from widgets.red_alert import RedAlertCenter

    profile = shipped_profiles()[hall]
    # the role the hall is used with: a duty officer's header also carries the drill button
    role = {"decision": Role.LEADER, "duty": Role.DUTY_OFFICER}.get(hall, Role.OPERATOR)
    out: dict[str, Any] = {"screens": [list(s.geometry().getRect()) for s in app.screens()], "cases": []}
    combos = [(lang, theme, False) for lang in langs for theme in themes]
    if not profile.kiosk:  # a desk window saved on a bigger screen, reopened on this one
        combos.append((langs[0], themes[0], True))
    for lang, theme, saved_big in combos:
        apply_language(app, lang)
        apply_theme(app, theme)
        store = fill_store(StateStore(), alerts=200, role=role)
        sink = RecordingSink()
        red = RedAlertCenter(store, sink)
        red.sound.set_muted(True)
        settings = ConsoleSettings(language=lang, theme=theme)
        if saved_big:
            name = app.primaryScreen().name()
            settings.geometry = {f"{hall}@{name}": Geometry(x=0, y=0, w=2400, h=1400)}
        ctx = ViewContext(store, sink, settings, profile, red_center=red)
        wall = WallManager(ctx)
        wall.build()
        for _ in range(4):
            app.processEvents()
        for w in wall.windows:
            out["cases"].append({
                "lang": lang, "theme": theme, "saved_big": saved_big, "screen": list(w.screen().geometry().getRect()),
                "geometry": list(w.geometry().getRect()), "frame": list(w.frameGeometry().getRect()),
                "minimum": [w.minimumSizeHint().width(), w.minimumSizeHint().height()],
                "feeds": _feeds(w)})
        wall.teardown()
        red.deleteLater()
        app.processEvents()
        sink.close()
    print("PROBE " + json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
