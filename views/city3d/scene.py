"""The 3D city scene on a PyVista plotter (no Qt here: the widget and the benchmark share it).

Geometry lives in a local frame (EPSG:4547 minus `origin`) so float32 vertices keep centimetre
precision. Before every render (the renderer's StartEvent) the scene chooses a level per tile
from the camera (citymodel.tiles.select_lod) and the view frustum, and shows:
- one L2 actor per 8 km super-tile whose tiles are all far (few draw calls at the overview);
- per-tile L0 (full prisms) / L1 (blocks) / L2 actors inside super-tiles that have near tiles,
  built lazily and kept in a small LRU cache.
Live state is drawn over the city in separate unlit layers (alerts glowing by level, the picked
building, surroundings), so colouring never rebuilds tile meshes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv

from citymodel.buildings import BuildingTable
from citymodel.tiles import (
    LOD_DISTRICT,
    LOD_FULL,
    MeshArrays,
    TileIndex,
    building_mesh,
    lod_mesh,
    select_lod,
    tiles_in_frustum,
)
from views.city3d.colors import LEVEL_RGB, SELECTED_RGB, building_colors
from views.city3d.labels import LabelBoard

MAX_TILE_ACTORS = 96  # per-tile actors kept (hidden ones are dropped first when over)
# The 3D view follows the UI theme: a dark night-blue city on the video wall, a pale one on
# the light theme's white panels (the building colours read on both). The background is the
# ground's colour: a ground plane was one more full-screen pass per frame (~13 ms in llvmpipe at
# 1600x1050) for a horizon that the views, all looking down at 30-90 degrees, never show.
THEMES: dict[str, dict[str, tuple[float, float, float]]] = {
    "dark": {"background": (0.09, 0.11, 0.15)},
    "light": {"background": (0.80, 0.84, 0.88)},
}
BACKGROUND = THEMES["dark"]["background"]


def configure_pyvista() -> None:
    """No multisampling: pyvista's default 8x MSAA costs more than the whole city at 1080p in
    software rendering. Call before creating the plotter / QtInteractor."""
    pv.global_theme.anti_aliasing = None
    pv.global_theme.multi_samples = 0


# The sun: one directional light from the south-west, high. Its shading is baked into the
# buildings' colours (face_shade): the city is drawn unlit, which takes ~40 % off a street-level
# frame in llvmpipe (fragment-bound there: no lighting nor normals per fragment).
SUN = np.array([-0.4, -0.6, 1.0]) / float(np.linalg.norm((-0.4, -0.6, 1.0)))
SUN_INTENSITY, AMBIENT, DIFFUSE = 0.85, 0.35, 0.75


def face_shade(mesh: MeshArrays) -> np.ndarray:
    """Brightness per triangle under the sun (ambient + diffuse), as VTK's lit flat shading."""
    p = mesh.points.astype(np.float64)
    n = np.cross(p[mesh.tris[:, 1]] - p[mesh.tris[:, 0]], p[mesh.tris[:, 2]] - p[mesh.tris[:, 0]])
    n /= np.maximum(np.linalg.norm(n, axis=1), 1e-12)[:, None]
    return (AMBIENT + DIFFUSE * SUN_INTENSITY * np.clip(n @ SUN, 0.0, None)).astype(np.float32)


def _polydata(mesh: MeshArrays, rgb: np.ndarray, shaded: bool = True) -> pv.PolyData:
    """Each triangle with vertices of its own carrying its colour (shaded: times its sun
    brightness). Colours on points cost nothing per fragment, where cell colours are a texture
    lookup per fragment in VTK's shader."""
    n = mesh.n_tris
    pd = pv.PolyData.from_regular_faces(mesh.points[mesh.tris.ravel()], np.arange(3 * n).reshape(n, 3))
    pd.point_data["rgb"] = _vertex_rgb(mesh, rgb, shaded)
    return pd


