"""The CIM in the sync service: buildings stored in the `buildings` table, served to consoles
(buildings.get) and used for the surroundings of an incident (surroundings.query).

The core's seed step calls seed_buildings(session, seed, n_buildings) once; it is idempotent.
"""

from __future__ import annotations

from sync_service.cim.store import load_buildings, seed_buildings, store_buildings

__all__ = ["load_buildings", "seed_buildings", "store_buildings"]
