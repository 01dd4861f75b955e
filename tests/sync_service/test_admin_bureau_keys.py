"""Bureau (level-2) ingest keys made and revoked by admin commands, through the real command path
(Dispatcher: exactly-once, audit, after-commit steps), checked at both doors: HTTP (aiohttp on a
free port) and MQTT (the real Mosquitto). A revoked key is refused, counted and audited, its
readings never stored; a revocation made by another process is picked up by the refresh."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import aiomqtt
import orjson
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from protocol.frames import Command
from sync_service.alerts.state import shared
from sync_service.commands import load_all
from sync_service.commands.dispatch import Dispatcher
from sync_service.commands.registry import Actor
from sync_service.db.models import AuditEntry, BureauCredential, CommandRecord, Reading
from tests.sync_service.ingest_support import Running, bureau_key, running, sha
from tests.sync_service.server_helpers import cid

ADMIN = Actor("admin", "admin", None)


async def _cmd(d: Dispatcher, name: str, args: dict[str, Any], actor: Actor = ADMIN, id: str | None = None) -> Any:
    return await d.command(actor, Command(id=id or cid(), name=name, args=args))


async def _post(r: Running, key: str, n: int, t0: float) -> tuple[int, dict]:
    body = {"readings": [{"device": "WL-1", "ts": t0 + i, "values": {"level": 2.0 + i / 10}} for i in range(n)]}
    url = f"http://127.0.0.1:{r.c['http'].port}/ingest/v1/readings"
    async with aiohttp.ClientSession() as http, http.post(
            url, data=orjson.dumps(body), headers={"Authorization": f"Bearer {key}"}) as resp:
        return resp.status, orjson.loads(await resp.read())


async def _publish(r: Running, broker: tuple[str, int], key: str, n: int, t0: float) -> None:
    batch = {"credential": key,
             "readings": [{"device": "WL-2", "ts": t0 + i, "values": {"level": 1.0 + i / 10}} for i in range(n)]}
    before = r.c["mqtt"].messages
    async with aiomqtt.Client(broker[0], broker[1], identifier=f"pub-{time.monotonic_ns()}") as c:
        await c.publish(f"{r.ctx.config.mqtt_prefix}/water/batch", orjson.dumps(batch), qos=1)
    deadline = time.monotonic() + 10
    while r.c["mqtt"].messages <= before:
        assert time.monotonic() < deadline, "the MQTT door did not get the message"
        await asyncio.sleep(0.02)


async def _stored(r: Running) -> int:
    await r.c["ingest"].flush()
    return int(await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) or 0)


def _mqtt(broker: tuple[str, int]) -> dict[str, Any]:
    return {"mqtt_enabled": True, "mqtt_host": broker[0], "mqtt_port": broker[1], "embedded_mqtt_fallback": False}


async def test_revoked_bureau_key_is_refused_at_both_doors(sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    load_all()
    async with running(sqlite_url, **_mqtt(mqtt_broker)) as r:
        d = Dispatcher(r.ctx)
        res = await _cmd(d, "bureau_key.create", {"domain": "water", "name": "sluice platform"})
        assert res.ok, res
        key, kid = res.data["key"], res.data["credential_id"]
        t0 = time.time() - 100
        # live at once, at both doors
        status, reply = await _post(r, key, 3, t0)
        assert (status, reply["accepted"]) == (200, 3)
        await _publish(r, mqtt_broker, key, 2, t0)
        assert await _stored(r) == 5
        # only the hash is kept, and the stored command result has no key
        row, rec = await r.ctx.db.read(lambda s: (s.get(BureauCredential, kid), s.get(CommandRecord, res.id)))
        assert row.key_hash == sha(key)
        assert key not in orjson.dumps(rec.result).decode()

        res = await _cmd(d, "bureau_key.revoke", {"credential_id": kid})
        assert res.ok, res
        assert res.data == {"credential_id": kid, "domain": "water", "name": "sluice platform", "revoked": True}
        notice = r.kinds("system.notice")[-1]
        assert notice.domain == "water"
        assert "revoked" in notice.data["text_en"]
        # refused from the next message on: counted, nothing stored
        status, reply = await _post(r, key, 3, t0 + 10)
        assert (status, reply["error"]) == (401, "auth_revoked")
        await _publish(r, mqtt_broker, key, 2, t0 + 10)
        assert await _stored(r) == 5
        assert r.c["ingest"].dq.snapshot()["total"].get("auth_revoked") == 5
        # ...and audited in aggregate, one row per door
        await r.settle()

        def refused(s: Session) -> dict[str, int]:
            return {a.target.split(":")[0]: a.detail["count"] for a in s.scalars(
                select(AuditEntry).where(AuditEntry.action == "ingest.refused")) if a.detail["reason"] == "auth_revoked"}
        assert await r.ctx.db.read(refused) == {"http": 3, "mqtt-batch": 2}
        # the other bureau keys are untouched
        status, reply = await _post(r, bureau_key("water"), 1, t0 + 20)
        assert (status, reply["accepted"]) == (200, 1)


async def test_revocation_by_another_process_is_picked_up_without_restart(
        sqlite_url: str, mqtt_broker: tuple[str, int]) -> None:
    async with running(sqlite_url, **_mqtt(mqtt_broker)) as r:
        key, t0 = bureau_key("water"), time.time() - 100
        assert (await _post(r, key, 1, t0))[0] == 200
        # another service process (or an operator's tool) revokes the key in the shared store
        eng = create_engine(sqlite_url)
        with Session(eng) as s, s.begin():
            s.execute(update(BureauCredential).where(BureauCredential.key_hash == sha(key)).values(revoked=True))
        eng.dispose()
        await shared(r.ctx).loader.refresh()  # what the periodic refresh (every 15 s) runs
        status, reply = await _post(r, key, 2, t0 + 1)
        assert (status, reply["error"]) == (401, "auth_revoked")
        await _publish(r, mqtt_broker, key, 2, t0 + 1)
        assert await _stored(r) == 1
        assert r.c["ingest"].dq.snapshot()["total"].get("auth_revoked") == 4


async def test_a_stale_refresh_does_not_undo_a_fresh_revocation(sqlite_url: str) -> None:
    """A refresh read begun before the revoke committed lands after it: the key stays revoked."""
    load_all()
    async with running(sqlite_url) as r:
        d = Dispatcher(r.ctx)
        reg = shared(r.ctx).registry
        created = await _cmd(d, "bureau_key.create", {"domain": "fire", "name": "alarm centre"})
        stale = await r.ctx.db.read(reg.fetch_changes)  # shows the new key, not revoked
        assert (await _cmd(d, "bureau_key.revoke", {"credential_id": created.data["credential_id"]})).ok
        reg.apply_changes(stale, time.time())
        assert (await _post(r, created.data["key"], 1, time.time()))[1]["error"] == "auth_revoked"
        # and a key created here stays usable through a refresh read begun before it existed
        older = await r.ctx.db.read(reg.fetch_changes)
        fresh = await _cmd(d, "bureau_key.create", {"domain": "water", "name": "late gauge net"})
        reg.apply_changes(older, time.time())
        status, reply = await _post(r, fresh.data["key"], 1, time.time())
        assert (status, reply["accepted"]) == (200, 1)
        # once a read shows the store's state, the store is the authority again
        await shared(r.ctx).loader.refresh()
        assert not reg._bureaus_pinned
