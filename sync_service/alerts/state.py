"""The shared in-memory state of ingestion and alerting, created once per service.

ingest and alerts both need the device registry, the rule engine, the silences and the alert
manager; whichever of their build_components runs first creates them (`shared(ctx)`) and puts
the Loader first in its list, so everything is loaded before any door opens. Everything is
registered in ctx.components for command handlers:
"devices" (DeviceRegistry), "rules" (RuleEngine), "silences", "labels", "alerts" (AlertManager).

The Loader keeps the memory current: rule.upsert / rule.deleted / silence.upsert events apply
at once (as a hub subscriber when the service has a hub: events of every process on the store;
else as a commit listener: this process's); a periodic refresh picks up what has no event
(devices registered or revoked elsewhere) and is the safety net for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.events import RULE_DELETED, RULE_UPSERT, SILENCE_UPSERT
from protocol.frames import Event
from sync_service.alerts.engine import Rule, RuleEngine
from sync_service.alerts.labels import Labels
from sync_service.alerts.manager import AlertManager
from sync_service.alerts.silences import Silences
from sync_service.context import ServiceContext
from sync_service.db.models import AlertRule
from sync_service.ingest.registry import DeviceRegistry
from sync_service.leader import leading

log = logging.getLogger(__name__)
REFRESH_S = 15.0


@dataclass
class Shared:
    registry: DeviceRegistry
    engine: RuleEngine
    silences: Silences
    labels: Labels
    manager: AlertManager
    loader: Loader
    loader_claimed: bool = False
    # Where the pipeline sends a value with rules instead of the engine (None: the engine, in
    # line): route(rules, device_pk, metric, value, ts, arrival). Set by alerts/routing.py.
    route: Callable[[tuple[Rule, ...], int, str, float, float, float], None] | None = None


def shared(ctx: ServiceContext) -> Shared:
    sh = ctx.components.get("_ingest_alerts_shared")
    if sh is None:
        registry, silences, labels = DeviceRegistry(), Silences(), Labels()
        manager = AlertManager(ctx, registry, silences, labels)
        engine = RuleEngine(manager.on_level_change)
        sh = Shared(registry, engine, silences, labels, manager, Loader(ctx))
        ctx.components.update({"_ingest_alerts_shared": sh, "devices": registry, "rules": engine,
                               "silences": silences, "labels": labels, "alerts": manager})
    return sh


def claim_loader(ctx: ServiceContext) -> list[Loader]:
    """[loader] for the first caller, [] after: the loader starts before anything using it."""
    sh = shared(ctx)
    if sh.loader_claimed:
        return []
    sh.loader_claimed = True
    return [sh.loader]


class Loader:
    def __init__(self, ctx: ServiceContext, refresh_s: float = REFRESH_S) -> None:
        self.ctx = ctx
        self.refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None
        self._hub: Any = None
        self.scope = None  # as a hub subscriber: every domain

    def on_hub_batch(self, batch: Any) -> None:
        self._on_db_commit(batch.events)

    @property
    def sh(self) -> Shared:
        return shared(self.ctx)

    async def start(self) -> None:
        sh = self.sh
        started = time.time()
        sh.registry.loop = asyncio.get_running_loop()
        sh.registry.watching = leading(self.ctx)  # a follower leaves offline health to the leader

        def load(s: Session) -> list[Rule]:
            sh.registry.load(s, started)
            sh.labels.load(s)
            sh.silences.load(s, started)
            return [Rule.from_row(r) for r in s.scalars(select(AlertRule))]

        sh.engine.set_rules(await self.ctx.db.read(load))
        hub = self.ctx.components.get("hub")
        if hub is not None and hasattr(hub, "subscribe"):
            # The hub delivers every committed event, this process's and (on PostgreSQL) other
            # service processes', in order: rules and silences changed anywhere apply at once.
            hub.subscribe(self)
            self._hub = hub
        else:
            self.ctx.db.on_commit(self._on_db_commit)
        self._task = asyncio.create_task(self._loop(), name="ingest-refresh")
        log.info("loaded %d devices, %d rules", len(sh.registry.devices), len(sh.engine.rules))

    async def stop(self) -> None:
        if self._hub is not None:
            self._hub.unsubscribe(self)
            self._hub = None
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _on_db_commit(self, events: list[Event]) -> None:
        for ev in events:
            self.apply_event(ev)

    def apply_event(self, ev: Event) -> None:
        """Rules and silences changed by a command (this process, or relayed from another)."""
        sh = self.sh
        try:
            if ev.kind == RULE_UPSERT:
                sh.engine.upsert(Rule.from_row(_Obj(ev.data)))
            elif ev.kind == RULE_DELETED:
                sh.engine.delete(int(ev.data["id"]))
            elif ev.kind == SILENCE_UPSERT:
                sh.silences.apply(ev.data)
        except (KeyError, TypeError, ValueError):
            log.warning("ignored a malformed %s event (seq %s)", ev.kind, ev.seq)

    async def refresh(self) -> None:
        sh = self.sh
        now = time.time()

        def fn(s: Session) -> tuple[object, Silences, list[Rule]]:
            fresh = Silences()
            fresh.load(s, now)
            return (sh.registry.fetch_changes(s), fresh,
                    [Rule.from_row(r) for r in s.scalars(select(AlertRule))])

        # Read on a reader thread, apply here on the loop: the ingest path iterates these maps.
        changes, silences, rules = await self.ctx.db.read(fn)
        sh.registry.apply_changes(changes, now)  # type: ignore[arg-type]
        sh.silences.replace(silences)
        current = sh.engine.rules
        if {r.id: r for r in rules} != current:
            sh.engine.set_rules(rules)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except Exception:
                log.exception("refresh of devices/rules/silences failed")


class _Obj:
    """Attribute access over an event's dict, so Rule.from_row reads entities and rows alike."""

    def __init__(self, d: dict) -> None:
        self.__dict__.update(d)
