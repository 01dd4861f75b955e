"""Registers the CIM handlers (buildings.get, surroundings.query) from sync_service.cim."""

from __future__ import annotations

from sync_service.cim import handlers as _handlers  # noqa: F401 - registration on import
