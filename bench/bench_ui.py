"""UI responsiveness under a burst: `python -m bench --only ui` (under Xvfb, as `make bench`).

What it does:
- an operations-hall window (KPI row, alert feed, incident panel, red-alert banner) on a
  snapshot of 1,000 alerts;
- a feed process (this module with --feed) plays the service: it writes websocket-like frames
  of 20 events every 10 ms (2,000 events/s; a late wake-up sends what is due, in frames of at
  most 500) into a pipe, each stamped with its send time, for 30 s (5 s with --quick). Making
  the frames is the service's work, so it is not charged to the console's thread;
- on the Qt thread, as in the console (qasync serves the websocket there): a socket notifier
  reads the frames as they arrive, decodes them with protocol.frames and hands the events to
  the store through the console's StorePacer (applied in slices of at most 6 ms per loop
  pass), with the console's collector tuning (views.gc_tuning);
- a 5 ms probe timer measures the longest event-loop stall (the gap between its firings
  minus 5 ms); the same probe on the idle window first is the baseline. With each stall it
  notes the CPU time the Qt thread used in it: a long stall with little CPU is this shared
  machine taking the core away, not work done on the Qt thread;
- for each new alert, the delay from the frame's send time (the feed process's clock, the
  same monotonic clock) to the first repaint of the table after its row was inserted
  (p50/p99);
- cold start: a subprocess from interpreter start to the first painted frame of the window;
- memory (soak): RSS sampled through a long run with a bounded id space (alerts updated in
  place, a metrics tick every second), so growth means a leak in the UI, not more data. It
  lasts 2 minutes by default; `IOC_BENCH_UI_SOAK_MIN=60` (or `python -m bench --only ui
  --ui-soak-minutes 60`) makes it the hour-long run. Reported: RSS at the end of the warm-up
  (the first 20%), at the end, the growth between them and its slope (least squares over the
  samples after warm-up, in MB per 10 minutes), and the objects frozen by the collector tuning
  (steady growth there would be garbage cycles the freeze keeps).
"""

from __future__ import annotations

import contextlib
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
SOAK_ENV = "IOC_BENCH_UI_SOAK_MIN"
SOAK_MIN_DEFAULT = 2.0
SOAK_ID_SPACE = 20_000
_KEEP: list[Any] = []  # Qt helpers that must live as long as the run
_KEEP_CLASSES: dict[str, type] = {}  # Qt classes made once (imports stay lazy)


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
        self.max_gap_cpu = 0.0  # CPU time of the Qt thread within the longest gap
        self.over_50ms = 0
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.timer = QTimer(interval=period_ms)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._on_timeout)

    def start(self) -> None:
        self.max_gap, self.max_gap_cpu, self.over_50ms = 0.0, 0.0, 0
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.timer.timeout.disconnect(self._on_timeout)  # no timer <-> probe cycle left behind
        return max(self.max_gap - self.period, 0.0)

    def _on_timeout(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = now - self.last
        if gap > self.max_gap:
            self.max_gap, self.max_gap_cpu = gap, cpu - self.last_cpu
        if gap - self.period > 0.050:
            self.over_50ms += 1
        self.last, self.last_cpu = now, cpu


def _run_loop(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _build_window() -> tuple[Any, Any, Any]:
    """The operations hall as the console's shell makes it on one 1920x1080 screen: its three
    screens as tabs of one window, panels built by a PanelBuilder (the hidden ones in idle
    slices after the first paint; the 3D city, on a tab never shown here, stays unbuilt), with
    the shell's StorePacer and collector tuning."""
    from app.halls import shipped_profiles
    from app.settings import ConsoleSettings
    from app.store import StateStore
    from backend_client.qt_bridge import StorePacer
    from tools.demo_state import RecordingSink, fill_store
    from views.context import ViewContext
    from views.startup_builder import PanelBuilder
    from views.startup_trace import watch_first_paint
    from views.theme import apply_theme
    from views.window import HallWindow
    from widgets.red_alert import RedAlertCenter
    app = _app()
    apply_theme(app, "dark", plots=False)
    store = fill_store(StateStore(), alerts=1000)
    from views.gc_tuning import GcTuning, freeze
    freeze()  # as the console does after a snapshot and then periodically (views.gc_tuning)
    _KEEP.append(GcTuning(store))  # as the console (views.shell): quiet-time defrost needs the store
    pacer = StorePacer(store)  # as the console (views.shell): events applied in slices
    _KEEP.append(pacer)
    sink = RecordingSink()
    red = RedAlertCenter(store, sink)
    red.sound.set_muted(True)
    profile = shipped_profiles()["operations"]
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), profile, red_center=red)
    builder = PanelBuilder(preload=("citymodel.towns:load_towns", "pyqtgraph"))
    _KEEP.append(builder)
    win = HallWindow(ctx, list(range(len(profile.screens))), kiosk=False, builder=builder)
    watch_first_paint(win, builder.first_painted)
    win.resize(1920, 1080)
    win.show()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(not f.is_built and f.panel_id != "city3d" for f in builder.waiting):
        _run_loop(0.2)
    _run_loop(0.5)
    return win, store, pacer


