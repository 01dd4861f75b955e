"""The 3D city view (QWidget): a pyvistaqt QtInteractor showing the CityScene, a toolbar and a
side panel with the building card, measurements and surroundings.

Store signals only mark parts dirty; a 10 Hz timer applies them and renders once (a burst of
2,000 events costs one redraw). Queries and commands go through the CommandSink only.

Opening never blocks the Qt thread: the local cache is read and the scene's numpy part
(scene.prepare_scene: tile index, colours, the super-tile meshes, ~1-2 s for 1.7 M buildings)
made in a worker thread; then the ~55 actors are added a few per event-loop turn. Until then the
hall paints and the view says it is loading the city. A city downloaded from the service is
prepared the same way. `ready` is emitted once the city is shown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from html import escape
from typing import Any

import vtk
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from app.commandbus import CommandResult, CommandSink
from app.store import StateStore
from citymodel.buildings import BuildingTable
from citymodel.picking import pick
from citymodel.surroundings import surroundings
from views.city3d import live
from views.city3d.camera import FPS, FlyTo, street_view, town_bookmarks
from views.city3d.card import building_card, legend_card, surroundings_card
from views.city3d.colors import legend as colour_legend
from views.city3d.labels import cjk_font
from views.city3d.loader import CityLoader
from views.city3d.overlays import STYLES, WATER_ZOOM_M, device_rgb
from views.city3d.panel import CityPanel
from views.city3d.scene import THEMES, CityScene, ScenePrep, configure_pyvista, prepare_scene
from views.city3d.toolbar import OVERLAYS, CityToolbar
from views.city3d.tools import MeasureTool

log = logging.getLogger(__name__)
REFRESH_MS = 100
BUILD_SLICE = 8  # super-tile actors added per event-loop turn while the city is being built
INCIDENT_FRAME_M = 260.0  # metres around a focused incident kept in view
translate = QCoreApplication.translate


class _Relay(QObject):
    """Carries a worker thread's result to the Qt thread (a queued signal)."""

    done = Signal(object)


def ui_theme() -> str:
    app = QApplication.instance()
    theme = app.property("ioc_theme") if app is not None else None
    return str(theme) if theme in THEMES else "dark"


