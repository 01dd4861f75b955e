"""Every label of the 3D city placed in one pass, by priority, before each render.

Label sets (incidents, fire stations, towns, device clusters, measurements, surroundings) used
to be placed each by its own vtkLabelPlacementMapper, which only keeps the labels of one set
apart: an incident's label could sit under a fire station's and a device cluster's. Here all
sets go through place_labels together: the highest priority first (incidents > stations >
towns > clusters), each label at the first of four spots around its anchor (above, right,
below, left) where its box meets no box placed before it, else dropped. An incident's marker is
kept clear as well, and so are the roof markers of alerting buildings. The placed labels are drawn by one vtkLabeledDataMapper per set, fed with
display coordinates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import vtk

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
# Who wins a spot on the screen.
PRIORITY = {"incident": 1000, "measure": 950, "surround": 900, "station": 500, "town": 300, "cluster": 100}
PAD_PX = 4  # the plate around the text; boxes this far apart never touch
GAP_PX = 13  # anchor to the nearest edge of its label: clear of any marker (MARKER_PX / 2)
MARKER_PX = 24  # an incident's marker is kept clear of other labels


def cjk_font() -> str | None:
    for p in FONT_CANDIDATES:
        if os.path.exists(p):
            return p
    return None


@dataclass(frozen=True)
class LabelStyle:
    size: int = 16
    rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    plate: float = 0.55  # opacity of the dark plate behind the text


@dataclass
class LabelSet:
    pts: np.ndarray  # (n, 3) scene-local coordinates of the anchors
    texts: list[str]
    priority: np.ndarray  # (n,) higher wins
    style: LabelStyle
    keep_clear: bool = False  # its anchors' markers are kept clear of other labels
    side: int = 0  # the side of its anchors its labels try first (index into SIDES)
    shown: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # placed at the last pass


def project(matrix: np.ndarray, pts: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Display pixels (origin bottom-left) of scene points through a 4x4 composite projection
    matrix, and which of them are in front of the camera and inside the depth range."""
    h = np.c_[pts, np.ones(len(pts))] @ matrix.T
    w = h[:, 3]
    ok = w > 1e-9
    ndc = h[:, :3] / np.where(ok, w, 1.0)[:, None]
    ok &= np.abs(ndc[:, 2]) <= 1.0
    return np.column_stack(((ndc[:, 0] + 1) * 0.5 * width, (ndc[:, 1] + 1) * 0.5 * height)), ok


SIDES = ("above", "right", "below", "left")


