"""The panel catalogue: the ids a layout file names, their titles and how each is built.

A layout cell {"panel": "kpi", "options": {...}} becomes PANELS["kpi"].build(ctx, options).
An unknown id (a newer layout on an older console) becomes a visible notice, not a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QWidget

from views.context import ViewContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSpec:
    id: str
    title_zh: str
    title_en: str
    build: Callable[[ViewContext, dict[str, Any]], QWidget]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


def _alert_feed(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from app.alert_filter import AlertFilter
    from widgets.alert_feed import AlertFeed
    feed = AlertFeed(ctx.store, ctx.commands, ctx.view_state, o)
    saved = ctx.settings.filters.get(ctx.profile.id)
    if saved and not o.get("filter"):
        feed.apply_filter(AlertFilter.from_dict(saved))

    def remember(d: dict[str, Any]) -> None:
        ctx.settings.filters = {**ctx.settings.filters, ctx.profile.id: d}
        if ctx.save_settings:
            ctx.save_settings()
    feed.filter_changed.connect(remember)
    return feed


def _kpi(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.kpi_tile import KpiTile
    return KpiTile(ctx.store, ctx.view_state, o)


def _kpi_row(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from PySide6.QtWidgets import QGridLayout

    from widgets.kpi_tile import KpiTile
    w = QWidget(objectName="KpiRow")
    grid = QGridLayout(w)
    grid.setContentsMargins(0, 0, 0, 0)
    cols = int(o.get("cols", len(o.get("tiles", [])) or 1))
    for i, t in enumerate(o.get("tiles", [])):
        grid.addWidget(KpiTile(ctx.store, ctx.view_state, t), i // cols, i % cols)
    return w


def _trend(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.trend_chart import TrendChart
    return TrendChart(ctx.store, ctx.commands, ctx.view_state, o)


def _town_map(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.town_map import TownMap
    return TownMap(ctx.store, ctx.view_state, o)


def _device_health(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.device_health import DeviceHealth
    return DeviceHealth(ctx.store, ctx.commands, ctx.view_state, o)


def _dq(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.dq_panel import DataQualityPanel
    return DataQualityPanel(ctx.store)


def _camera(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.camera_tile import CameraTile
    return CameraTile(ctx.store, ctx.view_state, o)


def _incident(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.incident_panel import IncidentPanel
    opts = {"follow_focus": ctx.profile.follow_focus or ctx.profile.sends_focus,
            "sends_focus": ctx.profile.sends_focus, **o}
    return IncidentPanel(ctx.store, ctx.commands, ctx.view_state, opts)


def _decisions(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.decision_panel import DecisionPanel
    return DecisionPanel(ctx.store, ctx.commands)


def _situation(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.situation import SituationSummary
    return SituationSummary(ctx.store)


def _comparison(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.comparison import ComparisonChart
    return ComparisonChart(ctx.store, ctx.view_state, o)


def city_view_factory() -> Callable[..., QWidget] | None:
    """views.city3d.create_city_view once the 3D engineer's package provides it."""
    try:
        from views import city3d  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - missing or broken 3D stack: show the placeholder
        log.info("3D city not available: %s", exc)
        return None
    return getattr(city3d, "create_city_view", None)


def _city3d(ctx: ViewContext, o: dict[str, Any]) -> QWidget:
    from widgets.city_placeholder import CityPlaceholder
    if o.get("placeholder"):
        return CityPlaceholder()
    factory = city_view_factory()
    if factory is None:
        return CityPlaceholder()
    try:
        # like the incident panel: a hall that does not follow the focus keeps its view
        follow = bool(o.get("follow_focus", ctx.profile.follow_focus or ctx.profile.sends_focus))
        return factory(ctx.store, ctx.commands, follow_focus=follow)
    except Exception as exc:  # noqa: BLE001 - e.g. no OpenGL on this machine
        log.exception("3D city view failed to start")
        return CityPlaceholder(str(exc))


PANELS: dict[str, PanelSpec] = {p.id: p for p in (
    PanelSpec("alert_feed", "告警列表", "Alert feed", _alert_feed),
    PanelSpec("kpi", "指标", "Indicator", _kpi),
    PanelSpec("kpi_row", "核心指标", "Headline indicators", _kpi_row),
    PanelSpec("trend", "趋势", "Trends", _trend),
    PanelSpec("town_map", "镇街态势", "Towns", _town_map),
    PanelSpec("device_health", "设备状态", "Device health", _device_health),
    PanelSpec("data_quality", "数据质量", "Data quality", _dq),
    PanelSpec("camera", "视频监控", "Camera", _camera),
    PanelSpec("incident", "关注事件", "Incident in focus", _incident),
    PanelSpec("decisions", "待决策事项", "Decisions waiting", _decisions),
    PanelSpec("situation", "态势总览", "Situation", _situation),
    PanelSpec("comparison", "对比分析", "Comparison", _comparison),
    PanelSpec("city3d", "三维城市", "3D city", _city3d),
)}


def build_panel(ctx: ViewContext, panel_id: str, options: dict[str, Any]) -> QWidget:
    spec = PANELS.get(panel_id)
    if spec is None:
        w = QLabel(QCoreApplication.translate("Panels", "未知面板：") + panel_id)
        w.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return w
    try:
        return spec.build(ctx, options)
    except Exception as exc:  # noqa: BLE001 - one broken panel must not take the wall down
        log.exception("panel %s failed to build", panel_id)
        w = QLabel(QCoreApplication.translate("Panels", "面板加载失败：") + f"{panel_id}\n{exc}")
        w.setAlignment(Qt.AlignmentFlag.AlignCenter)
        ctx.notifications.error(f"panel {panel_id}: {exc}", source="panels")
        return w
