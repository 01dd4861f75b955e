"""Layout editor: drag panels between cells and screens (swap) or onto a free place (move), drag
a panel type from the palette onto a cell (replace) or a free place (add), add and remove cells,
make a cell span more or fewer rows and columns, change a page's rows and columns, and save the
result as a profile in the user's layouts folder.

Every edit goes through app.halls (Qt-free, validated): one that breaks the grid (a cell off the
page, two cells overlapping) is refused with the reason in the status line, the layout unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.halls import (
    Address,
    LayoutError,
    PageAddress,
    Profile,
    add_cell,
    free_places,
    move_cell,
    move_cell_to,
    remove_cell,
    resize_cell,
    save_user_profile,
    set_cell_panel,
    set_grid,
    slug,
)
from views.panels import PANELS
from widgets.common import lang, pick
from widgets.flow_layout import FlowLayout

CELL_MIME = "application/x-ioc-cell"
PANEL_MIME = "application/x-ioc-panel"
MAX_GRID = 8  # rows and columns a page may have (app.halls.Page)


def _accepts(e: QDragEnterEvent | QDropEvent) -> bool:
    return e.mimeData().hasFormat(CELL_MIME) or e.mimeData().hasFormat(PANEL_MIME)


class CellTile(QFrame):
    """A cell: its panel's name, drag handle (the whole tile) and its size and remove buttons."""

    def __init__(self, editor: LayoutEditor, at: Address, panel: str, span: tuple[int, int]) -> None:
        super().__init__()
        self.setObjectName("EditorCell")
        self.editor, self.at, self.panel = editor, at, panel
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(150, 72)
        spec = PANELS.get(panel)
        label = QLabel(spec.title(lang()) if spec else panel)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        rows, cols = span
        self.buttons: dict[str, QToolButton] = {}
        bar = FlowLayout(spacing=2)  # a narrow cell's buttons wrap instead of being squeezed
        for key, text, tip, fn in (
                ("wider", "⇔+", self.tr("加宽一列"), lambda: editor.set_span(at, rows, cols + 1)),
                ("narrower", "⇔−", self.tr("减窄一列"), lambda: editor.set_span(at, rows, cols - 1)),
                ("taller", "⇕+", self.tr("加高一行"), lambda: editor.set_span(at, rows + 1, cols)),
                ("shorter", "⇕−", self.tr("减矮一行"), lambda: editor.set_span(at, rows - 1, cols)),
                ("remove", "✕", self.tr("删除此格"), lambda: editor.remove(at))):
            b = QToolButton(text=text, objectName=f"Cell_{key}")
            b.setToolTip(tip)
            b.setStyleSheet("padding: 1px 6px;")  # tools, not the wall's big buttons
            b.clicked.connect(fn)
            self.buttons[key] = b
            bar.addWidget(b)
        self.buttons["narrower"].setEnabled(cols > 1)
        self.buttons["shorter"].setEnabled(rows > 1)
        lay = QVBoxLayout(self)
        lay.addWidget(label, 1)
        lay.addLayout(bar)
        self._press: QPoint | None = None

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self._press = e.position().toPoint()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._press is None or (e.position().toPoint() - self._press).manhattanLength() < 8:
            return
        self._press = None
        drag = QDrag(self)
        drag.setMimeData(cell_mime(self.at))
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, _e: QMouseEvent) -> None:
        self._press = None

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if _accepts(e):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        e.acceptProposedAction()
        # re-rendering replaces this tile; it is deleted later, after the event returns
        self.editor.handle_drop(self.at, e.mimeData())


class FreeTile(QFrame):
    """A grid place no cell covers: drop a panel or a cell here, or add the palette's panel."""

    def __init__(self, editor: LayoutEditor, page: PageAddress, row: int, col: int) -> None:
        super().__init__()
        self.setObjectName("EditorFree")
        self.editor, self.page, self.row, self.col = editor, page, row, col
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.Box)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setMinimumSize(150, 72)
        self.add = QToolButton(text="＋", objectName="FreeAdd")
        self.add.setToolTip(self.tr("在此添加右侧选中的面板"))
        self.add.clicked.connect(lambda: editor.add(page, row, col))
        lay = QVBoxLayout(self)
        lay.addWidget(self.add, 0, Qt.AlignmentFlag.AlignCenter)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if _accepts(e):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        e.acceptProposedAction()
        self.editor.handle_drop_free(self.page, self.row, self.col, e.mimeData())


