"""Where the console keeps its local state: one SQLite file per service URL and user.

Holds the outbox (commands not yet answered) and the offline cache (the last known state).
One file per URL+user so a bureau operator's cache never opens for another account and an
outbox is only ever sent with the credentials of the user who queued it.
Location: IOC_CLIENT_DIR, else <user data dir>/ioc-console/client/ (platformdirs). A data dir,
not a cache dir: the outbox holds work the user expects to be sent.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from platformdirs import user_data_dir

APP_DIR_NAME = "ioc-console"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    args BLOB NOT NULL,
    created_ts REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    seq INTEGER NOT NULL,
    saved_ts REAL NOT NULL
);
"""


def client_dir() -> Path:
    env = os.environ.get("IOC_CLIENT_DIR")
    return Path(env) if env else Path(user_data_dir(APP_DIR_NAME, appauthor=False)) / "client"


def db_path(url: str, user: str, base: Path | None = None) -> Path:
    key = hashlib.sha256(f"{url}\n{user}".encode()).hexdigest()[:20]
    return (base or client_dir()) / f"{key}.sqlite"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) with WAL and full sync: an outbox row must survive a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(_SCHEMA)
    return conn


def init(path: Path, url: str, user: str) -> None:
    conn = connect(path)
    try:
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                         [("url", url), ("user", user), ("schema", "1")])
    finally:
        conn.close()