class _Events:
    """What the service would send: alert upserts (half new alerts, half updates, or updates in
    place within an id space) and metrics ticks, as wire frames. Runs in the feed process."""

    def __init__(self, seq: int, id_space: int | None = None, seed: int = 11) -> None:
        from citymodel.towns import TOWN_TABLE
        self.seq = seq
        self.rnd = random.Random(seed)
        self.next_id = 1_000_000
        self.id_space = id_space
        self.towns = [t.code for t in TOWN_TABLE]

    def frame(self, n: int) -> bytes:
        items = []
        seq = self.seq
        self.seq += n
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
            items.append({"seq": seq + k + 1, "ts": now, "kind": "alert.upsert", "domain": "fire", "data": {
                "id": aid, "source": "rule", "level": lv, "state": st, "domain": "fire",
                "town": self.rnd.choice(self.towns), "title": f"烟感报警 {aid}", "title_en": f"Smoke alarm {aid}",
                "first_ts": now, "last_ts": now, "updated_ts": now, "count": 1}})
        return orjson.dumps({"v": 1, "type": "events", "items": items})

    def metrics(self, k: int) -> bytes:
        from tools.demo_state import metrics_tick
        self.seq += 1
        return orjson.dumps({"v": 1, "type": "events", "items": [
            {"seq": self.seq, "ts": time.time(), "kind": "metrics.tick", "data": metrics_tick(time.time(), k, self.rnd)}]})


def _snapshot_frames(seq: int, alerts: int) -> list[bytes]:
    """A snapshot framed by the service's own code (sync_service.snapshot: parts of at most 500
    items and ~FRAME_TARGET_BYTES) of the demo city's towns, bureaus, incidents and `alerts`
    alerts."""
    from sync_service.snapshot import Snapshot
    from tools.demo_state import snapshot_collections
    return list(Snapshot(seq=seq, collections=snapshot_collections(alerts=alerts)).frames())


