"""The outbox: every command is written here before it is sent, removed when answered.

So a command survives a dropped connection, a service restart and a console restart, and is
sent again with the SAME id: the service applies each id once and answers a repeat with the
stored result, so a command whose first attempt did arrive is not applied twice.
Rows keep their insertion order; they are replayed in that order.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from backend_client import localdb


@dataclass(frozen=True)
class OutboxItem:
    id: str
    name: str
    args: dict[str, Any]
    created_ts: float
    attempts: int = 0


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection = localdb.connect(path)

    def add(self, command_id: str, name: str, args: dict[str, Any], ts: float | None = None) -> OutboxItem:
        item = OutboxItem(command_id, name, args, time.time() if ts is None else ts)
        self._conn.execute(
            "INSERT OR IGNORE INTO outbox(id, name, args, created_ts) VALUES (?, ?, ?, ?)",
            (item.id, item.name, orjson.dumps(item.args), item.created_ts),
        )
        return item

    def pending(self, limit: int | None = None) -> list[OutboxItem]:
        """Oldest first; `limit` keeps a long offline backlog from being read whole per send."""
        rows = self._conn.execute(
            "SELECT id, name, args, created_ts, attempts FROM outbox ORDER BY pos LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        return [OutboxItem(r[0], r[1], orjson.loads(r[2]), r[3], r[4]) for r in rows]

    def contains(self, command_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM outbox WHERE id = ?", (command_id,)).fetchone() is not None

    def mark_sent(self, command_id: str) -> None:
        self._conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (command_id,))

    def remove(self, command_id: str) -> bool:
        cur = self._conn.execute("DELETE FROM outbox WHERE id = ?", (command_id,))
        return cur.rowcount > 0

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._conn.close()
