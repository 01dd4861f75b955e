"""Drills (演练) from the console: the menu button is there only for roles that may start one, the
dialog sends scenario.start through the command bus, and the service's answer - the drill
started, or a typed refusal - is shown to the user. Against the real sync service (in-process,
with and without its simulated city)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.halls import shipped_profiles
from app.notifications import NotificationManager
from app.settings import ConsoleSettings
from app.store import Connection, StateStore
from protocol.enums import Role
from tools.demo_state import RecordingSink, fill_store
from views.context import ViewContext
from views.scenario_dialog import SCENARIOS, ScenarioDialog
from views.window import HallWindow
from widgets.command_feedback import CommandTracker

pytestmark = pytest.mark.gui
PARTS = ("sync_service.ingest", "sync_service.alerts")


async def _until(pred: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def test_the_console_knows_the_simulators_scenarios() -> None:
    from simulator.scenarios import SCENARIOS as SIM

    assert {s[0] for s in SCENARIOS} == set(SIM)
    for name, _title, length in SCENARIOS:
        assert SIM[name]().duration_s == length, name


@pytest.mark.parametrize(("role", "shown"), [(Role.OPERATOR, False), (Role.LEADER, False),
                                              (Role.BUREAU_OPERATOR, False), (Role.DUTY_OFFICER, True),
                                              (Role.ADMIN, True)])
def test_drill_button_only_for_roles_with_the_permission(role: Role, shown: bool, qtbot: Any, qapp: Any) -> None:
    sink = RecordingSink()
    store = fill_store(StateStore(), alerts=20, role=role)
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["duty"])
    win = HallWindow(ctx, [0], kiosk=False)
    qtbot.addWidget(win)
    win.show()
    assert win.drill_button.isVisible() is shown
    dlg = win.open_drill()  # the Ctrl+Shift+D path
    assert (dlg is not None) is shown
    if dlg is not None:
        assert dlg.isVisible()
        dlg.close()
    sink.close()


def test_the_button_follows_the_session_that_arrives_after_the_window(qtbot: Any, qapp: Any) -> None:
    from tools.demo_state import session
    sink = RecordingSink()
    store = StateStore()  # no session yet: the welcome frame comes after the window is built
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["duty"])
    win = HallWindow(ctx, [0], kiosk=False)
    qtbot.addWidget(win)
    win.show()
    assert not win.drill_button.isVisible()
    store.set_session(session(Role.DUTY_OFFICER, "duty"))
    assert win.drill_button.isVisible()
    store.set_session(session(Role.OPERATOR))
    assert not win.drill_button.isVisible()
    sink.close()


async def _console(url: str, user: str, tmp_path: Path) -> tuple[Any, StateStore, ViewContext, HallWindow]:
    from backend_client.client import ConsoleClient
    from sync_service.seed import DEMO_PASSWORD
    from tests.backend_client.helpers import FAST

    store = StateStore()
    client = ConsoleClient(url, store, hall="duty", timings=FAST, local_dir=str(tmp_path / user))
    client.login(user, DEMO_PASSWORD)
    await _until(lambda: store.connection == Connection.ONLINE and store.session.user == user, f"{user} online")
    notes = NotificationManager()
    ctx = ViewContext(store, CommandTracker(client, store, notes), ConsoleSettings(mute=True),
                      shipped_profiles()["duty"], notifications=notes)
    win = HallWindow(ctx, [0], kiosk=False)
    win.resize(1366, 768)
    win.show()
    return client, store, ctx, win


async def test_duty_officer_starts_a_drill_on_the_real_service(tmp_path: Path, qapp: Any,
                                                                answer_confirm: dict[str, Any]) -> None:
    from tests.sync_service.server_helpers import service

    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    async with service(url, parts=PARTS, simulate=True, sim_devices=2000, sim_speed=1.0, cim_buildings=0) as svc:
        client, store, _ctx, win = await _console(svc.url, "duty", tmp_path)
        try:
            assert win.drill_button.isVisible()
            dlg: ScenarioDialog = win.open_drill()
            dlg.list.setCurrentRow([s[0] for s in SCENARIOS].index("school"))
            dlg.speed.setValue(60)
            assert dlg.start_btn.isEnabled()
            dlg.start_btn.click()
            assert "校园一键报警" in answer_confirm["asked"][-1]
            await _until(lambda: dlg.result is not None, "the service's answer")
            assert dlg.result.ok, dlg.result
            assert dlg.status.text() == "演练已开始：校园一键报警（60 倍速）"
            # every hall hears the service's notice; this one shows it in its message bar
            await _until(lambda: any("演练开始：校园一键报警" in t for _s, t in win.messages.shown), "the notice")
            assert win.messages.isVisible()
            notice = next(t for _s, t in win.messages.shown if "演练开始" in t)
            assert "60 倍速" in notice
            assert "发起人 duty" in notice
            # the story itself then raises alerts through the ordinary ingest doors
            await _until(lambda: any(a.domain == "education" for a in store.alerts.values()),
                         "a school alarm from the drill", limit_s=60)
            dlg.close()
        finally:
            win.close()
            await client.stop()
            client.close()


async def test_refusals_are_shown_in_words(tmp_path: Path, qapp: Any, answer_confirm: dict[str, Any]) -> None:
    from tests.sync_service.server_helpers import service

    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    async with service(url, parts=PARTS) as svc:  # no simulated city here
        client, _store, _ctx, win = await _console(svc.url, "duty", tmp_path)
        try:
            dlg: ScenarioDialog = win.open_drill()
            dlg.start_btn.click()  # typhoon, 10x
            await _until(lambda: dlg.result is not None, "the refusal")
            assert dlg.result.error_code == "conflict"
            assert dlg.status.text().startswith("开始演练 · 台风暴雨 被拒绝：此服务未运行模拟城市，或模拟器未接受演练")
            assert "--simulate" in dlg.status.text()  # the service's own words follow
            assert dlg.status.property("state") == "refused"
            assert dlg.start_btn.isEnabled()  # the user may try again
            await _until(lambda: win.messages.isVisible(), "the message bar")
            assert win.messages.severity == "warning"
            assert win.messages.text.text().endswith("开始演练 被拒绝：此服务未运行模拟城市，或模拟器未接受演练")
            answer_confirm["yes"] = False  # asked, and said no: nothing is sent
            sent = client.dispatcher.sent
            dlg.start_btn.click()
            await asyncio.sleep(0.2)
            assert client.dispatcher.sent == sent
            dlg.close()
        finally:
            win.close()
        await client.stop()
        client.close()
        # an operator never gets the dialog, and the service would refuse anyway
        client, _store, _ctx, win = await _console(svc.url, "operator", tmp_path)
        try:
            assert not win.drill_button.isVisible()
            assert win.open_drill() is None
            res = await client.send("scenario.start", {"name": "fire", "speed": 1})
            assert res.error_code == "forbidden"
        finally:
            win.close()
            await client.stop()
            client.close()


def test_offline_console_does_not_offer_a_drill(qtbot: Any, qapp: Any) -> None:
    sink = RecordingSink()
    store = fill_store(StateStore(), alerts=5, role=Role.DUTY_OFFICER)
    store.set_connection(Connection.OFFLINE)
    ctx = ViewContext(store, sink, ConsoleSettings(mute=True), shipped_profiles()["duty"])
    dlg = ScenarioDialog(ctx)
    qtbot.addWidget(dlg)
    assert not dlg.start_btn.isEnabled()
    assert dlg.status.text() == "未连接服务，不能开始演练。"
    store.set_connection(Connection.ONLINE)
    assert dlg.start_btn.isEnabled()
    assert dlg.status.text() == ""
    sink.close()