def _feed_main(argv: list[str]) -> int:
    """The feed process (`python -m bench.bench_ui --feed ...`): writes lines of
    `<monotonic send time> <frame JSON>` to stdout at `rate` events/s, a frame every 10 ms (of
    at most 500 events, the protocol's limit; a late wake-up sends what is due), like the
    service's websocket. Separate from the console's process, as the service is."""
    import argparse
    import fcntl
    ap = argparse.ArgumentParser(prog="bench.bench_ui --feed")
    ap.add_argument("--feed", action="store_true")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--rate", type=int, default=RATE)
    ap.add_argument("--id-space", type=int, default=None)
    ap.add_argument("--metrics-every-s", type=float, default=None)
    ap.add_argument("--snapshot", type=int, default=0, help="first a snapshot of this many alerts")
    a = ap.parse_args(argv)
    out = sys.stdout.buffer
    with contextlib.suppress(OSError):  # room for ~1 s of frames while the console is busy
        fcntl.fcntl(out.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
    gen = _Events(a.seq, a.id_space)
    snapshot = _snapshot_frames(a.seq, a.snapshot) if a.snapshot else []
    out.write(b"READY\n")
    out.flush()
    try:
        for raw in snapshot:  # as fast as the pipe takes them, as the service's send queue would
            out.write(b"%.6f %s\n" % (time.monotonic(), raw))
        out.flush()
    except BrokenPipeError:
        return 0
    t0 = time.monotonic()
    sent = 0
    next_metrics = t0 + (a.metrics_every_s or 0)
    k = 0
    try:
        while (now := time.monotonic()) - t0 < a.seconds:
            due = int((now - t0) * a.rate) - sent
            while due > 0:
                n = min(due, 500)
                raw = gen.frame(n)
                out.write(b"%.6f %s\n" % (time.monotonic(), raw))
                sent += n
                due -= n
            if a.metrics_every_s and now >= next_metrics:
                k += 1
                out.write(b"%.6f %s\n" % (time.monotonic(), gen.metrics(k)))
                next_metrics += a.metrics_every_s
            out.flush()
            time.sleep(max(FRAME_EVERY_MS / 1000 - (time.monotonic() - now), 0.0))
    except BrokenPipeError:  # the console side stopped reading: done
        return 0
    return 0


class _Feed:
    """The console side of the feed: reads frames as they arrive (a socket notifier on the Qt
    thread, as qasync serves the websocket), decodes them with protocol.frames and gives the
    events to the store, like backend_client does. Notes the send time of each new alert."""

    def __init__(self, store: Any, seconds: float, id_space: int | None, metrics_every_s: float | None,
                 snapshot: int = 0) -> None:
        from PySide6.QtCore import QSocketNotifier

        from backend_client.feeder import StoreFeeder
        from protocol import frames
        self.pf = frames
        self.store = store
        self.feeder = StoreFeeder(store)  # as backend_client.client: snapshots swapped in whole, events paced
        self.snapshot_done_at: float | None = None
        self.track = id_space is None  # latency is measured for new alerts only
        self.sent: dict[int, float] = {}  # alert id -> monotonic send time of its first event
        self.applied = 0
        self.frames = 0
        self.buf = b""
        self.rbuf = bytearray(1 << 18)
        args = [sys.executable, "-m", "bench.bench_ui", "--feed", "--seconds", str(seconds),
                "--seq", str(store.seq + store.backlog)]
        if id_space is not None:
            args += ["--id-space", str(id_space)]
        if metrics_every_s:
            args += ["--metrics-every-s", str(metrics_every_s)]
        if snapshot:
            args += ["--snapshot", str(snapshot)]
        # on the other core where there are two: the service's work is not the console's
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, preexec_fn=_feed_affinity)
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        # byte by byte: a buffered readline would read ahead into the frames that os.read gets
        first = b""
        while not first.endswith(b"\n"):  # blocks until the feed process has started
            byte = os.read(self.fd, 1)
            if not byte:
                break
            first += byte
        if first != b"READY\n":
            self.proc.kill()
            raise RuntimeError(f"the feed process did not start: {first!r}")
        os.set_blocking(self.fd, False)
        self.notifier = QSocketNotifier(self.fd, QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._on_readable)

    def _on_readable(self, *_: Any) -> None:
        try:  # into a buffer kept for the run: os.read(fd, 1 MB) allocates and trims 1 MB per call
            n = os.readv(self.fd, [self.rbuf])
        except BlockingIOError:
            return
        if not n:  # the feed process is done
            self.notifier.setEnabled(False)
            return
        *lines, self.buf = (self.buf + self.rbuf[:n]).split(b"\n")
        for line in lines:
            self._frame(line)

    def _frame(self, line: bytes) -> None:
        pf = self.pf
        sent_s, _, raw = line.partition(b" ")
        frame = pf.decode_server_frame(raw)
        self.frames += 1
        if isinstance(frame, pf.SnapshotBegin):
            self.feeder.on_snapshot_begin(frame)
        elif isinstance(frame, pf.SnapshotPart):
            self.feeder.on_snapshot_part(frame)
        elif isinstance(frame, pf.SnapshotEnd):
            self.feeder.on_snapshot_end(frame)
            self.snapshot_done_at = time.monotonic()
        elif isinstance(frame, pf.Events):
            if self.track:
                sent = float(sent_s)
                for ev in frame.items:
                    if ev.kind == "alert.upsert":
                        self.sent.setdefault(ev.data["id"], sent)  # first seen: a new alert
            before = self.feeder.events_applied
            self.feeder.on_events(frame)
            self.applied += self.feeder.events_applied - before

    def stop(self) -> None:
        self.notifier.setEnabled(False)
        self.notifier.activated.disconnect(self._on_readable)  # no notifier <-> feed cycle left behind
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _feed_affinity() -> None:
    if (os.cpu_count() or 1) >= 2:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {1})


def _paint_watch(model: Any, visible: dict[int, float]) -> Any:
    """An event filter on the table's viewport: at each paint, the rows applied since the last
    one became visible. (A class made per call would be a reference cycle, and cycles older
    than a second are frozen by the collector tuning, not collected: the bench must not leak
    what it measures.)"""
    from PySide6.QtCore import QEvent, QObject

    cls = _KEEP_CLASSES.get("PaintWatch")
    if cls is None:
        class PaintWatch(QObject):
            model: Any = None
            visible: dict[int, float] | None = None

            def eventFilter(self, obj: Any, ev: Any) -> bool:  # noqa: N802 - Qt override
                m, vis = self.model, self.visible
                if ev.type() == QEvent.Type.Paint and m is not None and vis is not None and m.applied_at:
                    now = time.monotonic()
                    for aid in m.applied_at:
                        vis.setdefault(aid, now)
                    m.applied_at.clear()
                return False
        cls = _KEEP_CLASSES["PaintWatch"] = PaintWatch
    watch = cls()
    watch.model, watch.visible = model, visible
    return watch


