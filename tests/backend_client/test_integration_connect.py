"""ConsoleClient against the real sync service (in-process, port 0, temporary SQLite)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from app.commandbus import CommandResult
from app.store import Connection, StateStore
from backend_client.client import ConsoleClient
from tests.backend_client.helpers import FAST, wait_for
from tests.backend_client.service import PASSWORD, running_service, sql


def _raise_args(title: str) -> dict[str, Any]:
    return {"level": 3, "domain": "fire", "title": title, "town": "nancheng"}


async def test_connect_snapshot_command_and_query(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path))
        client.login("operator", PASSWORD)
        try:
            await wait_for(lambda: store.connection == Connection.ONLINE, what="online")
            assert len(store.towns) >= 34  # the 32 towns/streets plus Songshan Lake, Binhaiwan
            assert store.session.role == "operator"
            assert store.can("alert.ack")
            assert client.creds is not None
            assert client.creds.token  # the Welcome's session token, for reconnects

            res = await client.send("alert.raise", _raise_args("南城 电话报警 1"))
            assert res.ok, res
            assert not res.queued
            aid = res.data["alert_id"]  # type: ignore[index]
            await wait_for(lambda: aid in store.alerts, what="the alert event")
            assert store.alerts[aid].title == "南城 电话报警 1"

            refused = await client.send("alert.ack", {"alert_id": 999_999})
            assert not refused.ok
            assert refused.error_code == "not_found"  # a typed refusal, not an exception

            q = await client.query("alerts.history", {"limit": 10})
            assert q.ok, q
            assert q.error_code is None
            assert len(client.dispatcher.outbox) == 0  # type: ignore[union-attr]
        finally:
            await client.stop()
            client.close()


async def test_bad_password_is_reported_once_not_retried(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path))
        failures: list[str] = []
        client.login_failed.connect(lambda code, msg: failures.append(code))
        client.login("operator", "wrong-password")
        await wait_for(lambda: bool(failures), what="login failure")
        await asyncio.sleep(0.5)  # several backoff periods: no retry loop against the service
        assert failures == ["bad_credentials"]
        assert svc.server is not None
        assert svc.server.auth_failures == 1
        assert store.connection == Connection.OFFLINE
        # the user types the right password: it connects
        client.login("operator", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE, what="online after retyping")
        await client.stop()
        client.close()


def _revoke_all_sessions(db_url: str) -> None:
    eng = create_engine(db_url)
    with eng.begin() as c:
        c.execute(text("UPDATE session_tokens SET revoked = 1"))
    eng.dispose()


def _drop_connections(svc: Any) -> None:
    for sess in list(svc.server.sessions):
        sess.close(1012, "service restart")


async def test_rejected_token_falls_back_to_password(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path))
        client.login("duty", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE)
        first_token = client.creds.token  # type: ignore[union-attr]
        _revoke_all_sessions(sqlite_url)
        _drop_connections(svc)
        await wait_for(lambda: client.connects == 2, what="reconnect")
        assert store.connection == Connection.ONLINE
        assert client.creds.token != first_token  # type: ignore[union-attr]
        assert client.last_error is None
        # the first reconnect tried the token (401), then the password at once
        assert svc.server.auth_failures == 1  # type: ignore[union-attr]
        await client.stop()
        client.close()


async def test_rejected_token_without_password_asks_for_login(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        first = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path))
        first.login("duty", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE)
        token = first.creds.token  # type: ignore[union-attr]
        await first.stop()
        first.close()
        _revoke_all_sessions(sqlite_url)

        store2 = StateStore()
        client = ConsoleClient(svc.url, store2, timings=FAST, local_dir=str(tmp_path))
        failures: list[str] = []
        client.login_failed.connect(lambda code, msg: failures.append(code))
        client.resume_with_token("duty", token or "")
        await wait_for(lambda: bool(failures), what="login needed")
        assert failures == ["login_needed"]
        await client.stop()
        client.close()


async def test_logout_ends_the_session_on_the_service(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path))
        client.login("leader", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE)
        await client.logout()
        assert client.creds is not None
        assert client.creds.header() is None  # password and token forgotten
        assert store.connection == Connection.OFFLINE
        await wait_for(lambda: not svc.server.sessions, what="service closed the socket")  # type: ignore[union-attr]
        revoked = sql(sqlite_url, "SELECT COUNT(*) FROM session_tokens WHERE revoked = 1")[0][0]
        assert revoked == 1
        res: CommandResult = await client.send("alert.ack", {"alert_id": 1})
        assert res.queued  # the outbox survives a logout; sent at the next login of this user
        client.close()


async def test_origin_refused_is_reported_not_retried(sqlite_url: str, tmp_path: Path) -> None:
    async with running_service(sqlite_url, origins=["https://ioc.example"]) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path),
                               origin="https://elsewhere.example")
        failures: list[tuple[str, str]] = []
        client.login_failed.connect(lambda code, msg: failures.append((code, msg)))
        client.login("operator", PASSWORD)
        await wait_for(lambda: bool(failures))
        await asyncio.sleep(0.3)
        assert [f[0] for f in failures] == ["forbidden"]
        assert "origin" in failures[0][1]
        await client.stop()
        client.close()


async def test_session_ended_by_the_service_logs_in_again_or_asks(sqlite_url: str, tmp_path: Path) -> None:
    """Close code 4001 (session ended on the service): with the password in memory the console
    logs in again by itself; holding only a token, it asks the user."""
    async with running_service(sqlite_url) as svc:
        store = StateStore()
        client = ConsoleClient(svc.url, store, timings=FAST, local_dir=str(tmp_path / "a"))
        client.login("duty", PASSWORD)
        await wait_for(lambda: store.connection == Connection.ONLINE)
        token = client.creds.token  # type: ignore[union-attr]
        for sess in list(svc.server.sessions):  # type: ignore[union-attr]
            sess.close(4001, "session ended")
        await wait_for(lambda: client.connects == 2 and store.connection == Connection.ONLINE,
                       what="logged in again with the password")
        assert client.creds.token != token  # type: ignore[union-attr]
        await client.stop()
        client.close()

        store2 = StateStore()
        only_token = ConsoleClient(svc.url, store2, timings=FAST, local_dir=str(tmp_path / "b"))
        failures: list[str] = []
        only_token.login_failed.connect(lambda code, msg: failures.append(code))
        only_token.resume_with_token("duty", client.creds.token or "")  # type: ignore[union-attr]
        await wait_for(lambda: store2.connection == Connection.ONLINE)
        for sess in list(svc.server.sessions):  # type: ignore[union-attr]
            sess.close(4001, "session ended")
        await wait_for(lambda: bool(failures), what="login needed")
        assert failures == ["login_needed"]
        await only_token.stop()
        only_token.close()
