"""The console's shell: arguments, settings, theme and language, login, the connection, the
wall of hall windows, and a clean exit. main.py calls run(argv)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from app.halls import Profile, available_profiles
from app.notifications import NotificationManager
from app.settings import ConsoleSettings, config_dir, load_settings, save_settings
from app.store import StateStore
from views.context import ViewContext
from views.startup_trace import mark
from views.theme import apply_language, apply_theme
from views.wall import WallManager
from widgets.common import confirm, lang
from widgets.red_alert import RedAlertCenter

log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="ioc-console", description="IOC command-centre console")
    ap.add_argument("--hall", help="fixed hall profile id (unattended wall machines)")
    ap.add_argument("--server", help="sync service URL, e.g. ws://127.0.0.1:8765")
    ap.add_argument("--user")
    ap.add_argument("--password", help="better: IOC_CONSOLE_PASSWORD in the environment")
    ap.add_argument("--embedded", action="store_true",
                    help="start a local sync service (SQLite, simulated city, demo users) and log in")
    ap.add_argument("--kiosk", dest="kiosk", action="store_true", default=None)
    ap.add_argument("--no-kiosk", dest="kiosk", action="store_false")
    ap.add_argument("--lang", choices=("zh", "en"))
    ap.add_argument("--theme", choices=("dark", "light"))
    ap.add_argument("--quit-after", type=float, help="quit after N seconds (unattended checks)")
    ap.add_argument("--grab-to", help="before quitting, save each window as PNG into this folder")
    return ap.parse_args(argv)


class Shell:
    """Owns the running console: one per process."""

    def __init__(self, app: QApplication, args: argparse.Namespace) -> None:
        self.app = app
        self.args = args
        self.settings: ConsoleSettings = load_settings()
        if args.lang:
            self.settings.language = args.lang
        if args.server:  # also what the login dialog offers
            self.settings.server_url = args.server
        self.notifications = NotificationManager()
        self.notifications.install()
        self.store = StateStore()
        from views.gc_tuning import GcTuning
        self.gc_tuning = GcTuning(self.store)
        from backend_client.qt_bridge import StorePacer
        self.pacer = StorePacer(self.store)  # big frames and replays applied in slices, the loop free between
        from views.startup_builder import PanelBuilder
        self.builder = PanelBuilder()  # the first page paints at once, the other panels follow
        self.client: Any = None
        self.commands: Any = None  # widgets.command_feedback.CommandTracker around the client
        self.embedded: Any = None
        self.wall: WallManager | None = None
        self.login: Any = None
        self.ctx: ViewContext | None = None
        self.profiles: dict[str, Profile] = {}
        self.closing = asyncio.Event()

    # ---- start ---------------------------------------------------------------------------
    def start(self) -> None:
        errors: list[str] = []
        self.profiles = available_profiles(errors)
        for e in errors:
            self.notifications.warning(e, source="layouts")
        apply_language(self.app, self.settings.language)
        hall = self.args.hall or os.environ.get("IOC_CONSOLE_HALL") or None
        if hall and hall not in self.profiles:
            self.notifications.error(f"unknown hall profile {hall!r}; choose one of {', '.join(self.profiles)}")
            hall = None
        apply_theme(self.app, self.args.theme or self.settings.theme or
                    self.profiles.get(hall or self.settings.hall or "duty", next(iter(self.profiles.values()))).theme,
                    plots=False)  # pyqtgraph is configured before the first plot is built
        if self.args.embedded:
            self._start_embedded(hall)
            return
        password = self.args.password or os.environ.get("IOC_CONSOLE_PASSWORD")
        if self.args.user and password:
            self.connect(self.args.server or self.settings.server_url, self.args.user, password,
                         hall or self.settings.hall or "operations")
        else:
            self._show_login(hall)

    def _start_embedded(self, hall: str | None) -> None:
        from views.embedded import EmbeddedService
        log_path = config_dir() / "embedded-service.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.embedded = EmbeddedService(log_path=log_path)
        from views.startup_splash import StartupSplash
        splash = StartupSplash()
        try:
            # the first start seeds the CIM city and the devices: a minute, its steps shown
            self.embedded.start(on_wait=splash.on_wait)
        finally:
            splash.close()
            splash.deleteLater()
        log.info("embedded sync service at %s (log: %s)", self.embedded.url, log_path)
        user = self.args.user or "operator"
        password = self.args.password or os.environ.get("IOC_CONSOLE_PASSWORD") or demo_password(user)
        self.connect(self.embedded.url, user, password, hall or self.settings.hall or "operations")

    def _show_login(self, hall: str | None, error: str = "") -> None:
        from views.login import LoginDialog
        if self.login is None:
            self.login = LoginDialog(self.settings, self.profiles, hall)
            self.login.submitted.connect(self.connect)
            self.login.rejected.connect(self._on_login_rejected)
        if error:
            self.login.show_error(error)
        self.login.show()
        self.login.raise_()

    def _on_login_rejected(self) -> None:
        if self.wall is None:
            self.quit()

    def connect(self, server: str, user: str, password: str, hall: str) -> None:
        from backend_client.client import ConsoleClient
        mark("connect")
        profile = self.profiles.get(hall) or self.profiles["operations"]
        self.settings.server_url, self.settings.user, self.settings.hall = server, user, profile.id
        self.save()
        if self.client is None:
            self.client = ConsoleClient(server, self.store, hall=profile.id)
            self.client.login_failed.connect(self._on_client_login_failed)
        self.client.login(user, password)
        mark("login-called")
        self._open_wall(profile)

    def _on_client_login_failed(self, code: str, message: str) -> None:
        self.notifications.warning(message, source="login")
        self._show_login(self.args.hall, message)

    # ---- the wall ------------------------------------------------------------------------
    def _open_wall(self, profile: Profile) -> None:
        if self.wall is not None:
            return
        from widgets.command_feedback import CommandTracker
        # every view sends through the tracker: a refusal, even one arriving on reconnect for a
        # command queued offline, is told to the user as "which action, on what, and why"
        self.commands = CommandTracker(self.client, self.store, self.notifications)
        red = RedAlertCenter(self.store, self.commands)
        red.sound.set_muted(self.settings.mute)
        self.ctx = ViewContext(self.store, self.commands, self.settings, profile,
                               notifications=self.notifications, red_center=red, save_settings=self.save)
        self.wall = WallManager(self.ctx, self.on_action, kiosk=self.args.kiosk, builder=self.builder)
        windows = self.wall.build()
        mark("wall-built")
        if windows:
            from views.startup_trace import watch_first_paint
            watch_first_paint(windows[0], self.builder.first_painted)

    def on_action(self, action_id: str) -> None:
        if self.ctx is None or self.wall is None:
            return
        match action_id:
            case "app.mute":
                self.settings.mute = not self.settings.mute
                self.ctx.red_center.sound.set_muted(self.settings.mute)
                for w in self.wall.windows:
                    if w.header is not None:
                        w.header.set_muted(self.settings.mute)
            case "app.language":
                self.settings.language = "en" if lang() == "zh" else "zh"
                apply_language(self.app, self.settings.language)
                self.wall.build()
            case "app.theme":
                current = self.app.property("ioc_theme") or self.ctx.profile.theme
                self.settings.theme = "light" if current == "dark" else "dark"
                apply_theme(self.app, self.settings.theme)
                self.wall.build()
            case "app.layout_editor":
                self.open_layout_editor()
            case "app.quit":
                if confirm(None, "IOC", self.app.translate("Shell", "确定退出控制台？")):
                    self.quit()
        self.save()

    def open_layout_editor(self) -> None:
        from views.layout_editor import LayoutEditor
        if self.ctx is None:
            return
        ed = LayoutEditor(self.ctx.profile)
        ed.saved.connect(self._on_editor_saved)
        ed.show()
        self._editor = ed

    def _on_editor_saved(self, profile: Profile) -> None:
        if self.ctx is None or self.wall is None:
            return
        self.profiles[profile.id] = profile
        self.ctx.profile = profile
        self.settings.hall = profile.id
        self.wall.build()

    # ---- stop ----------------------------------------------------------------------------
    def save(self) -> None:
        try:
            if self.wall is not None:
                self.wall.save_geometry()
            save_settings(self.settings)
        except OSError as exc:
            self.notifications.warning(f"settings not saved: {exc}", source="settings")

    def grab_windows(self, folder: str) -> list[str]:
        out = []
        Path(folder).mkdir(parents=True, exist_ok=True)
        for i, w in enumerate(self.wall.windows if self.wall else []):
            path = str(Path(folder) / f"window-{i + 1}.png")
            w.grab().save(path)
            out.append(path)
        return out

    def quit(self) -> None:
        if self.args.grab_to:
            self.grab_windows(self.args.grab_to)
        self.save()
        if self.wall is not None:
            self.wall.teardown()
            self.wall = None
        if self.login is not None:
            self.login.hide()
        # the asyncio side finishes (client stop, child stop) before the loop ends
        self.closing.set()

    def _on_app_last_window_closed(self) -> None:
        # a wall rebuild closes its windows before opening new ones: only quit if none came back
        from PySide6.QtCore import QTimer
        QTimer.singleShot(200, self._quit_if_nothing_open)

    def _quit_if_nothing_open(self) -> None:
        if not any(w.isVisible() for w in self.app.topLevelWidgets()):
            self.quit()

    async def shutdown(self) -> None:
        self.builder.stop()
        await asyncio.to_thread(self.builder.join_preload)
        if self.client is not None:
            try:
                await asyncio.wait_for(self.client.stop(), 10)
            except Exception:  # noqa: BLE001 - leaving anyway; the cache write is best effort
                log.exception("client stop failed")
        if self.embedded is not None:
            self.embedded.stop()
        self.notifications.uninstall()


def demo_password(user: str) -> str:
    """The demo accounts' password as the service's --demo-users creates them."""
    env = os.environ.get("IOC_CONSOLE_DEMO_PASSWORD")
    if env:
        return env
    from sync_service.seed import DEMO_PASSWORD  # the embedded service is ours: same package
    return DEMO_PASSWORD


def run(argv: list[str], on_start: Callable[[Shell], object] | None = None) -> int:
    """The console until it quits. on_start(shell) is called on the running loop once the shell
    has started (the end-to-end test drives the real console through it)."""
    from backend_client.qtloop import ConsoleEventLoop

    mark("shell-imported")
    logging.basicConfig(level=os.environ.get("IOC_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv[1:])
    app = QApplication.instance() or QApplication(argv[:1])
    app.setApplicationName("ioc-console")
    app.setQuitOnLastWindowClosed(False)
    shell = Shell(app, args)
    from views.error_dialog import ErrorDialog
    shell.error_dialog = ErrorDialog(shell.notifications)  # type: ignore[attr-defined]

    async def main() -> int:
        app.lastWindowClosed.connect(shell._on_app_last_window_closed)
        if args.quit_after:
            from PySide6.QtCore import QTimer
            QTimer.singleShot(int(args.quit_after * 1000), shell.quit)
        try:
            shell.start()
        except Exception as exc:  # noqa: BLE001 - e.g. the embedded service did not start
            shell.notifications.error(str(exc), source="start")
            log.exception("start failed")
        if on_start is not None:
            on_start(shell)
        await shell.closing.wait()
        await shell.shutdown()
        return 0

    loop = ConsoleEventLoop(app)  # asyncio on the Qt thread; workers wake it without Qt signals
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(main())
    except KeyboardInterrupt:
        return 130
    finally:
        if shell.embedded is not None:
            shell.embedded.stop()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run(sys.argv))