class _GcPauses:
    """The collector's pauses during a run (gc.callbacks): the longest and its generation."""

    def __init__(self) -> None:
        import gc
        self.gc = gc
        self.t0 = self.c0 = 0.0
        self.longest = self.longest_cpu = 0.0
        self.longest_gen = -1
        self.count = 0

    def __enter__(self) -> _GcPauses:
        self.gc.callbacks.append(self._cb)
        return self

    def __exit__(self, *_: object) -> None:
        self.gc.callbacks.remove(self._cb)

    def _cb(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.t0, self.c0 = time.perf_counter(), time.thread_time()
            return
        d = time.perf_counter() - self.t0
        self.count += 1
        if d > self.longest:
            self.longest, self.longest_gen = d, info.get("generation", -1)
            self.longest_cpu = time.thread_time() - self.c0


class _StallStacks:
    """IOC_BENCH_UI_STALL_STACKS=1: a watchdog thread samples the Qt thread's Python stack while
    the probe has not fired for 20 ms, and prints where the longest stalls were spent. A
    diagnostic for finding stalls, off for the figures (it takes the GIL now and then)."""

    def __init__(self, probe: _Probe) -> None:
        import threading
        self.on = bool(os.environ.get("IOC_BENCH_UI_STALL_STACKS"))
        self.probe = probe
        self.main = threading.main_thread().ident
        self.stalls: list[tuple[float, dict[str, int]]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True) if self.on else None

    def __enter__(self) -> _StallStacks:
        if self.thread is not None:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.thread is None:
            return
        self._stop.set()
        self.thread.join()
        for dur, where in sorted(self.stalls, key=lambda x: -x[0])[:8]:
            print(f"  stall {dur * 1000:.0f} ms:", flush=True)
            for frame, n in sorted(where.items(), key=lambda x: -x[1])[:4]:
                print(f"     {n:3d} x {frame}", flush=True)

    def _watch(self) -> None:
        import traceback
        cur: dict[str, int] = {}
        started = None
        while not self._stop.is_set():
            time.sleep(0.004)
            gap = time.perf_counter() - self.probe.last
            if gap > 0.020:
                started = started or self.probe.last
                frame = sys._current_frames().get(self.main)
                if frame is not None:
                    st = traceback.extract_stack(frame)[-6:]
                    key = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(st))
                    cur[key] = cur.get(key, 0) + 1
            elif started is not None:
                self.stalls.append((self.probe.last - started, cur))
                cur, started = {}, None


def _burst(seconds: float, store: Any, win: Any, id_space: int | None = None,
           metrics_every_s: float | None = None, pacer: Any = None) -> dict[str, Any]:
    from widgets.common import refresh_hub
    feed = win.panel("alert_feed")
    model = feed.model
    model.track_visibility = True
    model.applied_at.clear()
    visible: dict[int, float] = {}
    watch = _paint_watch(model, visible)
    feed.table.viewport().installEventFilter(watch)
    src = _Feed(store, seconds, id_space, metrics_every_s)
    hub = refresh_hub()
    hub_passes, hub_split = hub.passes, hub.split_ticks
    if pacer is not None:
        pacer.longest_ms = pacer.longest_cpu_ms = 0.0
    backlog = {"max": 0}

    def sample_backlog() -> None:
        backlog["max"] = max(backlog["max"], store.backlog)

    t0 = time.perf_counter()
    probe = _Probe()
    probe.timer.timeout.connect(sample_backlog)
    probe.start()
    with _GcPauses() as gcp, _StallStacks(probe):
        _run_loop(seconds)
        elapsed = time.perf_counter() - t0
        backlog["at_end"] = store.backlog
        _run_loop(0.5)  # the last frames in the pipe, then the last rows paint
        src._on_readable()
        _run_loop(0.3)
    probe.timer.timeout.disconnect(sample_backlog)
    stall = probe.stop()
    src.stop()
    feed.table.viewport().removeEventFilter(watch)
    watch.model, watch.visible = None, None
    model.track_visibility = False
    model.applied_at.clear()
    sent = src.sent
    delays = sorted((visible[a] - sent[a]) * 1000 for a in visible if a in sent)
    def pct(p: float) -> float:
        return round(delays[min(int(len(delays) * p), len(delays) - 1)], 1) if delays else -1.0
    out = {"events": src.applied, "events_per_s": round(src.applied / elapsed), "max_stall_ms": round(stall * 1000, 1),
           "max_stall_cpu_ms": round(probe.max_gap_cpu * 1000, 1), "stalls_over_50ms": probe.over_50ms,
           "rows_seen": len(delays), "p50_visible_ms": pct(0.5), "p99_visible_ms": pct(0.99),
           "backlog_max": backlog["max"], "backlog_at_end": backlog["at_end"], "backlog_after": store.backlog,
           "gc_longest_pause_ms": round(gcp.longest * 1000, 1), "gc_longest_pause_cpu_ms": round(gcp.longest_cpu * 1000, 1),
           "gc_longest_pause_gen": gcp.longest_gen,
           "gc_collections": gcp.count, "refresh_passes": hub.passes - hub_passes,
           "refresh_ticks_split": hub.split_ticks - hub_split}
    if pacer is not None:
        out["pacer_longest_pass_ms"] = round(pacer.longest_ms, 1)
        out["pacer_longest_pass_cpu_ms"] = round(pacer.longest_cpu_ms, 1)
    return out


