"""Alerts: rule engine, deduplication and grouping, lifecycle, escalation, silences, offline
detection (docs/ingest.md, "Alerts").

`build_components(ctx)` is called by sync_service.service. It shares its in-memory state with
ingestion through sync_service.alerts.state and registers "alerts" (AlertManager), "rules"
(RuleEngine), "silences", "offline" and "escalator" in ctx.components, and with several
processes on one store (a shared Leadership, sync_service/leader.py) "rule_router" (routing.py:
rules are evaluated by the leader).
"""

from __future__ import annotations

from typing import Any

from sync_service.context import ServiceContext
from sync_service.leader import leadership


def build_components(ctx: ServiceContext) -> list[Any]:
    from sync_service.alerts.escalation import Escalator
    from sync_service.alerts.offline import OfflineDetector
    from sync_service.alerts.routing import RuleRouter
    from sync_service.alerts.state import claim_loader, shared

    sh = shared(ctx)
    offline = OfflineDetector(ctx, sh.registry, sh.engine, sh.manager)
    escalator = Escalator(ctx)
    ctx.components.update({"offline": offline, "escalator": escalator})
    lead = leadership(ctx)
    router = [RuleRouter(ctx, sh, lead)] if lead is not None and lead.shared else []
    return [*claim_loader(ctx), sh.manager, *router, offline, escalator]
