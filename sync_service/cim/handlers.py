"""buildings.get (query) and surroundings.query (command) of the sync service.

buildings.get answers, by its arguments:
- nothing: the manifest {"tiles": {tile: count}, "total", "version"} a console uses to fetch the
  city tile by tile (and to tell whether its local cache is still current);
- tile: the buildings of one 1 km tile; ids: those buildings; lon/lat + radius_m: the buildings
  near a point, nearest first. Buildings travel as base64 columns (citymodel.wire); at most
  MAX_ROWS per answer ("truncated": true beyond).

surroundings.query computes citymodel.surroundings for an incident or a point and returns it as
the command's result and as a surroundings.result event, so every hall sees the same answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citymodel.buildings import STRUCTURE_CODES, TOWN_CODES, USE_CODES
from citymodel.geo import to_city_xy
from citymodel.surroundings import buildings_within, surroundings
from citymodel.wire import MAX_ROWS, encode_table
from protocol.commands import BuildingsQuery, SurroundingsQuery
from protocol.enums import ErrorCode
from protocol.events import SURROUNDINGS_RESULT
from sync_service.cim.store import load_buildings, revision
from sync_service.commands.registry import CommandContext, CommandFailed, command, query
from sync_service.db.models import Building, Incident, Resource
from sync_service.eventlog import NewEvent


def manifest(s: Session) -> dict[str, Any]:
    counts = dict(s.execute(select(Building.tile, func.count()).group_by(Building.tile)).all())
    total = int(sum(counts.values()))
    max_id = s.scalar(select(func.max(Building.id))) or 0
    # the version names the data set: a console's cache made from another one is not reused.
    # The revision moves on every write (store.revision), so an edited height or key-unit flag
    # is a new version too, not only a new count.
    rev = revision(s)
    version = hashlib.sha256(f"{total}:{max_id}:{sorted(counts.items())}:{rev}".encode()).hexdigest()[:16]
    # the integer codes of the town, use and structure columns (citymodel.buildings), so a
    # client needs nothing but this answer to read them
    codes = {"town": list(TOWN_CODES), "use": list(USE_CODES), "structure": list(STRUCTURE_CODES)}
    return {"tiles": counts, "total": total, "version": version, "revision": rev, "codes": codes}


def _near(s: Session, lon: float, lat: float, radius: float) -> tuple[Any, np.ndarray, np.ndarray, float, float]:
    x, y = (float(v) for v in to_city_xy(lon, lat))
    pad = radius + 150.0  # centroids of large buildings lie inside their footprint's reach
    table = load_buildings(s, bbox=(x - pad, y - pad, x + pad, y + pad))
    rows, dist = buildings_within(table, x, y, radius)
    return table, rows, dist, x, y


ANSWER_BYTES = 768 * 1024  # encoded buildings per answer: under the 1 MiB frame cap with room


def _encoded_size(enc: dict[str, Any]) -> int:
    cols = sum(len(v) for v in enc["columns"].values()) + len(enc["fp_sizes"]) + len(enc["fp_xy"])
    return cols + sum(len(a.encode()) + 4 for a in enc.get("address") or ())


@query("buildings.get")
def buildings_get(s: Session, ctx: CommandContext, args: BuildingsQuery) -> dict[str, Any]:
    if args.tile is None and args.tiles is None and args.ids is None and args.lon is None:
        return manifest(s)
    if args.tile is not None or args.tiles is not None:
        tiles = [args.tile] if args.tile is not None else list(args.tiles or ())
        table = load_buildings(s, tiles=tiles, limit=MAX_ROWS + 1, after_id=args.after_id)
    elif args.ids is not None:
        table = load_buildings(s, ids=list(args.ids), limit=MAX_ROWS + 1, after_id=args.after_id)
    else:
        if args.lat is None or args.radius_m is None:
            raise CommandFailed(ErrorCode.BAD_ARGS, "buildings.get by point needs lon, lat and radius_m")
        table, rows, _, _, _ = _near(s, args.lon, args.lat, args.radius_m)  # type: ignore[arg-type]
        table = table.take(rows)
    truncated = len(table) > MAX_ROWS
    if truncated:
        table = table.take(np.arange(MAX_ROWS))
    enc = encode_table(table)
    # long addresses or many-vertex footprints (real imports) make rows bigger: fewer per answer
    while len(table) > 1 and _encoded_size(enc) > ANSWER_BYTES:
        truncated = True
        table = table.take(np.arange(len(table) // 2))
        enc = encode_table(table)
    out = {"buildings": enc, "count": len(table), "truncated": truncated, "tile": args.tile}
    if truncated and args.lon is None:  # tile and ids answers are in id order: the next page
        out["next_after_id"] = int(table.id[-1])
    return out


@command("surroundings.query")
def surroundings_query(s: Session, ctx: CommandContext,
                       args: SurroundingsQuery) -> tuple[dict[str, Any], list[NewEvent]]:
    domain = town = None
    lon, lat = args.lon, args.lat
    if args.incident_id is not None:
        inc = s.get(Incident, args.incident_id) or ctx.not_found("incident", args.incident_id)
        ctx.check_domain(inc.domain)
        domain, town = inc.domain, inc.town
        if inc.building_id is not None and (lon is None or lat is None):
            b = s.get(Building, inc.building_id)
            if b is not None:
                from citymodel.geo import to_lonlat

                blon, blat = to_lonlat(b.cx, b.cy)
                lon, lat = float(blon), float(blat)
        if lon is None or lat is None:
            lon, lat = inc.lon, inc.lat
    if lon is None or lat is None:
        raise CommandFailed(ErrorCode.BAD_ARGS, "surroundings.query needs an incident with a location, or lon and lat")
    table, rows, _, _, _ = _near(s, lon, lat, args.radius_m)
    res = [{"id": r.id, "kind": str(r.kind), "name": r.name, "lon": r.lon, "lat": r.lat, "status": r.status}
           for r in s.scalars(select(Resource).where(Resource.kind.in_(("water_source", "fire_station"))))
           if ctx.actor.sees(r.domain)]
    result = surroundings(table, lon, lat, args.radius_m, res, rows=rows, incident_id=args.incident_id)
    result["by"] = ctx.actor.username
    result["ts"] = ctx.now
    return result, [NewEvent(SURROUNDINGS_RESULT, result, domain=domain, town=town)]