def _snapshot_round(alerts: int, store: Any, win: Any) -> dict[str, Any]:
    """A snapshot of `alerts` alerts arriving as the service frames it (parts of 500, each
    validated as it comes, swapped in whole at its end, then every panel rebuilt): the
    longest stall while it is applied, and how long it took to be on screen."""
    feed = win.panel("alert_feed")
    swapped: list[float] = []
    store.reset.connect(lambda: swapped.append(time.monotonic()))  # type: ignore[arg-type]
    src = _Feed(store, 0.0, None, None, snapshot=alerts)
    t0 = time.monotonic()
    probe = _Probe()
    probe.start()
    with _GcPauses() as gcp, _StallStacks(probe):
        deadline = time.monotonic() + 600
        while not swapped and time.monotonic() < deadline:
            _run_loop(0.05)
        _run_loop(2.0)  # the panels' rebuild on the next refresh ticks
    stall = probe.stop()
    src.stop()
    if not swapped or src.snapshot_done_at is None:
        raise RuntimeError("the snapshot did not arrive")
    return {"alerts": len(store.alerts), "received_s": round(src.snapshot_done_at - t0, 2),
            "swapped_in_s": round(swapped[0] - t0, 2),
            "feed_rows": feed.model.rowCount(), "max_stall_ms": round(stall * 1000, 1),
            "max_stall_cpu_ms": round(probe.max_gap_cpu * 1000, 1), "stalls_over_50ms": probe.over_50ms,
            "gc_longest_pause_ms": round(gcp.longest * 1000, 1)}


_PAINT_WATCH = (
    # the first paint of a window, stamped after its paint pass (CLOCK_MONOTONIC, shared with the
    # launcher): the same watcher for the bare window and the real console, old code or new
    "from PySide6.QtCore import QEvent, QObject, QTimer\n"
    "class _W(QObject):\n"
    "    done = False\n"
    "    def eventFilter(self, o, e):\n"
    "        if not self.done and e.type() == QEvent.Type.Paint:\n"
    "            self.done = True\n"
    "            QTimer.singleShot(0, self.painted)\n"
    "        return False\n"
    "    def painted(self):\n"
    "        print('FIRST_PAINT', time.monotonic(), flush=True)\n"
    "        if '_after_first_paint' in globals(): _after_first_paint()\n")

_HALL_WINDOW_CODE = (
    "import time\nt_main = time.monotonic()\nprint('MAIN', t_main, flush=True)\n"
    "import sys\n" + _PAINT_WATCH +
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
    "w = _W(); win.installEventFilter(w); win.resize(1920, 1080); win.show()\n"
    "QTimer.singleShot(1500, app.quit); app.exec()\n")

# after the first paint, the longest stall of the loop while the console builds the rest
# (a 5 ms probe until it quits, printed at exit with the CPU time the Qt thread used in it)
_AFTER_PROBE = (
    "class _P(QObject):\n"
    "    def start(self):\n"
    "        from PySide6.QtCore import Qt\n"
    "        self.last, self.cpu, self.worst = time.perf_counter(), time.thread_time(), (0.0, 0.0)\n"
    "        self.t = QTimer(self, interval=5); self.t.setTimerType(Qt.TimerType.PreciseTimer)\n"
    "        self.t.timeout.connect(self.tick); self.t.start()\n"
    "        import atexit; atexit.register(lambda: print('AFTER_STALL', *self.worst, flush=True))\n"
    "    def tick(self):\n"
    "        now, cpu = time.perf_counter(), time.thread_time()\n"
    "        if now - self.last > self.worst[0]: self.worst = (now - self.last, cpu - self.cpu)\n"
    "        self.last, self.cpu = now, cpu\n")

# The real console (main.py -> views.shell): a watcher on the first window the wall opens,
# installed from outside so the same code measures an older checkout too.
_CONSOLE_CODE = (
    "import time\nt_main = time.monotonic()\nprint('MAIN', t_main, flush=True)\n"
    "import sys\n" + _PAINT_WATCH + _AFTER_PROBE +
    "import views.wall as _wall\n"
    "_build = _wall.WallManager.build\n"
    "def build(self):\n"
    "    wins = _build(self)\n"
    "    if wins and not getattr(_wall, '_watched', None):\n"
    "        _wall._watched = _W(); wins[0].installEventFilter(_wall._watched)\n"
    "        _wall._probe = _P()\n"
    "    return wins\n"
    "_wall.WallManager.build = build\n"
    "def _after_first_paint(): _wall._probe.start()\n"
    "sys.argv = ['ioc-console', *sys.argv[1:]]\n"
    "from main import main\nraise SystemExit(main())\n")


