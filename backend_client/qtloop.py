"""The console's asyncio loop on the Qt thread: qasync's QEventLoop without cross-thread Qt signals.

qasync wakes its loop from worker threads by emitting a PySide signal (carrying Python objects)
to a lambda, and runs `run_in_executor` on QThreads. PySide6 6.8+ has crashed on exactly that
(PYSIDE-3124: queued signals to non-slot callables from other threads); our CI saw a segfault
inside `QApplication.exec` while login workers finished. Here the only thing a worker thread
does is append to a deque and write one byte to a socket pair; the Qt thread reads the socket
(a QSocketNotifier, as for the websocket) and schedules the callbacks itself. The default
executor is a plain ThreadPoolExecutor: no Qt object is ever touched off the Qt thread.
"""

from __future__ import annotations

import collections
import contextvars
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import qasync

WORKERS = 4  # cache reads/writes, scrypt, DNS, the 3D scene: few at once on a 2-core machine


class ConsoleEventLoop(qasync.QEventLoop):
    def __init__(self, app: Any = None, set_running_loop: bool = False, already_running: bool = False) -> None:
        super().__init__(app, set_running_loop, already_running)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._from_threads: collections.deque[tuple[Callable[..., Any], tuple[Any, ...],
                                                    contextvars.Context | None]] = collections.deque()
        self.add_reader(self._wake_r.fileno(), self._on_wake)
        self.set_default_executor(ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="ioc-worker"))

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any,
                             context: contextvars.Context | None = None) -> None:  # type: ignore[override]
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        self._from_threads.append((callback, args, context))  # deque.append is atomic
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the socket is full of wake-ups already: the loop will drain the deque
        except OSError:
            pass  # closed meanwhile: nothing will run it, as with any closed loop

    def _on_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._from_threads:
            callback, args, context = self._from_threads.popleft()
            self.call_soon(callback, *args, context=context)

    def close(self) -> None:
        if self.is_running() or self.is_closed():
            super().close()  # raises while running, returns when closed
            return
        self.remove_reader(self._wake_r.fileno())
        super().close()  # shuts the executor down (waits for its workers)
        self._wake_r.close()
        self._wake_w.close()
        self._from_threads.clear()