class _Grid:
    """Placed boxes bucketed by CELL_PX cells: a candidate is checked against its neighbours
    only (hundreds of labels, four spots each, per frame)."""

    CELL_PX = 64

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def _keys(self, b: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        c = self.CELL_PX
        return [(i, j) for i in range(int(b[0] // c), int(b[2] // c) + 1)
                for j in range(int(b[1] // c), int(b[3] // c) + 1)]

    def hits(self, b: tuple[float, float, float, float]) -> bool:
        for k in self._keys(b):
            for o in self.cells.get(k, ()):
                if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                    return True
        return False

    def add(self, b: tuple[float, float, float, float]) -> None:
        for k in self._keys(b):
            self.cells.setdefault(k, []).append(b)


def place_labels(anchors: np.ndarray, sizes: np.ndarray, priority: np.ndarray, width: int, height: int,
                 *, visible: np.ndarray | None = None, obstacles: np.ndarray | None = None,
                 obstacle_rank: np.ndarray | None = None,
                 first_side: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy placement: anchors (n, 2) display px, sizes (n, 2) text w, h px. Returns the box
    (x0, y0, x1, y1) of every label (its centre is where to draw it) and whether it is placed.
    Boxes of placed labels never overlap each other, nor an obstacle (m, 4) whose rank
    (obstacle_rank, default: above every label) is at least the label's priority: a device
    cluster's markers keep cluster labels off, an incident's label may cover them. A label tries
    the sides of its anchor in SIDES order, from first_side (an index into SIDES; default above)."""
    n = len(anchors)
    boxes = np.zeros((n, 4))
    placed = np.zeros(n, bool)
    grid = _Grid()  # the placed labels
    walls: dict[float, _Grid] = {}  # obstacles by rank
    if obstacles is not None:
        obs = np.asarray(obstacles, float).reshape(-1, 4)
        ranks = np.full(len(obs), np.inf) if obstacle_rank is None else np.asarray(obstacle_rank, float)
        for o, r in zip(obs.tolist(), ranks.tolist(), strict=True):
            walls.setdefault(r, _Grid()).add((o[0], o[1], o[2], o[3]))
    vis = (np.ones(n, bool) if visible is None else np.asarray(visible, bool)).tolist()
    order = np.lexsort((np.arange(n), -np.asarray(priority, float)))  # priority, then first come
    anchors_l, sizes_l = np.asarray(anchors, float).tolist(), np.asarray(sizes, float).tolist()
    sides = [0] * n if first_side is None else [int(v) for v in first_side]
    prio_l = np.asarray(priority, float).tolist()
    for i in order.tolist():
        if not vis[i]:
            continue
        blocking = [g for r, g in walls.items() if r >= prio_l[i]]
        ax, ay = anchors_l[i]
        w, h = sizes_l[i][0] + 2 * PAD_PX, sizes_l[i][1] + 2 * PAD_PX
        spots = [(0.0, GAP_PX + h / 2), (GAP_PX + w / 2, 0.0), (0.0, -(GAP_PX + h / 2)), (-(GAP_PX + w / 2), 0.0)]
        k0 = sides[i]
        for dx, dy in spots[k0:] + spots[:k0]:
            cx, cy = ax + dx, ay + dy
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                continue
            if not grid.hits(box) and not any(g.hits(box) for g in blocking):
                boxes[i], placed[i] = box, True
                grid.add(box)
                break
    return boxes, placed


class LabelBoard:
    """The label sets of one renderer, placed together at every render."""

    def __init__(self, renderer: Any, dpi: int = 72) -> None:
        self.renderer = renderer
        self.dpi = dpi
        self.sets: dict[str, LabelSet] = {}
        self.keep_clear: dict[str, tuple[np.ndarray, float, float]] = {}  # name -> (points, marker px, rank)
        self._actors: dict[str, tuple[Any, Any]] = {}  # name -> (actor, polydata)
        self._size_cache: dict[tuple[str, int], tuple[int, int]] = {}
        self._tr = vtk.vtkTextRenderer.GetInstance()
        self._font = cjk_font()
        self.last: list[tuple[str, int, np.ndarray]] = []  # (set, index, box) of every placed label
        self._version = 0  # moves with every change of the sets: a still frame is not placed again
        self._placed_for: tuple[Any, ...] | None = None
        self._observer = renderer.AddObserver("StartEvent", lambda *_: self.update())

    # ---- sets --------------------------------------------------------------------------
    def set(self, name: str, pts: np.ndarray, texts: list[str], *, kind: str, style: LabelStyle,
            priority: np.ndarray | None = None, side: str = "above") -> None:
        """A label set: kind names its rank in PRIORITY; priority (0-99 within the kind, e.g.
        the device count) orders labels of one set; side: where its labels go first."""
        pts = np.asarray(pts, float).reshape(-1, 3)
        if not len(pts):
            self.clear(name)
            return
        self._version += 1
        within = np.zeros(len(pts)) if priority is None else np.clip(np.asarray(priority, float), 0, 99)
        self.sets[name] = LabelSet(pts, list(texts), PRIORITY[kind] + within, style, keep_clear=kind == "incident",
                                   side=SIDES.index(side))
        if name not in self._actors:
            self._actors[name] = self._make_actor(style)

    def keep_clear_of(self, name: str, pts: np.ndarray, px: float, below: str | None = None) -> None:
        """Screen-sized markers no label may cover (e.g. the roof markers of alerting buildings);
        below: labels of that kind and higher may (a device cluster's markers: "town")."""
        pts = np.asarray(pts, float).reshape(-1, 3)
        self._version += 1
        rank = PRIORITY[below] - 1 if below is not None else np.inf
        if len(pts):
            self.keep_clear[name] = (pts, float(px), float(rank))
        else:
            self.keep_clear.pop(name, None)

    def clear(self, name: str) -> None:
        self._version += 1
        self.sets.pop(name, None)
        self.keep_clear.pop(name, None)
        hit = self._actors.pop(name, None)
        if hit is not None:
            self.renderer.RemoveViewProp(hit[0])

    def close(self) -> None:
        for name in list(self._actors):
            self.clear(name)
        self.renderer.RemoveObserver(self._observer)

    def _tprop(self, style: LabelStyle) -> Any:
        tp = vtk.vtkTextProperty()
        if self._font is not None:
            tp.SetFontFamily(vtk.VTK_FONT_FILE)
            tp.SetFontFile(self._font)
        tp.SetFontSize(style.size)
        tp.SetBold(True)
        tp.SetColor(*style.rgb)
        tp.SetBackgroundColor(0.0, 0.0, 0.0)
        tp.SetBackgroundOpacity(style.plate)
        tp.SetJustificationToCentered()
        tp.SetVerticalJustificationToCentered()
        return tp

    def _make_actor(self, style: LabelStyle) -> tuple[Any, Any]:
        pd = vtk.vtkPolyData()
        pd.SetPoints(vtk.vtkPoints())
        mapper = vtk.vtkLabeledDataMapper()
        mapper.SetInputData(pd)
        mapper.SetCoordinateSystem(vtk.vtkLabeledDataMapper.DISPLAY)
        mapper.SetLabelModeToLabelFieldData()
        mapper.SetFieldDataName("label")
        mapper.SetLabelTextProperty(self._tprop(style))
        actor = vtk.vtkActor2D()
        actor.SetMapper(mapper)
        self.renderer.AddViewProp(actor)
        return actor, pd

    def text_size(self, text: str, size: int) -> tuple[int, int]:
        key = (text, size)
        hit = self._size_cache.get(key)
        if hit is None:
            bb = [0, 0, 0, 0]
            tp = self._tprop(LabelStyle(size))
            if text and self._tr.GetBoundingBox(tp, text, bb, self.dpi):
                hit = (bb[1] - bb[0] + 1, bb[3] - bb[2] + 1)
            else:
                hit = (len(text) * size, size + 4)
            if len(self._size_cache) > 4000:
                self._size_cache.clear()
            self._size_cache[key] = hit
        return hit

    # ---- placement ---------------------------------------------------------------------
    def update(self) -> None:
        """Place every label for the renderer's current camera and feed the mappers."""
        names = list(self.sets)
        if not names:
            self.last = []
            return
        extra = list(self.keep_clear.values())
        win = self.renderer.GetRenderWindow()
        width, height = (win.GetSize() if win is not None else (0, 0))
        if width <= 0 or height <= 0:
            return
        cam = self.renderer.GetActiveCamera()
        m = cam.GetCompositeProjectionTransformMatrix(width / height, -1, 1)
        matrix = np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])
        key = (self._version, width, height, matrix.round(9).tobytes())
        if key == self._placed_for:  # the same labels seen the same way: placed as they are
            return
        self._placed_for = key
        self.last = []
        pts = np.concatenate([self.sets[n].pts for n in names])
        owner = np.concatenate([np.full(len(self.sets[n].pts), k) for k, n in enumerate(names)])
        local = np.concatenate([np.arange(len(self.sets[n].pts)) for n in names])
        prio = np.concatenate([self.sets[n].priority for n in names])
        sizes = np.array([self.text_size(t, self.sets[n].style.size) for n in names for t in self.sets[n].texts],
                         float).reshape(-1, 2)
        xy, ok = project(matrix, pts, width, height)
        clear = [np.c_[xy[owner == k] - MARKER_PX / 2, xy[owner == k] + MARKER_PX / 2][ok[owner == k]]
                 for k, n in enumerate(names) if self.sets[n].keep_clear]
        ranks = [np.full(len(c), np.inf) for c in clear]
        for mpts, px, rank in extra:
            mxy, mok = project(matrix, mpts, width, height)
            clear.append(np.c_[mxy - px / 2 - 1, mxy + px / 2 + 1][mok])
            ranks.append(np.full(int(mok.sum()), rank))
        obstacles = np.concatenate(clear) if clear else None
        sides = np.concatenate([np.full(len(self.sets[n].pts), self.sets[n].side) for n in names])
        boxes, placed = place_labels(xy, sizes, prio, width, height, visible=ok, obstacles=obstacles,
                                     obstacle_rank=np.concatenate(ranks) if clear else None, first_side=sides)
        for k, n in enumerate(names):
            sel = np.flatnonzero((owner == k) & placed)
            ls = self.sets[n]
            ls.shown = np.zeros(len(ls.pts), bool)
            ls.shown[local[sel]] = True
            self.last += [(n, int(local[i]), boxes[i]) for i in sel.tolist()]
            self._feed(n, boxes[sel], [ls.texts[int(local[i])] for i in sel.tolist()])

    def _feed(self, name: str, boxes: np.ndarray, texts: list[str]) -> None:
        _, pd = self._actors[name]
        points = vtk.vtkPoints()
        labels = vtk.vtkStringArray()
        labels.SetName("label")
        for b, t in zip(boxes, texts, strict=True):
            points.InsertNextPoint((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 0.0)
            labels.InsertNextValue(t)
        pd.SetPoints(points)
        pd.GetPointData().RemoveArray("label")
        pd.GetPointData().AddArray(labels)
        pd.Modified()
