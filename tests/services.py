"""Access to the real external services tests use (PostgreSQL, MQTT).

A missing service is a failure, never a silent skip. A developer who knowingly has no
PostgreSQL or MQTT broker may set IOC_TEST_SKIP_SERVICES=1 to skip those tests with the
reason shown; in CI (CI=true) that setting is ignored.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

PG_ADMIN_URL = os.environ.get("IOC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MQTT_HOST = os.environ.get("IOC_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("IOC_TEST_MQTT_PORT", "1883"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    msg = f"{name} is not reachable at {host}:{port}"
    if in_ci() or os.environ.get("IOC_TEST_SKIP_SERVICES") != "1":
        pytest.fail(msg + " (a missing service is a failure; IOC_TEST_SKIP_SERVICES=1 skips it outside CI)",
                    pytrace=False)
    pytest.skip(msg + " (IOC_TEST_SKIP_SERVICES=1)")


def _pg_host_port() -> tuple[str, int]:
    from sqlalchemy.engine import make_url

    u = make_url(PG_ADMIN_URL)
    return u.host or "127.0.0.1", u.port or 5432


def admin_dsn(url: URL) -> str:
    """libpq conninfo for the admin URL: user AND password (a server without trust auth needs
    it), quoted by psycopg."""
    from psycopg.conninfo import make_conninfo

    host, port = url.host or "127.0.0.1", url.port or 5432
    parts: dict[str, str | int] = {"host": host, "port": port, "user": url.username or "postgres",
                                   "dbname": url.database or "postgres"}
    if url.password:
        parts["password"] = str(url.password)
    return make_conninfo(**parts)


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new empty PostgreSQL database for one test (dropped after). Yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    host, port = _pg_host_port()
    require_service("PostgreSQL", host, port)
    admin = make_url(PG_ADMIN_URL)
    name = f"ioc_test_{uuid.uuid4().hex[:12]}"
    dsn = admin_dsn(admin)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_mqtt() -> tuple[str, int]:
    require_service("MQTT broker", MQTT_HOST, MQTT_PORT)
    return MQTT_HOST, MQTT_PORT
