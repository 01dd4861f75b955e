from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent

from app.halls import available_profiles, shipped_profiles
from views.layout_editor import LayoutEditor, cell_mime, panel_mime


def test_drag_between_screens_swaps_and_save_as_new_profile(tmp_path: Path, monkeypatch: Any, qtbot: Any) -> None:
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    p = shipped_profiles()["operations"]
    ed = LayoutEditor(p)
    qtbot.addWidget(ed)
    ed.show()
    src, dst = (0, 0, 1), (1, 0, 0)  # alert feed on screen 1 <-> 3D city on screen 2
    assert (ed.tiles[src].panel, ed.tiles[dst].panel) == ("alert_feed", "city3d")
    target = ed.tiles[dst]
    mime = cell_mime(src)  # QDropEvent does not own its mime data: keep it alive
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    target.dropEvent(ev)  # what Qt calls when a dragged cell is released on another
    assert ed.profile.screens[0].pages[0].cells[1].panel == "city3d"
    assert ed.profile.screens[1].pages[0].cells[0].panel == "alert_feed"
    assert ed.tiles[dst].panel == "alert_feed"
    assert ed.handle_drop((2, 0, 3), panel_mime("camera"))
    assert ed.profile.screens[2].pages[0].cells[3].panel == "camera"
    assert not ed.handle_drop((2, 0, 3), panel_mime("no_such_panel"))
    saved: list[Any] = []
    ed.saved.connect(saved.append)
    ed.name.setText("Night shift wall")
    prof = ed.save(as_new=True)
    assert prof is not None
    assert prof.id == "operations-night-shift-wall"
    path = tmp_path / "layouts" / f"{prof.id}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert data["screens"][1]["pages"][0]["cells"][0]["panel"] == "alert_feed"
    assert available_profiles()[prof.id] == prof
    assert saved == [prof]
    assert available_profiles()["operations"] == p  # the shipped profile is untouched
    ed.close()
