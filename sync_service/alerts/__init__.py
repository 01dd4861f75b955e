"""Alerts: rule engine, deduplication and grouping, lifecycle, escalation, silences, offline
detection (docs/ingest.md, "Alerts").

`build_components(ctx)` is called by sync_service.service. It shares its in-memory state with
ingestion through sync_service.alerts.state and registers "alerts" (AlertManager), "rules"
(RuleEngine), "silences", "offline" and "escalator" in ctx.components.
"""

from __future__ import annotations

from typing import Any

from sync_service.context import ServiceContext


def build_components(ctx: ServiceContext) -> list[Any]:
    from sync_service.alerts.escalation import Escalator
    from sync_service.alerts.offline import OfflineDetector
    from sync_service.alerts.state import claim_loader, shared

    sh = shared(ctx)
    offline = OfflineDetector(ctx, sh.registry, sh.engine, sh.manager)
    escalator = Escalator(ctx)
    ctx.components.update({"offline": offline, "escalator": escalator})
    return [*claim_loader(ctx), sh.manager, offline, escalator]
