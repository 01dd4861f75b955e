"""Fixtures for panel tests: a store fed through its real inbound path, a recording command
sink, a confirmation answer, Chinese UI, and a check that no top-level window is leaked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.store import StateStore
from protocol.enums import Role
from protocol.frames import Event
from tools.demo_state import RecordingSink, fill_store, session
from widgets import common


def alert(i: int, level: int = 2, state: str = "new", **kw: Any) -> dict[str, Any]:
    now = kw.pop("ts", time.time())
    base = dict(id=i, source="rule", level=level, state=state, domain="fire", town="nancheng",
                title=f"告警{i}", title_en=f"alert {i}", first_ts=now, last_ts=now, updated_ts=now)
    base.update(kw)
    return base


def push(store: StateStore, kind: str, data: dict[str, Any]) -> None:
    """Apply one event as the backend client would (next sequence number)."""
    store.apply_events([Event(seq=store.seq + 1, ts=time.time(), kind=kind, data=data)])


@pytest.fixture(autouse=True)
def _chinese_ui(qapp: Any) -> Iterator[None]:
    from views.theme import apply_language
    apply_language(qapp, "zh")
    yield
    apply_language(qapp, "zh")


@pytest.fixture(autouse=True)
def _instant_scans() -> Iterator[None]:
    """Scanning panels rescan at most once a second in the console; tests look at once."""
    old = common.SCAN_INTERVAL_S["value"]
    common.SCAN_INTERVAL_S["value"] = 0.0
    yield
    common.SCAN_INTERVAL_S["value"] = old


@pytest.fixture
def store() -> StateStore:
    s = StateStore()
    s.set_session(session(Role.OPERATOR))
    return s


@pytest.fixture
def city_store() -> StateStore:
    return fill_store(StateStore(), alerts=300)


@pytest.fixture
def sink() -> Iterator[RecordingSink]:
    s = RecordingSink()
    yield s
    s.close()


@pytest.fixture
def answer_confirm() -> Iterator[dict[str, Any]]:
    """Answers confirmation dialogs: set answer["yes"]; asked records the questions."""
    state: dict[str, Any] = {"yes": True, "asked": []}
    old = common.confirm_hook["fn"]

    def fake(_parent: Any, title: str, text: str) -> bool:
        state["asked"].append(text)
        return bool(state["yes"])
    common.confirm_hook["fn"] = fake
    yield state
    common.confirm_hook["fn"] = old


@pytest.fixture(autouse=True)
def _no_leaked_windows(qapp: Any) -> Iterator[None]:
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    qapp.processEvents()
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before and w.isVisible()]
    for w in leaked:
        w.close()
    assert not leaked, f"windows left open: {[type(w).__name__ for w in leaked]}"


def tick(qapp: Any, n: int = 1) -> None:
    """One refresh tick of the coalescing timer, then let Qt paint."""
    for _ in range(n):
        common.refresh_hub().tick.emit()
        qapp.processEvents()