class CityView(QWidget):
    ready = Signal()  # the city is shown (every super-tile actor added)

    def __init__(self, store: StateStore, commands: CommandSink, parent: QWidget | None = None, *,
                 table: BuildingTable | None = None, loader: CityLoader | None = None,
                 follow_focus: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("CityView")
        self.follow_focus = follow_focus  # fly to the incident the decision room focuses (by profile)
        self.store, self.commands = store, commands
        self.scene: CityScene | None = None
        self.measure: MeasureTool | None = None
        self.selected: int | None = None
        self.surroundings: dict[str, Any] | None = None
        self._dirty: set[str] = set()
        self._press: tuple[int, int] | None = None
        self._fly: FlyTo | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._fetch_state = "idle"  # idle, running, done, again (retry once online)
        self._have_version: str | None = None
        self._online = str(store.connection) == "online"
        self._cards: dict[str, Any] = {"devices": None, "key_units": None, "plans": {}}
        self.key_units: list[dict[str, Any]] = []
        self._shut = False
        self._reading = False  # the cache worker thread is running
        self._opening = 0  # generation of the city being opened: a late result of an older one is dropped
        self._cluster_px_m = 0.0  # metres per pixel the device clusters were laid out for
        self._water_near = False  # hydrants drawn (the camera within WATER_ZOOM_M)
        self.panel_mode = "legend"  # what the side panel shows: legend | card | surroundings | measure
        self.device_town: str | None = None  # town whose devices are drawn one by one
        self.devices: list[dict[str, Any]] = []
        self.bookmarks = town_bookmarks()
        configure_pyvista()
        self.toolbar = CityToolbar(self)
        self.plotter = QtInteractor(self, multi_samples=0, auto_update=False)
        self.theme = ui_theme()
        self.plotter.set_background(THEMES[self.theme]["background"])
        self._loading_text = self._make_loading_text()
        self.panel = CityPanel()
        self.panel.theme = self.theme
        self.panel.setMinimumWidth(320)  # the surroundings table in English needs it
        self.panel.anchorClicked.connect(self._on_panel_link)
        self.status = QLabel(objectName="CityStatus")
        self.status.setWordWrap(True)  # two short lines rather than a wider toolbar row
        self._status: tuple[str, dict[str, Any]] = ("loading", {})
        self.set_status("loading")
        split = QSplitter(self)
        split.addWidget(self.plotter)
        split.addWidget(self.panel)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 8, 0)  # the status text never touches the window edge
        top.addWidget(self.toolbar, 1)
        top.addWidget(self.status)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.toolbar.connect_view(self)
        self._timer = QTimer(self, interval=REFRESH_MS, timeout=self._on_timer_tick)
        self._fly_timer = QTimer(self, interval=1000 // FPS, timeout=self._on_fly_tick)
        self._build_timer = QTimer(self, interval=0, timeout=self._on_build_tick)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_prepared)
        self._ready_waiters: list[asyncio.Future[None]] = []
        iren = self.plotter.iren
        iren.add_observer("LeftButtonPressEvent", self._on_vtk_press)
        iren.add_observer("LeftButtonReleaseEvent", self._on_vtk_release)
        for sig, slot in ((store.alerts_changed, self._on_store_alerts_changed),
                          (store.resources_changed, self._on_store_resources_changed),
                          (store.incidents_changed, self._on_store_incidents_changed),
                          (store.stats_changed, self._on_store_stats_changed),
                          (store.focus_changed, self._on_store_focus_changed),
                          (store.surroundings_changed, self._on_store_surroundings_changed),
                          (store.reset, self._on_store_reset),
                          (store.connection_changed, self._on_store_connection_changed)):
            sig.connect(slot)
        store.reset.connect(self._on_store_catalogue)
        self.loader = loader or CityLoader(commands)
        self._timer.start()
        if table is not None:
            self.open_table(table)
        else:
            self._open_cache()

    # ---- opening the city ----------------------------------------------------------------
    @property
    def loading(self) -> bool:
        """True until a city is shown."""
        return self.scene is None or not self.scene.ready

    @property
    def busy(self) -> bool:
        """Reading the cache, asking the service or building the scene (tests wait on it)."""
        return self._reading or bool(self._tasks) or self._build_timer.isActive()

    def open_table(self, table: BuildingTable) -> None:
        """Show a city now, on this thread (tests, the screenshot scripts): no worker, no slices."""
        self._opening += 1
        self._install(CityScene(self.plotter, table, self.toolbar.colour_mode()))
        self._scene_ready()

    def _open_cache(self) -> None:
        """Read the newest local cache and prepare its scene in a worker thread; _on_prepared
        takes over on the Qt thread, then the city is checked against the service."""
        self._opening += 1
        self._reading = True
        # the worker holds no reference to the view: its last one must never be dropped there
        gen, mode, loader, relay = self._opening, self.toolbar.colour_mode(), self.loader, self._relay

        def work() -> None:
            try:
                table, version = loader.cached()
                out: Any = (gen, prepare_scene(table, mode) if table is not None else None, version, None)
            except Exception as exc:  # noqa: BLE001 - a broken cache file: download instead
                out = (gen, None, None, exc)
            try:
                relay.done.emit(out)
            except RuntimeError:  # the view was deleted meanwhile
                pass

        threading.Thread(target=work, name="city-cache", daemon=True).start()

    @Slot(object)  # queued from the worker: a declared slot (PYSIDE-3124 crashes on plain callables)
    def _on_prepared(self, out: tuple[int, ScenePrep | None, str | None, Exception | None]) -> None:
        gen, prep, version, exc = out
        self._reading = False
        if self._shut or gen != self._opening:
            return
        if exc is not None:
            log.warning("the local city cache could not be read: %s", exc)
        self._have_version = version
        if prep is not None:
            self._start_building(prep)
        self._spawn(self._fetch(version))

    def _start_building(self, prep: ScenePrep) -> None:
        self._install(CityScene(self.plotter, prep, deferred=True))
        self._build_timer.start()

    def _install(self, scene: CityScene) -> None:
        if self.scene is not None:
            self.scene.close()
            self.plotter.clear()
            self._loading_text = None
        self.scene = scene
        scene.set_theme(self.theme)
        if scene.colour_mode != self.toolbar.colour_mode():
            scene.set_colour_mode(self.toolbar.colour_mode())
        self.measure = MeasureTool(scene)
        scene.overview()

    def _on_build_tick(self) -> None:
        if self.scene is None:
            self._build_timer.stop()
            return
        if self.scene.build_step(BUILD_SLICE):
            self._build_timer.stop()
            self._scene_ready()
        else:
            self.render()  # the city appears while it is built

    def _scene_ready(self) -> None:
        assert self.scene is not None
        if self._loading_text is not None:
            self.plotter.renderer.RemoveViewProp(self._loading_text)
            self._loading_text = None
        self.set_status("buildings", n=len(self.scene.table))
        if self.panel_mode == "legend":
            self.show_legend()
        self._dirty |= {"alerts", "resources", "incidents", "devices", "towns", "key_units"}
        self._load_key_units()
        self._on_store_focus_changed(self.store.focus, instant=True)  # a focus set while loading
        self.render()
        for f in self._ready_waiters:
            if not f.done():
                f.set_result(None)
        self._ready_waiters.clear()
        self.ready.emit()

    async def wait_ready(self) -> None:
        """Until the city is shown (the build after a download runs on Qt timers)."""
        if not self.loading:
            return
        f: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ready_waiters.append(f)
        await f

    def _make_loading_text(self) -> Any:
        """'Loading the city' in the middle of the empty viewport."""
        t = vtk.vtkTextActor()
        t.SetInput(translate("CityView", "正在加载城市模型…"))
        tp = t.GetTextProperty()
        font = cjk_font()
        if font is not None:
            tp.SetFontFamily(vtk.VTK_FONT_FILE)
            tp.SetFontFile(font)
        tp.SetFontSize(22)
        tp.SetColor(*((0.85, 0.9, 1.0) if self.theme == "dark" else (0.15, 0.2, 0.3)))
        tp.SetJustificationToCentered()
        tp.SetVerticalJustificationToCentered()
        t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        t.SetPosition(0.5, 0.5)
        self.plotter.renderer.AddViewProp(t)
        return t

    def _load_key_units(self) -> None:
        """Key units (六熟悉) as an overlay; a role without fire-domain access gets none."""
        fut = self.commands.query("keyunits.list", {"limit": 5000})

        def done(f: Any) -> None:
            try:
                res: CommandResult = f.result()
            except Exception:  # transport failure: no key-unit overlay this time
                return
            self.key_units = res.data.get("items", []) if res.ok and res.data else []
            self.mark("key_units")

        fut.add_done_callback(done) if not fut.done() else done(fut)

    async def _fetch(self, have: str | None) -> None:
        self._fetch_state = "running"
        self.loader.progress = lambda d, n: self.set_status("download", done=d, total=n)
        try:
            table, version, status = await self.loader.fetch(have)
        except Exception:  # noqa: BLE001 - a broken answer must not kill the view; ask again later
            log.exception("fetching the city failed")
            table, version, status = None, have, "failed"
        self._have_version = version
        # not asked (offline, before login) or failed: ask again when the connection is back
        self._fetch_state = "done" if status in ("current", "fetched", "empty") else "again"
        if table is not None:
            self._opening += 1
            gen = self._opening
            self.set_status("preparing", n=len(table))
            prep = await asyncio.to_thread(prepare_scene, table, self.toolbar.colour_mode())
            if self._shut or gen != self._opening:
                return
            self._start_building(prep)
            await self.wait_ready()
        elif self.scene is None:
            self.set_status("empty" if status == "empty" else
                            "loading" if self._fetch_state == "again" and not self._online else "unavailable")

    def _on_store_connection_changed(self, state: Any) -> None:
        self._online = str(state) == "online"
        if self._online and self._fetch_state == "again":
            self._spawn(self._fetch(self._have_version))

    # ---- texts in the UI language ---------------------------------------------------------
    def set_status(self, key: str, **args: Any) -> None:
        """The status line by meaning (key and arguments), so a language switch can say it again."""
        self._status = (key, args)
        texts = {
            "loading": translate("CityView", "正在加载城市模型…"),
            "preparing": translate("CityView", "正在构建城市模型（{n} 栋）…"),
            "buildings": translate("CityView", "{n} 栋建筑"),
            "download": translate("CityView", "下载城市模型 {done}/{total}"),
            "unavailable": translate("CityView", "城市模型不可用"),
            "empty": translate("CityView", "服务端无建筑数据"),
        }
        shown = {k: f"{v:,}" if isinstance(v, int) else v for k, v in args.items()}
        text = texts.get(key, key).format(**shown)
        self.status.setText(text)
        lt = getattr(self, "_loading_text", None)
        if lt is not None and key != "buildings":  # the empty viewport says it too
            lt.SetInput(text)
            if self.scene is None and self.isVisible():
                self.render()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.StyleChange and not getattr(self, "_shut", True):
            # the theme's name is set on the application after its style sheet: look next turn
            QTimer.singleShot(0, self._follow_theme)
        super().changeEvent(event)

    def _follow_theme(self) -> None:
        if not self._shut and ui_theme() != self.theme:
            self.set_theme(ui_theme())

    def set_theme(self, theme: str) -> None:
        """The 3D view and its side panel in the UI's theme ("dark" or "light")."""
        self.theme = theme if theme in THEMES else "dark"
        self.panel.theme = self.theme
        self.plotter.set_background(THEMES[self.theme]["background"])
        if self.scene is not None:
            self.scene.set_theme(self.theme)
        self.retranslate()
        self.render()

    def retranslate(self) -> None:
        """Everything the view has said, again in the current UI language: toolbar, status,
        the side panel and the labels drawn in the scene."""
        self.toolbar.retranslate()
        self.set_status(self._status[0], **self._status[1])
        if self.scene is None:
            return
        measured = self.measure.retranslate() if self.measure is not None and self.measure.text else ""
        if self.panel_mode == "legend":
            self.show_legend()
        elif self.panel_mode == "card" and self.selected is not None:
            self._show_card(self.selected)
        elif self.panel_mode == "surroundings" and self.surroundings is not None:
            self.panel.setHtml(surroundings_card(self.surroundings))
        elif self.panel_mode == "measure" and measured:
            self._show_measure(measured)
        self.mark("incidents", "devices", "towns")

    def _spawn(self, coro: Any) -> None:
        """Run a coroutine on the running asyncio loop (qasync); without one (a plain Qt
        test), it is closed unrun: the view then works from what it was given."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- store signals: mark dirty --------------------------------------------------------
    def _on_store_alerts_changed(self, _ids: set[int]) -> None:
        self._dirty.add("alerts")

    def _on_store_resources_changed(self, _ids: set[int]) -> None:
        self._dirty.add("resources")

    def _on_store_incidents_changed(self, _ids: set[int]) -> None:
        self._dirty.add("incidents")

    def _on_store_stats_changed(self) -> None:
        self._dirty.add("devices")

    def _on_store_reset(self) -> None:
        self._dirty |= {"alerts", "resources", "incidents", "devices", "towns"}

    def _on_store_focus_changed(self, focus: Any, instant: bool = False) -> None:
        if not self.follow_focus or focus is None or focus.incident_id is None or self.scene is None or not self.scene.ready:
            return
        inc = self.store.incidents.get(focus.incident_id)
        where = live.incident_xyz(self.scene, inc) if inc is not None else None
        if where is None:
            return
        target = self.incident_view(*where)
        if instant:  # the city just opened: start there, no flight from the overview
            self._apply_camera(target)
        else:
            self.fly_to(target)

    def incident_view(self, x: float, y: float, height: float) -> dict[str, float]:
        """The rescue commander's view of an incident, framed for this viewport: the ring of
        buildings around it (INCIDENT_FRAME_M) fits in the narrower side of the view, seen from
        high enough that the near buildings are not cut off at the bottom of a short panel."""
        st = street_view(x, y, height)
        w, h = self.plotter.window_size
        aspect = w / h if w > 0 and h > 0 else 16 / 9
        half = math.tan(math.radians(self.plotter.camera.GetViewAngle() / 2))
        st["elevation"] = 48.0 if aspect < 1.3 else 42.0
        need = INCIDENT_FRAME_M / (half * min(aspect, 1.0)) + height * 1.5
        st["dist"] = max(st["dist"], min(need, 2500.0))
        return st

    def _on_store_surroundings_changed(self, res: dict[str, Any] | None) -> None:
        if res:
            self.show_surroundings(res)

    # ---- refresh --------------------------------------------------------------------------
    def _on_timer_tick(self) -> None:
        if self.scene is None:
            return
        self._check_zoom()
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        vis = self.toolbar.overlay_visibility()
        if "alerts" in dirty:
            self.scene.set_alerts(live.alert_levels(self.store))
        if "resources" in dirty:
            live.draw_resources(self.scene, self.store, vis, self._water_near)
        if "incidents" in dirty:
            live.draw_incidents(self.scene, self.store, vis.get("incident", True))
        if "devices" in dirty:
            near = self.device_town is not None
            types = self.toolbar.device_types_shown()
            self._cluster_px_m = self._px_m()
            live.draw_device_clusters(self.scene, self.store, vis.get("device", True) and not near, types,
                                      self._cluster_px_m)
            live.draw_devices(self.scene, self.devices if near else [], vis.get("device", True), types)
        if "key_units" in dirty or "resources" in dirty:
            live.draw_key_units(self.scene, self.key_units, vis.get("key_unit", True))
        if "towns" in dirty:
            live.draw_towns(self.scene, self.store)
        if "card" in dirty and self.selected is not None and self.panel_mode == "card":
            self._show_card(self.selected)
        if dirty - {"card"}:  # the card is Qt's: a frame only when the scene changed
            self.render()

    def render(self) -> None:
        """One frame now. (QtInteractor.render() renders too, through a signal: calling both drew
        every frame twice.)"""
        if self.plotter.ren_win is not None:
            self.plotter.ren_win.Render()

    def mark(self, *parts: str) -> None:
        self._dirty |= set(parts)

    # ---- devices: clusters far away, individual devices near -----------------------------
    def _check_zoom(self) -> None:
        """Zoomed in (camera within DEVICE_ZOOM_M): the devices of the town in view, by type;
        zoomed out: per-town clusters. Re-queried only when the town in view changes."""
        assert self.scene is not None
        st = self.scene.camera_state()
        if (st["dist"] < WATER_ZOOM_M) != self._water_near:
            self._water_near = not self._water_near
            self.mark("resources")
        town = live.town_in_view(st) if st["dist"] < live.DEVICE_ZOOM_M else None
        px = self._px_m()
        if town is None and self._cluster_px_m and not 0.75 < px / self._cluster_px_m < 1.33:
            self.mark("devices")  # zoomed: the clusters' markers are laid out for another scale
        if town == self.device_town:
            return
        self.device_town = town
        self.devices = []
        self.mark("devices")
        if town is None:
            return
        fut = self.commands.query("devices.list", {"town": town, "limit": 2000})

        def done(f: Any) -> None:
            try:
                res: CommandResult = f.result()
            except Exception:  # transport failure: clusters only
                return
            if town == self.device_town and res.ok and res.data:
                self.devices = list(res.data.get("items", []))
                self.mark("devices")

        fut.add_done_callback(done) if not fut.done() else done(fut)

    def _px_m(self) -> float:
        """Metres per pixel at the camera's focal point."""
        assert self.scene is not None
        h = max(self.plotter.window_size[1], 1)
        cam = self.plotter.camera
        if cam.GetParallelProjection():
            return 2 * cam.GetParallelScale() / h
        return 2 * self.scene.camera_state()["dist"] * math.tan(math.radians(cam.GetViewAngle() / 2)) / h

    # ---- camera ---------------------------------------------------------------------------
    def fly_to(self, target: dict[str, float]) -> None:
        if self.scene is None:
            return
        self._fly = FlyTo(self.scene.camera_state(), target, self._apply_camera)
        self._fly_timer.start()

    def _apply_camera(self, st: dict[str, float]) -> None:
        assert self.scene is not None
        self.scene.set_camera(st["x"], st["y"], st["dist"], st["azimuth"], st["elevation"], st.get("z", 0.0))

    def _on_fly_tick(self) -> None:
        if self._fly is None or not self._fly.step():
            self._fly_timer.stop()
            self._fly = None
        self.render()

    def go_town(self, code: str) -> None:
        if code == "overview" and self.scene is not None:
            st = self.scene.camera_state()
            self.scene.overview()
            target = self.scene.camera_state()
            self._apply_camera(st)
            self.fly_to(target)
        elif code in self.bookmarks:
            self.fly_to(self.bookmarks[code])

    def set_2d(self, on: bool) -> None:
        if self.scene is not None:
            self.scene.set_2d(on)
            self.render()

    def set_colour_mode(self, mode: str) -> None:
        if self.scene is not None:
            self.scene.set_colour_mode(mode)
            self.render()
        if self.panel_mode == "legend":
            self.show_legend()

    def show_legend(self) -> None:
        mode = self.toolbar.colour_mode()
        name = self.toolbar.colour.currentText()
        layers = [(translate("CityView", STYLES[k].name), STYLES[k].rgb) for k in OVERLAYS if k != "device"]
        shown = self.toolbar.device_types_shown()
        names = live.type_names(self.store)
        present = sorted({s.device_type for s in self.store.device_stats.values()} | set(names))
        types = [(names.get(c, c), device_rgb(c)) for c in present if shown is None or c in shown]
        self.panel.setHtml(legend_card(name, colour_legend(mode), layers, types))
        self.panel_mode = "legend"

    def _on_store_catalogue(self) -> None:
        """After a snapshot: the device types of the Layers menu and the legend."""
        types = [(c, t.name_zh, t.name_en) for c, t in sorted(self.store.device_types.items())]
        if not types:  # no catalogue (an old service): the types the statistics name
            codes = sorted({s.device_type for s in self.store.device_stats.values()})
            types = [(c, c, c) for c in codes]
        self.toolbar.set_device_types(types)
        if self.panel_mode == "legend":
            self.show_legend()

    # ---- clicks ---------------------------------------------------------------------------
    def _on_vtk_press(self, *_: Any) -> None:
        self._press = self.plotter.iren.interactor.GetEventPosition()

    def _on_vtk_release(self, *_: Any) -> None:
        pos = self.plotter.iren.interactor.GetEventPosition()
        if self._press is not None and abs(pos[0] - self._press[0]) + abs(pos[1] - self._press[1]) <= 4:
            self.click(int(pos[0]), int(pos[1]))
        self._press = None

    def click(self, x: int, y: int) -> int | None:
        """A click at display pixel (x, y) (VTK coordinates) with the current tool; returns the
        building row hit, if any."""
        if self.scene is None or self.measure is None:
            return None
        o, d = self.scene.ray(x, y)
        hit = pick(self.scene.table, self.scene.index, o, d)
        tool = self.toolbar.tool()
        if tool == "pick":
            self.select(hit[0] if hit else None)
        elif tool == "height":
            if hit:
                self._show_measure(self.measure.show_height(hit[0]))
        else:
            p = hit[1] if hit else self.scene.ground_point(x, y)
            if p is not None:
                if self.measure.mode != tool:
                    self.measure.set_mode(tool)
                self._show_measure(self.measure.add_point(p))
        self.render()
        return hit[0] if hit else None

    def _show_measure(self, text: str) -> None:
        assert self.measure is not None
        head = translate("CityView", "测高") if self.measure.height_row is not None else translate("CityView", "测量")
        self.panel.setHtml(f"<h3>{escape(head)}</h3><p>{escape(text)}</p>")
        self.panel_mode = "measure"

    def select(self, row: int | None) -> None:
        assert self.scene is not None
        self.selected = row
        self.scene.set_selected(row)
        if row is None:
            self.show_legend()
            return
        self._cards = {"devices": None, "key_units": None, "plans": {}}
        self.panel_mode = "card"
        self._show_card(row)
        bid = int(self.scene.table.id[row])
        self._query("devices.list", {"building_id": bid, "limit": 200}, lambda d: self._card_set(row, "devices", d))
        self._query("keyunits.list", {"building_id": bid}, lambda d: self._card_units(row, d))

    def _card_set(self, row: int, slot: str, data: dict[str, Any] | None) -> None:
        if row != self.selected:  # another building was picked meanwhile
            return
        self._cards[slot] = (data or {}).get("items", [])
        self.mark("card")

    def _card_units(self, row: int, data: dict[str, Any] | None) -> None:
        """The building's key units; then each unit's plans and site plan (plans.for_unit)."""
        self._card_set(row, "key_units", data)
        for unit in self._cards["key_units"] or []:
            uid = int(unit["id"])
            self._cards["plans"][uid] = None  # asked

            def got(d: dict[str, Any] | None, uid: int = uid) -> None:
                if row == self.selected:
                    self._cards["plans"][uid] = d or {"items": [], "site_plan": None}
                    self.mark("card")

            self._query("plans.for_unit", {"id": uid}, got)

    def _query(self, name: str, args: dict[str, Any], then: Any) -> None:
        """Ask; then(data) with the answer's data ({} when refused: the card says none)."""
        fut = self.commands.query(name, args)

        def done(f: Any) -> None:
            try:
                res: CommandResult = f.result()
            except Exception:  # transport failure: the card shows what it has
                return
            then(res.data if res.ok and res.data else {})

        if fut.done():
            done(fut)
        else:
            fut.add_done_callback(done)

    def _show_card(self, row: int) -> None:
        assert self.scene is not None
        rec = self.scene.table.record(row)
        alerts = [a for a in self.store.alerts.values() if a.building_id == rec["id"]]
        plans = self._cards.get("plans") or {}
        self.panel.site_plans = {uid: p["site_plan"] for uid, p in plans.items() if p and p.get("site_plan")}
        self.panel.setHtml(building_card(rec, alerts, self._cards.get("devices"), self._cards.get("key_units"), plans))

    def _on_panel_link(self, url: QUrl) -> None:
        """siteplan:ID in the card: the unit's site plan, large."""
        if url.scheme() != "siteplan" or not url.path().isdigit():
            return
        uid = int(url.path())
        layout = self.panel.site_plans.get(uid)
        if layout is None:
            return
        from views.city3d.siteplan_view import SitePlanDialog

        name = next((u["name"] for u in self._cards.get("key_units") or [] if int(u["id"]) == uid), "")
        self._site_plan_dialog = SitePlanDialog(name, layout, self.theme, self)
        self._site_plan_dialog.show()

    # ---- surroundings ---------------------------------------------------------------------
    def request_surroundings(self, radius: float) -> dict[str, Any] | None:
        """Surroundings of the focused incident, else the selected building, else the view's
        centre: computed here at once, and sent to the service so every hall gets it."""
        if self.scene is None:
            return None
        centre = live.surroundings_centre(self.scene, self.store, self.selected)
        lon, lat, incident_id = centre
        t = self.scene.table
        x, y = (float(v) for v in live.to_xy(lon, lat))
        rows = self.scene.index.rows_near(x, y, radius + 200.0)
        res = surroundings(t, lon, lat, radius, [r.model_dump(mode="json") for r in self.store.resources.values()],
                           rows=rows, incident_id=incident_id)
        self.show_surroundings(res)
        args: dict[str, Any] = {"radius_m": radius}
        if incident_id is not None:
            args["incident_id"] = incident_id
        else:
            args |= {"lon": lon, "lat": lat}
        self.commands.send("surroundings.query", args)
        return res

    def show_surroundings(self, res: dict[str, Any]) -> None:
        if self.scene is None:
            return
        self.surroundings = res
        live.draw_surroundings(self.scene, res)
        self.panel.setHtml(surroundings_card(res))
        self.panel_mode = "surroundings"
        self.render()

    # ---- teardown -------------------------------------------------------------------------
    # The VTK render window must be finalised while its X window still exists. A child widget
    # gets no closeEvent when its top-level window closes, so the view watches that window
    # (close and deferred delete) as well as its own close.
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        win = self.window()
        if win is not self and win is not getattr(self, "_watched", None):
            win.installEventFilter(self)
            self._watched = win
        super().showEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is getattr(self, "_watched", None) and event.type() in (QEvent.Type.Close, QEvent.Type.DeferredDelete):
            self.shutdown()
        return False

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        self._timer.stop()
        self._fly_timer.stop()
        self._build_timer.stop()
        for t in list(self._tasks):
            t.cancel()
        if self.scene is not None:
            self.scene.close()
            self.scene = None
        self.plotter.close()

