"""Fixtures for the 3D city view: a generated city, a store fed through its real inbound path, a
recording command sink with canned query answers, and the view on a real (Xvfb) display.

QtInteractor renders nothing on Qt's offscreen platform: these tests need the xcb platform under
Xvfb (`make test`). Without a display they skip, except under CI where that is a failure."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from app.commandbus import CommandResult
from app.store import StateStore
from citymodel.buildings import BuildingTable
from citymodel.generator import generate_city
from protocol.frames import Event


def push(store: StateStore, kind: str, data: dict[str, Any]) -> None:
    store.apply_events([Event(seq=store.seq + 1, ts=time.time(), kind=kind, data=data)])


class Sink:
    """CommandSink double: records commands and queries, answers queries from `answers`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.queries: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, dict[str, Any]] = {}

    def _done(self, r: CommandResult) -> asyncio.Future[CommandResult]:
        f = self.loop.create_future()
        f.set_result(r)
        return f

    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        self.sent.append((name, args))
        return self._done(CommandResult(ok=True, data={}))

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        self.queries.append((name, args))
        return self._done(CommandResult(ok=True, data=self.answers.get(name, {"items": []})))


@pytest.fixture(scope="session")
def city() -> BuildingTable:
    return generate_city(11, 20_000)


@pytest.fixture
def display(qapp: Any) -> None:
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.platformName() in ("offscreen", "minimal") or not os.environ.get("DISPLAY"):
        # `make test` always runs under Xvfb: without it the 3D tests fail, never skip
        pytest.fail(f"3D view tests need an X display (Xvfb, as `make test` gives) and the xcb platform, "
                    f"not {QGuiApplication.platformName()!r}", pytrace=False)


@pytest.fixture
def view(display: None, qtbot: Any, city: BuildingTable, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / "cache"))
    from views.city3d import create_city_view

    store, sink = StateStore(), Sink()
    v = create_city_view(store, sink, table=city)
    v.resize(1200, 800)
    v.show()
    qtbot.waitExposed(v)
    v._on_timer_tick()
    v.render()
    yield v
    v.shutdown()
    v.close()
    v.deleteLater()


def shot(view: Any) -> np.ndarray:
    """The render window's pixels (rows top to bottom, RGB)."""
    view.render()
    return np.asarray(view.plotter.screenshot(return_img=True))


def pixel_at(view: Any, img: np.ndarray, x: float, y: float, r: int = 2) -> np.ndarray:
    """Pixels around VTK display point (x, y) (origin bottom-left)."""
    h = img.shape[0]
    row, col = int(round(h - 1 - y)), int(round(x))
    return img[max(row - r, 0):row + r + 1, max(col - r, 0):col + r + 1].reshape(-1, img.shape[2])[:, :3]
