from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import fresh_pg_database, require_mqtt


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
