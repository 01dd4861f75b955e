"""The layout editor, driven as a user drives it: panels dragged with the mouse between cells,
screens and free places (real press/move/release events, Qt's own drag loop), cells added,
removed and resized, a page's grid changed, the result saved as a new profile and built into a
hall window. And the Qt-free edits in app.halls it goes through, bad edits refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from app import halls
from app.halls import LayoutError, available_profiles, shipped_profiles
from views.layout_editor import LayoutEditor, panel_mime

pytestmark = pytest.mark.gui


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: Any, qtbot: Any) -> LayoutEditor:
    monkeypatch.setenv("IOC_CONSOLE_CONFIG_DIR", str(tmp_path))
    ed = LayoutEditor(shipped_profiles()["operations"])
    qtbot.addWidget(ed)
    ed.resize(1700, 1000)
    ed.show()
    qtbot.waitExposed(ed)
    return ed


def _visible(ed: LayoutEditor, w: QWidget, qapp: Any) -> None:
    scroll = ed.canvas.parentWidget().parentWidget()
    scroll.ensureWidgetVisible(w, 10, 10)
    qapp.processEvents()


def drag(qapp: Any, source: QWidget, target: QWidget, start: QPoint | None = None) -> None:
    """Press on source, move past the drag distance (Qt starts its drag loop there), then move
    over target and release, as a hand on the mouse would. The moves over the target are sent
    from a timer: QDrag.exec() does not return until the drop."""
    start = start or source.rect().center()
    end = target.rect().center()

    def over_target_and_release() -> None:
        for k in range(4):
            QTest.mouseMove(target, end + QPoint(k, k))
            QTest.qWait(20)
        QTest.mouseRelease(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    QTimer.singleShot(80, over_target_and_release)
    QTest.mousePress(source, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    step = max(QGuiApplication.styleHints().startDragDistance(), 8) + 4
    QTest.mouseMove(source, start + QPoint(step, 0))
    QTest.mouseMove(source, start + QPoint(2 * step, 0))
    qapp.processEvents()


def test_drag_a_panel_to_another_screen_with_the_mouse(editor: LayoutEditor, qapp: Any) -> None:
    src, dst = (0, 0, 1), (1, 0, 0)  # alert feed on screen 1 <-> 3D city on screen 2
    assert (editor.tiles[src].panel, editor.tiles[dst].panel) == ("alert_feed", "city3d")
    _visible(editor, editor.tiles[dst], qapp)
    _visible(editor, editor.tiles[src], qapp)
    drag(qapp, editor.tiles[src], editor.tiles[dst])
    assert editor.profile.screens[0].pages[0].cells[1].panel == "city3d"
    assert editor.profile.screens[1].pages[0].cells[0].panel == "alert_feed"
    assert editor.tiles[dst].panel == "alert_feed"  # the canvas shows the new layout
    assert "尚未保存" in editor.status.text()


def test_add_remove_resize_regrid_and_save_as_a_new_profile(editor: LayoutEditor, qtbot: Any, qapp: Any,
                                                            tmp_path: Path) -> None:
    page = (2, 0)  # devices and trends: device health, trends, data quality on 2x3
    editor.grids[page][1].setValue(4)  # a fourth column: two free places (the canvas is redrawn)
    p = editor.profile.screens[2].pages[0]
    assert (p.rows, p.cols) == (2, 4)
    assert {(r, c) for s, pg, r, c in editor.free if (s, pg) == page} == {(0, 3), (1, 3)}
    # the palette's panel dragged onto a free place makes a cell there
    palette = editor.palette
    item = next(palette.item(i) for i in range(palette.count())
                if palette.item(i).data(Qt.ItemDataRole.UserRole) == "camera")
    palette.scrollToItem(item)
    free = editor.free[(2, 0, 0, 3)]
    _visible(editor, free, qapp)
    drag(qapp, palette.viewport(), free, palette.visualItemRect(item).center())
    cells = editor.profile.screens[2].pages[0].cells
    assert [(c.panel, c.row, c.col) for c in cells][-1] == ("camera", 0, 3)
    # the camera's cell made taller with its button: it now covers both rows of column 4
    cam = (2, 0, len(cells) - 1)
    _visible(editor, editor.tiles[cam], qapp)
    qtbot.mouseClick(editor.tiles[cam].buttons["taller"], Qt.MouseButton.LeftButton)
    cam_cell = editor.profile.screens[2].pages[0].cells[-1]
    assert (cam_cell.rowspan, cam_cell.colspan) == (2, 1)
    assert not [k for k in editor.free if k[:2] == page]
    # a cell removed with its button leaves a free place; the "+" there adds the palette's panel
    qtbot.mouseClick(editor.tiles[(2, 0, 3)].buttons["remove"], Qt.MouseButton.LeftButton)  # data quality
    assert "data_quality" not in [c.panel for c in editor.profile.screens[2].pages[0].cells]
    assert (2, 0, 1, 2) in editor.free
    palette.setCurrentItem(next(palette.item(i) for i in range(palette.count())
                                if palette.item(i).data(Qt.ItemDataRole.UserRole) == "town_map"))
    qtbot.mouseClick(editor.free[(2, 0, 1, 2)].add, Qt.MouseButton.LeftButton)
    assert ("town_map", 1, 2) in [(c.panel, c.row, c.col) for c in editor.profile.screens[2].pages[0].cells]
    # a whole new row: the grid grows, and the cell dragged there keeps its panel
    editor.grids[page][0].setValue(3)
    feed_at = next(a for a, t in editor.tiles.items() if t.panel == "alert_feed")
    target = editor.free[(2, 0, 2, 0)]
    _visible(editor, target, qapp)
    _visible(editor, editor.tiles[feed_at], qapp)
    drag(qapp, editor.tiles[feed_at], target)
    moved = [c for c in editor.profile.screens[2].pages[0].cells if c.panel == "alert_feed"]
    assert [(c.row, c.col) for c in moved] == [(2, 0)]
    assert "alert_feed" not in [c.panel for c in editor.profile.screens[0].pages[0].cells]
    editor.name.setText("Night shift wall")
    prof = editor.save(as_new=True)
    assert prof is not None
    assert prof.id == "operations-night-shift-wall"
    data = json.loads((tmp_path / "layouts" / f"{prof.id}.json").read_text(encoding="utf-8"))
    saved_page = data["screens"][2]["pages"][0]
    assert (saved_page["rows"], saved_page["cols"]) == (3, 4)
    assert available_profiles()[prof.id] == prof
    assert available_profiles()["operations"] == shipped_profiles()["operations"]  # untouched


def test_the_saved_profile_builds_its_new_grid(editor: LayoutEditor, make_hall_ctx: Any, qtbot: Any, qapp: Any) -> None:
    from views.page import PageView
    from views.window import HallWindow
    editor.grids[(2, 0)][1].setValue(4)
    editor.add((2, 0), 0, 3)
    prof = editor.save(as_new=True)
    assert prof is not None
    ctx = make_hall_ctx(prof)
    win = HallWindow(ctx, [2], kiosk=False)
    qtbot.addWidget(win)
    win.show()
    (page,) = [p for p in win.findChildren(PageView) if p.isVisible()]
    assert len(page.frames) == 5
    grid = page.layout()
    assert grid.columnCount() == 4


def test_edits_that_break_the_grid_are_refused_with_the_reason(editor: LayoutEditor, qtbot: Any) -> None:
    before = editor.profile
    editor.grids[(2, 0)][1].setValue(2)  # the trend in column 3 would fall off the page
    assert editor.profile == before
    assert "无法修改" in editor.status.text()
    assert editor.grids[(2, 0)][1].value() == 3  # the control shows the layout as it is
    wider = editor.tiles[(2, 0, 3)].buttons["wider"]  # data quality is in the last column already
    qtbot.mouseClick(wider, Qt.MouseButton.LeftButton)
    assert editor.profile == before
    assert "does not fit" in editor.status.text()
    assert not editor.handle_drop((2, 0, 3), panel_mime("no_such_panel"))


def test_halls_edits_validate() -> None:
    p = shipped_profiles()["operations"]
    grown = halls.set_grid(p, (2, 0), 3, 4)
    assert halls.free_places(grown.screens[2].pages[0]) == [(0, 3), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)]
    added = halls.add_cell(grown, (2, 0), 2, 0, "camera")
    assert added.screens[2].pages[0].cells[-1].panel == "camera"
    with pytest.raises(LayoutError, match="overlaps"):
        halls.add_cell(grown, (2, 0), 0, 0, "camera")  # device health is there
    with pytest.raises(LayoutError, match="does not fit"):
        halls.resize_cell(grown, (2, 0, 0), 4, 1)
    wide = halls.resize_cell(added, (2, 0, 4), 1, 4)  # the camera across the new bottom row
    assert halls.free_places(wide.screens[2].pages[0]) == [(0, 3), (1, 3)]
    removed = halls.remove_cell(wide, (2, 0, 4))
    assert len(removed.screens[2].pages[0].cells) == 4
    # a cell moved to a smaller place shrinks to fit it
    moved = halls.move_cell_to(wide, (2, 0, 4), (2, 0), 0, 3)
    assert (moved.screens[2].pages[0].cells[-1].rowspan, moved.screens[2].pages[0].cells[-1].colspan) == (1, 1)
    stretched = halls.set_grid(shipped_profiles()["front"], (0, 0), 4, 4)
    assert stretched.screens[0].pages[0].row_stretch == [2, 2, 3, 1]


@pytest.fixture
def make_hall_ctx(sink: Any) -> Any:
    from app.settings import ConsoleSettings
    from app.store import StateStore
    from tools.demo_state import fill_store
    from views.context import ViewContext

    def make(profile: Any) -> ViewContext:
        return ViewContext(fill_store(StateStore(), alerts=50), sink, ConsoleSettings(), profile)
    return make
