"""Ingestion: MQTT and HTTP doors, authentication, data quality, batched writes (docs/ingest.md).

`build_components(ctx)` is called by sync_service.service; the items start in order and stop
in reverse, except the doors (`door = True`: HTTP, MQTT), which the service starts after every
other part and so stops first. ctx.components gets "ingest" (the Pipeline), "mqtt", "http", and the shared state
of sync_service.alerts.state ("devices", "rules", "silences", "labels", "alerts").
"""

from __future__ import annotations

from typing import Any

from sync_service.context import ServiceContext


def build_components(ctx: ServiceContext) -> list[Any]:
    from sync_service.alerts.state import claim_loader, shared
    from sync_service.ingest.http import HttpIngest
    from sync_service.ingest.mqtt import MqttIngest
    from sync_service.ingest.pipeline import Pipeline

    sh = shared(ctx)
    pipeline = Pipeline(ctx, sh)
    mqtt = MqttIngest(ctx, pipeline, sh.registry)
    http = HttpIngest(ctx, pipeline, sh)
    ctx.components.update({"ingest": pipeline, "mqtt": mqtt, "http": http})
    return [*claim_loader(ctx), pipeline, http, mqtt]
