"""The Qt face of the connection: a QObject with signals and async slots, no widgets.

qasync runs asyncio on the Qt thread, so the client's callbacks arrive here on the GUI thread
and are re-emitted as Qt signals without any cross-thread hop. Slots are @asyncSlot: each keeps
a reference to its task and routes an exception to sys.excepthook (the notification manager)
instead of losing it.

StorePacer applies the store's incoming events in time-boxed slices on the Qt thread, so a big
frame or a resume replay never holds the event loop for longer than one slice.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from qasync import asyncSlot

from app.commandbus import CommandResult
from app.store import Connection, StateStore
from backend_client.client import ConsoleClient

SLICE_MS = 6.0  # time applying events per event-loop pass: a hard cap, ~200-600 alerts


class StorePacer(QObject):
    """Makes `store` paced (see app.store): events are queued as they arrive and applied from
    a zero-delay timer, at most about SLICE_MS per pass whatever the backlog, with the loop free
    in between (paints, input, the websocket) until the queue is empty. Order and exactly-once
    are the store's. `longest_ms` is the longest pass, `longest_cpu_ms` the CPU time in it (the
    benchmark reads them)."""

    def __init__(self, store: StateStore, slice_ms: float = SLICE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.slice_s = slice_ms / 1000
        self.slices = 0  # passes made (the benchmark and tests read it)
        self.longest_ms = 0.0
        self.longest_cpu_ms = 0.0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)  # the next pass of the loop, after what is waiting now
        self.timer.timeout.connect(self._on_timer)
        store.pacer = self._schedule

    def _schedule(self) -> None:
        if not self.timer.isActive():
            self.timer.start()

    def _on_timer(self) -> None:
        self.slices += 1
        t0, c0 = time.perf_counter(), time.thread_time()
        snapshot = self.store.snapshot_pending
        more = self.store.drain(self.slice_s)
        if snapshot:
            # a snapshot's objects are the state to come, not garbage: moved out of the
            # collector's generations at once (O(1)), so it never walks 100k new alerts in a
            # pause (views.gc_tuning freezes every second otherwise: 50-90 ms pauses here)
            gc.freeze()
        ms = (time.perf_counter() - t0) * 1000
        if ms > self.longest_ms:  # with the CPU it used: the rest is the machine taking the core
            self.longest_ms, self.longest_cpu_ms = ms, (time.thread_time() - c0) * 1000
        if more:
            self.timer.start()

    def stop(self) -> None:
        """Back to applying at once; whatever is queued is applied now."""
        self.timer.stop()
        if self.store.pacer == self._schedule:
            self.store.pacer = None
        self.store.drain_all()


class ConsoleBridge(QObject):
    connectionChanged = Signal(str)  # app.store.Connection value
    loginFailed = Signal(str)  # backend_client.auth code: bad_credentials | login_needed | forbidden
    commandFinished = Signal(str, object)  # command id, app.commandbus.CommandResult

    def __init__(self, client: ConsoleClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.last_login_error = ""
        # bound methods: the client's signals hold them weakly, so a dropped bridge is freed
        client.store.connection_changed.connect(self._on_store_connection_changed)
        client.login_failed.connect(self._on_client_login_failed)
        client.command_finished.connect(self._on_client_command_finished)

    @property
    def connection(self) -> str:
        return str(self.client.store.connection)

    # ---- client -> Qt ----------------------------------------------------------------------
    def _on_store_connection_changed(self, state: Connection) -> None:
        self.connectionChanged.emit(str(state))

    def _on_client_login_failed(self, code: str, message: str) -> None:
        self.last_login_error = message
        self.loginFailed.emit(code)

    def _on_client_command_finished(self, command_id: str, result: CommandResult) -> None:
        self.commandFinished.emit(command_id, result)

    # ---- Qt -> client ----------------------------------------------------------------------
    @asyncSlot(str, str)
    async def start(self, user: str, password: str) -> None:
        """Log in and keep connected (loads the offline cache first)."""
        self.client.login(user, password)

    @asyncSlot()
    async def stop(self) -> None:
        """Disconnect and write the offline cache (call on quit)."""
        await self.client.stop()

    @asyncSlot()
    async def logout(self) -> None:
        await self.client.logout()

    @Slot()
    def reconnectNow(self) -> None:  # noqa: N802 - Qt slot naming
        self.client.reconnect_now()

    @Slot(str, "QVariantMap", result=str)
    def sendCommand(self, name: str, args: dict[str, Any]) -> str:  # noqa: N802 - Qt slot naming
        """Fire a command from QML/Qt code; the answer comes back through commandFinished.
        Returns the command id, or "" when refused locally (bad arguments, not permitted)."""
        cid, fut = self.client.submit(name, dict(args))
        if cid is None:
            fut.add_done_callback(lambda f: self.commandFinished.emit("", f.result()))
        return cid or ""
