"""How the console's core and views ask for changes and data, without knowing the network.

backend_client implements CommandSink; views and app code receive one and call it. A command's
effect arrives later on the normal inbound path (an event in the store); the returned future
only carries the service's answer (ok / typed error) for feedback in the UI.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CommandResult:
    ok: bool
    data: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    queued: bool = False  # offline: held in the outbox, will be sent on reconnect
    duplicate: bool = False


class CommandSink(Protocol):
    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        """Send a command (a client-generated id is attached). Never raises for service refusals:
        they come back as CommandResult(ok=False, error_code=...)."""
        ...

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        """A read (not queued offline: fails fast with error_code 'offline')."""
        ...
