"""tests/services.py itself: the PostgreSQL admin DSN keeps everything IOC_TEST_PG_URL says."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

from tests.services import admin_dsn


def test_admin_dsn_keeps_the_password() -> None:
    got = conninfo_to_dict(admin_dsn(make_url("postgresql://ioc:s3cr%40t%20pw@db.local:6543/ioc_admin")))
    assert got == {"host": "db.local", "port": "6543", "user": "ioc", "password": "s3cr@t pw", "dbname": "ioc_admin"}


def test_admin_dsn_defaults_without_password() -> None:
    got = conninfo_to_dict(admin_dsn(make_url("postgresql://127.0.0.1/")))
    assert got == {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": "postgres"}