def cell_mime(at: Address) -> QMimeData:
    m = QMimeData()
    m.setData(CELL_MIME, ",".join(map(str, at)).encode())
    return m


def panel_mime(panel: str) -> QMimeData:
    m = QMimeData()
    m.setData(PANEL_MIME, panel.encode())
    return m


def _cell_of(mime: QMimeData) -> Address | None:
    try:
        src = tuple(int(x) for x in bytes(mime.data(CELL_MIME).data()).decode().split(","))
    except ValueError:
        return None
    return src if len(src) == 3 else None  # type: ignore[return-value]


class Palette(QListWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("EditorPalette")
        self.setDragEnabled(True)
        for pid, spec in PANELS.items():
            it = QListWidgetItem(spec.title(lang()))
            it.setData(Qt.ItemDataRole.UserRole, pid)
            self.addItem(it)
        self.setCurrentRow(0)

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:  # noqa: N802 - Qt override
        return panel_mime(items[0].data(Qt.ItemDataRole.UserRole))

    def current_panel(self) -> str:
        it = self.currentItem()
        return str(it.data(Qt.ItemDataRole.UserRole)) if it is not None else next(iter(PANELS))


class LayoutEditor(QDialog):
    saved = Signal(object)  # the saved Profile

    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LayoutEditor")
        self.setWindowTitle(self.tr("布局编辑") + " · " + profile.name(lang()))
        self.resize(1100, 720)
        self.profile = profile
        self.tiles: dict[Address, CellTile] = {}
        self.free: dict[tuple[int, int, int, int], FreeTile] = {}  # (screen, page, row, col)
        self.grids: dict[PageAddress, tuple[QSpinBox, QSpinBox]] = {}
        self.name = QLineEdit(pick(profile.name_zh, profile.name_en) + self.tr("（自定义）"))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        save_as = QPushButton(self.tr("另存为新布局"))
        save_as.clicked.connect(lambda: self.save(as_new=True))
        save = QPushButton(self.tr("保存"))
        save.clicked.connect(lambda: self.save(as_new=False))
        self.canvas = QWidget()
        self.canvas_layout = QVBoxLayout(self.canvas)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.canvas)
        self.palette = Palette()
        side = QVBoxLayout()
        side.addWidget(QLabel(self.tr("面板（拖到格子上替换，拖到空位上添加）")))
        side.addWidget(self.palette, 1)
        body = QHBoxLayout()
        body.addWidget(scroll, 4)
        body.addLayout(side, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(self.tr("布局名称")))
        bottom.addWidget(self.name, 1)
        bottom.addWidget(save)
        bottom.addWidget(save_as)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(self.tr("拖动格子可在格子、屏幕之间交换面板，或移到空位；格子上的按钮调整大小或删除。")))
        lay.addLayout(body, 1)
        lay.addWidget(self.status)
        lay.addLayout(bottom)
        self.render()

    def render(self) -> None:
        while self.canvas_layout.count():
            item = self.canvas_layout.takeAt(0)
            if item.widget() is not None:
                # hidden now (deleted when the event loop is back: a button of it may be the
                # one whose click is being handled)
                item.widget().hide()
                item.widget().deleteLater()
        self.tiles.clear()
        self.free.clear()
        self.grids.clear()
        for si, screen in enumerate(self.profile.screens):
            for pi, page in enumerate(screen.pages):
                box = QGroupBox(self.tr("屏幕 %1 · %2").replace("%1", str(si + 1))
                                .replace("%2", pick(page.name_zh, page.name_en) or pick(screen.name_zh, screen.name_en)))
                outer = QVBoxLayout(box)
                outer.addLayout(self._grid_controls((si, pi), page.rows, page.cols))
                grid = QGridLayout()
                for ci, c in enumerate(page.cells):
                    tile = CellTile(self, (si, pi, ci), c.panel, (c.rowspan, c.colspan))
                    grid.addWidget(tile, c.row, c.col, c.rowspan, c.colspan)
                    self.tiles[(si, pi, ci)] = tile
                for r, col in free_places(page):
                    free = FreeTile(self, (si, pi), r, col)
                    grid.addWidget(free, r, col)
                    self.free[(si, pi, r, col)] = free
                for r in range(page.rows):
                    grid.setRowStretch(r, 1)
                for col in range(page.cols):
                    grid.setColumnStretch(col, 1)
                outer.addLayout(grid)
                self.canvas_layout.addWidget(box)
        self.canvas_layout.addStretch(1)

    def _grid_controls(self, page: PageAddress, rows: int, cols: int) -> QHBoxLayout:
        bar = QHBoxLayout()
        spins = []
        for text, value in ((self.tr("行"), rows), (self.tr("列"), cols)):
            spin = QSpinBox(minimum=1, maximum=MAX_GRID, value=value)
            bar.addWidget(QLabel(text))
            bar.addWidget(spin)
            spins.append(spin)
        row_spin, col_spin = spins
        for spin in spins:
            # applied when the value is committed (arrows, Enter, leaving the box), not per keystroke
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _v, p=page: self.set_grid(p, row_spin.value(), col_spin.value()))
        bar.addStretch(1)
        self.grids[page] = (row_spin, col_spin)
        return bar

    # ---- edits ---------------------------------------------------------------------------
    def _apply(self, edit: Callable[[], Profile]) -> bool:
        try:
            self.profile = edit()
        except (LayoutError, IndexError) as exc:
            self.status.setText(self.tr("无法修改：") + str(exc))
            self.render()  # controls back to what the layout is
            return False
        self.render()
        self.status.setText(self.tr("已修改，尚未保存"))
        return True

    def handle_drop(self, dst: Address, mime: QMimeData) -> bool:
        if mime.hasFormat(CELL_MIME):
            src = _cell_of(mime)
            if src is None or src == dst:
                return False
            return self._apply(lambda: move_cell(self.profile, src, dst))
        if mime.hasFormat(PANEL_MIME):
            panel = bytes(mime.data(PANEL_MIME).data()).decode()
            if panel not in PANELS:
                return False
            return self._apply(lambda: set_cell_panel(self.profile, dst, panel))
        return False

    def handle_drop_free(self, page: PageAddress, row: int, col: int, mime: QMimeData) -> bool:
        if mime.hasFormat(CELL_MIME):
            src = _cell_of(mime)
            if src is None:
                return False
            return self._apply(lambda: move_cell_to(self.profile, src, page, row, col))
        if mime.hasFormat(PANEL_MIME):
            panel = bytes(mime.data(PANEL_MIME).data()).decode()
            if panel not in PANELS:
                return False
            return self._apply(lambda: add_cell(self.profile, page, row, col, panel))
        return False

    def add(self, page: PageAddress, row: int, col: int) -> bool:
        panel = self.palette.current_panel()
        return self._apply(lambda: add_cell(self.profile, page, row, col, panel))

    def remove(self, at: Address) -> bool:
        return self._apply(lambda: remove_cell(self.profile, at))

    def set_span(self, at: Address, rowspan: int, colspan: int) -> bool:
        if rowspan < 1 or colspan < 1:
            return False
        return self._apply(lambda: resize_cell(self.profile, at, rowspan, colspan))

    def set_grid(self, page: PageAddress, rows: int, cols: int) -> bool:
        p = self.profile.screens[page[0]].pages[page[1]]
        if (rows, cols) == (p.rows, p.cols):
            return False
        return self._apply(lambda: set_grid(self.profile, page, rows, cols))

    def save(self, as_new: bool) -> Profile | None:
        name = self.name.text().strip() or self.profile.name_zh
        data = self.profile.model_dump()
        if as_new:
            base = slug(self.profile.id + "-" + slug(name))
            data.update(id=base[:40], name_zh=name, name_en=name)
        try:
            prof = Profile.model_validate(data)
            path = save_user_profile(prof)
        except (LayoutError, ValueError, OSError) as exc:
            self.status.setText(self.tr("保存失败：") + str(exc))
            return None
        self.profile = prof
        self.status.setText(self.tr("已保存：") + str(path))
        self.saved.emit(prof)
        return prof
