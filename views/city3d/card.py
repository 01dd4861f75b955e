"""HTML for the side panel: the building card and the surroundings list (Chinese first)."""

from __future__ import annotations

from html import escape
from typing import Any

from protocol.entities import Alert

LEVEL_ZH = {4: "红色", 3: "橙色", 2: "黄色", 1: "蓝色"}
LEVEL_CSS = {4: "#ff3030", 3: "#ff9000", 2: "#ffd800", 1: "#3a8dff"}


def _row(k: str, v: Any) -> str:
    return f"<tr><td style='color:#9ab'>{escape(k)}</td><td>{escape(str(v))}</td></tr>"


def building_card(rec: dict[str, Any], alerts: list[Alert], devices: list[dict[str, Any]] | None,
                  key_units: list[dict[str, Any]] | None) -> str:
    """The picked building: attributes, alerts on it, devices in it, its key-unit record.
    devices / key_units None = still loading (or not allowed for this role)."""
    h = [f"<h3>建筑 #{rec['id']}{' · 重点单位' if rec.get('key_unit') else ''}</h3><table>"]
    h += [_row("地址", rec.get("address") or "—"), _row("镇街", rec.get("town_zh", rec.get("town"))),
          _row("用途", rec.get("use_zh", rec.get("use"))), _row("结构", rec.get("structure_zh", rec.get("structure"))),
          _row("高度", f"{rec['height']:.1f} m"), _row("层数", rec["floors"]),
          _row("占地面积", f"{rec['area_m2']:.0f} m²"), _row("建筑面积", f"{rec['area_m2'] * rec['floors']:.0f} m²"),
          _row("建成年份", rec.get("year") or "—"),
          _row("位置", f"{rec['lon']:.5f}, {rec['lat']:.5f}")]
    h.append("</table>")
    h.append(f"<h4>告警 ({len(alerts)})</h4>")
    for a in sorted(alerts, key=lambda a: (-a.level, -a.last_ts)):
        h.append(f"<div><span style='color:{LEVEL_CSS.get(a.level, '#fff')}'>■ {LEVEL_ZH.get(a.level, '')}</span> "
                 f"{escape(a.title)} <span style='color:#9ab'>({escape(str(a.state))})</span></div>")
    if devices is None:
        h.append("<h4>设备</h4><div style='color:#9ab'>查询中…</div>")
    else:
        h.append(f"<h4>设备 ({len(devices)})</h4>")
        for d in devices[:50]:
            h.append(f"<div>{escape(d.get('name') or d['id'])} · {escape(d['device_type'])} · {escape(d['health'])}</div>")
    if key_units:
        for k in key_units:
            h.append(f"<h4>重点单位: {escape(k['name'])}</h4><table>"
                     + _row("类别", k.get("category", "")) + _row("地址", k.get("address", ""))
                     + _row("联系人", k.get("contact", "")) + _row("重点部位", "、".join(k.get("key_parts", [])))
                     + "</table>")
    return "".join(h)


def surroundings_card(res: dict[str, Any]) -> str:
    s = res.get("summary", {})
    h = [f"<h3>周边分析 · 半径 {res.get('radius_m', 0):.0f} m</h3>"]
    if res.get("incident_id"):
        h.append(f"<div>事件 #{res['incident_id']}</div>")
    h.append(f"<div>建筑 {s.get('count', 0)} 栋 · 最高 {s.get('max_height', 0)} m · 高层 {s.get('high_rise', 0)} 栋 · "
             f"重点单位 {s.get('key_units', 0)}</div>")
    for title, key in (("最近消防站", "fire_stations"), ("最近水源", "water_sources")):
        h.append(f"<h4>{title}</h4>")
        for r in res.get(key, []):
            h.append(f"<div>{escape(r.get('name', ''))} · {r['distance_m']:.0f} m</div>")
        if not res.get(key):
            h.append("<div style='color:#9ab'>无</div>")
    h.append("<h4>建筑 (按距离)</h4><table><tr><th>距离</th><th>高度</th><th>层</th><th>结构</th><th>用途</th></tr>")
    for b in res.get("buildings", [])[:60]:
        mark = " ★" if b.get("key_unit") else ""
        h.append(f"<tr><td>{b['distance_m']:.0f} m</td><td>{b['height']:.0f} m</td><td>{b['floors']}</td>"
                 f"<td>{escape(b.get('structure_zh', ''))}</td><td>{escape(b.get('use_zh', ''))}{mark}</td></tr>")
    h.append("</table>")
    return "".join(h)
