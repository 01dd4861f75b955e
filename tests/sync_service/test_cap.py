"""CAP 1.2: the meteorological service's warnings in (Chinese text, colour words, severity,
Alert/Update/Cancel), XML attacks refused, any alert out as CAP, and a round trip."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import aiohttp
import pytest

from protocol.commands import AlertRaise, CapExport
from protocol.enums import Level
from sync_service.auth import create_user, open_session
from sync_service.commands import alerts as ac
from sync_service.ingest import cap
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import Running, bureau_key, running

NS = "{urn:oasis:names:tc:emergency:cap:1.2}"


def warning(ident: str, *, msg_type: str = "Alert", event: str = "台风橙色预警信号", severity: str = "Severe",
            refs: str = "", area: str = "东莞市虎门镇", status: str = "Actual", en: bool = True) -> bytes:
    ref = f"<references>{refs}</references>" if refs else ""
    en_info = f"""
  <info>
    <language>en-US</language><category>Met</category><event>Typhoon Orange Warning</event>
    <urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
    <headline>Dongguan Meteorological Observatory issues a typhoon warning</headline>
    <area><areaDesc>Humen, Dongguan</areaDesc></area>
  </info>""" if en else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{ident}</identifier>
  <sender>dgqx@gd.cma.gov.cn</sender>
  <sent>2024-09-05T16:30:00+08:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{ref}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>{event}</event>
    <urgency>Expected</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    <senderName>东莞市气象台</senderName>
    <headline>东莞市气象台发布{event}</headline>
    <description>受超强台风“摩羯”影响，预计未来24小时内我市将出现10级以上大风和暴雨。</description>
    <instruction>停止户外集体活动，居民切勿随意外出。</instruction>
    <parameter><valueName>预警级别</valueName><value>{event}</value></parameter>
    <area>
      <areaDesc>{area}</areaDesc>
      <polygon>22.80,113.62 22.85,113.62 22.85,113.70 22.80,113.70 22.80,113.62</polygon>
    </area>
  </info>{en_info}
</alert>""".encode()


