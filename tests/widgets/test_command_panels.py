"""Decision panel, incident panel and camera tile."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from protocol.enums import Role
from tests.widgets.conftest import alert, push, tick
from tools.demo_state import session
from widgets.camera_tile import CameraTile
from widgets.decision_panel import DecisionPanel
from widgets.incident_panel import IncidentPanel


def _task(i: int, state: str = "proposed", approval: bool = True, **kw: Any) -> dict[str, Any]:
    return dict(id=i, title=f"调派{i}", domain="fire", state=state, requires_approval=approval,
                created_by="operator", created_ts=time.time(), updated_ts=time.time(), **kw)


def test_leader_approves_with_confirmation(store: Any, sink: Any, qtbot: Any, qapp: Any, answer_confirm: Any) -> None:
    store.set_session(session(Role.LEADER, "leader"))
    p = DecisionPanel(store, sink)
    qtbot.addWidget(p)
    p.show()
    push(store, "task.upsert", _task(1))
    push(store, "task.upsert", _task(2, approval=False))  # no approval needed: not a decision
    push(store, "task.upsert", _task(3, state="approved"))
    tick(qapp)
    assert list(p.cards) == [1]
    assert "1" in p.caption.text()
    answer_confirm["yes"] = False
    qtbot.mouseClick(p.cards[1].approve, Qt.MouseButton.LeftButton)
    assert sink.sent == []  # said no at the confirmation: nothing happens
    answer_confirm["yes"] = True
    qtbot.mouseClick(p.cards[1].approve, Qt.MouseButton.LeftButton)
    assert sink.sent == [("task.decide", {"task_id": 1, "approve": True})]
    assert "调派1" in answer_confirm["asked"][-1]
    tick(qapp)
    push(store, "task.upsert", _task(1, state="approved"))
    tick(qapp)
    assert p.cards == {}


def test_reject_sends_approve_false(store: Any, sink: Any, qtbot: Any, qapp: Any, answer_confirm: Any) -> None:
    store.set_session(session(Role.LEADER, "leader"))
    p = DecisionPanel(store, sink)
    qtbot.addWidget(p)
    push(store, "task.upsert", _task(4))
    tick(qapp)
    p.cards[4].reject.click()
    assert sink.sent == [("task.decide", {"task_id": 4, "approve": False})]


def test_operator_sees_decisions_greyed_out(store: Any, sink: Any, qtbot: Any, qapp: Any, answer_confirm: Any) -> None:
    store.set_session(session(Role.OPERATOR))
    p = DecisionPanel(store, sink)
    qtbot.addWidget(p)
    push(store, "task.upsert", _task(5))
    tick(qapp)
    assert not p.cards[5].approve.isEnabled()
    assert not p.cards[5].reject.isEnabled()
    p.decide(5, True)
    assert sink.sent == []
    assert answer_confirm["asked"] == []


def _incident(i: int, **kw: Any) -> dict[str, Any]:
    return dict(id=i, title=f"事件{i}", level=kw.pop("level", 3), state=kw.pop("state", "open"), domain="fire",
                town="humen", alert_ids=kw.pop("alert_ids", []), created_ts=1, created_by="op", updated_ts=time.time(), **kw)


def test_incident_panel_follows_focus_and_sends_focus(store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    store.set_session(session(Role.LEADER, "leader"))
    push(store, "alert.upsert", alert(11, level=4, title="火灾报警"))
    push(store, "incident.upsert", _incident(1, alert_ids=[11]))
    push(store, "incident.upsert", _incident(2, level=4))
    p = IncidentPanel(store, sink, options={"follow_focus": True, "sends_focus": True})
    qtbot.addWidget(p)
    p.show()
    tick(qapp)
    assert p.incident_id == 2  # most severe first when nothing is in focus
    push(store, "focus.set", dict(incident_id=1, by="leader", hall="decision", ts=time.time()))
    tick(qapp)
    assert p.incident_id == 1
    assert "事件1" in p.title.text()
    assert "火灾报警" in p.alerts.item(0).text()
    assert p.focus_flag.text()
    assert not p.focus_btn.isEnabled()  # already in focus
    p.show_incident(2)
    assert p.focus_btn.isEnabled()
    p.focus_btn.click()
    assert sink.sent[-1] == ("focus.set", {"incident_id": 2})


def test_incident_state_change_and_close_confirmation(store: Any, sink: Any, qtbot: Any, qapp: Any,
                                                      answer_confirm: Any) -> None:
    push(store, "incident.upsert", _incident(3))
    p = IncidentPanel(store, sink)
    qtbot.addWidget(p)
    tick(qapp)
    p.state_btns["active"].click()
    assert sink.sent[-1] == ("incident.update", {"incident_id": 3, "state": "active"})
    answer_confirm["yes"] = False
    p.state_btns["closed"].click()
    assert len(sink.sent) == 1
    assert not p.focus_btn.isVisible()  # an operator hall does not set the global focus


def test_camera_tile_no_signal_for_a_missing_file(qtbot: Any, tmp_path: Path) -> None:
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.show()
    assert tile.state == "idle"
    assert tile.no_signal.isVisible()
    tile.play(str(tmp_path / "missing.mp4"))
    qtbot.waitUntil(lambda: tile.state == "no_signal", timeout=8000)
    assert tile.no_signal.isVisible()
    assert tile.no_signal.text().startswith("无信号")


def test_camera_tile_watchdog_stops_a_stalled_stream(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.play(str(tmp_path / "stalled.mp4"))
    tile.state = "playing"  # as if frames had arrived, then stop coming
    tile.last_frame_ts = time.monotonic() - 10
    tile._on_watchdog_timeout()
    assert tile.state == "no_signal"
    assert "中断" in tile.no_signal.text()


def test_camera_follows_selected_kitchen_alert(store: Any, qtbot: Any) -> None:
    push(store, "alert.upsert", alert(21, domain="market", device_id="kc-7", device_type="kitchen_camera"))
    tile = CameraTile(store, options={"follow_alert": True, "url_template": "rtsp://127.0.0.1:1/{device_id}"})
    qtbot.addWidget(tile)
    tile.view_state.select_alert(21)
    assert tile.source == "rtsp://127.0.0.1:1/kc-7"
    tile.stop()


def test_camera_tile_plays_a_file_then_shows_no_signal_at_the_end(qtbot: Any, tmp_path: Path) -> None:
    from tests.widgets.video_file import write_video
    video = write_video(tmp_path / "kitchen.mp4", frames=30, fps=10)
    tile = CameraTile()
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.show()
    tile.play(str(video))
    qtbot.waitUntil(lambda: tile.state == "playing", timeout=10_000)
    assert tile.frames > 0
    assert not tile.no_signal.isVisible()  # the picture, not the placeholder
    # three seconds of video: then the end of the stream, and no frozen last frame
    qtbot.waitUntil(lambda: tile.state == "no_signal", timeout=15_000)
    assert tile.no_signal.isVisible()
