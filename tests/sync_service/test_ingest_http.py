"""HTTP ingest through a real aiohttp server on a free port, into a real SQLite store."""

from __future__ import annotations

import time

import aiohttp
import orjson
from sqlalchemy import func, select

from sync_service.db.models import AuditEntry, DataQualityCount, Device, Reading, Resource
from tests.sync_service.ingest_support import bureau_key, device_key, running


def _url(r, path: str) -> str:  # noqa: ANN001
    return f"http://127.0.0.1:{r.c['http'].port}{path}"


async def _post(r, path: str, body: object, key: str | None = None, raw: bytes | None = None,  # noqa: ANN001
                ctype: str = "application/json") -> tuple[int, dict]:
    headers = {"Content-Type": ctype}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    async with aiohttp.ClientSession() as http, http.post(
            _url(r, path), data=raw if raw is not None else orjson.dumps(body), headers=headers) as resp:
        text = await resp.read()
        try:
            return resp.status, orjson.loads(text)
        except orjson.JSONDecodeError:
            return resp.status, {"text": text.decode(errors="replace")}


async def test_bureau_batch_stored_and_committed_before_reply(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        now = time.time()
        body = {"readings": [{"device": "WL-1", "ts": now - 10, "values": {"level": 3.2}},
                             {"device": "WL-2", "ts": now - 5, "values": {"level": 3.4}},
                             {"device": "RG-1", "ts": now, "values": {"rain_1h": 12.5}}]}
        status, reply = await _post(r, "/ingest/v1/readings", body, bureau_key("water"))
        assert status == 200
        assert reply == {"accepted": 3, "rejected": {}}
        # The reply came after the commit: the rows are readable now, without any flush.
        rows = await r.ctx.db.read(lambda s: s.execute(select(Reading.metric, Reading.value, Reading.quality)
                                                       .order_by(Reading.ts)).all())
        assert [(m, v, q) for m, v, q in rows] == [("level", 3.2, 0), ("level", 3.4, 0), ("rain_1h", 12.5, 0)]
        # Last state is kept in memory and flushed in bulk, not per reading.
        await r.settle()
        dev = await r.ctx.db.read(lambda s: s.scalar(select(Device).where(Device.uid == "WL-2")))
        assert dev.health == "online"
        assert dev.last_values == {"level": 3.4}
        assert abs(dev.last_ts - (now - 5)) < 1e-6


async def test_device_keys_without_bureau_and_iso_timestamps(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
        body = {"readings": [{"device": "SD-1", "key": device_key("SD-1"), "ts": iso, "values": {"smoke": 0.01, "battery": 88}},
                             {"device": "SD-2", "key": device_key("SD-1"), "ts": iso, "values": {"smoke": 0.0}},
                             {"device": "SD-2", "ts": iso, "values": {"smoke": 0.0}}]}
        status, reply = await _post(r, "/ingest/v1/readings", body)
        assert status == 200
        # another device's key is invalid; an item without any credential is auth_missing
        assert reply == {"accepted": 1, "rejected": {"auth_invalid": 1, "auth_missing": 1}}
        assert await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) == 2


async def test_refused_credentials_counted_audited_in_aggregate_never_stored(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        now = time.time()
        items = [{"device": "WL-1", "ts": now, "values": {"level": 3.0}}] * 50
        assert (await _post(r, "/ingest/v1/readings", {"readings": items}))[0] == 401
        assert (await _post(r, "/ingest/v1/readings", {"readings": items}, "not-a-key"))[0] == 401
        # a fire bureau key writing water devices: refused per reading as auth_domain
        status, reply = await _post(r, "/ingest/v1/readings", {"readings": items}, bureau_key("fire"))
        assert status == 200
        assert reply == {"accepted": 0, "rejected": {"auth_domain": 50}}
        # revoked device: refused even with the right key
        r.c["devices"].devices["WL-2"].revoked = True
        status, reply = await _post(r, "/ingest/v1/readings", {"readings": [
            {"device": "WL-2", "key": device_key("WL-2"), "ts": now, "values": {"level": 1.0}}]})
        assert reply == {"accepted": 0, "rejected": {"auth_revoked": 1}}
        await r.settle()
        assert await r.ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Reading))) == 0
        counts = await r.ctx.db.read(lambda s: {(c.domain, c.reason): c.count for c in s.scalars(select(DataQualityCount))})
        assert counts[("", "auth_missing")] == 50
        assert counts[("", "auth_invalid")] == 50
        assert counts[("fire", "auth_domain")] == 50
        assert counts[("water", "auth_revoked")] == 1
        audits = await r.ctx.db.read(lambda s: s.scalars(select(AuditEntry).where(AuditEntry.action == "ingest.refused")).all())
        # one row per (door, reason, domain), not one per reading
        by_reason = {a.detail["reason"]: a for a in audits}
        assert len(audits) == 4
        assert set(by_reason) == {"auth_missing", "auth_invalid", "auth_domain", "auth_revoked"}
        assert by_reason["auth_missing"].detail["count"] == 50  # a 401 for 50 readings: one row, count 50
        dom = next(a for a in audits if a.detail["reason"] == "auth_domain")
        assert dom.detail["count"] == 50
        assert dom.detail["samples"] == ["WL-1"]
        assert not dom.ok


