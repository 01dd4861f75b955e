"""Escalation: a red or orange alert still new (not acknowledged) escalate_after_s after it was
raised escalates; again after each further escalate_after_s, up to MAX_ESCALATIONS times.

Each step: escalations+1, an orange alert becomes red, a note, and a system.notice naming the
next role to notify (ESCALATION_CHAIN). Silenced alerts do not escalate. The same step is used
by the alert.escalate command (a person escalating by hand).

Once per store: only the leader (sync_service/leader.py) runs the pass. And the pass is safe if
two ever overlap (a leader that has not yet noticed it lost its connection): `due` locks the
rows it takes (FOR UPDATE SKIP LOCKED on PostgreSQL), and PostgreSQL re-checks the conditions
on a row another pass changed meanwhile, so each step happens once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.enums import AlertState, Level, Role
from protocol.events import SYSTEM_NOTICE
from sync_service.alerts import store
from sync_service.alerts.labels import level_words
from sync_service.context import ServiceContext
from sync_service.db.models import Alert
from sync_service.eventlog import NewEvent
from sync_service.leader import leading

log = logging.getLogger(__name__)
MAX_ESCALATIONS = 3
ESCALATION_CHAIN = (Role.DUTY_OFFICER, Role.LEADER, Role.ADMIN)
ROLE_WORDS = {Role.DUTY_OFFICER: ("值班主任", "duty officer"), Role.LEADER: ("带班领导", "leader on duty"),
              Role.ADMIN: ("系统管理员", "administrator"), Role.OPERATOR: ("值班操作员", "operator"),
              Role.BUREAU_OPERATOR: ("委办局值班员", "bureau operator")}


def next_role(escalations: int) -> Role:
    return ESCALATION_CHAIN[min(max(escalations, 1), len(ESCALATION_CHAIN)) - 1]


def escalate(a: Alert, by: str, now: float, reason: str) -> list[NewEvent]:
    """One escalation step on a loaded alert, in the caller's transaction."""
    a.escalations = (a.escalations or 0) + 1
    if a.level == Level.ORANGE:
        a.level = Level.RED.value
    role = next_role(a.escalations)
    rz, re = ROLE_WORDS[role]
    lz, le = level_words(a.level)
    store.add_note(a, by, now, f"第 {a.escalations} 次升级，通知{rz} / escalation {a.escalations}, "
                               f"notify the {re}" + (f"：{reason}" if reason else ""))
    a.updated_ts, a.updated_by = now, by
    notice = NewEvent(SYSTEM_NOTICE, {
        "level": "warning",
        "text": f"{lz}告警「{a.title}」已升级（第 {a.escalations} 次），请通知{rz}",
        "text_en": f"{le.capitalize()} alert \"{a.title_en or a.title}\" escalated "
                   f"(#{a.escalations}): notify the {re}",
        "alert_id": a.id, "notify_role": role.value, "escalations": a.escalations,
    }, domain=a.domain, town=a.town)
    return [store.event(a), notice]


def due(s: Session, now: float, after_s: float) -> list[Alert]:
    """The alerts to escalate now, locked for this transaction (rows another writer holds are
    left for the next pass; SQLite has one writer anyway and renders no lock clause)."""
    return list(s.scalars(select(Alert).where(
        Alert.state == AlertState.NEW.value, Alert.level >= Level.ORANGE.value,
        Alert.silenced.is_(False), Alert.escalations < MAX_ESCALATIONS,
        Alert.first_ts <= now - after_s * (Alert.escalations + 1)).order_by(Alert.id).limit(500)
        .with_for_update(skip_locked=True)))


class Escalator:
    def __init__(self, ctx: ServiceContext, interval_s: float | None = None) -> None:
        self.ctx = ctx
        after = ctx.config.escalate_after_s
        self.interval_s = interval_s or max(0.5, min(10.0, after / 4))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="escalator")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not leading(self.ctx):
                continue
            try:
                await self.run_once(time.time())
            except Exception:
                log.exception("escalation pass failed")

    async def run_once(self, now: float) -> int:
        after = self.ctx.config.escalate_after_s

        def fn(s: Session) -> tuple[int, list[NewEvent]]:
            events: list[NewEvent] = []
            alerts = due(s, now, after)
            for a in alerts:
                events += escalate(a, "system", now, "")
            return len(alerts), events

        n, _ = await self.ctx.db.write_events(fn)
        return n
