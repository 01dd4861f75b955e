"""KPI tile, trend chart, town map, device health, data quality, situation, comparison, header."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QPoint, Qt

from app.commandbus import CommandResult
from app.store import Connection
from tests.widgets.conftest import alert, push, tick
from widgets.comparison import ComparisonChart
from widgets.device_health import DeviceHealth, aggregate
from widgets.dq_panel import DataQualityPanel
from widgets.header import HeaderBar
from widgets.kpi_tile import KpiTile
from widgets.situation import SituationSummary
from widgets.town_map import TownMap
from widgets.trend_chart import TrendChart, history_points


def _tick(store: Any, ts: float, **city: float) -> None:
    push(store, "metrics.tick", {"ts": ts, "city": city, "towns": {"humen": {"aqi": city.get("aqi", 0) + 50}}})


def test_kpi_tile_value_trend_and_threshold_colour(store: Any, qtbot: Any, qapp: Any) -> None:
    tile = KpiTile(store, options={"key": "aqi", "title_zh": "空气质量", "warn": 100, "alarm": 150, "unit": ""})
    qtbot.addWidget(tile)
    tile.resize(300, 160)
    tile.show()
    assert tile.value_text() == "—"
    for k, v in enumerate([60, 62, 61, 60, 63, 62, 120]):
        _tick(store, 1000 + 5 * k, aqi=v)
    tick(qapp)
    assert tile.value_text() == "120"
    assert tile.state.trend == 1
    assert tile.state.band == "warn"
    assert len(tile.state.history) == 7
    _tick(store, 2000, aqi=160)
    tick(qapp)
    assert tile.state.band == "alarm"
    assert not tile.grab().isNull()


def test_kpi_tile_follows_clicked_town(store: Any, qtbot: Any, qapp: Any) -> None:
    tile = KpiTile(store, options={"key": "aqi", "follow_town": True})
    qtbot.addWidget(tile)
    _tick(store, 1000, aqi=40)
    tick(qapp)
    assert tile.state.value == 40
    tile.view_state.set_town("humen")
    tick(qapp)
    assert tile.state.value == 90


def test_kpi_tile_derived_from_alerts(store: Any, qtbot: Any, qapp: Any) -> None:
    tile = KpiTile(store, options={"source": "alerts_red", "warn": 1, "alarm": 3})
    qtbot.addWidget(tile)
    for i in range(3):
        push(store, "alert.upsert", alert(i + 1, level=4))
    tick(qapp)
    assert tile.state.value == 3
    assert tile.state.band == "alarm"


def test_trend_chart_live_append_and_history_query(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    now = time.time()
    chart = TrendChart(store, sink, options={"series": [
        {"key": "aqi", "query": {"metric": "pm25", "device_type": "air_station"}}, {"key": "pm25"}], "range_s": 900})
    qtbot.addWidget(chart)
    chart.show()
    assert [q[1]["metric"] for q in sink.queries] == ["pm25"]  # nothing live yet: asks for history
    for k in range(10):
        _tick(store, now - 50 + 5 * k, aqi=50 + k, pm25=30)
    sink.answers["readings.series"] = CommandResult(ok=True, data={"points": [[now - 5000, 10.0], [now - 4000, 11.0]]})
    chart.history.clear()
    tick(qapp)
    xs, ys = chart.curves["aqi"].getData()
    assert list(ys) == [50 + k for k in range(10)]
    sink.queries.clear()
    chart.range_box.setCurrentIndex(chart.range_box.findData(6 * 3600))
    assert sink.queries[-1][0] == "readings.series"
    args = sink.queries[-1][1]
    assert args["metric"] == "pm25"
    assert args["device_type"] == "air_station"
    assert args["since_ts"] < now - 6 * 3600 + 60
    tick(qapp)
    xs, ys = chart.curves["aqi"].getData()
    assert list(ys[:2]) == [10.0, 11.0]  # history first, then the live ticks
    assert len(ys) == 12


def test_history_points_formats() -> None:
    assert history_points({"points": [{"ts": 1, "value": 2}, [3, 4], [5, None]]}) == ([1.0, 3.0], [2.0, 4.0])
    assert history_points({"ts": [1, 2], "values": [3, None]}) == ([1.0], [3.0])
    assert history_points(None) == ([], [])


def test_town_map_colours_by_alerts_and_click_filters(store: Any, qtbot: Any, qapp: Any) -> None:
    m = TownMap(store)
    qtbot.addWidget(m)
    m.resize(800, 600)
    m.show()
    qtbot.waitExposed(m)
    for i in range(4):
        push(store, "alert.upsert", alert(i + 1, town="humen"))
    push(store, "alert.upsert", alert(9, town="changan", state="resolved"))
    tick(qapp)
    assert m.values == {"humen": 4.0}
    assert len(m.paths) == 34
    pt = m.widget_point("humen")
    assert m.town_at(pt) == "humen"
    qtbot.mouseClick(m, Qt.MouseButton.LeftButton, pos=QPoint(int(pt.x()), int(pt.y())))
    assert m.view_state.town == "humen"
    qtbot.mouseClick(m, Qt.MouseButton.LeftButton, pos=QPoint(int(pt.x()), int(pt.y())))
    assert m.view_state.town is None  # a second click clears the filter


def _stats(store: Any) -> None:
    push(store, "devices.stats", {"items": [
        dict(domain="fire", device_type="smoke_detector", town="humen", total=100, online=90, offline=8, faulty=2),
        dict(domain="fire", device_type="smoke_detector", town="changan", total=50, online=50, offline=0, faulty=0),
        dict(domain="water", device_type="rain_gauge", town="humen", total=10, online=7, offline=3, faulty=0)]})


def test_device_health_aggregates_and_follows_town(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _stats(store)
    assert aggregate(store.device_stats, None)["fire"]["smoke_detector"]["total"] == 150
    w = DeviceHealth(store, sink)
    qtbot.addWidget(w)
    w.show()
    tick(qapp)
    top = {w.tree.topLevelItem(i).text(0): w.tree.topLevelItem(i) for i in range(w.tree.topLevelItemCount())}
    assert top["fire"].text(1) == "150"
    assert top["water"].text(3) == "3"
    assert "160" in w.summary.text()
    w.view_state.set_town("changan")
    tick(qapp)
    assert w.tree.topLevelItemCount() == 1
    assert "50" in w.summary.text()


def test_device_health_drill_down_queries_devices_list(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _stats(store)
    sink.answers["devices.list"] = CommandResult(ok=True, data={"total": 2, "items": [
        {"id": "smoke-1", "town": "humen", "health": "offline", "last_ts": time.time(), "last_values": {"smoke": 0.01}},
        {"id": "smoke-2", "town": "humen", "health": "online", "last_values": {}}]})
    w = DeviceHealth(store, sink)
    qtbot.addWidget(w)
    w.view_state.set_town("humen")
    tick(qapp)
    item = w.tree.topLevelItem(0).child(0)
    w.tree.itemActivated.emit(item, 0)
    assert sink.queries[-1] == ("devices.list", {"domain": "fire", "limit": 500, "device_type": "smoke_detector",
                                                 "town": "humen"})
    d = w.dialogs[-1]
    assert d.table.rowCount() == 2
    assert d.table.item(0, 3).text() == "离线"
    assert "smoke=0.01" in d.table.item(0, 5).text()
    d.close()


def test_device_list_query_error_is_shown(store: Any, sink: Any, qtbot: Any) -> None:
    _stats(store)
    sink.answers["devices.list"] = CommandResult(ok=False, error_code="offline", error_message="service unreachable")
    w = DeviceHealth(store, sink)
    qtbot.addWidget(w)
    d = w.drill_down("fire", None)
    assert "service unreachable" in d.info.text()
    d.close()


def test_data_quality_panel(store: Any, qtbot: Any, qapp: Any) -> None:
    p = DataQualityPanel(store)
    qtbot.addWidget(p)
    p.show()
    push(store, "dq.counts", {"ts": time.time(), "total": {"sentinel": 5, "auth_invalid": 12},
                              "by_domain": {"water": {"sentinel": 5}, "fire": {"auth_invalid": 12}}})
    tick(qapp)
    assert p.table.rowCount() == 2
    assert p.table.item(0, 0).text() == "凭证无效"
    assert p.table.item(0, 1).text() == "12"
    assert "17" in p.caption.text()


def test_situation_summary_counts(store: Any, qtbot: Any, qapp: Any) -> None:
    s = SituationSummary(store)
    qtbot.addWidget(s)
    s.show()
    push(store, "alert.upsert", alert(1, level=4))
    push(store, "alert.upsert", alert(2, level=4, state="resolved"))
    push(store, "alert.upsert", alert(3, level=2))
    push(store, "task.upsert", dict(id=1, title="增援", domain="fire", state="proposed", requires_approval=True,
                                    created_by="op", created_ts=1, updated_ts=1))
    _stats(store)
    tick(qapp)
    f = s.figures()
    assert (f["level4"], f["level2"], f["level1"], f["decisions"]) == ("1", "1", "0", "1")
    assert f["devices"] == f"{100 * 147 / 160:.1f}%"


def test_comparison_chart_orders_towns(store: Any, qtbot: Any, qapp: Any) -> None:
    c = ComparisonChart(store, options={"by": "town", "indicator": "alerts", "top": 2})
    qtbot.addWidget(c)
    c.show()
    for i, town in enumerate(["humen", "humen", "changan", "humen", "changan", "dalang"]):
        push(store, "alert.upsert", alert(i + 1, town=town))
    tick(qapp)
    assert c.shown == [("humen", 3.0), ("changan", 2.0)]


def test_header_connection_states_and_data_age(store: Any, qtbot: Any) -> None:
    h = HeaderBar(store, "运营大厅")
    qtbot.addWidget(h)
    store.set_connection(Connection.ONLINE)
    store.data_ts = time.time()
    assert h.connection_text()[1] == "online"
    store.set_connection(Connection.OFFLINE)
    store.data_ts = time.time() - 600
    text, state = h.connection_text()
    assert state == "offline"
    assert "10 分钟" in text
    store.set_connection(Connection.RECONNECTING)
    assert h.connection_text()[1] == "reconnecting"
    store.set_connection(Connection.ONLINE)
    store.data_ts = time.time() - 120  # online but nothing new: stale, with the age
    assert h.connection_text()[1] == "stale"
    toggled: list[bool] = []
    h.mute_toggled.connect(toggled.append)
    h.mute.click()
    assert toggled == [True]
    assert h.mute.text() == "✕ 已静音"
    assert h.conn.text()


def test_trend_and_kpi_follow_the_town_under_its_own_key(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    chart = TrendChart(store, sink, options={"series": [{"key": "pm25_avg", "town_key": "pm25"}], "follow_town": True,
                                             "range_s": 900})
    tile = KpiTile(store, options={"key": "pm25_avg", "town_key": "pm25", "follow_town": True})
    for w in (chart, tile):
        qtbot.addWidget(w)
        w.show()
    now = time.time()
    for k in range(3):
        push(store, "metrics.tick", {"ts": now - 10 + 5 * k, "city": {"pm25_avg": 40 + k},
                                     "towns": {"humen": {"pm25": 70 + k}}})
    tick(qapp)
    assert list(chart.curves["pm25_avg"].getData()[1]) == [40, 41, 42]
    assert tile.state.value == 42
    chart.view_state.set_town("humen")
    tile.view_state.set_town("humen")
    tick(qapp)
    assert list(chart.curves["pm25_avg"].getData()[1]) == [70, 71, 72]
    assert tile.state.value == 72
    assert sink.queries == [] or all(q[1].get("town") in (None, "humen") for q in sink.queries)


def test_town_map_labels_never_overlap_and_always_name_their_town(store: Any, qtbot: Any, qapp: Any) -> None:
    """PM2.5 for every town on a wall-sized map: the labels that fit do not touch, stay inside,
    carry the town's name with the value (never a bare number), and the worst towns are named."""
    from PySide6.QtCore import QEvent, QPointF, QRectF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from widgets.common import town_name
    from widgets.town_map import LABEL_GAP, leader_end
    m = TownMap(store, options={"indicator": "pm25"})
    qtbot.addWidget(m)
    m.resize(800, 900)
    m.show()
    towns = {code: 20.0 + (k * 7.3) % 40 for k, code in enumerate(m.paths)}
    push(store, "metrics.tick", {"ts": time.time(), "city": {}, "towns": {c: {"pm25": v} for c, v in towns.items()}})
    tick(qapp)
    labels = m.labels()
    assert len(labels) >= 20
    area = QRectF(m.rect())
    for i, a in enumerate(labels):
        assert area.contains(a.rect)
        name = a.text.rsplit(" ", 1)[0]
        assert name
        assert not name.replace(".", "").isdigit()
        assert town_name(store, a.code).startswith(name)
        assert a.text.endswith(f" {towns[a.code]:g}")
        for b in labels[i + 1:]:
            assert not a.rect.adjusted(-LABEL_GAP, -LABEL_GAP, LABEL_GAP, LABEL_GAP).intersects(b.rect), (a, b)
        if a.moved:  # joined to its town by a leader line from a point no label covers, under no label
            assert not any(b.rect.contains(a.anchor) for b in labels if b is not a)
            end = leader_end(a.anchor, a.rect)
            line = [a.anchor + (end - a.anchor) * (k / 20) for k in range(1, 20)]
            assert not any(b.rect.contains(pt) for b in labels if b is not a for pt in line), a
    worst = sorted(towns, key=lambda c: -towns[c])
    named = {lab.code for lab in labels}
    assert set(worst[:5]) <= named  # the worst are always named
    assert len(set(worst[:10]) & named) >= 8
    # a town left without a label (space runs out first for the least) is named on hover
    least = next((c for c in reversed(worst) if c not in named), worst[-1])
    box = m._transform().mapRect(m.paths[least][0].boundingRect())
    inside = next(QPoint(int(box.left() + box.width() * i / 10), int(box.top() + box.height() * j / 10))
                  for i in range(1, 10) for j in range(1, 10)
                  if m.town_at(QPointF(box.left() + box.width() * i / 10, box.top() + box.height() * j / 10)) == least)
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(inside), m.mapToGlobal(QPointF(inside)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(m, move)
    assert m.toolTip() == f"{town_name(store, least)}: {towns[least]:g}"
    assert not m.grab().isNull()


def test_trend_legend_sits_above_the_plot_and_a_second_unit_gets_its_own_axis(store: Any, sink: Any,
                                                                             qtbot: Any, qapp: Any) -> None:
    one = TrendChart(store, sink, options={"series": [{"key": "rain_1h_max", "title_zh": "最大小时雨量 (mm)"}]})
    two = TrendChart(store, sink, options={"series": [{"key": "readings_per_s", "title_zh": "每秒读数"},
                                                      {"key": "alerts_open", "title_zh": "未处理告警", "axis": "right"}],
                                           "range_s": 900})
    for w in (one, two):
        qtbot.addWidget(w)
        w.resize(700, 400)
        w.show()
    assert one.plot.getPlotItem().legend is None  # nothing drawn over the curves
    assert not one.legend.isVisible()  # one series: the panel's title names it
    assert two.legend.isVisible()
    assert "每秒读数" in two.legend.text()
    assert "未处理告警" in two.legend.text()
    assert two.legend.geometry().bottom() < two.plot.geometry().top()
    assert two.right_box is not None
    assert two.curves["alerts_open"] in two.right_box.addedItems
    now = time.time()
    for k in range(5):
        push(store, "metrics.tick", {"ts": now - 20 + 5 * k, "city": {"readings_per_s": 3000 + k, "alerts_open": 40 + k}})
    tick(qapp)
    two.redraw()
    qapp.processEvents()
    lo, hi = two.right_box.viewRange()[1]
    assert lo <= 44
    assert hi >= 40
    assert hi < 1000


def test_device_health_opens_on_the_types_and_keeps_a_closed_bureau_closed(store: Any, sink: Any, qtbot: Any,
                                                                          qapp: Any) -> None:
    from widgets.device_health import ShareRole, bar_fill
    _stats(store)
    w = DeviceHealth(store, sink)
    qtbot.addWidget(w)
    w.show()
    tick(qapp)
    items = {w.tree.topLevelItem(i).text(0): w.tree.topLevelItem(i) for i in range(w.tree.topLevelItemCount())}
    assert all(it.isExpanded() for it in items.values())
    assert items["fire"].data(5, ShareRole) == 140 / 150
    w.tree.collapseItem(items["fire"])
    _stats(store)  # new figures: the tree is rebuilt
    tick(qapp)
    items = {w.tree.topLevelItem(i).text(0): w.tree.topLevelItem(i) for i in range(w.tree.topLevelItemCount())}
    assert not items["fire"].isExpanded()
    assert items["water"].isExpanded()
    assert (bar_fill(1.0), round(bar_fill(0.95), 6), bar_fill(0.5)) == (1.0, 0.5, 0.0)  # the bar spans 90-100 %


def test_bureau_column_shows_short_names_with_the_full_name_as_tooltip(city_store: Any, qapp: Any) -> None:
    from widgets.alert_model import AlertTableModel
    m = AlertTableModel(city_store)
    m.flush()
    col = 3  # bureau
    for r in range(m.rowCount()):
        a = m.alert_at(r)
        if a.domain == "urban":
            assert m.data(m.index(r, col)) == "城管局"
            assert m.data(m.index(r, col), Qt.ItemDataRole.ToolTipRole) == "城市管理和综合执法局"
            break
    else:
        raise AssertionError("no urban-management alert in the demo city")
