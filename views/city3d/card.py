"""HTML for the side panel: the building card and the surroundings list, in the UI language
(Chinese source strings through QCoreApplication.translate("CityView", ...); names from data
through pick())."""

from __future__ import annotations

import time
from html import escape
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from citymodel.buildings import STRUCTURES, USES
from citymodel.towns import TOWNS_BY_CODE
from protocol.entities import Alert
from widgets.common import alert_title, level_text, pick, state_text

LEVEL_CSS = {4: "#ff3030", 3: "#ff9000", 2: "#ffd800", 1: "#3a8dff"}
_USE = {code: (zh, en) for code, zh, en in USES}
_STRUCTURE = {code: (zh, en) for code, zh, en in STRUCTURES}
_SHORT_EN = {"reinforced_concrete": "RC", "steel_concrete": "Steel/RC", "brick_wood": "Brick/timber"}
_STRUCTURE_SHORT = {code: (zh, _SHORT_EN.get(code, en)) for code, zh, en in STRUCTURES}
translate = QCoreApplication.translate


def _row(k: str, v: Any) -> str:
    return f"<tr><td style='color:#9ab'>{escape(k)}</td><td>{escape(str(v))}</td></tr>"


def _head(text: str) -> str:
    return f"<h4>{escape(text)}</h4>"


def _dim(text: str) -> str:
    return f"<div style='color:#9ab'>{escape(text)}</div>"


def _named(table: dict[str, tuple[str, str]], code: Any, zh: Any) -> str:
    names = table.get(str(code))
    return pick(*names) if names else str(zh or code or "—")


def _town(rec: dict[str, Any]) -> str:
    info = TOWNS_BY_CODE.get(str(rec.get("town")))
    return pick(info.name_zh, info.name_en) if info else str(rec.get("town_zh", rec.get("town")) or "—")


def _health(code: str) -> str:
    names = {"online": translate("CityView", "在线"), "offline": translate("CityView", "离线"),
             "faulty": translate("CityView", "故障")}
    return names.get(code, code)


PLAN_LEVELS = {"corps": QT_TRANSLATE_NOOP("CityView", "总队级"), "detachment": QT_TRANSLATE_NOOP("CityView", "支队级"),
               "brigade": QT_TRANSLATE_NOOP("CityView", "大队级"), "station": QT_TRANSLATE_NOOP("CityView", "站级")}
SITE_PLAN_PX = 280  # the site plan's width in the card (a click opens it large)


def swatch(rgb: tuple[int, int, int]) -> str:
    """A colour square with a thin grey border (CityPanel draws swatch: images), readable on a
    dark and a light panel alike."""
    return f"<img src='swatch:{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}' width='12' height='12'>"


def _date(ts: Any) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(float(ts))) if ts else "—"


def _unit_plans(unit: dict[str, Any], plans: dict[str, Any] | None) -> list[str]:
    """The unit's plans (title, level, updated) and its site plan, or that they are loading."""
    if plans is None:
        return [_head(translate("CityView", "预案")) + _dim(translate("CityView", "查询中…"))]
    items = plans.get("items", [])
    h = [_head(translate("CityView", "预案 ({n})").format(n=len(items)))]
    for pl in items:
        level = translate("CityView", PLAN_LEVELS.get(str(pl.get("level")), PLAN_LEVELS["station"]))
        h.append(f"<div>{escape(pl.get('title', ''))} · {escape(level)} · "
                 + escape(translate("CityView", "更新 {date}").format(date=_date(pl.get("updated_ts"))))
                 + f" · v{int(pl.get('version', 1))}</div>")
    if not items:
        h.append(_dim(translate("CityView", "无")))
    h.append(_head(translate("CityView", "总平面图")))
    if plans.get("site_plan"):
        uid = int(unit["id"])
        h.append(f"<a href='siteplan:{uid}'><img src='siteplan:{uid}' width='{SITE_PLAN_PX}' "
                 f"height='{SITE_PLAN_PX}'></a>"
                 + _dim(translate("CityView", "点击放大")))
    else:
        h.append(_dim(translate("CityView", "无（单位未关联建筑）")))
    return h


