"""Key units (六熟悉) and the CIM kept in agreement.

- buildings.key_unit is true exactly for the buildings a key-unit record points at: the 3D view's
  key-unit marks, the card and the surroundings' key-unit count then all mean the same units;
- a unit whose building is gone (a re-import) is linked again to the building at its location;
- every linked unit has a site plan (总平面图, citymodel.siteplan) stored in site_plans;
- buildings an import flags as key units get a record when they have none.

refresh_key_units runs after provisioning the simulated city and after every import-buildings.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import shapely
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from citymodel.buildings import TOWN_CODES, BuildingTable
from citymodel.geo import to_city_xy
from citymodel.siteplan import RADIUS_M, WATER_REACH_M, site_plan
from sync_service.cim.store import load_buildings, set_key_unit_flags
from sync_service.db.models import Building, KeyUnit, Resource, SitePlan

log = logging.getLogger(__name__)
LINK_M = 30.0  # a unit off every footprint links to the nearest building this close


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = to_city_xy(lon, lat)
    return float(x), float(y)


def building_at(session: Session, lon: float, lat: float) -> int | None:
    """The id of the building whose footprint holds the point, else the nearest within LINK_M."""
    x, y = _xy(lon, lat)
    pad = LINK_M + 150.0
    t = load_buildings(session, bbox=(x - pad, y - pad, x + pad, y + pad))
    if not len(t):
        return None
    pt = shapely.Point(x, y)
    best, best_d = None, LINK_M
    for r in np.argsort(np.hypot(t.cx - x, t.cy - y))[:60].tolist():
        poly = shapely.Polygon(t.footprint(r))
        dist = 0.0 if poly.contains(pt) else float(poly.distance(pt))
        if dist < best_d or (dist == 0.0 and best_d > 0.0):
            best, best_d = int(t.id[r]), dist
        if dist == 0.0:
            break
    return best


class Water:
    """The water sources (id, name, EPSG:4547 position) with an array to find the near ones fast."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.xy = np.array([[w["x"], w["y"]] for w in items], float).reshape(-1, 2)

    def near(self, x: float, y: float, reach: float) -> list[dict[str, Any]]:
        ok = np.flatnonzero(np.abs(self.xy - (x, y)).max(axis=1) <= reach) if len(self.xy) else []
        return [self.items[i] for i in ok]


def water_sources(session: Session) -> Water:
    rows = session.execute(select(Resource.id, Resource.name, Resource.lon, Resource.lat)
                           .where(Resource.kind == "water_source")).all()
    if not rows:
        return Water([])
    x, y = to_city_xy(np.array([r.lon for r in rows]), np.array([r.lat for r in rows]))
    return Water([{"id": int(r.id), "name": r.name, "x": float(a), "y": float(b)}
                  for r, a, b in zip(rows, np.atleast_1d(x).tolist(), np.atleast_1d(y).tolist(), strict=True)])


def plan_for(session: Session, unit: KeyUnit, water: Water) -> dict[str, Any] | None:
    """The site plan of a linked unit from the buildings around it (None when unlinked)."""
    if unit.building_id is None:
        return None
    x, y = _xy(unit.lon, unit.lat)  # at (or, linked to the nearest, next to) its building
    pad = RADIUS_M + 60.0 + LINK_M
    t = load_buildings(session, bbox=(x - pad, y - pad, x + pad, y + pad))
    rows = t.index_of([unit.building_id])
    if not len(rows) or rows[0] < 0:
        b = session.get(Building, unit.building_id)  # a unit recorded away from its building
        if b is None:
            return None
        t = load_buildings(session, bbox=(b.cx - pad, b.cy - pad, b.cx + pad, b.cy + pad))
        rows = t.index_of([unit.building_id])
    r = int(rows[0])
    return site_plan(t, r, water.near(float(t.cx[r]), float(t.cy[r]), WATER_REACH_M))


def add_records_for_flagged(session: Session, table: BuildingTable, units: dict[int, dict[str, str]]) -> int:
    """A key-unit record for every building an import flagged (id -> name, category) that no
    record points at yet. Returns how many were added."""
    have = set(session.scalars(select(KeyUnit.building_id).where(KeyUnit.building_id.is_not(None))))
    rows = table.index_of(np.array(sorted(units), np.int64)) if units else np.zeros(0, np.int64)
    added = 0
    for bid, r in zip(sorted(units), rows.tolist(), strict=True):
        if bid in have or r < 0:
            continue
        info = units[bid]
        town = TOWN_CODES[int(table.town[r])]
        address = table.address_of(r)
        name = info.get("name") or address or f"重点单位（建筑 {bid}）"
        session.add(KeyUnit(name=name[:200], town=town, address=address[:300], category=info.get("category", ""),
                            building_id=bid, lon=float(table.lon[r]), lat=float(table.lat[r]), key_parts=[],
                            contact="", qr=f"lsx:dongguan:keyunit:KU-{town}-B{bid}:v1"))
        added += 1
    session.flush()
    return added


def refresh_key_units(session: Session, *, area: tuple[float, float, float, float] | None = None,
                      all_plans: bool = False, now: float | None = None) -> dict[str, int]:
    """Link units to buildings, set the key-unit flags from the records, and make the site plans
    that are missing, whose unit was linked anew, or (area, EPSG:4547 box) whose surroundings
    changed; all_plans: every one. Within the caller's transaction."""
    t0 = time.perf_counter()
    now = time.time() if now is None else now
    units = list(session.scalars(select(KeyUnit).order_by(KeyUnit.id)))
    linked = {u.building_id for u in units if u.building_id is not None}
    existing: set[int] = set()
    ids = sorted(linked)
    for lo in range(0, len(ids), 10_000):
        existing |= set(session.scalars(select(Building.id).where(Building.id.in_(ids[lo:lo + 10_000]))))
    relinked: set[int] = set()
    for u in units:
        if u.building_id is None or u.building_id not in existing:
            bid = building_at(session, u.lon, u.lat)
            if bid != u.building_id:
                u.building_id = bid
                relinked.add(u.id)
    session.flush()
    flags = set_key_unit_flags(session, {u.building_id for u in units if u.building_id is not None})
    planned = {int(k): str(v) for k, v in session.execute(select(SitePlan.key_unit_id, SitePlan.source)).all()}
    water = water_sources(session)
    made = 0
    new: list[dict[str, Any]] = []
    for u in units:
        x, y = _xy(u.lon, u.lat)
        in_area = area is not None and area[0] - RADIUS_M <= x <= area[2] + RADIUS_M \
            and area[1] - RADIUS_M <= y <= area[3] + RADIUS_M
        if not (all_plans or in_area or u.id in relinked or u.id not in planned):
            continue
        if planned.get(u.id) == "surveyed":  # a surveyed plan is never overwritten
            continue
        layout = plan_for(session, u, water)
        if layout is None:
            if u.id in planned:
                session.execute(delete(SitePlan).where(SitePlan.key_unit_id == u.id))
            continue
        if u.id in planned:
            session.execute(update(SitePlan).where(SitePlan.key_unit_id == u.id).values(layout=layout, updated_ts=now))
        else:
            new.append({"key_unit_id": u.id, "layout": layout, "source": "generated", "updated_ts": now})
        made += 1
    if new:
        session.execute(insert(SitePlan), new)
    session.flush()
    out = {"key_units": len(units), "relinked": len(relinked), "flags_changed": flags, "site_plans": made}
    log.info("key units refreshed in %.1f s: %s", time.perf_counter() - t0, out)
    return out
