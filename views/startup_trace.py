"""Start-up marks: when the process started, when the console's steps happened, and when the
first hall window painted its first frame (the cold-start figure of bench_ui).

Times are CLOCK_MONOTONIC (shared by every process on the machine), so a launcher can subtract
its own stamp taken before it started us. With IOC_CONSOLE_STARTUP_TRACE set, each mark is also
printed to stderr as `ioc-startup <name> <monotonic s>`; the first paint is always logged at
INFO with its age since the process started (read from /proc, so interpreter start-up counts).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

TRACE_ENV = "IOC_CONSOLE_STARTUP_TRACE"
marks: list[tuple[str, float]] = []


def process_age_s() -> float | None:
    """Seconds since this process was created (Linux: /proc/self/stat), None elsewhere."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start_s = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time since boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_s
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def mark(name: str) -> float:
    now = time.monotonic()
    marks.append((name, now))
    if os.environ.get(TRACE_ENV):
        print(f"ioc-startup {name} {now:.6f}", file=sys.stderr, flush=True)
    return now


def watch_first_paint(widget: Any, callback: Callable[[], None] | None = None) -> Any:
    """One-shot: after `widget`'s first paint event has been handled (the frame is flushed once
    the current paint pass ends), mark "first-paint" and call back. Returns the watcher."""
    from PySide6.QtCore import QEvent, QObject, QTimer  # here: mark() stays free of Qt imports

    class FirstPaint(QObject):
        done = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
            if not self.done and event.type() == QEvent.Type.Paint:
                self.done = True
                obj.removeEventFilter(self)
                QTimer.singleShot(0, self.painted)  # after the rest of this paint pass
            return False

        def painted(self) -> None:
            mark("first-paint")
            age = process_age_s()
            if age is not None:
                log.info("first frame painted %.0f ms after the process started", age * 1000)
            if callback is not None:
                callback()

    watcher = FirstPaint(widget)
    widget.installEventFilter(watcher)
    return watcher
