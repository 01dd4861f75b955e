"""A minimal synchronous signal: the Qt-free way the store tells views that something changed.

Callbacks run in the emitter's thread (the Qt thread, since qasync runs asyncio there). Views
should only mark themselves dirty and repaint on their own timer (coalescing).
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Signal:
    __slots__ = ("_name", "_slots")

    def __init__(self, name: str = "") -> None:
        self._name = name
        self._slots: list[Callable[..., Any] | weakref.WeakMethod] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        """Connect a callable. Bound methods are held weakly so a closed widget is not kept alive."""
        ref: Callable[..., Any] | weakref.WeakMethod
        ref = weakref.WeakMethod(slot) if inspect.ismethod(slot) else slot
        self._slots.append(ref)
        return slot

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots = [s for s in self._slots if self._resolve(s) not in (slot, None)]

    @staticmethod
    def _resolve(ref: Callable[..., Any] | weakref.WeakMethod) -> Callable[..., Any] | None:
        return ref() if isinstance(ref, weakref.WeakMethod) else ref

    def emit(self, *args: Any) -> None:
        dead = False
        for ref in list(self._slots):
            fn = self._resolve(ref)
            if fn is None:
                dead = True
                continue
            try:
                fn(*args)
            except Exception:  # one broken view must not stop the others from updating
                log.exception("slot for signal %s failed", self._name)
        if dead:
            self._slots = [s for s in self._slots if self._resolve(s) is not None]

    def __len__(self) -> int:
        return len(self._slots)