def _vertex_rgb(mesh: MeshArrays, rgb: np.ndarray, shaded: bool = True) -> np.ndarray:
    col = np.asarray(rgb, np.float32).reshape(-1, 3)
    if shaded:
        col = col * face_shade(mesh)[:, None]
    return np.repeat(np.clip(col, 0, 255).astype(np.uint8), 3, axis=0)


@dataclass
class ScenePrep:
    """Everything the scene needs that is plain numpy (tile index, colours, the super-tile
    meshes): made by prepare_scene in any thread, so a 1.7 M-building city is readied off the
    Qt thread (~1 s) and only its ~55 actors are added on it."""

    table: BuildingTable
    colour_mode: str
    index: TileIndex
    super_id: np.ndarray
    super_tiles: list[np.ndarray]
    origin: tuple[float, float]
    colors: np.ndarray
    super_meshes: list[tuple[MeshArrays, Any, np.ndarray]]  # (mesh, merged cells, rgb per triangle)


def mesh_rgb(table: BuildingTable, colors: np.ndarray, mesh: MeshArrays, cells: Any) -> np.ndarray:
    """Colour per triangle: the building's, or a merged cell's area-weighted mean."""
    rgb = np.empty((mesh.n_tris, 3), np.uint8)
    b = mesh.row >= 0
    rgb[b] = colors[mesh.row[b]]
    if cells is not None and (~b).any():
        a = table.area[cells.members].astype(float)
        first = cells.member_start[:-1]
        wsum = np.add.reduceat(a, first)
        cc = np.column_stack([np.add.reduceat(a * colors[cells.members, k], first) / wsum for k in range(3)])
        rgb[~b] = cc[mesh.cell_of_tri[~b]].astype(np.uint8)
    return rgb


def scene_origin(table: BuildingTable) -> tuple[float, float]:
    """The local frame's origin: the km corner below the median building (float32 vertices then
    keep centimetres across the city)."""
    cx = float(np.median(table.cx)) if len(table) else 0.0
    cy = float(np.median(table.cy)) if len(table) else 0.0
    return math.floor(cx / 1000.0) * 1000.0, math.floor(cy / 1000.0) * 1000.0


def overview_camera(table: BuildingTable, aspect: float, view_angle: float) -> tuple[float, float, float, float, float]:
    """(x, y, dist, azimuth, elevation) that shows the whole city: its width against the
    horizontal field, its depth (seen at the elevation, so foreshortened) against the vertical."""
    x0, x1 = np.percentile(table.cx, [0.2, 99.8])
    y0, y1 = np.percentile(table.cy, [0.2, 99.8])
    half_fov = math.tan(math.radians(view_angle / 2))
    el = 62.0
    need = max((x1 - x0) / aspect, (y1 - y0) * math.sin(math.radians(el)))
    return float(x0 + x1) / 2, float(y0 + y1) / 2, need / (2 * half_fov) * 1.25, 0.0, el


def prepare_scene(table: BuildingTable, colour_mode: str = "height") -> ScenePrep:
    index = TileIndex.build(table)
    super_id = index.super_of()
    n_super = int(super_id.max()) + 1 if len(index) else 0
    super_tiles = [np.flatnonzero(super_id == s) for s in range(n_super)]
    origin = scene_origin(table)
    colors = building_colors(table, colour_mode)
    meshes = []
    for s in range(n_super):
        rows = np.concatenate([index.rows(int(k)) for k in super_tiles[s]])
        mesh, cells = lod_mesh(table, rows, LOD_DISTRICT, origin)
        meshes.append((mesh, cells, mesh_rgb(table, colors, mesh, cells)))
    return ScenePrep(table, colour_mode, index, super_id, super_tiles, origin, colors, meshes)


