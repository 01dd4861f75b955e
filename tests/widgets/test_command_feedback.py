"""Refused commands are told to the user in words: which action, on which alert, and why (the
error code translated) - at once, and also when the refusal comes back long after, for a command
that was queued while the console was offline (the client's command_finished)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.commandbus import CommandResult
from app.notifications import NotificationManager, Severity
from app.store import Connection, StateStore
from protocol.commands import COMMANDS
from protocol.enums import ErrorCode, Role
from tests.widgets.conftest import alert, push
from tools.demo_state import RecordingSink, session
from widgets.alert_feed import AlertFeed
from widgets.command_feedback import (
    COMMAND_TITLES,
    ERROR_TEXTS,
    CommandTracker,
    command_title,
    error_text,
)

pytestmark = pytest.mark.gui


async def until(pred: Any, what: str, limit_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_every_command_and_error_code_has_words() -> None:
    assert set(COMMANDS) <= set(COMMAND_TITLES)
    assert {str(c) for c in ErrorCode} <= set(ERROR_TEXTS)
    assert error_text("brand_new_code") == "错误代码 brand_new_code"  # unknown: shown, not hidden


def test_immediate_refusal_names_action_alert_and_reason(store: StateStore, sink: RecordingSink, qapp: Any,
                                                        qtbot: Any) -> None:
    push(store, "alert.upsert", alert(7, level=3, title="南城烟感报警", title_en="Smoke in Nancheng"))
    notes = NotificationManager()
    heard: list[Any] = []
    notes.notified.connect(heard.append)
    tracker = CommandTracker(sink, store, notes)
    feed = AlertFeed(store, tracker)
    qtbot.addWidget(feed)
    feed.model.flush()
    assert feed.select_alert(7)
    sink.answers["alert.ack"] = CommandResult(ok=False, error_code="conflict", error_message="alert 7 is closed")
    feed.act("alert.ack")
    text = "确认告警 · 告警 #7「南城烟感报警」 被拒绝：状态已变化，此操作不再适用"
    assert feed.status.text() == text
    assert feed.status.property("state") == "refused"
    assert feed.status.toolTip() == "alert 7 is closed"  # the service's words, for whoever asks
    assert [(n.severity, n.message, n.detail) for n in heard] == [(Severity.WARNING, text, "alert 7 is closed")]
    sink.answers["alert.ack"] = CommandResult(ok=True, data={})
    feed.act("alert.ack")
    assert feed.status.text() == "已完成"
    assert feed.status.property("state") == ""
    assert len(heard) == 1  # success is not a warning


def test_refusal_in_english(store: StateStore, sink: RecordingSink, qapp: Any) -> None:
    from views.theme import apply_language
    push(store, "alert.upsert", alert(7, level=3, title="南城烟感报警", title_en="Smoke in Nancheng"))
    assert apply_language(qapp, "en")
    tracker = CommandTracker(sink, store)
    got: list[str] = []
    tracker.refused.connect(lambda text, *_: got.append(text))
    sink.answers["alert.escalate"] = CommandResult(ok=False, error_code="forbidden")
    tracker.send("alert.escalate", {"alert_id": 7})
    sink.answers["incident.open"] = CommandResult(ok=False, error_code="not_found")
    tracker.send("incident.open", {"alert_ids": [7, 8]})
    assert got == ["Escalate · alert #7 “Smoke in Nancheng” refused: not allowed for your role or area",
                   "Open incident · alerts #7, #8 refused: it does not exist or was deleted"]
    assert command_title("scenario.start") == "Start drill"


async def test_command_queued_offline_and_refused_on_reconnect(tmp_path: Path, qapp: Any) -> None:
    """Two operators handle the same alert; one of them is cut off. Her acknowledgement waits in
    the outbox, goes when the link comes back, and the service refuses it (the other closed the
    alert meanwhile): she reads which action on which alert was refused, and why."""
    from backend_client.client import ConsoleClient
    from tests.backend_client.helpers import FAST
    from tests.backend_client.service import PASSWORD, running_service
    from tests.backend_client.tcpproxy import FreezableProxy

    async with running_service(f"sqlite:///{tmp_path / 'svc.db'}", heartbeat_s=0.5) as svc:
        proxy = FreezableProxy("127.0.0.1", svc.ws_port)
        await proxy.start()
        other = ConsoleClient(svc.url, StateStore(), timings=FAST, local_dir=str(tmp_path / "other"))
        store = StateStore()
        she = ConsoleClient(f"ws://127.0.0.1:{proxy.port}", store, timings=FAST, local_dir=str(tmp_path / "she"))
        notes = NotificationManager()
        heard: list[Any] = []
        notes.notified.connect(heard.append)
        feed = None
        try:
            other.login("leader", PASSWORD)
            she.login("operator", PASSWORD)
            await until(lambda: other.store.connection == Connection.ONLINE, "the leader online")
            await until(lambda: store.connection == Connection.ONLINE, "the operator online")
            raised = await other.send("alert.raise", {"level": 3, "domain": "water", "title": "红梅水位超警",
                                                      "town": "hongmei"})
            assert raised.ok, raised
            aid = raised.data["alert_id"]
            await until(lambda: aid in store.alerts, "the alert on her console")
            tracker = CommandTracker(she, store, notes)
            feed = AlertFeed(store, tracker)
            feed.model.flush()
            assert feed.select_alert(aid)

            proxy.freeze_existing()  # her link goes silent (no FIN, no RST)
            assert (await other.send("alert.close", {"alert_id": aid})).ok
            feed.table.setFocus()
            from PySide6.QtTest import QTest
            QTest.keyClick(feed.table, Qt.Key.Key_A)  # she acknowledges what she still sees as new
            await until(lambda: feed.status.text() == "已排队，联网后发送", "queued", limit_s=10)
            assert heard == []
            # the watchdog notices the dead link, she reconnects, the outbox goes, the service refuses
            await until(lambda: heard, "the refusal", limit_s=20)
            text = f"确认告警 · 告警 #{aid}「红梅水位超警」 被拒绝：状态已变化，此操作不再适用"
            assert [(n.severity, n.message) for n in heard] == [(Severity.WARNING, text)]
            assert "closed" in heard[0].detail
            assert feed.status.text() == text
            assert tracker.pending == {}
            assert store.alerts[aid].state.value == "closed"
        finally:
            if feed is not None:
                feed.close()
            await she.stop()
            await other.stop()
            she.close()
            other.close()
            await proxy.close()


async def test_commands_left_in_the_outbox_by_an_earlier_run_are_still_named(tmp_path: Path, qapp: Any) -> None:
    """Queued offline, console closed, opened again later: the refusal still says what it was."""
    from backend_client.client import ConsoleClient
    from tests.backend_client.helpers import FAST, free_port
    from tests.backend_client.service import PASSWORD, running_service

    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    first = ConsoleClient(url, StateStore(), timings=FAST, local_dir=str(tmp_path / "c"))
    first.login("operator", PASSWORD)  # nothing listens yet: offline
    res = await first.send("alert.ack", {"alert_id": 4242})
    assert res.queued
    await first.stop()
    first.close()

    store = StateStore()
    again = ConsoleClient(url, store, timings=FAST, local_dir=str(tmp_path / "c"))
    again.login("operator", PASSWORD)
    notes = NotificationManager()
    heard: list[Any] = []
    notes.notified.connect(heard.append)
    tracker = CommandTracker(again, store, notes)
    assert [n for n, _a in tracker.pending.values()] == ["alert.ack"]
    try:
        async with running_service(f"sqlite:///{tmp_path / 'svc.db'}", ws_port=port):
            await until(lambda: heard, "the refusal")
            assert [n.message for n in heard] == ["确认告警 · 告警 #4242 被拒绝：对象不存在或已删除"]
    finally:
        await again.stop()
        again.close()


def test_a_role_refused_locally_is_told_too(qapp: Any) -> None:
    store = StateStore()
    store.set_session(session(Role.OPERATOR))
    sink = RecordingSink()
    tracker = CommandTracker(sink, store)
    got: list[str] = []
    tracker.refused.connect(lambda text, *_: got.append(text))
    sink.answers["silence.create"] = CommandResult(ok=False, error_code="forbidden")
    tracker.send("silence.create", {"scope": "town", "target": "nancheng", "ends_ts": 1e10, "reason": "x"})
    assert got == ["屏蔽告警 被拒绝：当前角色或管辖范围无此权限"]
    sink.close()


def test_ages_and_drill_durations_in_both_languages(qapp: Any) -> None:
    """The header's data age and the drill lengths: Chinese, then English (once broken: the
    English UI said '5 分钟')."""
    from views.scenario_dialog import duration_text
    from views.theme import apply_language
    from widgets.common import fmt_age
    assert [fmt_age(x) for x in (5, 300, 7200, 200_000)] == ["5 秒", "5 分钟", "2 小时", "2 天"]
    assert [duration_text(x) for x in (30, 900, 5400, 172_800)] == ["30 秒", "15 分钟", "1 小时 30 分钟", "48 小时"]
    assert apply_language(qapp, "en")
    assert [fmt_age(x) for x in (5, 300, 7200, 200_000)] == ["5 s", "5 min", "2 h", "2 d"]
    assert [duration_text(x) for x in (30, 900, 5400, 172_800)] == ["30 s", "15 min", "1 h 30 min", "48 h"]
