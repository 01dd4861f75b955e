"""What every service component receives: config, database, identity, and named components.

Components are started by sync_service.service in order and register themselves in
`components` by name (e.g. "hub", "rules", "ingest", "metrics") so command handlers can reach
them through CommandContext.services without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sync_service.config import ServiceConfig
from sync_service.db.database import Database


class Component(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class ServiceContext:
    config: ServiceConfig
    db: Database
    server_id: str
    components: dict[str, Any] = field(default_factory=dict)
