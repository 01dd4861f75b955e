"""Bars that wrap instead of widening the window: the flow layout, the alert feed's filter and
action bars in English with the wall theme's big type, the header giving way on a laptop, and a
long red-alert title in the banner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from tests.widgets.conftest import alert, push
from widgets.flow_layout import FlowLayout


@pytest.fixture
def english_wall(qapp: Any) -> Iterator[None]:
    """English and the dark wall theme (19 px type): the widest the bars get."""
    from views.theme import apply_language, apply_theme
    apply_language(qapp, "en")
    apply_theme(qapp, "dark")
    yield
    apply_theme(qapp, "light")
    qapp.setStyleSheet("")
    apply_language(qapp, "zh")


def _overlap(a: Any, b: Any) -> bool:
    return a.intersects(b)


def _bands(widgets: list[QWidget]) -> list[tuple[int, int]]:
    """Rows as the eye sees them: vertical extents that overlap make one row."""
    bands: list[tuple[int, int]] = []
    for top, bottom in sorted((w.geometry().top(), w.geometry().bottom()) for w in widgets):
        if bands and top <= bands[-1][1]:
            bands[-1] = (bands[-1][0], max(bands[-1][1], bottom))
        else:
            bands.append((top, bottom))
    return bands


def _flow(qtbot: Any, n: int = 6) -> tuple[QWidget, FlowLayout, list[QPushButton]]:
    host = QWidget()
    qtbot.addWidget(host)
    v = QVBoxLayout(host)
    v.setContentsMargins(0, 0, 0, 0)
    flow = FlowLayout(spacing=6)
    buttons = [QPushButton(f"button number {i}") for i in range(n)]
    for b in buttons:
        flow.addWidget(b)
    v.addLayout(flow)
    v.addStretch(1)
    return host, flow, buttons


def test_flow_layout_wraps_instead_of_widening(qtbot: Any, qapp: Any) -> None:
    host, flow, buttons = _flow(qtbot)
    one_row = sum(b.sizeHint().width() for b in buttons) + 6 * 5
    assert flow.sizeHint().width() == one_row
    # the minimum is the widest single button, not the whole row
    assert flow.minimumSize().width() == max(b.minimumSizeHint().width() for b in buttons)
    assert host.minimumSizeHint().width() < one_row // 3
    host.resize(one_row + 10, 300)
    host.show()
    qapp.processEvents()
    assert len({b.geometry().y() for b in buttons}) == 1  # room for one row: one row
    narrow = buttons[0].sizeHint().width() * 2 + 6 + 4
    host.resize(narrow, 300)
    qapp.processEvents()
    rows = sorted({b.geometry().y() for b in buttons})
    assert len(rows) == 3  # two a row
    assert flow.heightForWidth(narrow) >= 3 * buttons[0].sizeHint().height()
    for i, a in enumerate(buttons):
        assert a.geometry().right() < narrow
        for b in buttons[i + 1:]:
            assert not _overlap(a.geometry(), b.geometry())


def test_flow_layout_skips_hidden_items_and_stretches_expanding_ones(qtbot: Any, qapp: Any) -> None:
    host, flow, buttons = _flow(qtbot, 3)
    edit = QLineEdit()  # expanding by default: takes what is left of its row
    flow.addWidget(edit)
    buttons[1].setVisible(False)
    host.resize(900, 200)
    host.show()
    qapp.processEvents()
    assert len(flow.rows(900)) == 1
    assert len(flow.rows(900)[0]) == 3
    assert edit.geometry().right() == 899  # filled to the right edge
    assert buttons[2].geometry().x() == buttons[0].geometry().right() + 1 + 6


def test_flow_layout_gives_a_wrapped_label_the_height_its_text_needs(qtbot: Any, qapp: Any) -> None:
    host, flow, _buttons = _flow(qtbot, 1)
    label = QLabel("a refusal explained in many words " * 6)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    flow.addWidget(label)
    host.resize(260, 400)
    host.show()
    qapp.processEvents()
    assert label.width() <= 260
    assert label.height() >= label.heightForWidth(label.width()) > label.fontMetrics().height() * 2


def test_alert_feed_bars_wrap_in_english_on_the_wall_theme(english_wall: None, city_store: Any, sink: Any,
                                                          qtbot: Any, qapp: Any) -> None:
    from widgets.alert_feed import AlertFeed
    feed = AlertFeed(city_store, sink)
    qtbot.addWidget(feed)
    assert feed.buttons["alert.ack"].text().startswith("Acknowledge")  # English really is on
    # a bureau's long English name no longer sets the feed's minimum width
    assert feed.minimumSizeHint().width() < 400
    assert feed.domain_box.minimumSizeHint().width() < feed.domain_box.sizeHint().width()
    feed.resize(700, 600)
    feed.show()
    qapp.processEvents()
    controls = [feed.filter_bar.itemAt(i).widget() for i in range(feed.filter_bar.count())]
    actions = [feed.action_bar.itemAt(i).widget() for i in range(feed.action_bar.count())]
    assert len(_bands(controls)) >= 2  # wrapped
    assert len(feed.filter_bar.rows(feed.filter_bar.geometry().width())) == len(_bands(controls))
    table = feed.table.geometry()
    for i, w in enumerate(controls + actions):
        g = w.geometry()
        assert g.left() >= 0, (w, g)
        assert g.right() < feed.width(), (w, g)
        assert not _overlap(g, table), (w, g, table)
        for other in (controls + actions)[i + 1:]:
            assert not _overlap(g, other.geometry()), (w, other)
    assert table.height() > 200
    # the open list still shows whole names, however narrow the closed combo
    fm = feed.domain_box.view().fontMetrics()
    widest = max(fm.horizontalAdvance(feed.domain_box.itemText(i)) for i in range(feed.domain_box.count()))
    assert feed.domain_box.view().minimumWidth() >= widest
    # wide enough: everything on one row each, the combos at their full names
    feed.resize(2400, 600)
    qapp.processEvents()
    assert len(_bands(controls)) == 1
    assert feed.domain_box.width() >= feed.domain_box.sizeHint().width()


def test_header_hides_the_weather_before_anything_is_cut(english_wall: None, city_store: Any, qtbot: Any,
                                                        qapp: Any) -> None:
    from widgets.header import HeaderBar
    h = HeaderBar(city_store, "Duty officer laptop")
    qtbot.addWidget(h)
    h.resize(1900, 60)
    h.show()
    qapp.processEvents()
    assert h.weather.text()
    assert h.weather.isVisible()
    assert h.date.isVisible()
    full = h.minimumSizeHint().width()
    essentials = sum(w.sizeHint().width() for w in (h.hall, h.clock, h.user, h.conn, h.mute))
    assert full < essentials + 200  # the weather and the date do not count in the minimum
    h.resize(essentials + 5 * 18 + 24 + h.date.sizeHint().width() + 18 + 10, 60)
    qapp.processEvents()
    assert not h.weather.isVisible()
    assert h.date.isVisible()
    h.resize(essentials + 5 * 18 + 24, 60)
    qapp.processEvents()
    assert not h.weather.isVisible()
    assert not h.date.isVisible()
    for w in (h.hall, h.clock, h.user, h.conn, h.mute):  # what stays is shown whole
        assert w.width() >= w.sizeHint().width(), w.objectName()
    h.resize(1900, 60)
    qapp.processEvents()
    assert h.weather.isVisible()
    assert h.date.isVisible()


def test_a_long_red_alert_title_wraps_in_the_banner(english_wall: None, store: Any, sink: Any, qtbot: Any,
                                                   qapp: Any) -> None:
    from widgets.red_alert import RedAlertBanner, RedAlertCenter
    center = RedAlertCenter(store, sink)
    center.sound.set_muted(True)
    banner = RedAlertBanner(center, store)
    qtbot.addWidget(banner)
    push(store, "alert.upsert", alert(1, level=4, title_en="Smoke detected on every floor of a very tall "
                                                           "commercial complex next to the river " * 3))
    from widgets.common import refresh_hub
    refresh_hub().tick.emit()
    qapp.processEvents()
    assert "Smoke detected" in banner.label.text()
    assert banner.minimumSizeHint().width() < 700
