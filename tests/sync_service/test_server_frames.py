"""Every bad frame gets a typed error and the connection survives; oversize closes with 1009."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from sync_service.server import app
from tests.sync_service.server_helpers import Client, basic, bearer, cid, service


async def test_bad_frames_get_typed_errors_and_connection_survives(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc, Client.open(svc.url, "operator", hello=False) as c:
        # before hello: commands are not processed
        await c.send({"type": "command", "id": "early-cmd-1", "name": "focus.set", "args": {"incident_id": None}})
        f = await c.recv()
        assert (f["type"], f["code"], f["ref"]) == ("error", "not_ready", "early-cmd-1")
        await c.hello()
        cases = [
            ("not json {", "bad_frame", None),
            ("[1, 2, 3]", "bad_frame", None),
            ('"just a string"', "bad_frame", None),
            ("{}", "bad_frame", None),
            ('{"type": "teleport"}', "unknown_type", None),
            ('{"type": "hello", "v": 99}', "unsupported_version", None),
            ('{"type": "hello", "last_seq": "yesterday"}', "bad_frame", None),
            ('{"type": "hello"}', "bad_frame", None),  # a second hello
            ('{"type": "command", "id": "short", "name": "focus.set"}', "bad_frame", "short"),
            ('{"type": "command", "id": "cmd-wrongtype-1", "name": 42, "args": {}}', "bad_frame", "cmd-wrongtype-1"),
            ('{"type": "query", "id": "q1", "name": "devices.list", "args": []}', "bad_frame", "q1"),
        ]
        for raw, code, ref in cases:
            await c.send(raw)
            f = await c.recv()
            assert f["type"] == "error", raw
            assert f["code"] == code, (raw, f)
            assert f["ref"] == ref, (raw, f)
            assert f["message"]
        # command/query level: results with typed errors
        r = await c.command("alien.invade", {})
        assert r["type"] == "result"
        assert not r["ok"]
        assert r["error"]["code"] == "unknown_command"
        r = await c.query("secrets.all", {})
        assert not r["ok"]
        assert r["error"]["code"] == "unknown_query"
        r = await c.command("incident.update", {"incident_id": 987654})
        assert r["error"]["code"] == "not_found"
        r = await c.command("task.decide", {"task_id": 1, "approve": True})
        assert r["error"]["code"] == "forbidden"  # operators do not decide
        r = await c.command("focus.set", {"incident_id": "seven"})
        assert r["error"]["code"] == "bad_args"
        r = await c.command("focus.set", {"incident_id": None, "extra": 1})
        assert r["error"]["code"] == "bad_args"
        r = await c.query("device.get", {"device_id": "no-such-device"})
        assert r["error"]["code"] == "not_found"
        r = await c.query("devices.list", {"limit": 10**9})
        assert r["error"]["code"] == "bad_args"
        # still alive: a good command works
        r = await c.command("focus.set", {"incident_id": None})
        assert r["ok"]
        assert r["seq"] >= 1
        await c.send({"type": "ping", "t": 12.5})
        f = await c.until(lambda f: f["type"] == "pong")
        assert f["t"] == 12.5
        assert svc.server.bad_frames >= len(cases) - 1


async def test_oversized_frame_closes_with_1009(sqlite_url: str) -> None:
    async with service(sqlite_url, max_frame_bytes=64 * 1024) as svc, Client.open(svc.url) as c:
        big = orjson.dumps({"type": "command", "id": cid(), "name": "focus.set",
                            "args": {"incident_id": None, "pad": "x" * 100_000}}).decode()
        await c.send(big)
        assert await c.closed_code() == 1009
        # the service is unharmed: others connect
        async with Client.open(svc.url) as c2:
            assert c2.welcome["mode"] == "snapshot"


async def test_rate_limit_refuses_excess_and_closes_a_flood(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "FLOOD_COOLDOWN_S", 1.0)
    async with service(sqlite_url, rate_per_s=5.0, rate_burst=10) as svc, Client.open(svc.url) as c:
        token = c.welcome["session"]
        for i in range(30):
            await c.send({"type": "ping", "t": i})
        got = [await c.recv() for _ in range(30)]
        kinds = [f["type"] if f["type"] == "pong" else f["code"] for f in got if f["type"] != "heartbeat"]
        assert kinds.count("pong") <= 12  # burst (+ refill during the send)
        assert kinds.count("rate_limited") >= 18
        # a flood far beyond the limit is cut off with 1008 (policy violation)
        with contextlib.suppress(ConnectionClosed):
            for i in range(2000):
                await c.send({"type": "ping", "t": i})
        assert await c.closed_code() == 1008
        assert svc.server.flood_disconnects == 1
        async with Client.open(svc.url, "duty") as other:  # others are unaffected
            assert other.welcome["user"] == "duty"
        # the flooder coming straight back - with its password or its token - is refused before
        # any check (no scrypt, no snapshot) for the cool-down, then admitted again
        for hdrs in ([basic("operator")], [bearer(token)]):
            with pytest.raises(InvalidStatus) as refused:
                async with Client.open(svc.url, headers=hdrs):
                    pass
            assert refused.value.response.status_code == 429
            assert refused.value.response.headers["Retry-After"] == "1"
        assert svc.server.flood_refused == 2
        logins = svc.server.logins
        await asyncio.sleep(1.1)
        async with Client.open(svc.url, headers=[bearer(token)]) as back:
            assert back.welcome["user"] == "operator"
        assert svc.server.logins == logins + 1


async def test_flood_cooldown_doubles_for_a_repeat_flooder(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "FLOOD_COOLDOWN_S", 1.0)
    async with service(sqlite_url, rate_per_s=5.0, rate_burst=10) as svc:
        retry_after = []
        for strike in range(3):
            while True:  # come back as soon as let in
                try:
                    async with Client.open(svc.url, "leader") as c:
                        with contextlib.suppress(ConnectionClosed):
                            for i in range(2000):
                                await c.send({"type": "ping", "t": i})
                        assert await c.closed_code() == 1008
                        break
                except InvalidStatus:
                    await asyncio.sleep(0.1)
            assert svc.server.flood_disconnects == strike + 1
            with pytest.raises(InvalidStatus) as refused:
                async with Client.open(svc.url, "leader", hello=False):
                    pass
            retry_after.append(refused.value.response.headers["Retry-After"])
        assert retry_after == ["1", "2", "4"]