class CityScene:
    """The city in a plotter. Coordinates given to and returned by methods are EPSG:4547.

    CityScene(plotter, table) builds everything at once. CityScene(plotter, prep, deferred=True)
    adds nothing yet: build_step(n) adds n super-tile actors per call (the widget calls it once
    per event-loop turn, so the hall keeps painting) until it returns True; meanwhile the scene
    draws what it has."""

    def __init__(self, plotter: pv.BasePlotter, table: BuildingTable | ScenePrep, colour_mode: str = "height",
                 *, deferred: bool = False) -> None:
        prep = table if isinstance(table, ScenePrep) else prepare_scene(table, colour_mode)
        self.pl = plotter
        self.table = prep.table
        self.index = prep.index
        self.super_id = prep.super_id
        self.n_super = len(prep.super_tiles)
        self.super_tiles = prep.super_tiles
        self.origin = prep.origin
        self.colour_mode = self._prep_mode = prep.colour_mode
        self.colors = prep.colors
        self.theme = "dark"
        self.lod = np.full(len(self.index), -2, np.int8)
        self._super_actors: dict[int, Any] = {}
        self._super_meshes: dict[int, tuple[MeshArrays, Any]] = {}
        self._pending = list(prep.super_meshes)  # (mesh, cells, rgb) still to add, in super-tile order
        self._tile_actors: OrderedDict[tuple[int, int], tuple[Any, MeshArrays, Any]] = OrderedDict()
        self._layers: dict[str, Any] = {}
        self.auto_lod = True
        self.stats = {"actors_visible": 0, "triangles_visible": 0}
        plotter.set_background(THEMES[self.theme]["background"])
        self._setup_lights()
        plotter.renderer.AddObserver("StartEvent", self._on_renderer_start)
        self.labels = LabelBoard(plotter.renderer)  # after the LOD observer: places on the frame's camera
        if not deferred:
            self.build_step(len(self._pending))

    @property
    def ready(self) -> bool:
        """Every super-tile actor added."""
        return len(self._super_actors) == self.n_super

    def build_step(self, n: int) -> bool:
        """Add the next n super-tile actors; True once all are there."""
        while n > 0 and len(self._super_actors) < self.n_super:
            s = len(self._super_actors)
            mesh, cells, rgb = self._pending[s]
            if self.colour_mode != self._prep_mode:  # the colour mode changed while building
                rgb = self._mesh_rgb(mesh, cells)
            self._super_meshes[s] = (mesh, cells)
            self._super_actors[s] = self._add(mesh, rgb, f"super-{s}")
            n -= 1
        if self.ready:
            self._pending = []
        return self.ready

    # ---- coordinates ---------------------------------------------------------------------
    def local(self, x: float, y: float, z: float = 0.0) -> tuple[float, float, float]:
        return (x - self.origin[0], y - self.origin[1], z)

    def world(self, p: Any) -> np.ndarray:
        q = np.asarray(p, float).copy()
        q[..., 0] += self.origin[0]
        q[..., 1] += self.origin[1]
        return q

    # ---- building the city ---------------------------------------------------------------
    def _setup_lights(self) -> None:
        """The sun, for anything still drawn lit (the buildings have it baked in, face_shade)."""
        self.pl.remove_all_lights()
        sun = pv.Light(position=tuple(SUN), focal_point=(0, 0, 0), light_type="scene light")
        sun.intensity = SUN_INTENSITY
        sun.positional = False
        self.pl.add_light(sun)

    def _add(self, mesh: MeshArrays, rgb: np.ndarray, name: str) -> Any:
        actor = self.pl.add_mesh(_polydata(mesh, rgb), scalars="rgb", rgb=True, name=name, show_scalar_bar=False,
                                 reset_camera=False, render=False, pickable=False, lighting=False)
        # prisms are closed and wound outward (citymodel.tiles.prisms): the walls facing away
        # are never seen, and not rasterising them is a third of a street-level frame in llvmpipe
        actor.GetProperty().BackfaceCullingOn()
        return actor

    def _mesh_rgb(self, mesh: MeshArrays, cells: Any) -> np.ndarray:
        return mesh_rgb(self.table, self.colors, mesh, cells)

    def set_theme(self, theme: str) -> None:
        """"dark" or "light": the ground (buildings keep their colours)."""
        self.theme = theme if theme in THEMES else "dark"
        self.pl.set_background(THEMES[self.theme]["background"])

    def _tile_actor(self, k: int, lod: int) -> Any:
        key = (k, lod)
        hit = self._tile_actors.get(key)
        if hit is not None:
            self._tile_actors.move_to_end(key)
            return hit[0]
        mesh, cells = lod_mesh(self.table, self.index.rows(k), lod, self.origin)
        actor = self._add(mesh, self._mesh_rgb(mesh, cells), f"tile-{k}-{lod}")
        self._tile_actors[key] = (actor, mesh, cells)
        self._evict()
        return actor

    def _evict(self) -> None:
        while len(self._tile_actors) > MAX_TILE_ACTORS:
            for key, (actor, _, _) in self._tile_actors.items():
                if not actor.GetVisibility():
                    self.pl.remove_actor(actor, render=False)
                    del self._tile_actors[key]
                    break
            else:
                return

    # ---- level of detail -----------------------------------------------------------------
    def _on_renderer_start(self, *_: Any) -> None:
        if self.auto_lod:
            self.update_lod()

    def camera_eye(self) -> np.ndarray:
        cam = self.pl.camera
        if cam.GetParallelProjection():
            f = np.asarray(cam.GetFocalPoint(), float)
            eye = np.array([f[0], f[1], cam.GetParallelScale() * 2.2])
        else:
            eye = np.asarray(cam.GetPosition(), float)
        return self.world(eye)

    def frustum_planes(self) -> np.ndarray:
        w, h = self.pl.window_size
        planes = [0.0] * 24
        self.pl.camera.GetFrustumPlanes(w / max(h, 1), planes)
        p = np.asarray(planes, float).reshape(6, 4)
        p[:, 3] -= p[:, 0] * self.origin[0] + p[:, 1] * self.origin[1]  # local -> world
        return p

    def update_lod(self) -> None:
        if not len(self.index):
            return
        in_view = tiles_in_frustum(self.index, self.frustum_planes())
        lod = select_lod(self.index, self.camera_eye(), in_view)
        self.lod = lod
        wanted: set[tuple[int, int]] = set()
        vis_super = 0
        for s in self._super_actors:  # the ones added so far (all, once the scene is ready)
            ks = self.super_tiles[s]
            lk = lod[ks]
            simple = bool(np.all((lk == -1) | (lk == LOD_DISTRICT)))
            show = simple and bool((lk == LOD_DISTRICT).any())
            self._super_actors[s].SetVisibility(show)
            vis_super += show
            if not simple:
                for k, lv in zip(ks.tolist(), lk.tolist(), strict=True):
                    if lv >= 0:
                        wanted.add((k, lv))
        for key in wanted:
            self._tile_actor(*key)
        tris = sum(self._super_meshes[s][0].n_tris for s in self._super_actors if self._super_actors[s].GetVisibility())
        for key, (actor, mesh, _) in self._tile_actors.items():
            on = key in wanted
            actor.SetVisibility(on)
            tris += mesh.n_tris if on else 0
        self.stats = {"actors_visible": vis_super + len(wanted), "triangles_visible": int(tris)}
        # the depth range from what is shown now (there is no ground plane whose bounds would
        # always count; set_camera ran before this frame's level of detail was chosen)
        self.pl.renderer.ResetCameraClippingRange()

    # ---- colour --------------------------------------------------------------------------
    def set_colour_mode(self, mode: str) -> None:
        self.colors = building_colors(self.table, mode)
        self.colour_mode = mode
        for s, (mesh, cells) in self._super_meshes.items():
            self._recolour(self._super_actors[s], mesh, cells)
        for actor, mesh, cells in self._tile_actors.values():
            self._recolour(actor, mesh, cells)

    def _recolour(self, actor: Any, mesh: MeshArrays, cells: Any) -> None:
        pd = actor.GetMapper().GetInput()
        pd.point_data["rgb"] = _vertex_rgb(mesh, self._mesh_rgb(mesh, cells))
        pd.Modified()

    # ---- highlight layers (alerts, selection, surroundings) ------------------------------
    def set_highlight(self, name: str, rows: np.ndarray, rgb: np.ndarray, *, grow: float = 1.0,
                      lift: float = 0.6, markers: bool = True, marker_size: float = 14.0, lit: bool = False,
                      marker_lift: float = 3.0, keep_clear: bool = False) -> None:
        """An unlit layer of whole buildings (full prisms, slightly grown so it wins the depth
        test over the tile below) in the given colours, with screen-size markers on the roofs
        so that it stays visible at the city overview (keep_clear: no label covers those)."""
        self.clear_layer(name)
        rows = np.asarray(rows, np.int64)
        if len(rows) == 0:
            return
        t = self.table
        mesh = building_mesh(t, rows, self.origin)
        rep = np.repeat(rows, t.ring_sizes()[rows])
        m = len(mesh.points) // 2
        centre = np.column_stack((t.cx[rep] - self.origin[0], t.cy[rep] - self.origin[1]))
        for half in (slice(0, m), slice(m, 2 * m)):
            mesh.points[half, :2] = centre + (mesh.points[half, :2] - centre) * grow
        mesh.points[m:, 2] += lift
        colour_of = dict(zip(rows.tolist(), range(len(rows)), strict=True))
        tri_rgb = np.asarray(rgb, np.uint8)[[colour_of[r] for r in mesh.row.tolist()]]
        pd = _polydata(mesh, tri_rgb, shaded=lit)  # lit: shaded like the city; else a flat glow
        self._layers[name] = self.pl.add_mesh(pd, scalars="rgb", rgb=True, lighting=False, show_scalar_bar=False,
                                              reset_camera=False, render=False, pickable=False, name=f"layer-{name}")
        if markers:
            pts = np.column_stack((t.cx[rows] - self.origin[0], t.cy[rows] - self.origin[1],
                                   t.height[rows].astype(float) + marker_lift))
            mp = pv.PolyData(pts)
            mp.point_data["rgb"] = np.asarray(rgb, np.uint8)
            if keep_clear:  # alerting buildings: only an incident's label may cover them
                self.labels.keep_clear_of(name, pts, marker_size, below="incident")
            self._layers[name + ":markers"] = self.pl.add_mesh(
                mp, scalars="rgb", rgb=True, style="points", point_size=marker_size, lighting=False,
                show_scalar_bar=False, reset_camera=False, render=False, pickable=False, name=f"layer-{name}-markers")

    def set_alerts(self, levels: dict[int, int]) -> None:
        """Buildings with active alerts glow by their highest level (building id -> 1..4)."""
        ids = np.fromiter(levels.keys(), np.int64, len(levels))
        rows = self.table.index_of(ids)
        ok = rows >= 0
        lv = np.fromiter(levels.values(), np.int64, len(levels))[ok]
        rgb = np.array([LEVEL_RGB.get(int(v), LEVEL_RGB[1]) for v in lv], np.uint8).reshape(-1, 3)
        self.set_highlight("alerts", rows[ok], rgb, grow=1.06, lift=1.0, marker_size=16.0, keep_clear=True)

    def set_selected(self, row: int | None) -> None:
        if row is None:
            self.clear_layer("selected")
            return
        self.set_highlight("selected", np.array([row]), np.array([SELECTED_RGB], np.uint8), grow=1.1, lift=1.5,
                           marker_size=10.0, marker_lift=8.0)

    def clear_layer(self, name: str) -> None:
        self.labels.clear(name)
        for n in (name, name + ":markers"):
            actor = self._layers.pop(n, None)
            if actor is None:
                continue
            remover = getattr(actor, "remove_from_scene", None)
            if remover is not None:  # 2D label actors
                remover()
            else:
                self.pl.remove_actor(actor, render=False)

    def set_layer(self, name: str, actor: Any) -> None:
        self.clear_layer(name)
        if actor is not None:
            self._layers[name] = actor

    def layer(self, name: str) -> Any:
        return self._layers.get(name)

    # ---- camera --------------------------------------------------------------------------
    def camera_state(self) -> dict[str, float]:
        cam = self.pl.camera
        f = np.asarray(cam.GetFocalPoint(), float)
        p = np.asarray(cam.GetPosition(), float)
        d = p - f
        dist = float(np.linalg.norm(d)) or 1.0
        el = math.degrees(math.asin(max(-1.0, min(1.0, d[2] / dist))))
        az = math.degrees(math.atan2(d[0], -d[1]))
        wf = self.world(f)
        return {"x": float(wf[0]), "y": float(wf[1]), "z": float(f[2]), "dist": dist, "azimuth": az, "elevation": el}

    def set_camera(self, x: float, y: float, dist: float, azimuth: float = 0.0, elevation: float = 50.0,
                   z: float = 0.0) -> None:
        """Look at (x, y, z) from dist metres, azimuth 0 = from the south, elevation in degrees."""
        el, az = math.radians(min(elevation, 89.9)), math.radians(azimuth)
        f = np.array(self.local(x, y, z))
        p = f + dist * np.array([math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)])
        cam = self.pl.camera
        cam.SetFocalPoint(*f)
        cam.SetPosition(*p)
        cam.SetViewUp(0.0, 0.0, 1.0) if elevation < 89.0 else cam.SetViewUp(math.sin(az) * -1e-3, 1.0, 0.0)
        if cam.GetParallelProjection():
            cam.SetParallelScale(dist * 0.45)
        self.pl.renderer.ResetCameraClippingRange()

    def overview(self) -> None:
        if not len(self.table):
            return
        w, h = self.pl.window_size
        aspect = w / h if w > 0 and h > 0 else 16 / 9
        self.set_camera(*overview_camera(self.table, aspect, self.pl.camera.GetViewAngle()))

    def set_2d(self, on: bool) -> None:
        st = self.camera_state()
        self.pl.camera.SetParallelProjection(on)
        self.set_camera(st["x"], st["y"], st["dist"], 0.0 if on else st["azimuth"], 90.0 if on else 55.0)

    def ray(self, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
        """World ray (origin, direction) under display pixel (x, y) (VTK display coordinates)."""
        ren = self.pl.renderer
        pts = []
        for z in (0.0, 1.0):
            ren.SetDisplayPoint(float(x), float(y), z)
            ren.DisplayToWorld()
            w = ren.GetWorldPoint()
            pts.append(np.array(w[:3]) / (w[3] or 1.0))
        o = self.world(pts[0])
        return o, self.world(pts[1]) - o

    def ground_point(self, x: int, y: int) -> np.ndarray | None:
        o, d = self.ray(x, y)
        if abs(d[2]) < 1e-9:
            return None
        t = -o[2] / d[2]
        return None if t < 0 else o + t * d

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Display pixel (VTK coordinates: origin bottom-left) of a world point."""
        ren = self.pl.renderer
        ren.SetWorldPoint(*self.local(x, y, z), 1.0)
        ren.WorldToDisplay()
        d = ren.GetDisplayPoint()
        return d[0], d[1]

    def close(self) -> None:
        self.labels.close()
        self._tile_actors.clear()
        self._super_actors.clear()
        self._layers.clear()


LOD_NAMES = {LOD_FULL: "full", 1: "blocks", LOD_DISTRICT: "district"}
