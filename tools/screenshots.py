"""`make screenshots`: every shipped hall profile, every screen and page, in both languages and
both themes, into docs/screenshots/ (PNG, 8-bit palette to stay small).

Runs under Xvfb with the xcb platform (make wraps it): the 3D city renders with OpenGL, which
Qt's offscreen platform has not. The state comes from tools.demo_state through the store's real
inbound path; no service needed. The 3D panels show a small synthetic city (demo_city) that the
run writes into a temporary city cache (IOC_CITY_CACHE_DIR), from which the view opens it as it
does on a console that downloaded the city before; the demo alerts and incidents are in its
buildings. Wall screens are rendered at 1920x1080 and saved at 1280x720 (--full: as rendered);
the duty laptop at 1366x768. Each profile gets its own type scale whatever the theme (a wall in
the light theme keeps wall-size type, the laptop in the dark theme laptop-size type). A kitchen
camera alert is selected, so the camera tiles play the shipped clip (the run waits for frames).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
OVERSIZE: list[str] = []  # windows that came out bigger than their screen (a layout bug)


def save_small(img: QImage, path: Path) -> None:
    """A 256-colour adaptive palette (Pillow, which pyvista brings along): flat UI colours stay
    true and a screen is tens of KB. Without Pillow, Qt's own palette conversion."""
    try:
        from PIL import Image
    except ImportError:
        img.convertToFormat(QImage.Format.Format_Indexed8).save(str(path), "PNG")
        return
    rgb = img.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())[: rgb.bytesPerLine() * rgb.height()]
    pil = Image.frombuffer("RGB", (rgb.width(), rgb.height()), data, "raw", "RGB", rgb.bytesPerLine(), 1)
    pil.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def settle(app: QApplication, rounds: int = 6, win: Any = None) -> None:
    from widgets.common import refresh_hub
    for _ in range(rounds):
        refresh_hub().tick.emit()
        app.processEvents()
    for cam in cameras(win):
        # decoding starts when the tile is built: wait for a frame painted on this page
        end = time.monotonic() + 8.0
        start = cam.frames
        while (cam.state == "loading" or cam.frames < start + 2) and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
    for view in city_views(win):
        # the view opens its cache in a worker thread and builds the scene in slices: wait for
        # the city (at most 30 s)
        end = time.monotonic() + 30.0
        while view.loading and view.busy and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        # it applies the store on its own 10 Hz timer and flies at 30 fps: let a camera
        # flight end, then draw what is due now
        end = time.monotonic() + 3.0
        while view._fly is not None and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        view._on_timer_tick()
        view.render()
        app.processEvents()


def cameras(win: Any) -> list[Any]:
    if win is None:
        return []
    from widgets.camera_tile import CameraTile
    return [c for c in win.findChildren(CameraTile) if c.isVisible() and c.source]


def city_views(win: Any) -> list[Any]:
    if win is None:
        return []
    try:
        from views.city3d.widget import CityView
    except ImportError:  # no 3D stack: the hall shows its placeholder
        return []
    return [v for v in win.findChildren(CityView) if v.isVisible()]


@contextmanager
def demo_city_cache(n: int) -> Iterator[Any]:
    """A temporary city cache holding the demo city, for the run's 3D views (never the user's
    own cache). Yields the city (None with n=0: the views then say they are loading)."""
    if n <= 0:
        yield None
        return
    from tools.demo_state import demo_city, seed_city_cache
    old = os.environ.get("IOC_CITY_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="ioc-shots-city-") as d:
        table = demo_city(n)
        seed_city_cache(d, table)
        os.environ["IOC_CITY_CACHE_DIR"] = d
        try:
            yield table
        finally:
            if old is None:
                os.environ.pop("IOC_CITY_CACHE_DIR", None)
            else:
                os.environ["IOC_CITY_CACHE_DIR"] = old


def shoot(profile_ids: list[str] | None, langs: list[str], themes: list[str],
          city_buildings: int = 40_000, out: Path = OUT, full: bool = False) -> list[Path]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with demo_city_cache(city_buildings) as city:
        return _shoot(app, profile_ids, langs, themes, city, out, full)


def _shoot(app: QApplication, profile_ids: list[str] | None, langs: list[str], themes: list[str],
           city: Any, out: Path, full: bool) -> list[Path]:
    from app.halls import shipped_profiles
    from app.settings import ConsoleSettings
    from app.store import StateStore
    from protocol.enums import Role
    from tools.demo_state import DemoSink, fill_store, kitchen_alert, refocus
    from views.context import ViewContext
    from views.theme import apply_language, apply_theme
    from views.window import HallWindow
    from widgets.red_alert import RedAlertCenter

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    profiles = shipped_profiles()
    for pid, profile in profiles.items():
        if profile_ids and pid not in profile_ids:
            continue
        role = {"decision": Role.LEADER, "duty": Role.DUTY_OFFICER}.get(pid, Role.OPERATOR)
        for lang in langs:
            apply_language(app, lang)
            for theme in themes:
                apply_theme(app, theme, profile.type_scale())
                store = fill_store(StateStore(), role=role, city=city, lang=lang)
                sink = DemoSink()
                red = RedAlertCenter(store, sink)
                red.sound.set_muted(True)
                ctx = ViewContext(store, sink, ConsoleSettings(language=lang, mute=True), profile, red_center=red)
                ctx.view_state.select_alert(kitchen_alert(store))  # the camera tiles play its camera
                size = (1366, 768) if not profile.kiosk else (1920, 1080)
                for si, screen in enumerate(profile.screens):
                    win = HallWindow(ctx, [si], kiosk=False)
                    win.resize(*size)
                    win.show()
                    if city is not None and profile.follow_focus:
                        # the decision room's focus arrives once the hall is up, as it would
                        # live: the 3D city flies to the burning building
                        settle(app, 2)
                        refocus(store)
                    for page in range(len(screen.pages)):
                        win.show_screen(si, page)
                        settle(app, win=win)
                        img = win.grab().toImage()
                        if (img.width(), img.height()) != size:  # the window outgrew its screen
                            OVERSIZE.append(f"{pid} screen {si + 1} page {page + 1} {lang} {theme}: "
                                            f"{img.width()}x{img.height()} for {size[0]}x{size[1]}")
                        if img.width() > 1400 and not full:
                            img = img.scaled(1280, 720, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation)
                        suffix = f"-p{page + 1}" if len(screen.pages) > 1 else ""
                        path = out / f"{pid}-s{si + 1}{suffix}-{lang}-{theme}.png"
                        save_small(img, path)
                        written.append(path)
                    win.allow_close = True
                    win.close()
                    win.deleteLater()
                    settle(app, 2)
                red.deleteLater()
                sink.close()
    return written


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", nargs="*")
    ap.add_argument("--lang", nargs="*", default=["zh", "en"])
    ap.add_argument("--theme", nargs="*", default=["dark", "light"])
    ap.add_argument("--city-buildings", type=int, default=40_000,
                    help="size of the demo city in the 3D panels (0: none, they say 'loading')")
    ap.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/screenshots)")
    ap.add_argument("--full", action="store_true", help="keep wall screens at 1920x1080 (for checking details)")
    a = ap.parse_args()
    paths = shoot(a.profile, a.lang, a.theme, a.city_buildings, a.out, a.full)
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} screenshots, {total / 1024:.0f} KiB, in {a.out}")
    for line in OVERSIZE:
        print("window bigger than its screen:", line, file=sys.stderr)
    return 1 if OVERSIZE else 0


if __name__ == "__main__":
    raise SystemExit(main())
