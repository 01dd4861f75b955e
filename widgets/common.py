"""Shared helpers for panels: language, names, colours, the refresh tick, futures, confirmation."""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QWidget

from app.commandbus import CommandResult
from citymodel.towns import TOWNS_BY_CODE

REFRESH_HZ = 8  # repaint rate for coalesced updates, whatever the event rate
# Panels that scan every alert (counts per level/town/bureau) do it at most this often: with
# 100k alerts and 2,000 events/s a scan per tick would own the Qt thread.
SCAN_INTERVAL_S = {"value": 1.0}

LEVEL_COLORS = {4: QColor("#e53935"), 3: QColor("#fb8c00"), 2: QColor("#fdd835"), 1: QColor("#1e88e5")}
LEVEL_TEXT_COLORS = {4: QColor("#ffffff"), 3: QColor("#000000"), 2: QColor("#000000"), 1: QColor("#ffffff")}

_state = {"lang": "zh"}


def set_language(lang: str) -> None:
    _state["lang"] = "en" if lang == "en" else "zh"


def lang() -> str:
    return _state["lang"]


def list_sep() -> str:
    """The separator of a run-in list in the UI language: 、 in Chinese, a comma in English."""
    return ", " if lang() == "en" else "、"


def pick(zh: str, en: str) -> str:
    """Data-borne text (names from the service or a layout file) in the UI language."""
    return en if lang() == "en" and en else zh


