"""Python's cyclic garbage collector runs on the Qt thread only.

An automatic collection runs in whichever thread happens to allocate when a threshold is
crossed. If that is a worker thread (the offline cache, scrypt, the 3D scene, DNS) and the
garbage holds a Qt object - a view, a QTimer, a bridge left in a reference cycle - the C++
destructor runs off the object's thread: Qt prints "Timers cannot be stopped from another
thread", leaves the timer registered, and the Qt thread later fires it at freed memory (a
segfault in QTimerInfoList::activateTimers; our CI hit it). So the console turns automatic
collection off and the Qt thread collects by the same thresholds CPython would use, polled
from a timer (views.gc_tuning) - a worker thread never frees a cycle.
"""

from __future__ import annotations

import gc
import threading

_owner: int | None = None


def collect_on_this_thread_only() -> None:
    """From now on only the calling thread collects (call it on the Qt thread)."""
    global _owner
    _owner = threading.get_ident()
    gc.disable()


def owner() -> int | None:
    return _owner


def collect_if_due() -> int | None:
    """Collect the generations CPython would have collected by now (young, or young and middle
    every threshold[1] young ones); the oldest generation is left to views.gc_tuning's freeze
    and quiet-time defrost. Only on the owning thread. Returns the generation collected, or
    None when none was due."""
    if _owner is None or threading.get_ident() != _owner:
        return None
    young, middle, _old = gc.get_count()
    t_young, t_middle, _t_old = gc.get_threshold()
    if young < t_young:
        return None
    generation = 1 if middle + 1 >= t_middle else 0
    gc.collect(generation)
    return generation
