"""CAP 1.2 (OASIS Common Alerting Protocol) parsing and export. Pure: bytes in, data out.

Parsing uses defusedxml with DTDs, entities and external references forbidden: an XML bomb or
an external-entity trick is bad input (CapError), not a hung or leaking service.
Export writes the elements in the order of the CAP 1.2 schema, times as
YYYY-MM-DDThh:mm:ss+08:00 (CAP forbids "Z"), polygons and circles as "lat,lon" pairs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree as DET

from protocol.enums import Level

NS = "urn:oasis:names:tc:emergency:cap:1.2"
_ACCEPTED_NS = (NS, "urn:oasis:names:tc:emergency:cap:1.1")
MAX_BYTES = 1 << 20
CN_TZ = timezone(timedelta(hours=8))
SEVERITY_LEVEL = {"Extreme": Level.RED, "Severe": Level.ORANGE, "Moderate": Level.YELLOW,
                  "Minor": Level.BLUE, "Unknown": Level.BLUE}
LEVEL_SEVERITY = {v: k for k, v in SEVERITY_LEVEL.items() if k != "Unknown"}
COLOUR_LEVEL = (("红色", Level.RED), ("橙色", Level.ORANGE), ("黄色", Level.YELLOW), ("蓝色", Level.BLUE))
_COLOUR_EN = re.compile(r"\b(red|orange|yellow|blue)\b", re.I)
_EN_LEVEL = {"red": Level.RED, "orange": Level.ORANGE, "yellow": Level.YELLOW, "blue": Level.BLUE}
MSG_TYPES = {"Alert", "Update", "Cancel", "Ack", "Error"}


class CapError(ValueError):
    """Not an acceptable CAP 1.2 message; the text says why (it goes back to the sender)."""


@dataclass
class CapArea:
    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # (lat, lon)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lon, radius km
    geocodes: dict[str, str] = field(default_factory=dict)

    def center(self) -> tuple[float, float] | None:
        """(lon, lat) of the first circle, else the mean of the first polygon's vertices."""
        if self.circles:
            return self.circles[0][1], self.circles[0][0]
        if self.polygons and self.polygons[0]:
            pts = self.polygons[0][:-1] if self.polygons[0][0] == self.polygons[0][-1] else self.polygons[0]
            return sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts)
        return None


@dataclass
class CapInfo:
    language: str
    category: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    effective: float | None = None
    expires: float | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    areas: list[CapArea] = field(default_factory=list)

    def level(self) -> Level:
        """Chinese colour words (or a colour parameter / English colour) first, else severity."""
        for text in (*self.parameters.values(), self.event, self.headline):
            for word, lv in COLOUR_LEVEL:
                if word in text:
                    return lv
        for text in (*self.parameters.values(), self.event, self.headline):
            m = _COLOUR_EN.search(text)
            if m:
                return _EN_LEVEL[m.group(1).lower()]
        return SEVERITY_LEVEL.get(self.severity, Level.BLUE)


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: float
    status: str
    msg_type: str
    scope: str
    references: list[tuple[str, str, str]] = field(default_factory=list)  # sender, identifier, sent
    infos: list[CapInfo] = field(default_factory=list)

    def info(self, lang: str = "zh") -> CapInfo | None:
        for i in self.infos:
            if i.language.lower().startswith(lang):
                return i
        return self.infos[0] if self.infos and lang == "zh" else None


def cap_time(text: str) -> float:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CapError(f"bad CAP time {text[:40]!r}") from None
    if dt.tzinfo is None:
        raise CapError(f"CAP time without offset {text[:40]!r}")
    return dt.timestamp()


def _pairs(text: str) -> list[tuple[float, float]]:
    out = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        out.append((float(lat), float(lon)))
    return out


def parse(xml: bytes | str) -> CapMessage:
    if len(xml) > MAX_BYTES:
        raise CapError("CAP message too large")
    try:
        root = DET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise CapError(f"not acceptable XML: {type(exc).__name__}: {str(exc)[:120]}") from None
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if ns not in _ACCEPTED_NS or root.tag != f"{{{ns}}}alert":
        raise CapError("root element is not a CAP 1.2 <alert>")

    def text(el: Any, name: str, required: bool = False) -> str:
        child = el.find(f"{{{ns}}}{name}")
        value = (child.text or "").strip() if child is not None else ""
        if required and not value:
            raise CapError(f"<{name}> is required")
        return value

    msg = CapMessage(text(root, "identifier", True), text(root, "sender", True), cap_time(text(root, "sent", True)),
                     text(root, "status", True), text(root, "msgType", True), text(root, "scope", True))
    if msg.msg_type not in MSG_TYPES:
        raise CapError(f"unknown msgType {msg.msg_type!r}")
    for ref in text(root, "references").split():
        parts = ref.split(",")
        if len(parts) == 3:
            msg.references.append((parts[0], parts[1], parts[2]))
    try:
        for el in root.findall(f"{{{ns}}}info"):
            info = CapInfo(text(el, "language") or "en-US", text(el, "category"), text(el, "event"),
                           text(el, "urgency"), text(el, "severity"), text(el, "certainty"),
                           text(el, "headline"), text(el, "description"), text(el, "instruction"),
                           text(el, "senderName"))
            info.effective = cap_time(text(el, "effective")) if text(el, "effective") else None
            info.expires = cap_time(text(el, "expires")) if text(el, "expires") else None
            for p in el.findall(f"{{{ns}}}parameter"):
                info.parameters[text(p, "valueName")] = text(p, "value")
            for a in el.findall(f"{{{ns}}}area"):
                area = CapArea(text(a, "areaDesc"))
                area.polygons = [_pairs(p.text or "") for p in a.findall(f"{{{ns}}}polygon")]
                for c in a.findall(f"{{{ns}}}circle"):
                    point, _, radius = (c.text or "").strip().partition(" ")
                    lat, _, lon = point.partition(",")
                    area.circles.append((float(lat), float(lon), float(radius or 0)))
                for g in a.findall(f"{{{ns}}}geocode"):
                    area.geocodes[text(g, "valueName")] = text(g, "value")
                info.areas.append(area)
            msg.infos.append(info)
    except ValueError as exc:
        raise CapError(f"bad number in an area: {str(exc)[:80]}") from None
    return msg