def building_card(rec: dict[str, Any], alerts: list[Alert], devices: list[dict[str, Any]] | None,
                  key_units: list[dict[str, Any]] | None, plans: dict[int, dict[str, Any] | None] | None = None) -> str:
    """The picked building: attributes, alerts on it, devices in it, its key-unit record with
    its plans and site plan. devices / key_units None = still loading (or not allowed for this
    role); plans: plans.for_unit answers by unit id (None = loading)."""
    key = translate("CityView", " · 重点单位") if rec.get("key_unit") else ""
    title = translate("CityView", "建筑 #{id}").format(id=rec["id"])
    h = [f"<h3>{escape(title + key)}</h3><table>"]
    h += [_row(translate("CityView", "地址"), rec.get("address") or "—"),
          _row(translate("CityView", "镇街"), _town(rec)),
          _row(translate("CityView", "用途"), _named(_USE, rec.get("use"), rec.get("use_zh"))),
          _row(translate("CityView", "结构"), _named(_STRUCTURE, rec.get("structure"), rec.get("structure_zh"))),
          _row(translate("CityView", "高度"), f"{rec['height']:.1f} m"),
          _row(translate("CityView", "层数"), rec["floors"]),
          _row(translate("CityView", "占地面积"), f"{rec['area_m2']:.0f} m²"),
          _row(translate("CityView", "建筑面积"), f"{rec['area_m2'] * rec['floors']:.0f} m²"),
          _row(translate("CityView", "建成年份"), rec.get("year") or "—"),
          _row(translate("CityView", "位置"), f"{rec['lon']:.5f}, {rec['lat']:.5f}")]
    h.append("</table>")
    h.append(_head(translate("CityView", "告警 ({n})").format(n=len(alerts))))
    for a in sorted(alerts, key=lambda a: (-a.level, -a.last_ts)):
        h.append(f"<div><span style='color:{LEVEL_CSS.get(a.level, '#fff')}'>■ {escape(level_text(a.level))}</span> "
                 f"{escape(alert_title(a))} <span style='color:#9ab'>({escape(state_text(str(a.state)))})</span></div>")
    if devices is None:
        h.append(_head(translate("CityView", "设备")) + _dim(translate("CityView", "查询中…")))
    else:
        h.append(_head(translate("CityView", "设备 ({n})").format(n=len(devices))))
        for d in devices[:50]:
            h.append(f"<div>{escape(d.get('name') or d['id'])} · {escape(d['device_type'])} · "
                     f"{escape(_health(str(d['health'])))}</div>")
    if key_units:
        for k in key_units:
            h.append(_head(translate("CityView", "重点单位：{name}").format(name=k["name"])) + "<table>"
                     + _row(translate("CityView", "类别"), k.get("category", "") or "—")
                     + _row(translate("CityView", "地址"), k.get("address", "") or "—")
                     + _row(translate("CityView", "联系人"), k.get("contact", "") or "—")
                     + _row(translate("CityView", "重点部位"), "、".join(k.get("key_parts", [])) or "—")
                     + "</table>")
            h += _unit_plans(k, (plans or {}).get(int(k["id"])))
    return "".join(h)


def surroundings_card(res: dict[str, Any]) -> str:
    s = res.get("summary", {})
    title = translate("CityView", "周边分析 · 半径 {r} m").format(r=f"{res.get('radius_m', 0):.0f}")
    h = [f"<h3>{escape(title)}</h3>"]
    if res.get("incident_id"):
        h.append("<div>" + escape(translate("CityView", "事件 #{id}").format(id=res["incident_id"])) + "</div>")
    summary = translate("CityView", "建筑 {n} 栋 · 最高 {h} m · 高层 {hr} 栋 · 重点单位 {k}").format(
        n=s.get("count", 0), h=s.get("max_height", 0), hr=s.get("high_rise", 0), k=s.get("key_units", 0))
    h.append(f"<div>{escape(summary)}</div>")
    for head, key in ((translate("CityView", "最近消防站"), "fire_stations"),
                      (translate("CityView", "最近水源"), "water_sources")):
        h.append(f"<h4>{escape(head)}</h4>")
        for r in res.get(key, []):
            h.append(f"<div>{escape(r.get('name', ''))} · {r['distance_m']:.0f} m</div>")
        if not res.get(key):
            h.append(_dim(translate("CityView", "无")))
    # a narrow side panel: short column heads and short structure names (in English)
    cols = (translate("CityView", "距离", "column head"), translate("CityView", "高度", "column head"),
            translate("CityView", "层", "column head"), translate("CityView", "结构", "column head"),
            translate("CityView", "用途", "column head"))
    h.append(_head(translate("CityView", "建筑 (按距离)")) + "<table><tr>"
             + "".join(f"<th>{escape(c)}</th>" for c in cols) + "</tr>")
    for b in res.get("buildings", [])[:60]:
        mark = "★ " if b.get("key_unit") else ""  # key unit, at the front: never wrapped off alone
        h.append(f"<tr><td style='white-space:nowrap'>{mark}{b['distance_m']:.0f} m</td>"
                 f"<td style='white-space:nowrap'>{b['height']:.0f} m</td><td>{b['floors']}</td>"
                 f"<td>{escape(_named(_STRUCTURE_SHORT, b.get('structure'), b.get('structure_zh')))}</td>"
                 f"<td style='white-space:nowrap'>{escape(_named(_USE, b.get('use'), b.get('use_zh')))}</td></tr>")
    h.append("</table>")
    return "".join(h)


def legend_card(mode_name: str, colours: list[tuple[str, tuple[int, int, int]]],
                layers: list[tuple[str, tuple[int, int, int]]],
                device_types: list[tuple[str, tuple[int, int, int]]] | None = None) -> str:
    """What the colours and symbols mean: the building colours of the current mode, the
    overlay layers and the IoT device types shown (shown while nothing is picked)."""
    h = [_head(translate("CityView", "图例")), f"<div style='color:#9ab'>{escape(mode_name)}</div>"]
    h += [f"<div>{swatch(rgb)} {escape(label)}</div>" for label, rgb in colours]
    h.append(_head(translate("CityView", "图层")))
    h += [f"<div>{swatch(rgb)} {escape(label)}</div>" for label, rgb in layers]
    if device_types:  # 14 types: two columns, so the legend fits a wall panel without scrolling
        h.append(_head(translate("CityView", "物联设备（按类型）")) + "<table cellspacing='0' cellpadding='1'>")
        cells = [f"<td>{swatch(rgb)} {escape(label)}</td>" for label, rgb in device_types]
        h += ["<tr>" + "".join(cells[k:k + 2]) + "</tr>" for k in range(0, len(cells), 2)]
        h.append("</table>")
    h.append(_dim(translate("CityView", "点击建筑查看详情")))
    return "".join(h)
