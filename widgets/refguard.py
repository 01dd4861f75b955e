"""Guard against a PySide6 6.12 reference-count bug that would abort a long-running console.

Measured here (tests/widgets/test_refguard.py): some conversions from Qt to Python hand out
None without taking a reference - QObject.property() of an unset name, QStyle.polish() and
unpolish(), and an invalid QVariant coming back from a model - about one lost reference per
call. On Python 3.11 None (and True/False) are ordinary refcounted objects: a video wall that
repaints for a day would drive None's count to zero, and CPython aborts ("none_dealloc").

The guard tops the counts of None, True and False up on a timer whenever they fall below a
floor. The extra references are never released, which is harmless for these singletons (they
live for the whole process anyway). On Python 3.12+ they are immortal and nothing is done.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QTimer

FLOOR = 1 << 24
TOP_UP = 1 << 26
_SINGLETONS = (None, True, False)


def needed() -> bool:
    return sys.version_info < (3, 12) and sys.implementation.name == "cpython"


def top_up() -> int:
    """Raise any singleton's count that fell below FLOOR; returns how many were topped up."""
    if not needed():
        return 0
    n = 0
    for obj in _SINGLETONS:
        if sys.getrefcount(obj) < FLOOR:
            # ob_refcnt is the first field of every CPython object
            ctypes.c_ssize_t.from_address(id(obj)).value += TOP_UP
            n += 1
    return n


class RefcountGuard(QObject):
    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        top_up()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(top_up)
        self.timer.start()


_guard: list[RefcountGuard] = []


def install() -> RefcountGuard:
    """One guard per process (idempotent); call once the QApplication exists."""
    if not _guard:
        _guard.append(RefcountGuard())
    return _guard[0]
