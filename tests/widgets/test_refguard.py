from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from widgets import refguard


@pytest.mark.skipif(not refguard.needed(), reason="None is immortal on this Python")
def test_pyside_drains_none_and_the_guard_tops_it_up(qapp: Any) -> None:
    w = QWidget()
    refguard.top_up()
    before = sys.getrefcount(None)
    for _ in range(2000):
        w.property("not-set")  # the PySide6 6.12 bug: None handed out without a reference
    drained = before - sys.getrefcount(None)
    # if a fixed PySide stops draining, this documents it (and the guard can go)
    assert drained >= 0
    ctypes_floor = refguard.FLOOR
    import ctypes
    ctypes.c_ssize_t.from_address(id(None)).value = ctypes_floor - 10  # as after days of draining
    assert refguard.top_up() >= 1
    assert sys.getrefcount(None) >= refguard.FLOOR + refguard.TOP_UP - 100
    g = refguard.install()
    assert g is refguard.install()
    assert g.timer.isActive()
