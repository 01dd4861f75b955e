"""POST /ingest/v1/events for every connected platform the IOC shows besides smart urban
management (test_ingest_http.py): bright-kitchen supervision (明厨亮灶, market bureau), Hongmei
coastal defence (智慧海防), air-quality stations (蓝天保卫战) and pollution sources (松山湖), each
with a good event (an alert of source `platform` in the key's domain, placed by its device),
its closing, and a bad payload refused with the right reason and nothing raised."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_service.db.models import Alert
from tests.sync_service.ingest_support import DEVICES, Running, bureau_key, running, seed

PLATFORM_DEVICES = {
    "KC-1": ("kitchen_camera", "dongcheng", 8001, 113.77, 23.04),
    "CR-1": ("coastal_radar", "hongmei", None, 113.58, 22.99),
    "PS-1": ("pollution_source", "songshanhu", 9001, 113.90, 22.92),
}

# platform: (bureau domain, good event, bad event, reason the bad one is refused for, its device's
# (town, building, type))
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], str, tuple[str, int | None, str]]] = {
    "kitchen": ("market",
                {"type": "kitchen_violation", "external_id": "MCLZ-2024-0815", "level": 2,
                 "title": "后厨人员未戴口罩", "title_en": "Kitchen staff without a mask", "device": "KC-1"},
                {"type": "kitchen_violation", "external_id": "MCLZ-2024-0816", "level": 5,
                 "title": "老鼠出没", "device": "KC-1"},  # level 1-4 only
                "malformed", ("dongcheng", 8001, "kitchen_camera")),
    "coastal": ("coastal",
                {"type": "coastal_intrusion", "external_id": "HF-HM-0042", "level": 4,
                 "title": "可疑船只靠近岸线", "title_en": "Suspicious vessel near the shore", "device": "CR-1",
                 "lon": 113.585, "lat": 22.995},
                {"type": "coastal_intrusion", "external_id": "HF-HM-0043", "level": 3,
                 "title": "越界", "device": "FD-1"},  # the fire brigade's detector: not coastal's
                "auth_domain", ("hongmei", None, "coastal_radar")),
    "air": ("environment",
            {"type": "air_quality", "external_id": "AQ-SSH-20241101-09", "level": 3,
             "title": "PM2.5 小时浓度超标", "title_en": "PM2.5 hourly level exceeded", "device": "AQ-1",
             "message": "PM2.5 168 µg/m³"},
            {"type": "air_quality", "external_id": "AQ-SSH-20241101-10", "level": 2,
             "title": "臭氧超标", "device": "AQ-1", "ts": "in an hour"},  # not a time
            "malformed", ("songshanhu", None, "air_station")),
    "pollution": ("environment",
                  {"type": "pollution_source", "external_id": "PS-0007-COD", "level": 3,
                   "title": "COD 排放超标", "title_en": "COD discharge over the limit", "device": "PS-1"},
                  {"type": "pollution_source", "external_id": "PS-9999-NOX", "level": 3,
                   "title": "氮氧化物超标", "device": "PS-9999"},  # no such monitor
                  "unknown_device", ("songshanhu", 9001, "pollution_source")),
}


def _seed(s: Session) -> None:
    seed(s, {**DEVICES, **PLATFORM_DEVICES})


async def _post(r: Running, events: Any, domain: str) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{r.c['http'].port}/ingest/v1/events"
    async with aiohttp.ClientSession() as http, http.post(
            url, data=orjson.dumps({"events": events}),
            headers={"Authorization": f"Bearer {bureau_key(domain)}", "Content-Type": "application/json"}) as resp:
        return resp.status, orjson.loads(await resp.read())


@pytest.mark.parametrize("platform", list(CASES))
async def test_platform_events_become_alerts_and_bad_payloads_are_refused(sqlite_url: str, platform: str) -> None:
    domain, good, bad, reason, (town, building, dtype) = CASES[platform]
    async with running(sqlite_url, seed_fn=_seed) as r:
        now = time.time()
        status, reply = await _post(r, [{**good, "ts": now - 30}, bad], domain)
        assert status == 200, reply
        assert reply["accepted"] == 1
        assert reply["rejected"] == {reason: 1}
        assert len(reply["alert_ids"]) == 1
        a = r.kinds("alert.upsert")[-1].data
        dev = {**DEVICES, **PLATFORM_DEVICES}[good["device"]]
        assert (a["source"], a["domain"], a["level"], a["state"]) == ("platform", domain, good["level"], "new")
        assert (a["town"], a["building_id"], a["device_type"], a["device_id"]) == (town, building, dtype, good["device"])
        assert (a["title"], a["title_en"], a["external_id"]) == (good["title"], good.get("title_en", ""), good["external_id"])
        if "lon" in good:  # the platform's own position wins over the device's
            assert (a["lon"], a["lat"]) == (good["lon"], good["lat"])
        else:
            assert (a["lon"], a["lat"]) == (dev[3], dev[4])
        assert a["group_key"] == (f"bldg:{building}" if building else f"area:{town}:{good['type']}")
        assert abs(a["first_ts"] - (now - 30)) < 1e-3
        # the platform closes its case: the alert is resolved, with a note saying so
        status, _ = await _post(r, [{**good, "state": "closed"}], domain)
        assert status == 200
        a = r.kinds("alert.upsert")[-1].data
        assert a["state"] == "resolved"
        assert any("closed by the platform" in n["text"] for n in a["notes"])
        # the bad payload left nothing behind, and the refusal is counted for the bureau
        ids = await r.ctx.db.read(lambda s: list(s.scalars(select(Alert.external_id))))
        assert ids == [good["external_id"]]
        assert r.c["ingest"].dq.snapshot()["by_domain"][domain][reason] == 1


async def test_platform_payloads_of_the_wrong_shape_or_key(sqlite_url: str) -> None:
    async with running(sqlite_url, seed_fn=_seed) as r:
        kitchen = CASES["kitchen"][1]
        # the market bureau may not post the coastal radar's alarms, nor anyone without a key
        status, reply = await _post(r, [CASES["coastal"][1]], "market")
        assert (status, reply["accepted"], reply["rejected"]) == (200, 0, {"auth_domain": 1})
        url = f"http://127.0.0.1:{r.c['http'].port}/ingest/v1/events"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=orjson.dumps({"events": [kitchen]})) as resp:
                assert resp.status == 401
            async with http.post(url, data=b"{not json", headers={"Authorization": f"Bearer {bureau_key('market')}"}) as resp:
                assert resp.status == 400
                assert (await resp.json())["error"] == "malformed"
        for broken in ([kitchen | {"title": ""}], [kitchen | {"external_id": None}], [kitchen | {"level": True}],
                       [kitchen | {"state": "archived"}], [kitchen | {"ts": time.time() + 3600}], ["kitchen"]):
            status, reply = await _post(r, broken, "market")
            assert status == 200
            assert reply["accepted"] == 0
            assert sum(reply["rejected"].values()) == 1, broken
        assert not r.kinds("alert.upsert")
