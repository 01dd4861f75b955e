"""Layout editor: drag panels between cells and screens (swap), drag a panel type from the
palette onto a cell (replace), and save the result as a profile in the user's layouts folder.
"""

from __future__ import annotations

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
    QVBoxLayout,
    QWidget,
)

from app.halls import LayoutError, Profile, move_cell, save_user_profile, set_cell_panel, slug
from views.panels import PANELS
from widgets.common import lang, pick

CELL_MIME = "application/x-ioc-cell"
PANEL_MIME = "application/x-ioc-panel"
Address = tuple[int, int, int]  # screen, page, cell


class CellTile(QFrame):
    def __init__(self, editor: LayoutEditor, at: Address, panel: str) -> None:
        super().__init__()
        self.setObjectName("EditorCell")
        self.editor, self.at, self.panel = editor, at, panel
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(120, 56)
        spec = PANELS.get(panel)
        label = QLabel(spec.title(lang()) if spec else panel)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        QVBoxLayout(self).addWidget(label)
        self._press: QPoint | None = None

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self._press = e.position().toPoint()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._press is None or (e.position().toPoint() - self._press).manhattanLength() < 8:
            return
        drag = QDrag(self)
        drag.setMimeData(cell_mime(self.at))
        drag.exec(Qt.DropAction.MoveAction)
        self._press = None

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if e.mimeData().hasFormat(CELL_MIME) or e.mimeData().hasFormat(PANEL_MIME):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        e.acceptProposedAction()
        # re-rendering replaces this tile; it is deleted later, after the event returns
        self.editor.handle_drop(self.at, e.mimeData())


def cell_mime(at: Address) -> QMimeData:
    m = QMimeData()
    m.setData(CELL_MIME, ",".join(map(str, at)).encode())
    return m


def panel_mime(panel: str) -> QMimeData:
    m = QMimeData()
    m.setData(PANEL_MIME, panel.encode())
    return m


class Palette(QListWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("EditorPalette")
        self.setDragEnabled(True)
        for pid, spec in PANELS.items():
            it = QListWidgetItem(spec.title(lang()))
            it.setData(Qt.ItemDataRole.UserRole, pid)
            self.addItem(it)

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:  # noqa: N802 - Qt override
        return panel_mime(items[0].data(Qt.ItemDataRole.UserRole))


class LayoutEditor(QDialog):
    saved = Signal(object)  # the saved Profile

    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LayoutEditor")
        self.setWindowTitle(self.tr("布局编辑") + " · " + profile.name(lang()))
        self.resize(1100, 720)
        self.profile = profile
        self.tiles: dict[Address, CellTile] = {}
        self.name = QLineEdit(pick(profile.name_zh, profile.name_en) + self.tr("（自定义）"))
        self.status = QLabel("")
        save_as = QPushButton(self.tr("另存为新布局"))
        save_as.clicked.connect(lambda: self.save(as_new=True))
        save = QPushButton(self.tr("保存"))
        save.clicked.connect(lambda: self.save(as_new=False))
        self.canvas = QWidget()
        self.canvas_layout = QVBoxLayout(self.canvas)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.canvas)
        side = QVBoxLayout()
        side.addWidget(QLabel(self.tr("面板（拖到格子上替换）")))
        side.addWidget(Palette(), 1)
        body = QHBoxLayout()
        body.addWidget(scroll, 4)
        body.addLayout(side, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(self.tr("布局名称")))
        bottom.addWidget(self.name, 1)
        bottom.addWidget(save)
        bottom.addWidget(save_as)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(self.tr("拖动格子可在格子、屏幕之间交换面板。")))
        lay.addLayout(body, 1)
        lay.addWidget(self.status)
        lay.addLayout(bottom)
        self.render()

    def render(self) -> None:
        while self.canvas_layout.count():
            item = self.canvas_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.tiles.clear()
        for si, screen in enumerate(self.profile.screens):
            for pi, page in enumerate(screen.pages):
                box = QGroupBox(self.tr("屏幕 %1 · %2").replace("%1", str(si + 1))
                                .replace("%2", pick(page.name_zh, page.name_en) or pick(screen.name_zh, screen.name_en)))
                grid = QGridLayout(box)
                for ci, c in enumerate(page.cells):
                    tile = CellTile(self, (si, pi, ci), c.panel)
                    grid.addWidget(tile, c.row, c.col, c.rowspan, c.colspan)
                    self.tiles[(si, pi, ci)] = tile
                self.canvas_layout.addWidget(box)
        self.canvas_layout.addStretch(1)

    def handle_drop(self, dst: Address, mime: QMimeData) -> bool:
        if mime.hasFormat(CELL_MIME):
            src = tuple(int(x) for x in bytes(mime.data(CELL_MIME).data()).decode().split(","))
            if src == dst or len(src) != 3:
                return False
            self.profile = move_cell(self.profile, src, dst)  # type: ignore[arg-type]
        elif mime.hasFormat(PANEL_MIME):
            panel = bytes(mime.data(PANEL_MIME).data()).decode()
            if panel not in PANELS:
                return False
            self.profile = set_cell_panel(self.profile, dst, panel)
        else:
            return False
        self.render()
        self.status.setText(self.tr("已修改，尚未保存"))
        return True

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