def tr(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


def level_text(level: int) -> str:
    names = {
        4: QCoreApplication.translate("Level", "红色"),
        3: QCoreApplication.translate("Level", "橙色"),
        2: QCoreApplication.translate("Level", "黄色"),
        1: QCoreApplication.translate("Level", "蓝色"),
    }
    return names.get(level, str(level))


def state_text(state: str) -> str:
    names = {
        "new": QCoreApplication.translate("State", "新告警"),
        "acknowledged": QCoreApplication.translate("State", "已确认"),
        "dispatched": QCoreApplication.translate("State", "已派遣"),
        "resolved": QCoreApplication.translate("State", "已解除"),
        "closed": QCoreApplication.translate("State", "已关闭"),
        "open": QCoreApplication.translate("State", "待处置"),
        "active": QCoreApplication.translate("State", "处置中"),
        "contained": QCoreApplication.translate("State", "已控制"),
        "proposed": QCoreApplication.translate("State", "待审批"),
        "approved": QCoreApplication.translate("State", "已批准"),
        "rejected": QCoreApplication.translate("State", "已驳回"),
        "en_route": QCoreApplication.translate("State", "途中"),
        "on_scene": QCoreApplication.translate("State", "到场"),
        "done": QCoreApplication.translate("State", "完成"),
        "cancelled": QCoreApplication.translate("State", "已取消"),
    }
    return names.get(str(state), str(state))


def role_text(role: str) -> str:
    names = {
        "operator": QCoreApplication.translate("Role", "值班员"),
        "leader": QCoreApplication.translate("Role", "指挥长"),
        "duty_officer": QCoreApplication.translate("Role", "值班主任"),
        "bureau_operator": QCoreApplication.translate("Role", "委办局操作员"),
        "admin": QCoreApplication.translate("Role", "管理员"),
    }
    return names.get(role, role)


def town_name(store: Any, code: str | None) -> str:
    if not code:
        return "—"
    t = store.towns.get(code) if store is not None else None
    if t is not None:
        return pick(t.name_zh, t.name_en)
    info = TOWNS_BY_CODE.get(code)
    return pick(info.name_zh, info.name_en) if info else code


def domain_name(store: Any, code: str | None) -> str:
    if not code:
        return "—"
    d = store.domains.get(code) if store is not None else None
    return pick(d.name_zh, d.name_en) if d is not None else code


# Bureaus as table columns and chart axes name them (the full name goes in the tooltip): the
# usual short forms of the catalogue's bureaus; another bureau's name is shortened by rule.
BUREAU_SHORT = {
    "education": ("教育局", "Education"), "water": ("水务局", "Water"), "fire": ("消防支队", "Fire"),
    "urban": ("城管局", "Urban mgmt"), "environment": ("生态环境局", "Environment"), "market": ("市监局", "Market"),
    "coastal": ("洪梅海防", "Coastal"), "transport": ("交通局", "Transport"), "emergency": ("应急局", "Emergency"),
    "weather": ("气象局", "Weather"),
}


def domain_short(store: Any, code: str | None) -> str:
    if not code:
        return "—"
    if code in BUREAU_SHORT:
        return pick(*BUREAU_SHORT[code])
    name = domain_name(store, code)
    return name.removesuffix(" Bureau") if lang() == "en" else name


def alert_title(a: Any) -> str:
    return pick(a.title, a.title_en)


def fmt_time(ts: float | None, with_date: bool = False) -> str:
    if ts is None:
        return "—"
    lt = time.localtime(ts)
    if with_date or time.strftime("%Y%m%d", lt) != time.strftime("%Y%m%d"):
        return time.strftime("%m-%d %H:%M:%S", lt)
    return time.strftime("%H:%M:%S", lt)


def fmt_age(seconds: float) -> str:
    s = int(max(seconds, 0))
    # "%1", not a %n numerus form: lupdate does not see the count of QCoreApplication.translate
    # (a non-numerus entry is then never found when a count is passed), and the units are
    # abbreviations in English anyway
    translate = QCoreApplication.translate  # not "tr": lupdate reads tr(a, b) as a class tr()
    if s < 60:
        return translate("Age", "%1 秒").replace("%1", str(s))
    if s < 3600:
        return translate("Age", "%1 分钟").replace("%1", str(s // 60))
    if s < 86400:
        return translate("Age", "%1 小时").replace("%1", str(s // 3600))
    return translate("Age", "%1 天").replace("%1", str(s // 86400))


def scan_due(obj: Any) -> bool:
    """True when a scanning panel may rescan now (and records that it did)."""
    now = time.monotonic()
    if now - getattr(obj, "_last_scan", -1e9) < SCAN_INTERVAL_S["value"]:
        return False
    obj._last_scan = now
    return True


def on_done(fut: asyncio.Future[CommandResult] | Any, callback: Callable[[CommandResult], None]) -> None:
    """Call back with the command's result. A future that is already done is handled now
    (its loop might not be running); a failed future becomes a CommandResult error."""
    def deliver(f: Any) -> None:
        try:
            res = f.result()
        except Exception as exc:  # transport failure: shown as an error, never raised
            res = CommandResult(ok=False, error_code="internal", error_message=str(exc))
        callback(res)
    if fut.done():
        deliver(fut)
    else:
        fut.add_done_callback(deliver)


FLUSH_BUDGET_MS = 10.0  # panel flushes per event-loop pass before the rest wait for the next


class _Tick:
    """The refresh tick's subscribers, like a Qt signal without arguments: connect a panel's
    bound method (held weakly, dropped once its QObject is deleted) or any callable. emit()
    calls them all now (tests, tools); the hub's timer calls them spread over loop passes."""

    def __init__(self) -> None:
        self._slots: list[Callable[[], Any] | weakref.WeakMethod[Any]] = []

    def connect(self, slot: Callable[[], Any]) -> None:
        self._slots.append(weakref.WeakMethod(slot) if inspect.ismethod(slot) else slot)

    def disconnect(self, slot: Callable[[], Any]) -> None:
        self._slots = [s for s in self._slots if _resolve(s) not in (slot, None)]

    def live(self) -> list[Callable[[], Any] | weakref.WeakMethod[Any]]:
        """The subscribers still alive (the dead are dropped)."""
        self._slots = [s for s in self._slots if _resolve(s) is not None]
        return list(self._slots)

    def emit(self) -> None:
        for ref in self.live():
            _call(ref)

    def __len__(self) -> int:
        return len(self._slots)


def _resolve(ref: Callable[[], Any] | weakref.WeakMethod[Any]) -> Callable[[], Any] | None:
    fn = ref() if isinstance(ref, weakref.WeakMethod) else ref
    owner = getattr(fn, "__self__", None)
    if fn is None or (isinstance(owner, QObject) and not shiboken6.isValid(owner)):
        return None
    return fn


def _call(ref: Callable[[], Any] | weakref.WeakMethod[Any]) -> None:
    fn = _resolve(ref)
    if fn is None:
        return
    try:
        fn()
    except Exception:  # as a Qt slot would: reported (the error dialog), the other panels still flush
        sys.excepthook(*sys.exc_info())


class RefreshHub(QObject):
    """One timer for all panels: each panel marks itself dirty on store signals and repaints on
    the tick, so 2,000 events/s cost at most REFRESH_HZ repaints per panel.

    The panels flush one after another; once a loop pass has spent FLUSH_BUDGET_MS, the rest
    flush in the next passes (a zero-delay timer), so input, paints and the socket are served
    in between and no pass holds the loop much longer than the budget and one panel. A tick
    that comes while the last one is still being worked through is skipped (the loop is
    overloaded: fewer refreshes, not a growing queue)."""

    def __init__(self) -> None:
        super().__init__()
        self.tick = _Tick()
        self.passes = 0  # loop passes that flushed panels (tests and the benchmark read them)
        self.split_ticks = 0  # ticks whose flushes took more than one pass
        self._queue: deque[Callable[[], Any] | weakref.WeakMethod[Any]] = deque()
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REFRESH_HZ)
        self.timer.timeout.connect(self._on_timer)
        self.timer.start()
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._flush_some)

    def _on_timer(self) -> None:
        if self._queue:
            return
        self._queue.extend(self.tick.live())
        self._first_pass = True
        self._flush_some()

    _first_pass = True

    def _flush_some(self) -> None:
        self.passes += 1
        deadline = time.perf_counter() + FLUSH_BUDGET_MS / 1000
        queue = self._queue
        while queue:
            _call(queue.popleft())
            if queue and time.perf_counter() >= deadline:
                self.split_ticks += self._first_pass
                self._first_pass = False
                self._more.start()
                return


_hub: dict[str, RefreshHub] = {}


def refresh_hub() -> RefreshHub:
    hub = _hub.get("hub")
    if hub is None:
        hub = RefreshHub()
        _hub["hub"] = hub
    return hub


def _default_confirm(parent: QWidget | None, title: str, text: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter never confirms by mistake
    return box.exec() == QMessageBox.StandardButton.Yes


# Tests and the unattended wall replace this (a wall has no one to click "yes").
confirm_hook: dict[str, Callable[[QWidget | None, str, str], bool]] = {"fn": _default_confirm}


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    return confirm_hook["fn"](parent, title, text)


def light_theme() -> bool:
    """The laptop theme is on (colours painted in code pick their light-theme variant)."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    return app is not None and app.property("ioc_theme") == "light"


# Warning and alarm text painted in code: the bright wall colours read on the dark theme, their
# dark variants keep 4.5:1 on the light theme's white (yellow on white was about 1.4:1).
STATUS_TEXT = {"dark": {"warn": QColor("#ffd54f"), "alarm": QColor("#ff8a65")},
               "light": {"warn": QColor("#b45309"), "alarm": QColor("#c62828")}}


def status_text_colour(kind: str) -> QColor:
    return STATUS_TEXT["light" if light_theme() else "dark"][kind]


def type_scale() -> str:
    """"wall" or "laptop": the type scale in use (views.theme), for sizes painted in code."""
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    if app is None:
        return "wall"
    return app.property("ioc_scale") or ("laptop" if app.property("ioc_theme") == "light" else "wall")


def plot_font_px() -> int:
    """Tick and legend text for pyqtgraph plots (they do not follow QSS): large on the wall."""
    return 18 if type_scale() == "wall" else 12


def style_plot(plot: Any, sides: tuple[str, ...] = ("left", "bottom")) -> None:
    from PySide6.QtGui import QFont
    f = QFont()
    f.setPixelSize(plot_font_px())
    for side in sides:
        ax = plot.getAxis(side)
        ax.setStyle(tickFont=f)
        ax.setTextPen(ax.textPen())
