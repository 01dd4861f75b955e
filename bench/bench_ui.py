"""UI responsiveness under a burst: `python -m bench --only ui` (under Xvfb, as `make bench`).

What it does, all on the Qt thread as in the console (qasync runs the client there too):
- an operations-hall window (KPI row, alert feed, incident panel, red-alert banner) on a
  snapshot of 1,000 alerts;
- events arrive as websocket frames of 20 events every 10 ms (2,000 events/s), each frame
  decoded with protocol.frames and applied to the store, for BURST_S seconds;
- a 5 ms probe timer measures the longest event-loop stall (the gap between its firings
  minus 5 ms); the same probe on the idle window first is the baseline;
- for each new alert, the delay from the frame's send time to the first repaint of the table
  after its row was inserted (p50/p99);
- cold start: a subprocess from interpreter start to the first painted frame of the window;
- memory: RSS across rounds of a long run with a bounded id space (alerts updated in place),
  so growth means a leak in the UI, not more data.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

NAME = "ui"
ROOT = Path(__file__).resolve().parents[1]
RATE = 2000
FRAME_EVERY_MS = 10
_KEEP: list[Any] = []  # Qt helpers that must live as long as the run


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    return app


class _Probe:
    """Longest gap between firings of a fast timer: how long the loop was blocked."""

    def __init__(self, period_ms: int = 5) -> None:
        from PySide6.QtCore import Qt, QTimer
        self.period = period_ms / 1000
        self.max_gap = 0.0
        self.last = time.perf_counter()
        self.timer = QTimer(interval=period_ms)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._on_timeout)

    def start(self) -> None:
        self.max_gap, self.last = 0.0, time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.max_gap - self.period, 0.0)

    def _on_timeout(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now


def _run_loop(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _build_window() -> tuple[Any, Any, Any]:
    from app.halls import shipped_profiles
    from app.settings import ConsoleSettings
    from app.store import StateStore
    from tools.demo_state import RecordingSink, fill_store
    from views.context import ViewContext
    from views.theme import apply_theme
    from views.window import HallWindow
    from widgets.red_alert import RedAlertCenter
    app = _app()
    apply_theme(app, "dark")
    store = fill_store(StateStore(), alerts=1000)
    from views.gc_tuning import GcTuning, freeze
    freeze()  # as the console does after a snapshot and then periodically (views.gc_tuning)
    _KEEP.append(GcTuning())
    sink = RecordingSink()
    red = RedAlertCenter(store, sink)
    red.sound.set_muted(True)
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["operations"], red_center=red)
    win = HallWindow(ctx, [0], kiosk=False)
    win.resize(1920, 1080)
    win.show()
    _run_loop(0.5)
    return win, store, red


class _Burst:
    """Frames of events as the service would send them, decoded and applied like the client."""

    def __init__(self, store: Any, id_space: int | None = None, seed: int = 11) -> None:
        from citymodel.towns import TOWN_TABLE
        self.store = store
        self.rnd = random.Random(seed)
        self.next_id = 1_000_000
        self.id_space = id_space
        self.sent: dict[int, float] = {}  # alert id -> send time (perf_counter) of its first event
        self.towns = [t.code for t in TOWN_TABLE]
        self.applied = 0
        self.fresh: set[int] = set()
        self.due = 0

    def frame(self, n: int) -> bytes:
        items = []
        seq = self.store.seq
        now = time.time()
        for k in range(n):
            fresh = False
            if self.id_space is not None:
                aid = 1_000_000 + self.rnd.randrange(self.id_space)
            elif self.rnd.random() < 0.5 or self.next_id == 1_000_000:
                aid, fresh = self.next_id, True
                self.next_id += 1
            else:
                aid = self.rnd.randrange(1_000_000, self.next_id)
            lv = self.rnd.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]
            # a new alert is "new" (shown by the default filter); updates move it through its states
            st = "new" if fresh else self.rnd.choice(("new", "acknowledged", "resolved"))
            if fresh:
                self.fresh.add(aid)
            items.append({"seq": seq + k + 1, "ts": now, "kind": "alert.upsert", "domain": "fire", "data": {
                "id": aid, "source": "rule", "level": lv, "state": st, "domain": "fire",
                "town": self.rnd.choice(self.towns), "title": f"烟感报警 {aid}", "title_en": f"Smoke alarm {aid}",
                "first_ts": now, "last_ts": now, "updated_ts": now, "count": 1}})
        return orjson.dumps({"v": 1, "type": "events", "items": items})

    def send(self, n: int) -> None:
        from protocol.frames import decode_server_frame
        raw = self.frame(n)
        t = time.perf_counter()
        for it in orjson.loads(raw)["items"]:
            if it["data"]["id"] in self.fresh:  # latency is measured for new alerts only
                self.sent.setdefault(it["data"]["id"], t)
        frame = decode_server_frame(raw)
        self.applied += self.store.apply_events(frame.items)


def _burst(seconds: float, store: Any, win: Any, id_space: int | None = None) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject, QTimer
    feed = win.panel("alert_feed")
    model = feed.model
    model.track_visibility = True
    model.applied_at.clear()
    gen = _Burst(store, id_space)
    visible: dict[int, float] = {}

    class PaintWatch(QObject):
        def eventFilter(self, obj: Any, ev: Any) -> bool:  # noqa: N802 - Qt override
            if ev.type() == QEvent.Type.Paint and model.applied_at:
                now = time.perf_counter()
                for aid, _t in model.applied_at.items():
                    visible.setdefault(aid, now)
                model.applied_at.clear()
            return False
    watch = PaintWatch()
    feed.table.viewport().installEventFilter(watch)
    t0 = time.perf_counter()

    def on_timer() -> None:
        # keep the average at RATE even when a timer fires late: send what is due, in frames
        # of at most 500 events (the protocol's limit)
        due = int((time.perf_counter() - t0) * RATE) - gen.due
        while due > 0:
            n = min(due, 500)
            gen.send(n)
            gen.due += n
            due -= n
    timer = QTimer(interval=FRAME_EVERY_MS)
    timer.timeout.connect(on_timer)
    probe = _Probe()
    probe.start()
    timer.start()
    _run_loop(seconds)
    timer.stop()
    elapsed = time.perf_counter() - t0
    _run_loop(0.5)  # let the last rows paint
    stall = probe.stop()
    feed.table.viewport().removeEventFilter(watch)
    delays = sorted((visible[a] - gen.sent[a]) * 1000 for a in visible if a in gen.sent)
    def pct(p: float) -> float:
        return round(delays[min(int(len(delays) * p), len(delays) - 1)], 1) if delays else -1.0
    return {"events": gen.applied, "events_per_s": round(gen.applied / elapsed), "max_stall_ms": round(stall * 1000, 1),
            "rows_seen": len(delays), "p50_visible_ms": pct(0.5), "p99_visible_ms": pct(0.99)}


def _cold_start() -> float:
    code = (
        "import time; t0=time.perf_counter()\n"
        "import sys\n"
        "from PySide6.QtCore import QEvent, QObject\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(sys.argv[:1])\n"
        "from app.halls import shipped_profiles\nfrom app.settings import ConsoleSettings\n"
        "from app.store import StateStore\nfrom tools.demo_state import RecordingSink, fill_store\n"
        "from views.context import ViewContext\nfrom views.theme import apply_theme\n"
        "from views.window import HallWindow\nfrom widgets.red_alert import RedAlertCenter\n"
        "apply_theme(app, 'dark')\nstore = fill_store(StateStore(), alerts=1000)\nsink = RecordingSink()\n"
        "ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()['operations'],"
        " red_center=RedAlertCenter(store, sink))\n"
        "win = HallWindow(ctx, [0], kiosk=False)\n"
        "class W(QObject):\n"
        "    def eventFilter(self, o, e):\n"
        "        if e.type() == QEvent.Type.Paint:\n"
        "            print('FIRST_PAINT', time.perf_counter() - t0, flush=True); app.quit()\n"
        "        return False\n"
        "w = W(); win.installEventFilter(w); win.resize(1920, 1080); win.show(); app.exec()\n")
    t_launch = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, IOC_CONSOLE_CONFIG_DIR="/tmp/ioc-bench-ui"))
    wall = time.perf_counter() - t_launch
    for line in res.stdout.splitlines():
        if line.startswith("FIRST_PAINT"):
            # interpreter start-up is outside t0: add the launch overhead measured around the run
            return round(wall * 1000, 0)
    raise RuntimeError(res.stderr[-2000:])


def run(quick: bool) -> dict[str, Any]:
    burst_s = 5.0 if quick else 30.0
    rounds, round_s = (3, 3.0) if quick else (8, 15.0)
    win, store, _red = _build_window()
    probe = _Probe()
    probe.start()
    _run_loop(3.0)
    idle_stall = probe.stop() * 1000
    out: dict[str, Any] = {"idle_max_stall_ms": round(idle_stall, 1)}
    b = _burst(burst_s, store, win)
    out.update({f"burst_{k}": v for k, v in b.items()})
    out["burst_s"] = burst_s
    out["stall_vs_idle"] = round(b["max_stall_ms"] / max(idle_stall, 0.1), 1)
    proc = psutil.Process()
    rss = []
    for _ in range(rounds):  # a long run: alerts updated in place within 20k ids
        _burst(round_s, store, win, id_space=20_000)
        rss.append(proc.memory_info().rss / 2**20)
    out["rss_mb_first_round"] = round(rss[0], 1)
    out["rss_mb_last_round"] = round(rss[-1], 1)
    out["rss_growth_after_warmup_pct"] = round(100 * (rss[-1] - rss[1]) / rss[1], 1)
    out["long_run_s"] = rounds * round_s
    out["alerts_in_store"] = len(store.alerts)
    win.allow_close = True
    win.close()
    win.deleteLater()
    _run_loop(0.2)
    import gc
    gc.collect()
    out["cold_start_to_first_paint_ms"] = _cold_start()
    for k, v in out.items():
        print(f"  {k}: {v}")
    return out
