"""The offline cache: the store's last known state, so a laptop opens without the service.

`store.dump()` is taken on the event-loop thread (the store is only touched there); encoding,
compression and the SQLite write run in a worker thread so a large state does not stall the UI.
The session (user, role, permissions) is kept beside it so the offline console still knows who
is logged in and what they may queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from app.store import PreparedState, SessionInfo, StateStore, prepare_state
from backend_client import localdb

log = logging.getLogger(__name__)

_STATE_KEY = "state"
_SESSION_KEY = "session"


@dataclass(frozen=True)
class CachedState:
    state: dict[str, Any]
    session: SessionInfo | None
    seq: int
    saved_ts: float


def session_to_json(info: SessionInfo) -> dict[str, Any]:
    return {"user": info.user, "display_name": info.display_name, "role": info.role,
            "domains": info.domains, "permissions": sorted(info.permissions),
            "server_id": info.server_id}


def session_from_json(d: dict[str, Any]) -> SessionInfo:
    return SessionInfo(user=d.get("user", ""), display_name=d.get("display_name", ""),
                       role=d.get("role", ""), domains=d.get("domains"),
                       permissions=frozenset(d.get("permissions", ())),
                       server_id=d.get("server_id", ""))


class OfflineCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        localdb.connect(path).close()  # create the schema now: errors surface at start
        self.saves = 0

    # ---- write ---------------------------------------------------------------------------
    def _write(self, blobs: list[tuple[str, bytes, int]], saved_ts: float) -> None:
        conn = localdb.connect(self.path)
        try:
            conn.execute("BEGIN")
            conn.executemany("INSERT OR REPLACE INTO cache(key, data, seq, saved_ts) VALUES (?, ?, ?, ?)",
                             [(k, b, s, saved_ts) for k, b, s in blobs])
            conn.execute("COMMIT")
        finally:
            conn.close()

    @staticmethod
    def _encode(state: dict[str, Any], session: SessionInfo) -> list[tuple[str, bytes, int]]:
        seq = int(state.get("seq", 0))
        return [(_STATE_KEY, zlib.compress(orjson.dumps(state), 1), seq),
                (_SESSION_KEY, orjson.dumps(session_to_json(session)), seq)]

    def save_sync(self, store: StateStore) -> None:
        """Blocking save (clean exit, tests)."""
        self._write(self._encode(store.dump(), store.session), time.time())
        self.saves += 1

    async def save(self, store: StateStore) -> None:
        state = store.dump()  # on the loop thread: a consistent copy of plain data
        session = store.session

        def work() -> None:
            self._write(self._encode(state, session), time.time())

        await asyncio.to_thread(work)
        self.saves += 1

    # ---- read ----------------------------------------------------------------------------
    def read(self) -> CachedState | None:
        conn = localdb.connect(self.path)
        try:
            rows = {k: (d, s, t) for k, d, s, t in
                    conn.execute("SELECT key, data, seq, saved_ts FROM cache").fetchall()}
        finally:
            conn.close()
        if _STATE_KEY not in rows:
            return None
        data, seq, saved_ts = rows[_STATE_KEY]
        try:
            state = orjson.loads(zlib.decompress(data))
            session = session_from_json(orjson.loads(rows[_SESSION_KEY][0])) if _SESSION_KEY in rows else None
        except (zlib.error, orjson.JSONDecodeError) as exc:
            # a damaged cache is only a missed convenience: start empty, never crash
            log.warning("offline cache %s unreadable (%s); ignoring it", self.path, exc)
            return None
        return CachedState(state=state, session=session, seq=int(seq), saved_ts=float(saved_ts))

    def read_prepared(self) -> tuple[CachedState, PreparedState] | None:
        """read() and the validation of every item (seconds for a big city): for a worker
        thread. install() then applies it on the store's thread."""
        cached = self.read()
        if cached is None:
            return None
        try:
            return cached, prepare_state(cached.state)
        except Exception as exc:  # a cache from an older console whose models changed
            log.warning("offline cache %s does not load (%s); ignoring it", self.path, exc)
            return None

    @staticmethod
    def install(store: StateStore, got: tuple[CachedState, PreparedState]) -> CachedState:
        cached, prepared = got
        store.install(prepared)
        if cached.session is not None:
            store.set_session(cached.session)
        return cached

    def load_into(self, store: StateStore) -> CachedState | None:
        """Read and apply at once (tests, tools; the client reads in a worker thread)."""
        got = self.read_prepared()
        return None if got is None else self.install(store, got)

    # ---- who may open it offline (see backend_client.auth) -------------------------------------
    def get_meta(self, key: str) -> str | None:
        conn = localdb.connect(self.path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        conn = localdb.connect(self.path)
        try:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
        finally:
            conn.close()

    def clear(self) -> None:
        conn = localdb.connect(self.path)
        try:
            conn.execute("DELETE FROM cache")
        finally:
            conn.close()
