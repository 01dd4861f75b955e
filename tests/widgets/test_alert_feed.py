from __future__ import annotations

import random
import time
from typing import Any

from PySide6.QtCore import QPoint, Qt

from app.alert_filter import COLUMNS, AlertFilter
from protocol.enums import Role
from tests.widgets.conftest import alert, push, tick
from tools.demo_state import session
from widgets.alert_feed import AlertFeed
from widgets.alert_model import AlertIdRole, AlertTableModel


def _load(store: Any, alerts: list[dict[str, Any]]) -> None:
    store.begin_snapshot(1)
    store.snapshot_part("alerts", alerts)
    store.end_snapshot(1)


def test_model_sorted_by_level_then_time_and_updates_incrementally(store: Any, qapp: Any) -> None:
    _load(store, [alert(1, level=1, ts=100), alert(2, level=4, ts=50), alert(3, level=4, ts=200)])
    m = AlertTableModel(store)
    m.flush()
    assert m.ids() == [3, 2, 1]  # red first, newest red first
    inserted: list[int] = []
    m.rowsInserted.connect(lambda _p, first, _last: inserted.append(first))
    resets: list[int] = []
    m.modelReset.connect(lambda: resets.append(1))
    push(store, "alert.upsert", alert(4, level=3, ts=300))
    push(store, "alert.upsert", alert(1, level=4, ts=400))  # re-raised at red: moves to the top
    m.flush()
    assert m.ids() == [1, 3, 2, 4]
    assert resets == []  # a change is a row move, not a reset (selection and scroll survive)
    assert sorted(inserted) == [0, 3]
    assert m.is_fresh(4)
    assert m.data(m.index(0, 0), Qt.ItemDataRole.DisplayRole) == "红色"


def test_filter_by_level_domain_town_state_and_text(store: Any, qapp: Any) -> None:
    _load(store, [alert(1, level=4, domain="fire", town="humen", title="虎门火灾报警"),
                  alert(2, level=2, domain="water", town="humen", title="水位"),
                  alert(3, level=4, domain="fire", town="changan", state="resolved", title="长安火灾"),
                  alert(4, level=1, domain="urban", town="dongcheng", title="井盖位移", device_id="manhole-9")])
    m = AlertTableModel(store)
    m.set_filter(AlertFilter(levels={4}))
    assert m.ids() == [1]  # 3 is resolved: the default state filter shows open alerts only
    m.set_filter(AlertFilter(levels={4}, states=set()))
    assert set(m.ids()) == {1, 3}
    m.set_filter(AlertFilter(towns={"humen"}))
    assert set(m.ids()) == {1, 2}
    m.set_filter(AlertFilter(domains={"urban"}))
    assert m.ids() == [4]
    m.set_filter(AlertFilter(text="MANHOLE-9"))
    assert m.ids() == [4]
    push(store, "alert.upsert", alert(5, level=1, domain="urban", title="另一个 manhole-9 告警"))
    m.flush()
    assert set(m.ids()) == {4, 5}  # live rows obey the filter too


def test_sort_by_other_columns(store: Any, qapp: Any) -> None:
    _load(store, [alert(1, count=5, town="b"), alert(2, count=9, town="a"), alert(3, count=1, town="c")])
    m = AlertTableModel(store)
    m.sort(5, Qt.SortOrder.DescendingOrder)  # count
    assert m.ids() == [2, 1, 3]
    m.sort(4, Qt.SortOrder.AscendingOrder)  # town code order
    assert m.ids() == [2, 1, 3]
    m.sort(4, Qt.SortOrder.DescendingOrder)
    assert m.ids() == [3, 1, 2]