# ---- export ---------------------------------------------------------------------------------

DOMAIN_CATEGORY = {"fire": "Fire", "water": "Met", "weather": "Met", "environment": "Env",
                   "education": "Safety", "urban": "Infra", "market": "Health", "coastal": "Security",
                   "transport": "Transport", "emergency": "Safety"}
URGENCY = {Level.RED: "Immediate", Level.ORANGE: "Immediate", Level.YELLOW: "Expected", Level.BLUE: "Future"}
LEVEL_WORDS = {Level.RED: ("红色", "Red", "I"), Level.ORANGE: ("橙色", "Orange", "II"),
               Level.YELLOW: ("黄色", "Yellow", "III"), Level.BLUE: ("蓝色", "Blue", "IV")}
SENDER = "ioc@dongguan.gov.cn"


def cap_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, CN_TZ).isoformat(timespec="seconds")


def export(a: dict[str, Any], *, town_zh: str = "东莞市", town_en: str = "Dongguan",
           polygon: list[tuple[float, float]] | None = None) -> str:
    """An alert (its wire form, protocol.entities.Alert) as a CAP 1.2 document. polygon is a
    closed ring of (lon, lat) used when the alert has no point of its own."""
    ET.register_namespace("", NS)
    q = lambda n: f"{{{NS}}}{n}"  # noqa: E731
    lv = Level(max(1, min(4, int(a["level"]))))
    zh, en, roman = LEVEL_WORDS[lv]
    base = f"DG-IOC-{a['id']}"
    first = a["updated_ts"] == a["first_ts"] and a["state"] == "new"
    root = ET.Element(q("alert"))

    def sub(parent: ET.Element, name: str, value: str) -> ET.Element:
        el = ET.SubElement(parent, q(name))
        el.text = value
        return el

    sub(root, "identifier", base if first else f"{base}-{int(a['updated_ts'] * 1000)}")
    sub(root, "sender", SENDER)
    sub(root, "sent", cap_ts(a["first_ts"] if first else a["updated_ts"]))
    sub(root, "status", "Actual")
    sub(root, "msgType", "Alert" if first else "Update")
    public = a["domain"] in ("weather", "emergency") or a["source"] == "cap"
    sub(root, "scope", "Public" if public else "Restricted")
    if not public:
        sub(root, "restriction", "东莞市城市运行中心内部 / Dongguan IOC internal")
    if not first:
        sub(root, "references", f"{SENDER},{base},{cap_ts(a['first_ts'])}")
    closed = a["state"] in ("resolved", "closed")
    texts = [("zh-CN", a["title"], a.get("message") or "", zh, town_zh)]
    if a.get("title_en"):
        texts.append(("en-US", a["title_en"], a.get("message") or "", en, town_en))
    for lang, title, message, colour, area_desc in texts:
        info = ET.SubElement(root, q("info"))
        sub(info, "language", lang)
        sub(info, "category", DOMAIN_CATEGORY.get(a["domain"], "Other"))
        sub(info, "event", title)
        sub(info, "urgency", "Past" if closed else URGENCY[lv])
        sub(info, "severity", LEVEL_SEVERITY[lv])
        sub(info, "certainty", "Observed" if a["source"] in ("rule", "offline") else "Likely")
        sub(info, "effective", cap_ts(a["first_ts"]))
        sub(info, "senderName", "东莞市城市运行中心" if lang.startswith("zh") else "Dongguan IOC")
        sub(info, "headline", title)
        if message:
            sub(info, "description", message)
        params = [("level", colour), ("levelRoman", roman), ("state", a["state"]), ("source", a["source"]),
                  ("domain", a["domain"])]
        params += [(k, str(a[k])) for k in ("device_id", "metric", "value", "threshold") if a.get(k) is not None]
        for name, value in params:
            p = ET.SubElement(info, q("parameter"))
            sub(p, "valueName", name)
            sub(p, "value", value)
        area = ET.SubElement(info, q("area"))
        sub(area, "areaDesc", area_desc)
        if a.get("lon") is None or a.get("lat") is None:
            if polygon and len(polygon) >= 4:
                sub(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in polygon))
        else:
            sub(area, "circle", f"{a['lat']:.6f},{a['lon']:.6f} 0.5")
        if a.get("town"):
            g = ET.SubElement(area, q("geocode"))
            sub(g, "valueName", "townCode")
            sub(g, "value", a["town"])
    return ET.tostring(root, encoding="unicode", xml_declaration=False).join(
        ('<?xml version="1.0" encoding="UTF-8"?>\n', "\n"))
