"""Passwords, session tokens and the handshake's 401/403 answers (real server, port 0)."""

from __future__ import annotations

import asyncio
import base64

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from sync_service import auth
from sync_service.db.models import AuditEntry, CommandRecord, User
from tests.sync_service.server_helpers import ADMIN_PASSWORD, Client, basic, bearer, cid, service


def test_scrypt_hash_roundtrip_and_salt() -> None:
    h1 = auth.hash_password("correct horse", n=2**10)
    h2 = auth.hash_password("correct horse", n=2**10)
    assert h1 != h2  # per-user salt
    assert h1.startswith("scrypt$1024$8$1$")
    assert auth.verify_password("correct horse", h1)
    assert not auth.verify_password("correct hors", h1)
    assert not auth.verify_password("x", "garbage")
    assert not auth.verify_password("x", "md5$1$2$3$00$00")


def test_parse_basic_rejects_malformed() -> None:
    assert auth.parse_basic("dTpw") == ("u", "p")
    for bad in ("!!!", "bm9jb2xvbg==", ""):  # not base64 / no colon / empty
        with pytest.raises(auth.AuthFailed):
            auth.parse_basic(bad)


async def _status(url: str, headers: list[tuple[str, str]], **kw: object) -> int:
    try:
        async with connect(url, additional_headers=headers, proxy=None, **kw):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def test_handshake_auth_basic_bearer_query_and_failures(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        url = svc.url
        assert await _status(url, []) == 401
        assert await _status(url, [basic("operator", "wrong-password")]) == 401
        assert await _status(url, [basic("nobody", "whatever-pw")]) == 401
        assert await _status(url, [("Authorization", "Basic !!notbase64")]) == 401
        assert await _status(url, [("Authorization", "Digest abc")]) == 401
        assert await _status(url, [bearer("forged-" + "x" * 40)]) == 401
        async with Client.open(url, "leader") as c:
            token = c.welcome["session"]
            assert c.welcome["role"] == "leader"
            assert c.welcome["user"] == "leader"
            assert "task.decide" in c.welcome["permissions"]
        # the session token works without the password, in the header or the query string
        async with Client.open(url, headers=[bearer(token)]) as c2:
            assert c2.welcome["user"] == "leader"
            assert c2.welcome["session"] == token
        async with Client.open(f"{url}/?token={token}", headers=[]) as c3:
            assert c3.welcome["user"] == "leader"
        # an admin-created user can log in; its password is never stored in the command table
        async with Client.open(url, "admin", ADMIN_PASSWORD) as adm:
            r = await adm.command("user.create", {"username": "newbie", "password": "long-enough-pw",
                                                  "role": "operator"})
            assert r["ok"], r
        assert await _status(url, [basic("newbie", "long-enough-pw")]) == 101

        def check(s):  # noqa: ANN001, ANN202
            fails = s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.failed")).all()
            logins = s.scalars(select(AuditEntry).where(AuditEntry.action == "login")).all()
            rec = s.scalar(select(CommandRecord).where(CommandRecord.name == "user.create"))
            user = s.scalar(select(User).where(User.username == "newbie"))
            return len(fails), len(logins), rec.args["password"], user.password_hash
        await asyncio.sleep(0.3)  # failure audits are written in the background
        n_fail, n_login, stored_pw, pw_hash = await svc.ctx.db.read(check)
        assert n_fail == 6
        assert n_login >= 5
        assert stored_pw == "***"
        assert pw_hash.startswith("scrypt$")
        assert "long-enough-pw" not in pw_hash


async def test_logout_revokes_token_and_closes_socket(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        async with Client.open(svc.url, "duty") as c:
            token = c.welcome["session"]
            async with Client.open(svc.url, headers=[bearer(token)]) as twin:
                await c.send({"type": "logout"})
                await c.ws.wait_closed()
                assert c.ws.close_code == 1000
                await twin.ws.wait_closed()  # the same session elsewhere ends too
                assert twin.ws.close_code == 4001
        assert await _status(svc.url, [bearer(token)]) == 401


async def test_origin_allow_list(sqlite_url: str) -> None:
    async with service(sqlite_url, origins=["", "https://wall.ioc.local"]) as svc:
        hdr = [basic("operator")]
        assert await _status(svc.url, hdr) == 101  # desktop client: no Origin header
        assert await _status(svc.url, hdr, origin="https://wall.ioc.local") == 101
        assert await _status(svc.url, hdr, origin="https://evil.example") == 403
        async with Client.open(svc.url, "operator") as c:
            r = await c.command("focus.set", {"incident_id": None}, id=cid())
            assert r["ok"]


async def test_password_guessing_is_throttled(sqlite_url: str) -> None:
    from sync_service.server import app

    async with service(sqlite_url) as svc:
        for _ in range(app.FAIL_LIMIT):
            assert await _status(svc.url, [basic("leader", "guess-guess")]) == 401
        # now even the right password waits: no scrypt, no audit row per attempt
        assert await _status(svc.url, [basic("leader")]) == 429
        assert svc.server.throttled == 1
        svc.server._failures.clear()  # the minute has passed
        assert await _status(svc.url, [basic("leader")]) == 101


async def test_permessage_deflate_offer_gets_no_compression(sqlite_url: str) -> None:
    """The server runs with compression=None (server/app.py): a client offering permessage-deflate
    (what browsers and websockets' own client do by default) gets an uncompressed connection."""
    async with service(sqlite_url) as svc:
        async with connect(svc.url, additional_headers=[basic("operator")], compression="deflate",
                           proxy=None) as ws:
            offered = ws.request.headers.get("Sec-WebSocket-Extensions", "")
            assert "permessage-deflate" in offered
            assert ws.response.status_code == 101
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
            assert ws.protocol.extensions == []
            await ws.send('{"v": 1, "type": "hello", "client": "deflate-test", "last_seq": null}')
            assert '"welcome"' in await asyncio.wait_for(ws.recv(), 10)
        # the same offer on a raw socket, every parameter a client may ask for
        host, port = "127.0.0.1", svc.ws_port
        reader, writer = await asyncio.open_connection(host, port)
        hdr = basic("operator")
        writer.write((f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {base64.b64encode(b'0123456789abcdef').decode()}\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; "
                      "server_max_window_bits=10, permessage-deflate\r\n"
                      f"{hdr[0]}: {hdr[1]}\r\n\r\n").encode())
        await writer.drain()
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode("latin-1").lower()
        writer.close()
        assert head.startswith("http/1.1 101")
        assert "sec-websocket-extensions" not in head
