"""User administration over the real websocket server: disable/enable, role and scope, password
reset and change, the guard rails, exactly-once, and live sessions ending when their token does
(in this process at once, through another process via the session guard)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from sync_service.db.models import AuditEntry, CommandRecord, SessionToken, User
from tests.sync_service.server_helpers import ADMIN_PASSWORD, Client, basic, bearer, cid, service


async def _status(url: str, headers: list[tuple[str, str]]) -> int:
    try:
        async with connect(url, additional_headers=headers, proxy=None):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def _alive(c: Client) -> bool:
    await c.send({"type": "ping", "t": 42.0})
    f = await c.until(lambda f: f["type"] == "pong")
    return f["t"] == 42.0


def _code(r: dict[str, Any]) -> str | None:
    assert r["type"] == "result", r
    return None if r["ok"] else r["error"]["code"]


async def test_non_admin_is_refused_with_a_typed_error(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "operator") as op:
        assert "user.change_password" in op.welcome["permissions"]
        assert not {"user.disable", "user.set_role", "bureau_key.create"} & set(op.welcome["permissions"])
        for name, args in [("user.disable", {"username": "duty"}), ("user.enable", {"username": "duty"}),
                           ("user.set_role", {"username": "duty", "role": "admin"}),
                           ("user.reset_password", {"username": "duty", "new_password": "taken-over-1"}),
                           ("user.create", {"username": "mole", "password": "mole-pass-1", "role": "admin"}),
                           ("bureau_key.create", {"domain": "water", "name": "mine"}),
                           ("bureau_key.revoke", {"credential_id": 1})]:
            r = await op.command(name, args)
            assert _code(r) == "forbidden", (name, r)
            assert "may not send" in r["error"]["message"]
        for q in ("users.list", "bureau_keys.list"):
            r = await op.query(q, {})
            assert _code(r) == "forbidden", (q, r)
        # nothing happened: duty can still log in with the demo password
        assert await _status(svc.url, [basic("duty")]) == 101


async def test_disable_closes_live_sessions_and_refuses_login_until_enabled(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as adm:
        url = svc.url
        await svc.ctx.components["session_guard"].stop()  # this process closes them itself, at once
        assert (await adm.command("user.create", {"username": "zhang", "password": "first-pass-1",
                                                  "role": "operator"}))["ok"]
        async with Client.open(url, "zhang", "first-pass-1") as z1, Client.open(url, "zhang", "first-pass-1") as z2:
            token = z1.welcome["session"]
            r = await adm.command("user.disable", {"username": "zhang", "reason": "left the IOC"})
            assert r["ok"], r
            assert r["data"] == {"username": "zhang", "disabled": True, "sessions_ended": 2}
            for z in (z1, z2):
                assert await z.closed_code(5.0) == 4001
                assert z.ws.close_reason == "account disabled by an administrator"
        assert await _status(url, [basic("zhang", "first-pass-1")]) == 401
        assert await _status(url, [bearer(token)]) == 401
        assert _code(await adm.command("user.disable", {"username": "zhang"})) == "conflict"  # already
        assert _code(await adm.command("user.disable", {"username": "nobody"})) == "not_found"
        r = await adm.command("user.enable", {"username": "zhang"})
        assert r["ok"]
        assert r["data"] == {"username": "zhang", "disabled": False}
        assert _code(await adm.command("user.enable", {"username": "zhang"})) == "conflict"
        assert await _status(url, [basic("zhang", "first-pass-1")]) == 101
        assert await _status(url, [bearer(token)]) == 401  # the old sessions stay ended

        def audit(s: Session) -> list[tuple[str, str, bool]]:
            return [(a.action, a.target, a.ok) for a in s.scalars(
                select(AuditEntry).where(AuditEntry.actor == "admin").order_by(AuditEntry.id))]
        rows = await svc.ctx.db.read(audit)
        assert ("user.disable", "username=zhang", True) in rows
        assert ("user.disable", "username=zhang", False) in rows  # the refusal is audited too
        assert ("user.enable", "username=zhang", True) in rows


async def test_role_and_scope_change_ends_sessions_and_applies_at_next_login(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as adm:
        url = svc.url
        assert (await adm.command("user.create", {"username": "li", "password": "li-pass-12",
                                                  "role": "operator"}))["ok"]
        for args, code in [({"role": "bureau_operator"}, "bad_args"),  # a bureau needs domains
                           ({"role": "bureau_operator", "domains": ["atlantis"]}, "bad_args"),
                           ({"role": "overlord"}, "bad_args")]:
            assert _code(await adm.command("user.set_role", {"username": "li", **args})) == code, args
        async with Client.open(url, "li", "li-pass-12") as li:
            assert li.welcome["domains"] is None
            r = await adm.command("user.set_role", {"username": "li", "role": "bureau_operator",
                                                    "domains": ["water", "fire", "water"]})
            assert r["ok"], r
            assert r["data"]["domains"] == ["fire", "water"]
            assert r["data"]["changed"] is True
            assert await li.closed_code(5.0) == 4001
            assert "role or domains changed" in (li.ws.close_reason or "")
        async with Client.open(url, "li", "li-pass-12") as li:
            assert (li.welcome["role"], li.welcome["domains"]) == ("bureau_operator", ["fire", "water"])
            assert "device.register" in li.welcome["permissions"]
            # the same role and scope again changes nothing and ends nothing
            r = await adm.command("user.set_role", {"username": "li", "role": "bureau_operator",
                                                    "domains": ["water", "fire"]})
            assert r["data"]["changed"] is False
            assert r["data"]["sessions_ended"] == 0
            assert await _alive(li)
        listed = await adm.query("users.list", {})
        assert listed["ok"]
        items = {u["username"]: u for u in listed["data"]["items"]}
        assert items["li"]["role"] == "bureau_operator"
        assert items["li"]["domains"] == ["fire", "water"]
        assert items["admin"]["active_sessions"] >= 1
        assert all("password" not in k for u in items.values() for k in u)


async def test_password_reset_and_own_change(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as adm:
        url = svc.url
        async with Client.open(url, "duty") as d:
            r = await adm.command("user.reset_password", {"username": "duty", "new_password": "reset-by-admin"})
            assert r["ok"]
            assert r["data"]["sessions_ended"] >= 1
            assert await d.closed_code(5.0) == 4001
            assert "password reset" in (d.ws.close_reason or "")
        assert await _status(url, [basic("duty")]) == 401
        assert _code(await adm.command("user.reset_password", {"username": "duty", "new_password": "short"})) == "bad_args"
        async with Client.open(url, "duty", "reset-by-admin") as d1, Client.open(url, "duty", "reset-by-admin") as d2:
            r = await d1.command("user.change_password", {"old_password": "not-it-at-all", "new_password": "mine-now-123"})
            assert _code(r) == "forbidden"
            assert "old password is wrong" in r["error"]["message"]
            r = await d1.command("user.change_password", {"old_password": "reset-by-admin",
                                                          "new_password": "reset-by-admin"})
            assert _code(r) == "bad_args"
            r = await d1.command("user.change_password", {"old_password": "reset-by-admin", "new_password": "mine-now-123"})
            assert r["ok"], r
            assert r["data"]["username"] == "duty"
            assert r["data"]["sessions_ended"] >= 1
            assert await d2.closed_code(5.0) == 4001  # the other session ends...
            assert await _alive(d1)  # ...the one it was sent on stays
        assert await _status(url, [basic("duty", "reset-by-admin")]) == 401
        assert await _status(url, [basic("duty", "mine-now-123")]) == 101
        # no password in the command table or the audit log, only scrypt hashes in users

        def stored(s: Session) -> tuple[list[dict], str]:
            recs = s.scalars(select(CommandRecord).where(CommandRecord.name.like("user.%password"))).all()
            return [r.args for r in recs], s.scalar(select(User.password_hash).where(User.username == "duty"))
        args, pw_hash = await svc.ctx.db.read(stored)
        assert args
        assert all(v == "***" for a in args for k, v in a.items() if "password" in k)
        assert pw_hash.startswith("scrypt$")
        assert "mine-now-123" not in pw_hash


async def test_wrong_old_passwords_are_throttled(sqlite_url: str) -> None:
    from sync_service.commands import users

    users.WRONG._seen.clear()
    async with service(sqlite_url) as svc, Client.open(svc.url, "leader") as c:
        for _ in range(users.WRONG_MAX):
            r = await c.command("user.change_password", {"old_password": "guess-guess", "new_password": "whatever-123"})
            assert "old password is wrong" in r["error"]["message"]
        # now even the right one is refused unchecked, until the window passes
        r = await c.command("user.change_password", {"old_password": "ioc-demo-2024", "new_password": "whatever-123"})
        assert _code(r) == "forbidden"
        assert "too many wrong passwords" in r["error"]["message"]
        users.WRONG._seen.clear()  # the window has passed
        r = await c.command("user.change_password", {"old_password": "ioc-demo-2024", "new_password": "whatever-123"})
        assert r["ok"], r


async def test_admin_guard_rails(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as adm:
        assert _code(await adm.command("user.disable", {"username": "admin"})) == "conflict"
        assert _code(await adm.command("user.set_role", {"username": "admin", "role": "operator"})) == "conflict"
        assert _code(await adm.command("user.reset_password", {"username": "admin",
                                                               "new_password": "new-admin-pw"})) == "conflict"
        assert (await adm.command("user.create", {"username": "admin2", "password": "second-admin",
                                                  "role": "admin"}))["ok"]
        async with Client.open(svc.url, "admin2", "second-admin") as a2:
            # with two admins one may demote the other...
            assert (await a2.command("user.set_role", {"username": "admin", "role": "leader"}))["ok"]
            # ...which leaves admin2 the last one: no way to demote or disable it remains
            assert _code(await a2.command("user.set_role", {"username": "admin2", "role": "leader"})) == "conflict"
            assert _code(await a2.command("user.disable", {"username": "admin2"})) == "conflict"
        assert await adm.closed_code(5.0) == 4001  # the demoted admin's own session ended


async def test_new_commands_are_applied_exactly_once(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "admin", ADMIN_PASSWORD) as adm:
        url = svc.url

        async def twice(c: Client, name: str, args: dict[str, Any]) -> tuple[dict, dict]:
            i = cid()
            first = await c.command(name, args, id=i)
            again = await c.command(name, args, id=i)
            assert again["duplicate"] is True
            assert first["duplicate"] is False
            assert again["ok"] == first["ok"]
            assert again["seq"] == first["seq"]
            return first, again

        for name, args in [("user.create", {"username": "wang", "password": "wang-pass-1", "role": "operator"}),
                           ("user.disable", {"username": "wang"}),
                           ("user.enable", {"username": "wang"}),
                           ("user.set_role", {"username": "wang", "role": "leader"})]:
            first, again = await twice(adm, name, args)
            assert first["ok"], (name, first)
            assert again["data"] == first["data"], (name, first, again)
        # a repeated reset does not reset again: the session opened after it survives the repeat
        i = cid()
        r = await adm.command("user.reset_password", {"username": "wang", "new_password": "wang-pass-2"}, id=i)
        assert r["ok"]
        async with Client.open(url, "wang", "wang-pass-2") as w:
            again = await adm.command("user.reset_password", {"username": "wang", "new_password": "wang-pass-2"}, id=i)
            assert again["duplicate"]
            assert again["data"] == r["data"]
            await asyncio.sleep(0.3)
            assert await _alive(w)
            # own change: the repeat answers the stored success although the old password has changed
            first, again = await twice(w, "user.change_password", {"old_password": "wang-pass-2",
                                                                   "new_password": "wang-pass-3"})
            assert first["ok"]
            assert again["data"] == first["data"]
            assert await _alive(w)
        first, again = await twice(adm, "bureau_key.create", {"domain": "water", "name": "sluice-gw"})
        assert first["ok"]
        assert len(first["data"]["key"]) == 48
        assert "key" not in again["data"]
        assert again["data"]["key_redacted"] is True
        assert {k: v for k, v in again["data"].items() if k != "key_redacted"} == \
               {k: v for k, v in first["data"].items() if k != "key"}
        kid = first["data"]["credential_id"]
        first, again = await twice(adm, "bureau_key.revoke", {"credential_id": kid})
        assert first["ok"]
        assert again["data"] == first["data"] == {"credential_id": kid, "domain": "water",
                                                                  "name": "sluice-gw", "revoked": True}
        assert _code(await adm.command("bureau_key.revoke", {"credential_id": kid})) == "conflict"  # a new id
        assert _code(await adm.command("bureau_key.revoke", {"credential_id": 99999})) == "not_found"
        assert _code(await adm.command("bureau_key.create", {"domain": "atlantis", "name": "x"})) == "not_found"
        listed = (await adm.query("bureau_keys.list", {"domain": "water"}))["data"]["items"]
        assert [(k["id"], k["name"], k["revoked"]) for k in listed] == [(kid, "sluice-gw", True)]
        assert all(set(k) == {"id", "domain", "name", "revoked", "created_ts"} for k in listed)


        def audited(s: Session) -> dict[str, int]:
            out: dict[str, int] = {}
            for a in s.scalars(select(AuditEntry).where(AuditEntry.actor.in_(["admin", "wang"]))):
                if a.detail.get("command_id"):
                    out[a.detail["command_id"]] = out.get(a.detail["command_id"], 0) + 1
            return out
        targets = await svc.ctx.db.read(lambda s: list(s.scalars(select(AuditEntry.target).where(
            AuditEntry.action == "bureau_key.revoke", AuditEntry.ok.is_(True)))))
        assert targets == [f"credential_id={kid}"]
        per_id = await svc.ctx.db.read(audited)
        assert len(per_id) >= 9
        assert set(per_id.values()) == {1}
        assert await svc.ctx.db.read(lambda s: s.scalar(select(User.role).where(User.username == "wang"))) == "leader"


async def test_sessions_end_when_changed_through_another_process(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        guard = svc.ctx.components["session_guard"]
        guard.interval_s = 0.2
        async with Client.open(svc.url, "leader") as leader, Client.open(svc.url, "duty") as duty, \
                Client.open(svc.url, "operator") as op:
            # another service process on the same store: plain SQL, no command, no event
            eng = create_engine(sqlite_url)
            with Session(eng) as s, s.begin():
                s.execute(update(User).where(User.username == "leader").values(disabled=True))
                duty_id = s.scalar(select(User.id).where(User.username == "duty"))
                s.execute(update(SessionToken).where(SessionToken.user_id == duty_id).values(revoked=True))
            eng.dispose()
            assert await leader.closed_code(5.0) == 4001
            assert leader.ws.close_reason == "account disabled by an administrator"
            assert await duty.closed_code(5.0) == 4001
            assert "log in again" in (duty.ws.close_reason or "")
            assert await _alive(op)  # everyone else carries on
        assert guard.closed >= 2
