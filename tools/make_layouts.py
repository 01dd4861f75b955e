"""Writes the shipped hall profiles (resources/layouts/*.json) from one readable description.

`python -m tools.make_layouts`. The JSON files are the data the console loads (and what users
copy and edit); this script only keeps the five consistent. Metric keys are those of the
service's metrics.tick (sync_service/metrics.py): city readings_per_s, devices_online_pct,
alerts_open, alerts_red, pm25_avg, rain_1h_max, water_level_max; towns pm25, rain_1h, level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "resources" / "layouts"
# The simulated city's kitchen cameras send readings, not video: the kitchen camera tile plays
# a shipped clip (resources/video, captioned as simulated). Real cameras: their stream URL here,
# e.g. "rtsp://cams.example/{device_id}".
KITCHEN_CLIP = "resource:video/kitchen_camera.mp4"

KPIS = [
    {"key": "readings_per_s", "title_zh": "每秒接入读数", "title_en": "Readings per second", "unit": "/s"},
    {"source": "devices_online_pct", "title_zh": "设备在线率", "title_en": "Devices online", "unit": "%",
     "decimals": 1, "warn": 95, "alarm": 90, "higher_is_worse": False, "follow_town": True},
    # counts from the service's metrics.tick (city and per town): no scan of every alert here
    {"key": "alerts_open", "title_zh": "未处理告警", "title_en": "Open alerts", "warn": 50, "alarm": 200,
     "follow_town": True},
    {"key": "alerts_red", "title_zh": "红色告警", "title_en": "Red alerts", "warn": 1, "alarm": 3,
     "follow_town": True},
    {"key": "pm25_avg", "town_key": "pm25", "title_zh": "PM2.5 均值", "title_en": "PM2.5, city mean",
     "unit": "µg/m³", "warn": 75, "alarm": 115, "follow_town": True},
    {"source": "incidents_active", "title_zh": "处置中事件", "title_en": "Active incidents", "warn": 1, "alarm": 5},
]
# Each chart's title says what it shows, with its unit (a panel called "Trends" three times told
# the wall nothing); two quantities of different units get an axis each.
TREND_MAIN = {"title_zh": "接入读数与未处理告警", "title_en": "Readings and open alerts", "series": [
    {"key": "readings_per_s", "title_zh": "每秒接入读数 (条/秒)", "title_en": "Readings per second"},
    {"key": "alerts_open", "title_zh": "未处理告警 (条)", "title_en": "Open alerts", "axis": "right"}],
    "range_s": 3600}
TREND_AIR = {"title_zh": "PM2.5 均值 (µg/m³)", "title_en": "PM2.5, mean (µg/m³)", "series": [
    {"key": "pm25_avg", "town_key": "pm25", "title_zh": "PM2.5 均值 (µg/m³)", "title_en": "PM2.5, mean (µg/m³)",
     "query": {"metric": "pm25", "device_type": "air_station"}}], "range_s": 6 * 3600, "follow_town": True}
TREND_RAIN = {"title_zh": "最大小时雨量 (mm)", "title_en": "Heaviest rain in 1 h (mm)", "series": [
    {"key": "rain_1h_max", "town_key": "rain_1h", "title_zh": "最大小时雨量 (mm)", "title_en": "Heaviest rain in 1 h (mm)",
     "query": {"metric": "rain_1h", "device_type": "rain_gauge", "agg": "max"}}], "range_s": 6 * 3600,
    "follow_town": True}
TREND_WATER = {"title_zh": "最高河道水位 (m)", "title_en": "Highest river level (m)", "series": [
    {"key": "water_level_max", "town_key": "level", "title_zh": "最高河道水位 (m)", "title_en": "Highest river level (m)",
     "query": {"metric": "level", "device_type": "water_level", "agg": "max"}}], "range_s": 6 * 3600,
    "follow_town": True}


def cell(panel: str, r: int, c: int, rs: int = 1, cs: int = 1, **opt: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"panel": panel, "row": r, "col": c, "rowspan": rs, "colspan": cs}
    if opt:
        d["options"] = opt
    return d


def page(zh: str, en: str, rows: int, cols: int, cells: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"name_zh": zh, "name_en": en, "rows": rows, "cols": cols, "cells": cells, **kw}


def screen(zh: str, en: str, pages: list[dict[str, Any]], mode: str = "grid", rotate_s: float = 20) -> dict[str, Any]:
    return {"name_zh": zh, "name_en": en, "mode": mode, "rotate_s": rotate_s, "pages": pages}


def profile(pid: str, zh: str, en: str, screens: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"schema_version": 1, "id": pid, "name_zh": zh, "name_en": en, **kw, "screens": screens}


def profiles() -> list[dict[str, Any]]:
    front = profile("front", "运营前厅", "Front hall", [screen("展示", "Showcase", [
        page("城市总览", "City overview", 3, 4, [
            cell("town_map", 0, 0, 3, 2, indicator="alerts", title_zh="各镇街未处理告警 (条)",
                 title_en="Open alerts by town"),
            cell("kpi_row", 0, 2, 1, 2, hide_title=True, tiles=KPIS[:2], cols=2),
            cell("kpi_row", 1, 2, 1, 2, hide_title=True, tiles=[KPIS[4], KPIS[5]], cols=2),
            cell("trend", 2, 2, 1, 2, **TREND_MAIN)], row_stretch=[2, 2, 3]),
        page("空气与降雨", "Air and rain", 2, 2, [
            cell("trend", 0, 0, **TREND_AIR), cell("town_map", 0, 1, 2, 1, indicator="pm25",
                                                   title_zh="各镇街 PM2.5 (µg/m³)", title_en="PM2.5 by town (µg/m³)"),
            cell("trend", 1, 0, **TREND_RAIN)]),
        page("城市感知", "City sensing", 2, 2, [
            cell("device_health", 0, 0, 2, 1),
            cell("comparison", 0, 1, by="domain", indicator="alerts", title_zh="各部门未处理告警 (条)",
                 title_en="Open alerts by bureau"),
            cell("comparison", 1, 1, by="town", indicator="alerts", top=10, title_zh="未处理告警最多的镇街 (条)",
                 title_en="Towns with the most open alerts")]),
        page("三维城市", "3D city", 1, 1, [cell("city3d", 0, 0)]),
    ], mode="playlist", rotate_s=30)], theme="dark", kiosk=True, follow_focus=False)

    operations = profile("operations", "运营大厅", "Operations hall", [
        screen("告警监控", "Alert monitoring", [page("告警监控", "Alert monitoring", 3, 3, [
            cell("kpi_row", 0, 0, 1, 3, hide_title=True, tiles=[KPIS[2], KPIS[3], KPIS[1], KPIS[0]], cols=4),
            cell("alert_feed", 1, 0, 2, 2),
            cell("incident", 1, 2, 2, 1)], row_stretch=[1, 3, 3])]),
        screen("三维城市", "3D city", [page("三维城市", "3D city", 2, 3, [
            cell("city3d", 0, 0, 2, 2),
            cell("town_map", 0, 2, indicator="alerts", min_level=2, title_zh="镇街告警（黄色及以上）",
                 title_en="Town alerts (yellow and above)"),
            cell("camera", 1, 2, follow_alert=True, url_template=KITCHEN_CLIP, loop=True, simulated=True,
                 title_zh="明厨亮灶视频", title_en="Kitchen camera")])]),
        screen("设备与趋势", "Devices and trends", [page("设备与趋势", "Devices and trends", 2, 3, [
            cell("device_health", 0, 0, 2, 1),
            cell("trend", 0, 1, 1, 2, **TREND_MAIN),
            cell("trend", 1, 1, **TREND_RAIN),
            cell("data_quality", 1, 2)], col_stretch=[5, 3, 3])]),  # device health: names, counts, bars
    ], theme="dark", kiosk=True, follow_focus=True)

    decision = profile("decision", "决策指挥室", "Decision command room", [
        screen("指挥决策", "Command", [page("指挥决策", "Command", 3, 2, [
            cell("situation", 0, 0, 1, 2),
            cell("incident", 1, 0, 2, 1),
            cell("decisions", 1, 1, 2, 1)], row_stretch=[2, 3, 3])]),
        screen("现场态势", "On the ground", [page("现场态势", "On the ground", 2, 3, [
            cell("city3d", 0, 0, 2, 2),
            cell("town_map", 0, 2, indicator="alerts", min_level=3, title_zh="镇街告警（橙色及以上）",
                 title_en="Town alerts (orange and above)"),
            cell("trend", 1, 2, **TREND_WATER)])]),
    ], theme="dark", kiosk=True, follow_focus=True, sends_focus=True)

    intelligence = profile("intelligence", "情报会商室", "Intelligence room", [
        screen("趋势研判", "Trends", [page("趋势研判", "Trends", 2, 3, [
            cell("trend", 0, 0, 1, 2, **TREND_AIR),
            cell("town_map", 0, 2, 2, 1, indicator="pm25", title_zh="各镇街 PM2.5 (µg/m³)", title_en="PM2.5 by town (µg/m³)"),
            cell("trend", 1, 0, **TREND_RAIN),
            cell("trend", 1, 1, **TREND_WATER)], col_stretch=[2, 2, 3])]),
        screen("对比分析", "Comparisons", [page("对比分析", "Comparisons", 2, 2, [
            cell("comparison", 0, 0, by="town", indicator="alerts", top=15, title_zh="未处理告警最多的镇街 (条)",
                 title_en="Towns with the most open alerts"),
            cell("comparison", 0, 1, by="town", indicator="pm25", top=15, title_zh="PM2.5 最高的镇街 (µg/m³)",
                 title_en="Towns with the most PM2.5 (µg/m³)"),
            cell("comparison", 1, 0, by="domain", indicator="alerts", title_zh="各部门未处理告警 (条)",
                 title_en="Open alerts by bureau"),
            cell("data_quality", 1, 1)])]),
    ], theme="dark", kiosk=True, follow_focus=False)

    duty = profile("duty", "值班笔记本", "Duty officer laptop", [screen("值班", "Duty", [
        page("告警", "Alerts", 3, 3, [
            cell("kpi_row", 0, 0, 1, 3, hide_title=True, tiles=[KPIS[3], KPIS[2], KPIS[1]], cols=3),
            cell("alert_feed", 1, 0, 2, 2),
            cell("incident", 1, 2, 2, 1)], row_stretch=[1, 4, 4]),
        page("态势", "Situation", 2, 2, [
            cell("town_map", 0, 0, 2, 1, indicator="alerts", title_zh="各镇街未处理告警 (条)",
                 title_en="Open alerts by town"),
            cell("situation", 0, 1),
            cell("device_health", 1, 1)]),
        page("趋势", "Trends", 2, 2, [
            cell("trend", 0, 0, 1, 2, **TREND_MAIN),
            cell("trend", 1, 0, **TREND_RAIN),
            cell("data_quality", 1, 1)]),
        page("决策", "Decisions", 1, 2, [
            cell("decisions", 0, 0),
            cell("camera", 0, 1, follow_alert=True, url_template=KITCHEN_CLIP, loop=True, simulated=True,
                 title_zh="明厨亮灶视频", title_en="Kitchen camera")]),
        page("三维", "3D city", 1, 1, [cell("city3d", 0, 0)]),
    ], mode="tabs")], theme="light", kiosk=False, follow_focus=True)
    return [front, operations, decision, intelligence, duty]


def main() -> int:
    for p in profiles():
        path = OUT / f"{p['id']}.json"
        path.write_text(json.dumps(p, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
