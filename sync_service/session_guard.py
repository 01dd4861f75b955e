"""Live websocket sessions end when their session token does.

A session token is checked at the handshake only; afterwards the connection lives on its own.
When an administrator disables an account, changes its role or scope or resets its password
(sync_service/commands/users.py), the account's tokens are revoked in the store and:
- this process closes the affected connections at once, after the command commits
  (`close_sessions`, run as an after-commit step);
- every process (several may serve one PostgreSQL store) runs a SessionGuard that checks its
  live connections' tokens every GUARD_S and closes those revoked or of a disabled account, so
  a change made through another process (or a logout of the same token there) ends them too.

Closing uses code 4001 ("session ended": the console drops its token and logs in again with
its kept password, or asks for one) and a short ASCII reason (a close reason is at most 123
bytes). Token expiry does not close a live connection: a wall console stays up for days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_service.context import ServiceContext
from sync_service.db.models import SessionToken, User
from sync_service.server.session import CLOSE_SESSION_ENDED

log = logging.getLogger(__name__)
GUARD_S = 2.0
CHUNK = 500  # token hashes per query
REASON_DISABLED = "account disabled by an administrator"
REASON_REVOKED = "session ended (logged out or changed by an administrator): log in again"


def close_sessions(services: dict[str, Any], token_hashes: Iterable[str], reason: str) -> int:
    """Close this process's live connections of these tokens (call on the event loop)."""
    server = services.get("server")
    wanted = set(token_hashes)
    if server is None or not wanted:
        return 0
    n = 0
    for sess in list(server.sessions):
        if sess.login.token_hash in wanted and sess.state != "closing":
            sess.close(CLOSE_SESSION_ENDED, reason)
            n += 1
    if n:
        log.info("closed %d live session(s): %s", n, reason)
    return n


def ended_tokens(s: Session, token_hashes: list[str]) -> dict[str, str]:
    """token hash -> close reason, for the tokens among these that no longer hold."""
    dead: dict[str, str] = {}
    for i in range(0, len(token_hashes), CHUNK):
        chunk = token_hashes[i:i + CHUNK]
        found: set[str] = set()
        rows = s.execute(select(SessionToken.token_hash, SessionToken.revoked, User.disabled)
                         .join(User, User.id == SessionToken.user_id)
                         .where(SessionToken.token_hash.in_(chunk)))
        for th, revoked, disabled in rows:
            found.add(th)
            if disabled:
                dead[th] = REASON_DISABLED
            elif revoked:
                dead[th] = REASON_REVOKED
        for th in chunk:
            if th not in found:  # the token (or its user) is gone from the store
                dead[th] = REASON_REVOKED
    return dead


class SessionGuard:
    """Component: every interval_s, closes live connections whose token has ended."""

    def __init__(self, ctx: ServiceContext, server: Any, interval_s: float = GUARD_S) -> None:
        self.ctx = ctx
        self.server = server
        self.interval_s = interval_s
        self.closed = 0  # connections closed by the guard (tests, metrics)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.ctx.components["session_guard"] = self
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="session-guard")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def check(self) -> int:
        live = sorted({sess.login.token_hash for sess in self.server.sessions if sess.state != "closing"})
        if not live:
            return 0
        dead = await self.ctx.db.read(lambda s: ended_tokens(s, live))
        n = 0
        for reason in set(dead.values()):
            n += close_sessions({"server": self.server}, [th for th, r in dead.items() if r == reason], reason)
        self.closed += n
        return n

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.check()
            except Exception:
                log.exception("checking live sessions failed")
