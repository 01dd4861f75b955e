"""Command and query handlers. Each module registers its handlers with the registry on import;
`load_all()` imports them all (the service calls it once at start): this package's core modules
and every other module found here (alerts, silences, rules, devices... written by other parts),
so adding a handler module needs no change here."""

from __future__ import annotations

import importlib
import pkgutil

CORE = ("incidents", "tasks", "focus", "resources", "users", "queries_core")
_NOT_HANDLERS = {"registry", "dispatch", "common"}


def load_all() -> list[str]:
    """Import every handler module (idempotent); returns the names loaded."""
    names = list(CORE)
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_HANDLERS and info.name not in names and not info.name.startswith("_"):
            names.append(info.name)
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names
