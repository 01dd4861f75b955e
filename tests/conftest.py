from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import gc_policy
from tests.services import fresh_pg_database, require_mqtt

FULL_COLLECTION_EVERY = 25  # tests; between them only young and middle generations otherwise


def pytest_configure(config: Any) -> None:
    # as in the console (app.gc_policy): a worker thread of one test must never collect a cycle
    # holding an earlier test's Qt objects (their destructors off the Qt thread crash later)
    gc_policy.collect_on_this_thread_only()


_state: dict[str, Any] = {"tests": 0, "collector": None}


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread() -> Iterator[None]:
    if _state["collector"] is None:
        from PySide6.QtCore import QCoreApplication
        if QCoreApplication.instance() is not None:  # while a test runs a Qt loop, as the console
            from views.gc_tuning import MainThreadCollector
            _state["collector"] = MainThreadCollector()
    yield
    _state["tests"] += 1
    if _state["tests"] % FULL_COLLECTION_EVERY == 0:
        gc.collect()
    else:
        gc.collect(1)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ioc.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    return require_mqtt()