def test_a_large_snapshot_is_rebuilt_in_steps_with_the_old_rows_shown_meanwhile(store: Any, qapp: Any) -> None:
    """Given a budget (the feed's refresh tick), a rebuild of 60k alerts takes several steps;
    until the swap the old rows stay; what arrives meanwhile is on top; the result is the
    same as a rebuild at once."""
    rnd = random.Random(5)
    _load(store, [alert(i, level=rnd.randint(1, 4), ts=rnd.uniform(0, 1e6)) for i in range(1, 11)])
    m = AlertTableModel(store)
    m.flush(0.001)  # 10 alerts: at once even with a budget
    assert not m.building
    assert m.rowCount() == 10
    resets: list[int] = []
    m.modelReset.connect(lambda: resets.append(1))
    _load(store, [alert(i, level=rnd.randint(1, 4), ts=rnd.uniform(0, 1e6),
                        state=rnd.choice(["new", "acknowledged", "resolved"])) for i in range(1, 60_001)])
    steps = 0
    while True:
        changed = m.flush(0.001)
        steps += 1
        if not m.building:
            break
        assert not changed
        assert resets == []
        assert m.rowCount() == 10
        if steps == 3:  # changes that arrive while the rows are being made
            push(store, "alert.upsert", alert(7, level=4, ts=3e6))
            push(store, "alert.upsert", alert(70_000, level=4, ts=2e6))
            push(store, "alert.upsert", alert(8, state="resolved", ts=1.0))
    assert steps > 5
    assert resets == [1]
    m.flush()  # the changes of the meantime, applied on top
    expected = sorted((a for a in store.alerts.values() if m.filter.matches(a)), key=m._key)
    assert m.ids() == [a.id for a in expected]
    assert m.ids()[:2] == [7, 70_000]
    assert 8 not in m.ids()
    at_once = AlertTableModel(store)
    at_once.flush()
    assert at_once.ids() == m.ids()
    # a user's sort or filter is made at once, also in the middle of a stepped rebuild
    _load(store, [alert(i, level=1 + i % 4, ts=float(i)) for i in range(1, 30_001)])
    m.flush(0.001)
    assert m.building
    m.set_filter(AlertFilter(levels={4}))
    assert not m.building
    assert m.rowCount() == 7_500


def test_hundred_thousand_rows_stay_correct_under_changes(store: Any, qapp: Any) -> None:
    rnd = random.Random(3)
    _load(store, [alert(i, level=rnd.randint(1, 4), ts=rnd.uniform(0, 1e6)) for i in range(1, 100_001)])
    m = AlertTableModel(store)
    m.flush()
    assert m.rowCount() == 100_000
    for k in range(300):  # a burst: level changes, resolutions, new alerts
        i = rnd.randint(1, 100_000)
        push(store, "alert.upsert", alert(i, level=rnd.randint(1, 4), ts=1e6 + k,
                                          state=rnd.choice(["new", "acknowledged", "resolved"])))
        push(store, "alert.upsert", alert(200_000 + k, level=4, ts=2e6 + k))
    m.flush()
    expected = sorted((a for a in store.alerts.values() if m.filter.matches(a)), key=m._key)
    assert m.ids() == [a.id for a in expected]
    assert m.ids()[0] == 200_299


