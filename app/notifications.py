"""A Qt-free notification manager: errors and notices for the user, never a traceback.

It takes sys.excepthook (install()), turns an uncaught exception into a Notification and emits
it; the Qt layer shows a dialog. The full traceback goes to the log only.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

from app.signals import Signal

log = logging.getLogger(__name__)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notification:
    severity: Severity
    message: str
    detail: str = ""  # for the "details" part of a dialog; a traceback only in the log
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class NotificationManager:
    def __init__(self, keep: int = 200) -> None:
        self.notified = Signal("notified")
        self.history: deque[Notification] = deque(maxlen=keep)
        self._previous_hook = None

    def notify(self, n: Notification) -> None:
        self.history.append(n)
        self.notified.emit(n)

    def info(self, message: str, source: str = "") -> None:
        self.notify(Notification(Severity.INFO, message, source=source))

    def warning(self, message: str, detail: str = "", source: str = "") -> None:
        self.notify(Notification(Severity.WARNING, message, detail, source))

    def error(self, message: str, detail: str = "", source: str = "") -> None:
        self.notify(Notification(Severity.ERROR, message, detail, source))

    def receive_exception(self, exc_type: type[BaseException], exc: BaseException,
                          tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            return
        log.error("uncaught exception:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        # The user sees what went wrong in one line; the traceback stays in the log
        self.notify(Notification(Severity.ERROR, f"{exc_type.__name__}: {exc}", source="exception"))

    def install(self) -> None:
        self._previous_hook = sys.excepthook
        sys.excepthook = self.receive_exception

    def uninstall(self) -> None:
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            self._previous_hook = None
