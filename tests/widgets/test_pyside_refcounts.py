"""PySide6 6.12.0 handed out None without taking a reference (QObject.property of an unset name,
QStyle.polish/unpolish): on Python 3.11 a console aborted within minutes ("none_dealloc").
pyproject.toml excludes it; this test fails on any PySide6 build that drains the singletons."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget


def test_qt_to_python_conversions_keep_none_true_false_counts(qapp: Any) -> None:
    o, w = QObject(), QWidget()
    style = qapp.style()
    before = [sys.getrefcount(x) for x in (None, True, False)]
    for _ in range(20_000):
        o.property("never-set")
    for _ in range(500):
        style.polish(w)
        style.unpolish(w)
    after = [sys.getrefcount(x) for x in (None, True, False)]
    # small positive drift is ordinary (new references held by objects); a drain is thousands
    assert all(a - b > -100 for a, b in zip(after, before, strict=True)), (before, after)