async def test_bad_readings_rejected_and_counted_by_reason(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        now = time.time()
        body = {"readings": [
            {"device": "WL-1", "ts": now, "values": {"level": -9999}},  # sentinel
            {"device": "WL-1", "ts": now, "values": {"level": 99.0}},  # out of the physical range
            {"device": "WL-1", "ts": 0, "values": {"level": 3.0}},  # 1970
            {"device": "WL-1", "ts": now + 365 * 86400, "values": {"level": 3.0}},  # next year
            {"device": "WL-1", "ts": now, "values": {"flow": 3.0}},  # not a metric of this type
            {"device": "NOPE-1", "ts": now, "values": {"level": 3.0}},  # unknown device
            {"device": "WL-1", "ts": "yesterday", "values": {"level": 3.0}},
            {"device": "WL-1", "ts": now, "values": {"level": "3.0"}},
            {"device": "WL-1", "ts": now, "values": {"level": True}},
            {"device": "WL-1", "ts": now, "values": []},
            {"device": 17, "ts": now, "values": {"level": 1}},
            "not an object",
            {"device": "WL-1", "ts": now, "values": {"level": None}},  # NaN as JSON can carry it: null
            {"device": "WL-1", "ts": now, "values": {"level": 4.0, "bogus": 1}},  # one good, one bad
        ]}
        status, reply = await _post(r, "/ingest/v1/readings", body, bureau_key("water"))
        assert status == 200
        assert reply["accepted"] == 1
        assert reply["rejected"] == {"sentinel": 1, "out_of_range": 1, "ts_past": 1, "ts_future": 1,
                                     "unknown_metric": 2, "unknown_device": 1, "malformed": 6, "nan": 1}
        values = await r.ctx.db.read(lambda s: s.scalars(select(Reading.value)).all())
        assert values == [4.0]
        # non-JSON and wrong shapes: 400; too big: 413
        assert (await _post(r, "/ingest/v1/readings", None, bureau_key("water"), raw=b"{nope"))[0] == 400
        assert (await _post(r, "/ingest/v1/readings", {"readings": {}}, bureau_key("water")))[0] == 400
        big = b'{"readings": [' + b" " * (17 << 20) + b"]}"
        assert (await _post(r, "/ingest/v1/readings", None, bureau_key("water"), raw=big))[0] == 413
        snap = r.c["ingest"].dq.snapshot()
        assert snap["by_domain"]["water"]["sentinel"] == 1


async def test_stuck_values_flagged_and_device_faulty(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        t0 = time.time() - 3600
        items = [{"device": "WL-1", "ts": t0 + i * 60, "values": {"level": 2.345}} for i in range(15)]
        items += [{"device": "WL-2", "ts": t0 + i * 60, "values": {"level": 2.3 + i * 0.01}} for i in range(15)]
        # rain at 0 mm for hours is normal, not stuck (the range's end is exempt)
        items += [{"device": "RG-1", "ts": t0 + i * 60, "values": {"rain_1h": 0.0}} for i in range(15)]
        status, reply = await _post(r, "/ingest/v1/readings", {"readings": items}, bureau_key("water"))
        assert status == 200
        assert reply["accepted"] == 45
        assert reply["rejected"] == {}
        assert reply["flagged"] == {"stuck": 3}  # repeats 12, 13, 14 of WL-1: flagged, still stored
        flagged = await r.ctx.db.read(lambda s: s.scalar(select(func.count()).where(Reading.quality == 1)))
        assert flagged == 3
        reg = r.c["devices"]
        assert reg.devices["WL-1"].health == "faulty"
        assert reg.devices["WL-2"].health == "online"
        assert reg.devices["RG-1"].health == "online"
        # the value moves again: healthy
        await _post(r, "/ingest/v1/readings", {"readings": [{"device": "WL-1", "ts": t0 + 1000, "values": {"level": 2.4}}]},
                    bureau_key("water"))
        assert reg.devices["WL-1"].health == "online"


async def test_platform_events_and_positions(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        def add_vehicle(s):  # noqa: ANN001, ANN202
            s.add(Resource(kind="fire_vehicle", name="南城中队 1 号车", domain="fire", town="nancheng", lon=113.7,
                           lat=23.0, status="available", detail={}, updated_ts=0.0))
            s.add(Resource(kind="rescue_team", name="水务抢险队", domain="water", town="humen", lon=113.6,
                           lat=22.8, status="available", detail={}, updated_ts=0.0))
        await r.ctx.db.write(add_vehicle)
        now = time.time()
        ev = {"type": "urban_case", "external_id": "CG-2024-0001", "ts": now, "level": 2, "title": "占道经营",
              "title_en": "Street vending", "town": "dongcheng", "lon": 113.78, "lat": 23.03}
        status, reply = await _post(r, "/ingest/v1/events", {"events": [ev, ev, {"type": "x"}]}, bureau_key("urban"))
        assert status == 200
        assert reply["accepted"] == 2
        assert reply["rejected"] == {"malformed": 1}
        alerts = [e.data for e in r.kinds("alert.upsert")]
        assert len({a["id"] for a in alerts}) == 1  # same case number: one alert
        assert alerts[-1]["source"] == "platform"
        assert alerts[-1]["count"] == 2
        assert alerts[-1]["external_id"] == "CG-2024-0001"
        assert alerts[-1]["domain"] == "urban"
        status, _ = await _post(r, "/ingest/v1/events", {"events": [{**ev, "state": "closed"}]}, bureau_key("urban"))
        assert r.kinds("alert.upsert")[-1].data["state"] == "resolved"
        status, reply = await _post(r, "/ingest/v1/positions", {"positions": [
            {"resource_id": 1, "lon": 113.75, "lat": 23.02, "ts": now, "status": "dispatched"},
            {"resource_id": 2, "lon": 113.6, "lat": 22.8},  # the water bureau's team: not fire's to move
            {"resource_id": 99, "lon": 113.6, "lat": 22.8},
            {"resource_id": 1, "lon": 500, "lat": 22.8}]}, bureau_key("fire"))
        assert status == 200
        assert reply == {"accepted": 1, "rejected": {"auth_domain": 1, "not_found": 1, "malformed": 1}}
        res = r.kinds("resource.upsert")[-1].data
        assert (res["id"], res["status"], res["lon"]) == (1, "dispatched", 113.75)


async def test_healthz(sqlite_url: str) -> None:
    async with running(sqlite_url) as r, aiohttp.ClientSession() as http, http.get(_url(r, "/healthz")) as resp:
        body = await resp.json()
        assert resp.status == 200
        assert body["ok"] is True
        assert body["server_id"] == "test"
        assert isinstance(body["head_seq"], int)
