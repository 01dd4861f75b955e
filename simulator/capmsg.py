"""CAP 1.2 warnings as the meteorological service sends them (OASIS CAP 1.2; China's warning
signals: blue IV, yellow III, orange II, red I), in Chinese with an English <info> beside it.

A warning chain is one Alert followed by Updates (escalation, downgrade) and a Cancel, each
referencing the first message, so the service keeps one alert whose level follows the chain.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

NS = "urn:oasis:names:tc:emergency:cap:1.2"
CN_TZ = timezone(timedelta(hours=8))
SENDER = "dgqx-sim@weather.dongguan.example"  # the simulated meteorological service
SEVERITY = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}
URGENCY = {1: "Future", 2: "Expected", 3: "Immediate", 4: "Immediate"}
COLOUR = {1: ("蓝色", "Blue"), 2: ("黄色", "Yellow"), 3: ("橙色", "Orange"), 4: ("红色", "Red")}
# Dongguan's outline, simplified (lon, lat), closed: the area of a city-wide warning.
DONGGUAN_POLYGON = ((113.52, 23.05), (113.62, 23.14), (113.85, 23.14), (114.14, 23.08), (114.25, 22.95),
                    (114.22, 22.66), (114.10, 22.66), (113.72, 22.72), (113.55, 22.85), (113.52, 23.05))


def cap_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, CN_TZ).isoformat(timespec="seconds")


@dataclass
class WarningChain:
    """One warning signal's life: alert, updates, cancel. hazard_zh/en: 台风 / Typhoon, ..."""

    key: str  # unique per run (part of the identifiers)
    hazard_zh: str
    hazard_en: str
    area_zh: str = "东莞市"
    area_en: str = "Dongguan"
    status: str = "Exercise"  # a rehearsal; "Actual" for a live demo
    first: tuple[str, str] | None = None  # (identifier, sent) of the first message
    n: int = 0
    sent: list[str] = field(default_factory=list)

    def message(self, ts: float, level: int, *, msg_type: str | None = None, description: str = "",
                instruction: str = "", hours_valid: float = 12.0) -> str:
        """The next message of the chain: the first is an Alert, later ones Update (or the
        msg_type given, e.g. "Cancel")."""
        self.n += 1
        ident = f"CN-DG-{self.key}-{self.n:02d}"
        sent = cap_time(ts)
        mtype = msg_type or ("Alert" if self.first is None else "Update")
        ET.register_namespace("", NS)
        q = lambda n: f"{{{NS}}}{n}"  # noqa: E731
        root = ET.Element(q("alert"))

        def sub(parent: ET.Element, name: str, value: str) -> ET.Element:
            el = ET.SubElement(parent, q(name))
            el.text = value
            return el

        sub(root, "identifier", ident)
        sub(root, "sender", SENDER)
        sub(root, "sent", sent)
        sub(root, "status", self.status)
        sub(root, "msgType", mtype)
        sub(root, "scope", "Public")
        if self.first is not None:
            sub(root, "references", f"{SENDER},{self.first[0]},{self.first[1]}")
        zh_colour, en_colour = COLOUR[level]
        cancelled = mtype == "Cancel"
        texts = (
            ("zh-CN", f"东莞市{self.hazard_zh}{zh_colour}预警信号" + ("解除" if cancelled else ""),
             description or f"东莞市气象台发布{self.hazard_zh}{zh_colour}预警信号。", instruction, "东莞市气象台",
             self.area_zh),
            ("en-US", f"Dongguan {self.hazard_en} {en_colour} Warning" + (" lifted" if cancelled else ""),
             f"Dongguan Meteorological Observatory: {self.hazard_en.lower()} {en_colour.lower()} warning.", "",
             "Dongguan Meteorological Observatory", self.area_en),
        )
        for lang, headline, desc, instr, sender_name, area_desc in texts:
            info = ET.SubElement(root, q("info"))
            sub(info, "language", lang)
            sub(info, "category", "Met")
            sub(info, "event", f"{self.hazard_zh}预警" if lang == "zh-CN" else f"{self.hazard_en} warning")
            sub(info, "urgency", "Past" if cancelled else URGENCY[level])
            sub(info, "severity", SEVERITY[level])
            sub(info, "certainty", "Observed" if level >= 3 else "Likely")
            sub(info, "effective", sent)
            sub(info, "expires", cap_time(ts + hours_valid * 3600))
            sub(info, "senderName", sender_name)
            sub(info, "headline", headline)
            sub(info, "description", desc)
            if instr:
                sub(info, "instruction", instr)
            p = ET.SubElement(info, q("parameter"))
            sub(p, "valueName", "warningColour" if lang == "en-US" else "预警级别")
            sub(p, "value", en_colour if lang == "en-US" else zh_colour)
            area = ET.SubElement(info, q("area"))
            sub(area, "areaDesc", area_desc)
            sub(area, "polygon", " ".join(f"{lat:.4f},{lon:.4f}" for lon, lat in DONGGUAN_POLYGON))
        if self.first is None:
            self.first = (ident, sent)
        self.sent.append(ident)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