def test_acknowledge_by_button_and_keyboard_sends_alert_ack(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _load(store, [alert(7, level=4), alert(8, level=2)])
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.show()
    tick(qapp)
    assert feed.select_alert(7)
    qtbot.mouseClick(feed.buttons["alert.ack"], Qt.MouseButton.LeftButton)
    assert sink.sent[-1] == ("alert.ack", {"alert_id": 7})
    assert feed.status.text() == "已完成"
    feed.select_alert(8)
    feed.table.setFocus()
    qtbot.keyClick(feed.table, Qt.Key.Key_A)
    assert sink.sent[-1] == ("alert.ack", {"alert_id": 8})


def test_escalate_asks_first_and_open_incident_takes_the_selection(store: Any, sink: Any, qtbot: Any,
                                                                    qapp: Any, answer_confirm: Any) -> None:
    _load(store, [alert(1, level=3), alert(2, level=3)])
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    tick(qapp)
    feed.select_alert(1)
    answer_confirm["yes"] = False
    feed.act("alert.escalate")
    assert sink.sent == []
    assert answer_confirm["asked"]
    answer_confirm["yes"] = True
    feed.act("alert.escalate")
    assert sink.sent == [("alert.escalate", {"alert_id": 1})]
    feed.table.selectAll()
    feed.act("incident.open")
    name, args = sink.sent[-1]
    assert name == "incident.open"
    assert sorted(args["alert_ids"]) == [1, 2]


def test_actions_greyed_out_for_a_role_without_the_command(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _load(store, [alert(1, level=4)])
    store.set_session(session(Role.OPERATOR))
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    tick(qapp)
    feed.select_alert(1)
    assert feed.buttons["alert.ack"].isEnabled()
    perms = set(store.session.permissions) - {"alert.ack"}
    s = session(Role.OPERATOR)
    s.permissions = frozenset(perms)
    store.set_session(s)
    assert not feed.buttons["alert.ack"].isEnabled()
    feed.act("alert.ack")
    assert sink.sent == []


def test_filtered_feed_still_says_a_red_alert_is_hidden(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _load(store, [alert(1, level=1, domain="water")])
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.show()
    feed.apply_filter(AlertFilter(domains={"water"}))
    push(store, "alert.upsert", alert(2, level=4, domain="fire"))
    tick(qapp)
    assert feed.model.ids() == [1]
    assert feed.hidden_notice.isVisible()
    assert "1" in feed.hidden_notice.text()
    push(store, "alert.upsert", alert(2, level=4, domain="fire", state="acknowledged"))
    tick(qapp)
    assert not feed.hidden_notice.isVisible()


def test_filter_controls_follow_the_town_picked_elsewhere(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    _load(store, [alert(1, town="humen"), alert(2, town="changan")])
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.view_state.set_town("changan")
    assert feed.model.ids() == [2]
    saved: list[dict[str, Any]] = []
    feed.filter_changed.connect(saved.append)
    feed.clear_filter()
    assert set(feed.model.ids()) == {1, 2}
    assert saved[-1]["towns"] == []
    assert feed.view_state.town is None


def test_new_rows_highlight_expires(store: Any, qapp: Any, monkeypatch: Any) -> None:
    _load(store, [])
    m = AlertTableModel(store)
    push(store, "alert.upsert", alert(1))
    m.flush()
    assert m.data(m.index(0, 2), Qt.ItemDataRole.BackgroundRole) is not None
    later = time.monotonic() + 60
    monkeypatch.setattr("widgets.alert_model.time.monotonic", lambda: later)
    m.flush()
    assert m.data(m.index(0, 2), Qt.ItemDataRole.BackgroundRole) is None



def test_a_burst_is_one_layout_change_and_keeps_the_selection(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    rnd = random.Random(5)
    _load(store, [alert(i, level=2, ts=1000 + i) for i in range(1, 2001)])
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.show()
    tick(qapp)
    assert feed.select_alert(1500)
    inserted: list[int] = []
    layouts: list[int] = []
    feed.model.rowsInserted.connect(lambda *_: inserted.append(1))
    feed.model.layoutChanged.connect(lambda *_: layouts.append(1))
    for k in range(300):  # a burst between two ticks: new reds on top, others change level
        push(store, "alert.upsert", alert(5000 + k, level=4, ts=5000 + k))
        push(store, "alert.upsert", alert(rnd.randint(1, 2000), level=rnd.choice([1, 3]), ts=3000 + k))
    tick(qapp)
    assert inserted == []
    assert layouts == [1]
    m = feed.model
    expected = sorted((a for a in store.alerts.values() if m.filter.matches(a)), key=m._key)
    assert m.ids() == [a.id for a in expected]
    assert feed.selected_alerts()[0].id == 1500  # the user's selection followed its alert


def test_a_changed_alert_shows_its_new_texts_and_colours(store: Any, qapp: Any) -> None:
    _load(store, [alert(1, level=2, title="旧标题"), alert(2, level=1)])
    m = AlertTableModel(store)
    m.flush()
    assert m.data(m.index(0, 2), Qt.ItemDataRole.DisplayRole) == "旧标题"  # cached from here on
    assert m.data(m.index(0, 0), Qt.ItemDataRole.FontRole) is None
    push(store, "alert.upsert", alert(1, level=4, title="新标题"))
    m.flush()
    assert m.data(m.index(0, 2), Qt.ItemDataRole.DisplayRole) == "新标题"
    assert m.data(m.index(0, 0), Qt.ItemDataRole.DisplayRole) == "红色"
    assert m.data(m.index(0, 0), Qt.ItemDataRole.FontRole).bold()  # red and new
    assert m.data(m.index(0, 0), Qt.ItemDataRole.BackgroundRole).color().name() == "#e53935"
    assert m.data(m.index(0, 0), Qt.ItemDataRole.CheckStateRole) is None
    assert m.data(m.index(1, 3), AlertIdRole) == 2


def test_row_texts_follow_the_language(store: Any, qapp: Any) -> None:
    from views.theme import apply_language
    _load(store, [alert(1, level=4)])
    m = AlertTableModel(store)
    m.flush()
    assert m.data(m.index(0, 0), Qt.ItemDataRole.DisplayRole) == "红色"
    apply_language(qapp, "en")
    m.flush()  # the refresh tick notices the language and drops the cached texts
    assert m.data(m.index(0, 0), Qt.ItemDataRole.DisplayRole) == "Red"
    assert m.data(m.index(0, 2), Qt.ItemDataRole.DisplayRole) == "alert 1"


def test_one_pass_table_paints_what_qtableview_and_the_standard_delegate_paint(store: Any, sink: Any, qtbot: Any,
                                                                               qapp: Any) -> None:
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QStyledItemDelegate

    from views.theme import apply_theme
    from widgets.alert_feed_delegate import AlertRowDelegate, AlertTableView
    old_sheet, old_theme = qapp.styleSheet(), qapp.property("ioc_theme")
    apply_theme(qapp, "dark")  # the wall's style sheet: fonts, colours, selection, grid
    try:
        _load(store, [alert(i, level=1 + i % 4, state="acknowledged" if i % 3 else "new",
                            title=f"很长的告警标题，窄的列里要省略 {i}" if i % 2 else f"告警 {i}") for i in range(1, 80)])
        feed = AlertFeed(store, sink)
        qtbot.addWidget(feed)
        feed.resize(1200, 700)
        feed.show()
        tick(qapp)
        for i, lv in ((97, 4), (98, 4), (99, 2)):  # highlighted as new, two of them on top
            push(store, "alert.upsert", alert(i, level=lv, title=f"新的一条 {i}"))
        tick(qapp)
        table = feed.table
        assert isinstance(table, AlertTableView)
        table.setColumnWidth(4, 40)  # the town is elided
        ours = table.itemDelegate()
        assert isinstance(ours, AlertRowDelegate)
        cells: list[int] = []
        static_text = ours.static_text  # every cell's text comes from here on the one-pass path
        ours.static_text = lambda *a, **k: (cells.append(1), static_text(*a, **k))[1]  # type: ignore[method-assign]

        def same_as_standard(what: str) -> None:
            tick(qapp)
            cells.clear()
            mine = table.viewport().grab().toImage()
            assert len(cells) > 50, what  # the one-pass paint drew the cells
            table.setItemDelegate(QStyledItemDelegate(table))  # QTableView's own paint, Qt's delegate
            tick(qapp)
            standard = table.viewport().grab().toImage()
            table.setItemDelegate(ours)
            assert mine == standard, what

        assert feed.select_alert(feed.model.ids()[3])  # near the top: the new rows are in view
        table.setFocus()
        assert table.verticalHeader().visualIndexAt(0) == 0
        same_as_standard("selected current row with focus, new rows highlighted")
        sm = table.selectionModel()
        for r in (7, 8, 9):
            sm.select(feed.model.index(r, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
        sm.select(feed.model.index(12, 3), QItemSelectionModel.SelectionFlag.Select)  # one cell only
        same_as_standard("several rows and one cell selected")
        table.verticalScrollBar().setValue(20)
        same_as_standard("scrolled")
        feed.search.setFocus()
        same_as_standard("without focus")
        apply_theme(qapp, "light")
        same_as_standard("light theme")
    finally:
        qapp.setStyleSheet(old_sheet)
        qapp.setProperty("ioc_theme", old_theme)


def test_hundred_thousand_rows_filtered_and_sorted_through_the_feed(store: Any, sink: Any, qtbot: Any,
                                                                    qapp: Any) -> None:
    """100k alerts through the feed's own controls (level buttons, bureau box, search, header
    clicks), checked against plain Python filtering and sorting of the same alerts, also after
    a burst of changes. (Speed is bench/'s business, not this test's.)"""
    rnd = random.Random(11)
    towns, domains = ["humen", "changan", "dongcheng", "nancheng", "shilong"], ["fire", "water", "urban", "market"]
    words = ["烟感报警", "水位超警戒", "井盖位移", "manhole", "后厨违规"]
    rows = []
    for i in range(1, 100_001):
        w = rnd.choice(words)
        rows.append(alert(i, level=rnd.randint(1, 4), state=rnd.choice(["new", "acknowledged", "dispatched", "resolved"]),
                          domain=rnd.choice(domains), town=rnd.choice(towns), count=rnd.randint(1, 50),
                          ts=rnd.uniform(1e6, 2e6), title=f"{w}{i}", title_en=f"{w} {i}"))
    from sync_service.catalog import DOMAINS
    store.begin_snapshot(1)
    store.snapshot_part("domains", [dict(code=c, name_zh=zh, name_en=en) for c, zh, en in DOMAINS])
    store.snapshot_part("alerts", rows)
    store.end_snapshot(1)
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.resize(1200, 700)
    feed.show()
    m = feed.model
    header = feed.table.horizontalHeader()
    open_states = {"new", "acknowledged", "dispatched"}

    def click_header(col: str) -> None:
        i = COLUMNS.index(col)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(header.sectionViewportPosition(i) + header.sectionSize(i) // 2, header.height() // 2))

    def expect(pred: Any, key: Any, reverse: bool) -> list[int]:
        return [a.id for a in sorted((a for a in store.alerts.values() if pred(a)), key=key, reverse=reverse)]

    # red and orange fire-brigade alerts, any state, by count, most first (ties: higher id first)
    feed.level_buttons[4].click()
    feed.level_buttons[3].click()
    assert feed.domain_box.findData("fire") > 0
    feed.domain_box.setCurrentIndex(feed.domain_box.findData("fire"))
    feed.state_box.setCurrentIndex(feed.state_box.findData("*"))
    click_header("count")
    if header.sortIndicatorOrder() != Qt.SortOrder.DescendingOrder:
        click_header("count")
    want = expect(lambda a: a.level >= 3 and a.domain == "fire", lambda a: (a.count, a.id), True)
    assert len(want) > 10_000
    assert m.ids() == want
    # typed into the search box: open manhole alerts of every level, by town code, then id
    feed.clear_filter()
    qtbot.keyClicks(feed.search, "MANHOLE")
    click_header("town")
    if header.sortIndicatorOrder() != Qt.SortOrder.AscendingOrder:
        click_header("town")
    want = expect(lambda a: a.state in open_states and "manhole" in a.title, lambda a: (a.town, a.id), False)
    assert len(want) > 10_000
    assert m.ids() == want
    # a burst of changes while filtered and sorted: levels, states, new alerts, titles
    for k in range(500):
        i = rnd.randint(1, 100_000)
        push(store, "alert.upsert", alert(i, level=rnd.randint(1, 4), state=rnd.choice(["new", "resolved"]),
                                          domain=rnd.choice(domains), town=rnd.choice(towns),
                                          title=rnd.choice(words) + str(i), ts=2e6 + k))
        push(store, "alert.upsert", alert(100_000 + k + 1, town=rnd.choice(towns), title=f"manhole{k}", ts=2e6 + k))
    tick(qapp)
    want = expect(lambda a: a.state in open_states and "manhole" in a.title, lambda a: (a.town, a.id), False)
    assert m.ids() == want
    # no filter but the default (open alerts), newest first
    feed.clear_filter()
    click_header("last_ts")
    if header.sortIndicatorOrder() != Qt.SortOrder.DescendingOrder:
        click_header("last_ts")
    want = expect(lambda a: a.state in open_states, lambda a: (a.last_ts, a.id), True)
    assert m.rowCount() == len(want)
    assert m.ids() == want