async def post_cap(r: Running, body: bytes, key: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/cap+xml"} | ({"Authorization": f"Bearer {key}"} if key else {})
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{r.c['http'].port}/ingest/v1/cap", data=body, headers=headers) as resp:
        return resp.status, await resp.json()


def test_levels_from_colour_words_then_severity() -> None:
    assert cap.parse(warning("a", event="暴雨红色预警信号", severity="Severe")).info().level() == Level.RED
    assert cap.parse(warning("b", event="台风蓝色预警信号", severity="Extreme")).info().level() == Level.BLUE
    assert cap.parse(warning("c", event="Rainstorm", severity="Extreme", en=False)).info().level() == Level.RED
    assert cap.parse(warning("d", event="大雾", severity="Minor", en=False)).info().level() == Level.BLUE
    assert cap.parse(warning("e", event="Heat Yellow Warning", severity="Minor", en=False)).info().level() == Level.YELLOW


@pytest.mark.parametrize("bad", [
    b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>""",
    b"""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>""",
    b"not xml at all",
    b"<alert><identifier>x</identifier></alert>",  # no CAP namespace
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>',  # missing fields
    warning("x").replace(b"+08:00", b""),  # a time without offset
    warning("x").replace(b"22.80,113.62 22.85", b"22.80;113.62 north"),
])
def test_bad_and_hostile_xml_refused(bad: bytes) -> None:
    with pytest.raises(cap.CapError):
        cap.parse(bad)


async def test_typhoon_warning_alert_update_cancel(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        key = bureau_key("weather")
        status, body = await post_cap(r, warning("DG-TY-001"), key)
        assert (status, body["status"]) == (200, "created")
        a = r.kinds("alert.upsert")[-1].data
        assert (a["source"], a["level"], a["domain"], a["town"]) == ("cap", 3, "weather", "humen")
        assert a["title"] == "东莞市气象台发布台风橙色预警信号"
        assert a["title_en"] == "Dongguan Meteorological Observatory issues a typhoon warning"
        assert a["external_id"] == "DG-TY-001"
        assert "摩羯" in a["message"]
        assert a["lon"] == pytest.approx(113.66)
        assert a["lat"] == pytest.approx(22.825)
        # delivered twice: still one alert
        assert (await post_cap(r, warning("DG-TY-001"), key))[1]["alert_ids"] == [a["id"]]
        # downgraded to yellow by an Update referencing it
        upd = warning("DG-TY-002", msg_type="Update", event="台风黄色预警信号", severity="Moderate",
                      refs="dgqx@gd.cma.gov.cn,DG-TY-001,2024-09-05T16:30:00+08:00")
        status, body = await post_cap(r, upd, key)
        assert (body["status"], body["alert_ids"]) == ("updated", [a["id"]])
        a2 = r.kinds("alert.upsert")[-1].data
        assert (a2["level"], a2["external_id"]) == (2, "DG-TY-002")
        # cancelled, referencing the latest message
        cancel = warning("DG-TY-003", msg_type="Cancel", refs="dgqx@gd.cma.gov.cn,DG-TY-002,2024-09-05T18:00:00+08:00")
        status, body = await post_cap(r, cancel, key)
        assert body["status"] == "cancelled"
        assert r.kinds("alert.upsert")[-1].data["state"] == "closed"
        # a test message and an unknown cancel are acknowledged, not acted on
        assert (await post_cap(r, warning("T-1", status="Test"), key))[1]["status"] == "ignored"
        assert (await post_cap(r, warning("C-9", msg_type="Cancel", refs="a,b,c"), key))[1]["status"] == "ignored"


async def test_cap_door_refusals(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        assert (await post_cap(r, warning("X"), None))[0] == 401
        assert (await post_cap(r, warning("X"), bureau_key("water")))[0] == 403
        bomb = test_bad_and_hostile_xml_refused.pytestmark[0].args[1][0]
        status, body = await post_cap(r, bomb, bureau_key("emergency"))
        assert status == 400
        assert body["error"] == "malformed"
        assert not r.kinds("alert.upsert")


SCHEMA_ORDER = {
    "alert": ["identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses",
              "code", "note", "references", "incidents", "info"],
    "info": ["language", "category", "event", "responseType", "urgency", "severity", "certainty", "audience",
             "eventCode", "effective", "onset", "expires", "senderName", "headline", "description", "instruction",
             "web", "contact", "parameter", "resource", "area"],
    "area": ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"],
}


def assert_cap12(xml: str) -> ET.Element:
    """Structure per the CAP 1.2 schema: namespace, required elements, sequence order, formats."""
    root = ET.fromstring(xml)
    assert root.tag == f"{NS}alert"
    for el in root.iter():
        name = el.tag.removeprefix(NS)
        if name in SCHEMA_ORDER:
            order = [SCHEMA_ORDER[name].index(c.tag.removeprefix(NS)) for c in el]
            assert order == sorted(order), f"<{name}> children out of schema order"
    for req in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert root.find(NS + req) is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", root.findtext(NS + "sent"))
    assert root.findtext(NS + "status") in {"Actual", "Exercise", "System", "Test", "Draft"}
    for info in root.findall(NS + "info"):
        for req in ("category", "event", "urgency", "severity", "certainty"):
            assert info.find(NS + req) is not None
        assert info.findtext(NS + "severity") in {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
        for area in info.findall(NS + "area"):
            assert area.findtext(NS + "areaDesc")
            for poly in area.findall(NS + "polygon"):
                pts = poly.text.split()
                assert len(pts) >= 4
                assert pts[0] == pts[-1]
    return root


async def test_export_any_alert_and_round_trip(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        r.c["ingest"].ingest([{"device": "SD-1", "ts": time.time(), "values": {"smoke": 0.5}}],
                             bureau=Bureau("fire", "gw"), door="test")
        await r.settle()
        rule_alert = r.kinds("alert.upsert")[-1].data
        res = await r.ctx.db.read(lambda s: ac.alert_cap(s, r.actor_ctx(), CapExport(alert_id=rule_alert["id"])))
        root = assert_cap12(res["xml"])
        area = root.find(f"{NS}info/{NS}area")
        assert area.findtext(NS + "circle").startswith("23.010000,113.740000 ")
        assert area.findtext(NS + "areaDesc") == "南城街道"
        assert root.findtext(f"{NS}info/{NS}severity") == "Extreme"
        assert root.findtext(NS + "scope") == "Restricted"
        # a town-only alert gets the town's outline as a polygon
        raised = await r.command(ac.alert_raise, AlertRaise(level=Level.YELLOW, domain="emergency", title="山体滑坡隐患",
                                                            town="zhangmutou"))
        res2 = await r.ctx.db.read(lambda s: ac.alert_cap(s, r.actor_ctx(), CapExport(alert_id=raised["alert_id"])))
        poly = assert_cap12(res2["xml"]).find(f"{NS}info/{NS}area/{NS}polygon")
        assert poly is not None
        assert len(poly.text.split()) >= 10
        # round trip: the exported smoke alarm comes back in as an equivalent CAP alert
        status, body = await post_cap(r, res["xml"].encode(), bureau_key("emergency"))
        assert (status, body["status"]) == (200, "created")
        back = r.kinds("alert.upsert")[-1].data
        assert back["id"] != rule_alert["id"]
        assert (back["source"], back["level"], back["town"], back["title"], back["title_en"]) == (
            "cap", rule_alert["level"], rule_alert["town"], rule_alert["title"], rule_alert["title_en"])
        assert back["lon"] == pytest.approx(rule_alert["lon"])
        assert back["lat"] == pytest.approx(rule_alert["lat"])
        assert back["message"] == rule_alert["message"]


async def test_http_export_needs_a_session_in_scope(sqlite_url: str) -> None:
    async with running(sqlite_url) as r:
        r.c["ingest"].ingest([{"device": "SD-1", "ts": time.time(), "values": {"smoke": 0.5}}],
                             bureau=Bureau("fire", "gw"), door="test")
        await r.settle()
        aid = r.kinds("alert.upsert")[-1].data["id"]

        def users(s):  # noqa: ANN001, ANN202
            duty = create_user(s, "duty1", "password123", "duty_officer")
            water = create_user(s, "water1", "password123", "bureau_operator", domains=["water"])
            return open_session(s, duty, 3600).token, open_session(s, water, 3600).token

        duty_token, water_token = await r.ctx.db.write(users)
        base = f"http://127.0.0.1:{r.c['http'].port}/api/v1/alerts"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/{aid}/cap", headers={"Authorization": f"Bearer {duty_token}"}) as resp:
                assert resp.status == 200
                assert resp.content_type == "application/cap+xml"
                assert_cap12(await resp.text())
            for token, code in ((None, 401), ("forged", 401), (water_token, 403)):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with http.get(f"{base}/{aid}/cap", headers=headers) as resp:
                    assert resp.status == code
            async with http.get(f"{base}/999999/cap", headers={"Authorization": f"Bearer {duty_token}"}) as resp:
                assert resp.status == 404
