from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.alert_filter import AlertFilter
from tests.widgets.conftest import alert, push, tick
from widgets.alert_feed import AlertFeed
from widgets.red_alert import AlarmSound, RedAlertBanner, RedAlertCenter


def _window(qtbot: Any, banner: RedAlertBanner) -> Any:
    """A shown window holding the banner, as a hall window does; the banner shows and hides
    itself inside it."""
    w = QWidget()
    QVBoxLayout(w).addWidget(banner)
    w.banner = banner  # type: ignore[attr-defined]
    qtbot.addWidget(w)
    w.show()
    return w


def test_red_alert_sounds_once_and_banner_flashes_until_acknowledged(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    center = RedAlertCenter(store, sink)
    windows = [_window(qtbot, RedAlertBanner(center, store)) for _ in range(3)]  # one per screen
    banners = [w.banner for w in windows]
    push(store, "alert.upsert", alert(1, level=3))
    tick(qapp)
    assert center.sound.plays == 0
    assert not any(b.isVisible() for b in banners)
    push(store, "alert.upsert", alert(2, level=4, title="东城火灾报警"))
    tick(qapp)
    push(store, "alert.upsert", alert(2, level=4, title="东城火灾报警", count=2))  # re-raise: no second sound
    assert center.sound.plays == 1
    assert all(b.isVisible() for b in banners)
    assert "东城火灾报警" in banners[0].label.text()
    qtbot.waitUntil(lambda: banners[0].property("flash") is True, timeout=2000)
    qtbot.mouseClick(banners[1].ack, Qt.MouseButton.LeftButton)
    assert sink.sent == [("alert.ack", {"alert_id": 2})]
    assert all(b.isVisible() for b in banners)  # still waiting: the ack comes back as an event
    push(store, "alert.upsert", alert(2, level=4, state="acknowledged"))
    tick(qapp)
    assert not any(b.isVisible() for b in banners)


def test_mute_suppresses_sound_but_not_banner(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    sound = AlarmSound()
    sound.set_muted(True)
    center = RedAlertCenter(store, sink, sound)
    win = _window(qtbot, RedAlertBanner(center, store))
    banner = win.banner
    push(store, "alert.upsert", alert(5, level=4))
    tick(qapp)
    assert sound.plays == 0
    assert sound.suppressed == 1
    assert banner.isVisible()


def test_silenced_red_alert_makes_no_sound(store: Any, sink: Any, qapp: Any) -> None:
    center = RedAlertCenter(store, sink)
    push(store, "alert.upsert", alert(6, level=4, silenced=True))
    tick(qapp)
    assert center.sound.plays == 0
    assert center.pending == []


def test_red_alert_announced_while_every_feed_filters_it_out(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    center = RedAlertCenter(store, sink)
    win = _window(qtbot, RedAlertBanner(center, store))
    banner = win.banner
    feed = AlertFeed(store, sink)
    qtbot.addWidget(feed)
    feed.show()
    feed.apply_filter(AlertFilter(levels={1}, domains={"water"}))
    push(store, "alert.upsert", alert(9, level=4, domain="fire"))
    tick(qapp)
    tick(qapp)
    assert feed.model.ids() == []
    assert center.sound.plays == 1
    assert banner.isVisible()


def test_banner_ack_greyed_out_without_permission(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    from app.store import SessionInfo
    store.set_session(SessionInfo(user="viewer", role="bureau_operator", permissions=frozenset()))
    center = RedAlertCenter(store, sink)
    banner = RedAlertBanner(center, store)
    qtbot.addWidget(banner)
    push(store, "alert.upsert", alert(3, level=4))
    tick(qapp)
    assert not banner.ack.isEnabled()
    banner.acknowledge_top()
    assert sink.sent == []


def test_many_red_alerts_newest_first_and_the_banner_counts_them(store: Any, sink: Any, qtbot: Any,
                                                                  qapp: Any) -> None:
    center = RedAlertCenter(store, sink)
    win = _window(qtbot, RedAlertBanner(center, store))
    changes: list[int] = []
    center.changed.connect(lambda: changes.append(1))
    for i in range(1, 301):  # a burst of reds, oldest first
        push(store, "alert.upsert", alert(i, level=4, ts=1000 + i, title=f"火警{i}"))
    tick(qapp)
    assert [a.id for a in center.pending[:3]] == [300, 299, 298]
    assert center.count() == 300
    assert "火警300" in win.banner.label.text()
    assert "299" in win.banner.label.text()
    assert changes == [1]  # one change for the whole burst
    push(store, "alert.upsert", alert(300, level=4, state="acknowledged", ts=1300))
    push(store, "alert.upsert", alert(5, level=4, ts=5000, title="火警5", count=3))  # re-raised: now the newest
    tick(qapp)
    assert [a.id for a in center.pending[:2]] == [5, 299]
    assert center.count() == 299
    assert "火警5" in win.banner.label.text()
    tick(qapp)
    assert changes == [1, 1]  # nothing new: no repaint of the banners


def test_a_snapshot_of_thousands_of_reds_sounds_once_and_lists_them_all(store: Any, sink: Any, qapp: Any) -> None:
    center = RedAlertCenter(store, sink)
    store.begin_snapshot(1)
    store.snapshot_part("alerts", [alert(i, level=4, ts=float(i)) for i in range(1, 5001)]
                        + [alert(9_000, level=4, state="acknowledged")])
    store.end_snapshot(1)
    assert center.announced == 5000
    assert center.sound.plays == 1  # one alarm for the reds announced together
    assert center.count() == 5000
    assert center.top().id == 5000  # newest first
    push(store, "alert.upsert", alert(77, level=4, state="acknowledged", ts=77.0))
    assert center.count() == 4999
    assert 77 not in {a.id for a in center.pending}