def _launch_to_first_paint(code: str, args: list[str], env: dict[str, str], cwd: Path = ROOT,
                           cpu: int | None = None, timeout_s: float = 120.0) -> dict[str, float]:
    """Start `python -c code args` and read its stamps: from just before the launch to the
    interpreter running our first line (interpreter start-up) and to the first painted frame.
    The process is left to finish on its own (--quit-after) or killed: its teardown is not
    part of the figure."""
    t_launch = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env,
                            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None)
    assert proc.stdout is not None
    got: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while "FIRST_PAINT" not in got and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            parts = line.decode(errors="replace").split()
            if len(parts) == 2 and parts[0] in ("MAIN", "FIRST_PAINT"):
                got[parts[0]] = float(parts[1])
    finally:
        try:
            rest, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, err = proc.communicate()
    if "FIRST_PAINT" not in got:
        raise RuntimeError(f"no first paint: {err.decode(errors='replace')[-2000:]}")
    after: dict[str, float] = {}
    for line in rest.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "AFTER_STALL":
            after = {"after_paint_max_stall_ms": round(float(parts[1]) * 1000 - 5, 1),
                     "after_paint_max_stall_cpu_ms": round(float(parts[2]) * 1000, 1)}
    marks = {}
    for line in err.decode(errors="replace").splitlines():  # the console's own marks, if it has them
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ioc-startup":
            marks[parts[1]] = round((float(parts[2]) - t_launch) * 1000)
    return {"interpreter_ms": round((got["MAIN"] - t_launch) * 1000),  # type: ignore[dict-item]
            "first_paint_ms": round((got["FIRST_PAINT"] - t_launch) * 1000), "marks": marks, **after}


def _cold_start() -> dict[str, float]:
    """The bare operations-hall window (no shell, no service): the figure this benchmark used to
    report, now launch to first paint (it was launch to the end of the process's teardown)."""
    env = dict(os.environ, IOC_CONSOLE_CONFIG_DIR="/tmp/ioc-bench-ui")
    r = _launch_to_first_paint(_HALL_WINDOW_CODE, [], env)
    return {"hallwindow_cold_start_ms": r["first_paint_ms"], "hallwindow_interpreter_ms": r["interpreter_ms"]}


CITY_ENV = "IOC_BENCH_UI_CITY_BUILDINGS"  # the service's CIM city for the console cold start
CONSOLE_ROOT_ENV = "IOC_BENCH_UI_CONSOLE_ROOT"  # measure another checkout's console (a baseline)
CONSOLE_DEVICES = 20_000
CONSOLE_RUNS = 3  # measured starts per hall (after one warm-up start), median reported
CONSOLE_HALLS = (("operations", "operator"), ("duty", "duty"))


def _pin(pid: int, cpu: int) -> None:
    """Keep a helper process (and its children: the simulator) on one core, where possible."""
    if (os.cpu_count() or 1) < 2:
        return
    with contextlib.suppress(OSError, psutil.Error):
        for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            p.cpu_affinity([cpu])


@contextlib.contextmanager
def _console_service(buildings: int) -> Any:
    """A real sync service (SQLite, simulated city, demo users) on core 1, its database and the
    console's caches kept in a folder per city size: the first run seeds the city and fills the
    console's city cache through the protocol (minutes for the full city), later runs reuse it."""
    import tempfile
    import uuid

    from views.embedded import EmbeddedService
    work = Path(tempfile.gettempdir()) / f"ioc-bench-ui-console-{buildings}"
    work.mkdir(parents=True, exist_ok=True)
    env = {"IOC_MQTT_PREFIX": f"ioc-bench-ui-{uuid.uuid4().hex[:8]}", "IOC_CONFIG": str(work / "none.json"),
           "IOC_EMBEDDED_MQTT_FALLBACK": "true", "IOC_LOG_LEVEL": "WARNING"}
    svc = EmbeddedService(extra_args=["--devices", str(CONSOLE_DEVICES), "--cim-buildings", str(buildings)],
                          log_path=work / "service.log", db_url=f"sqlite:///{work / 'ioc.db'}", env=env)
    svc.start(timeout_s=900)
    try:
        assert svc.proc is not None
        _pin(svc.proc.pid, 1)
        _fill_city_cache(svc.url, work)
        _pin(svc.proc.pid, 1)  # the simulator may have started since
        yield svc, work
    finally:
        svc.stop()


def _fill_city_cache(url: str, work: Path) -> None:
    """The console's city cache, as the 3D view fills it (views.city3d.loader over the protocol)."""
    import asyncio

    from app.store import Connection, StateStore
    from backend_client.client import ConsoleClient
    from sync_service.seed import DEMO_PASSWORD
    os.environ["IOC_CITY_CACHE_DIR"] = str(work / "city")
    from views.city3d.loader import CityLoader

    async def fill() -> str:
        client = ConsoleClient(url, StateStore(), local_dir=str(work / "client-fill"))
        online = asyncio.Event()
        client.store.connection_changed.connect(lambda c: online.set() if c == Connection.ONLINE else None)
        await client.login("operator", DEMO_PASSWORD)
        try:
            await asyncio.wait_for(online.wait(), 120)
            loader = CityLoader(client)
            _table, version = loader.cached()
            _t, _v, status = await loader.fetch(version)
            return status
        finally:
            await client.stop()
            client.close()

    t0 = time.perf_counter()
    status = asyncio.run(fill())
    print(f"  city cache: {status} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if status not in ("current", "fetched"):
        raise RuntimeError(f"the city cache could not be filled: {status}")


def _console_cold_start(quick: bool) -> dict[str, Any]:
    """The real console: interpreter start -> first painted frame of `main.py` logged in to a
    pre-started service with a cached city, one 1920x1080 screen, for the operations hall (a
    wall profile: its three screens fold into tabs of one full-screen window) and the duty
    laptop. The console runs on core 0, the service and simulator on core 1."""
    from sync_service.seed import DEMO_PASSWORD
    buildings = int(os.environ.get(CITY_ENV) or (100_000 if quick else 1_700_000))
    root = Path(os.environ.get(CONSOLE_ROOT_ENV) or ROOT)
    out: dict[str, Any] = {"console_city_buildings": buildings, "console_code": str(root)}
    with _console_service(buildings) as (svc, work):
        for hall, user in CONSOLE_HALLS:
            env = dict(os.environ, IOC_CONSOLE_CONFIG_DIR=str(work / f"cfg-{hall}"),
                       IOC_CLIENT_DIR=str(work / f"client-{hall}"), IOC_CITY_CACHE_DIR=str(work / "city"),
                       IOC_CONSOLE_STARTUP_TRACE="1", IOC_LOG_LEVEL="WARNING")
            args = ["--server", svc.url, "--user", user, "--password", DEMO_PASSWORD, "--hall", hall,
                    "--quit-after", "8"]
            runs = []
            for k in range(1 + (1 if quick else CONSOLE_RUNS)):
                r = _launch_to_first_paint(_CONSOLE_CODE, args, env, cwd=root)
                if k:  # the first start wrote the offline cache a laptop has from yesterday
                    runs.append(r)
            runs.sort(key=lambda r: r["first_paint_ms"])
            med = runs[len(runs) // 2]
            out[f"console_{hall}_cold_start_ms"] = med["first_paint_ms"]
            out[f"console_{hall}_cold_start_runs_ms"] = [r["first_paint_ms"] for r in runs]
            out[f"console_{hall}_interpreter_ms"] = med["interpreter_ms"]
            if "after_paint_max_stall_ms" in med:  # the rest being built (old code: nothing left)
                worst = max(runs, key=lambda r: r.get("after_paint_max_stall_ms", 0))
                out[f"console_{hall}_after_paint_max_stall_ms"] = worst["after_paint_max_stall_ms"]
                out[f"console_{hall}_after_paint_max_stall_cpu_ms"] = worst["after_paint_max_stall_cpu_ms"]
            if med["marks"]:
                out[f"console_{hall}_marks_ms"] = med["marks"]
            print(f"  {hall}: first paint {out[f'console_{hall}_cold_start_runs_ms']} ms "
                  f"(interpreter {med['interpreter_ms']} ms) {med['marks']}", flush=True)
    return out


def soak_minutes(quick: bool) -> float:
    raw = os.environ.get(SOAK_ENV, "").strip()
    if not raw:
        return 0.15 if quick else SOAK_MIN_DEFAULT
    try:
        minutes = float(raw)
    except ValueError:
        raise ValueError(f"{SOAK_ENV} must be a number of minutes, got {raw!r}") from None
    if not 0.1 <= minutes <= 24 * 60:
        raise ValueError(f"{SOAK_ENV} must be within 0.1..1440 minutes, got {minutes}")
    return minutes


def slope_per_10min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per 10 minutes."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in samples) / var * 600


def _soak(minutes: float, store: Any, win: Any) -> dict[str, Any]:
    """A long run, alerts updated in place within SOAK_ID_SPACE ids: RSS sampled after each
    round; growth and slope are taken after the warm-up (the first 20%)."""
    import gc
    total_s = minutes * 60
    sample_s = min(max(total_s / 36, 3.0), 30.0)
    warmup_s = total_s * 0.2
    proc = psutil.Process()
    frozen_start = gc.get_freeze_count()
    objects_after_warmup: int | None = None  # Python objects the collector knows (frozen too)
    samples: list[tuple[float, float]] = []
    stalls: list[tuple[float, float]] = []  # (max stall, CPU in it) per round
    events = 0
    t0 = time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < total_s:
        b = _burst(min(sample_s, max(total_s - elapsed, 1.0)), store, win, id_space=SOAK_ID_SPACE, metrics_every_s=1.0)
        events += b["events"]
        stalls.append((b["max_stall_ms"], b["max_stall_cpu_ms"]))
        samples.append((time.perf_counter() - t0, proc.memory_info().rss / 2**20))
        if objects_after_warmup is None and samples[-1][0] >= warmup_s:
            objects_after_warmup = len(gc.get_objects()) + gc.get_freeze_count()
        if os.environ.get(SOAK_ENV):  # a long run says how far it is
            print(f"  soak {samples[-1][0] / 60:5.1f} min  rss {samples[-1][1]:7.1f} MB  "
                  f"max stall {b['max_stall_ms']} ms", flush=True)
    after = [(t, v) for t, v in samples if t >= warmup_s] or samples[-2:]
    base = after[0][1]
    stalls.sort()
    return {"soak_minutes": minutes, "soak_samples": len(samples), "soak_events": events,
            "soak_warmup_s": round(warmup_s), "rss_mb_after_warmup": round(base, 1),
            "rss_mb_end": round(samples[-1][1], 1),
            "rss_growth_after_warmup_mb": round(samples[-1][1] - base, 1),
            "rss_growth_after_warmup_pct": round(100 * (samples[-1][1] - base) / base, 1),
            "rss_slope_mb_per_10min": round(slope_per_10min(after), 2),
            "soak_max_stall_ms": stalls[-1][0], "soak_max_stall_cpu_ms": stalls[-1][1],
            "soak_median_round_max_stall_ms": stalls[len(stalls) // 2][0],
            "gc_frozen_objects_start": frozen_start, "gc_frozen_objects_end": gc.get_freeze_count(),
            "py_objects_after_warmup": objects_after_warmup,
            "py_objects_end": len(gc.get_objects()) + gc.get_freeze_count(),
            "gc_quiet_defrosts": sum(getattr(k, "defrosts", 0) for k in _KEEP),
            "alerts_in_store": len(store.alerts)}


SNAPSHOT_ALERTS = 100_000  # the issue: the feed handles 100k rows without lag


def run(quick: bool, parts: tuple[str, ...] = ("burst", "soak", "snapshot", "cold")) -> dict[str, Any]:
    burst_s = 5.0 if quick else 30.0
    minutes = soak_minutes(quick)
    out: dict[str, Any] = {"cores": os.cpu_count(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}
    if (os.cpu_count() or 1) >= 2:  # the console on core 0, the feed (the service) on core 1
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {0})
            out["pinned"] = "console core 0, feed core 1"
    win, store, pacer = _build_window()
    probe = _Probe()
    probe.start()
    _run_loop(3.0)
    idle_stall = probe.stop() * 1000
    out.update({"idle_max_stall_ms": round(idle_stall, 1), "idle_max_stall_cpu_ms": round(probe.max_gap_cpu * 1000, 1)})
    if "burst" in parts:
        b = _burst(burst_s, store, win, pacer=pacer)
        out.update({f"burst_{k}": v for k, v in b.items()})
        out["burst_s"] = burst_s
        out["stall_vs_idle"] = round(b["max_stall_ms"] / max(idle_stall, 0.1), 1)
    if "soak" in parts:
        out.update(_soak(minutes, store, win))
    if "snapshot" in parts:
        n = 20_000 if quick else SNAPSHOT_ALERTS
        out.update({f"snapshot_{k}": v for k, v in _snapshot_round(n, store, win).items()})
        b = _burst(burst_s, store, win, pacer=pacer)
        out.update({f"burst_on_snapshot_{k}": v for k, v in b.items()})
    out["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    win.allow_close = True
    win.close()
    win.deleteLater()
    _run_loop(0.2)
    import gc
    gc.collect()
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    if "cold" in parts:
        out.update(_cold_start())
        out.update(_console_cold_start(quick))
    for k, v in out.items():
        print(f"  {k}: {v}")
    return out


if __name__ == "__main__":
    if "--feed" in sys.argv[1:]:
        raise SystemExit(_feed_main(sys.argv[1:]))
    if "--parts" in sys.argv[1:]:  # some parts only (while working on them): burst,soak,snapshot,cold
        run("--quick" in sys.argv, tuple(sys.argv[sys.argv.index("--parts") + 1].split(",")))
        raise SystemExit(0)
    if "--cold-start" in sys.argv[1:]:  # only the cold starts (while working on them)
        for k, v in {**_console_cold_start("--quick" in sys.argv), **_cold_start()}.items():
            print(f"  {k}: {v}")
        raise SystemExit(0)
    raise SystemExit("usage: python -m bench --only ui [--ui-soak-minutes N]  (this module is the ui benchmark)\n"
                     "       python -m bench.bench_ui --cold-start [--quick]  (the cold starts only)\n"
                     "       python -m bench.bench_ui --parts burst,soak,snapshot,cold [--quick]")
