"""Bulk storage of buildings in the `buildings` table and reading them back as a BuildingTable.

1.7 million rows through the ORM would take many minutes; rows go in through the DBAPI in
batches instead (sqlite3 executemany, PostgreSQL COPY), inside the caller's transaction.
Footprints are stored as the model says: float32 little-endian x,y pairs relative to the 1 km
tile's origin (EPSG:4547), outer ring only, CCW, not closed.

Every write raises the buildings revision (cim_state, see migration 0003: database triggers
count UPDATE and DELETE from anywhere; store_buildings counts its inserts), which the manifest's
version includes: a console never keeps a cache of a city that has changed since.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from citymodel.buildings import (
    STRUCTURE_CODES,
    STRUCTURE_INDEX,
    TOWN_CODES,
    TOWN_INDEX,
    USE_CODES,
    USE_INDEX,
    BuildingTable,
    ring_area_centroid,
)
from citymodel.geo import to_lonlat
from citymodel.tiles import SERVICE_TILE_M, service_tile_ij, tile_key
from sync_service.db.models import Building, CimState

log = logging.getLogger(__name__)

BATCH = 50_000
_COLS = ("id", "tile", "town", "cx", "cy", "footprint", "height", "floors", "structure", "use", "year",
         "address", "area_m2", "key_unit")


def _rows(table: BuildingTable, lo: int, hi: int) -> list[tuple[Any, ...]]:
    """Rows lo..hi as tuples in _COLS order."""
    sl = slice(lo, hi)
    ti, tj = service_tile_ij(table.cx[sl], table.cy[sl])
    sizes = table.ring_sizes()[sl]
    a, b = int(table.fp_offsets[lo]), int(table.fp_offsets[hi])
    rep = np.repeat(np.arange(hi - lo), sizes)
    rel = table.fp_xy[a:b].astype(np.float64)
    rel[:, 0] += table.cx[sl][rep] - ti[rep] * SERVICE_TILE_M
    rel[:, 1] += table.cy[sl][rep] - tj[rep] * SERVICE_TILE_M
    buf = rel.astype("<f4").tobytes()
    ends = np.cumsum(sizes) * 8
    starts = ends - sizes * 8
    tiles = [tile_key(x, y) for x, y in zip(ti.tolist(), tj.tolist(), strict=True)]
    towns = [TOWN_CODES[t] for t in table.town[sl].tolist()]
    structs = [STRUCTURE_CODES[s] for s in table.structure[sl].tolist()]
    uses = [USE_CODES[u] for u in table.use[sl].tolist()]
    years = [y or None for y in table.year[sl].tolist()]
    addrs = [table.address_of(i) for i in range(lo, hi)]
    return list(zip(
        table.id[sl].tolist(), tiles, towns, table.cx[sl].tolist(), table.cy[sl].tolist(),
        [buf[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)],
        table.height[sl].astype(float).tolist(), table.floors[sl].tolist(), structs, uses, years,
        addrs, table.area[sl].astype(float).tolist(), table.key_unit[sl].tolist(), strict=True))


def revision(session: Session) -> int:
    """The buildings revision (0 before any write)."""
    return int(session.scalar(select(CimState.value).where(CimState.key == "buildings")) or 0)


def bump_revision(session: Session) -> None:
    session.execute(update(CimState).where(CimState.key == "buildings").values(value=CimState.value + 1))


def delete_buildings(session: Session, ids: list[int] | None = None) -> int:
    """Delete those buildings (None: all of them); the triggers raise the revision."""
    if ids is None:
        return int(session.execute(delete(Building)).rowcount or 0)
    n = 0
    for lo in range(0, len(ids), 10_000):  # bound the IN list (SQLite's parameter limit)
        n += int(session.execute(delete(Building).where(Building.id.in_(ids[lo:lo + 10_000]))).rowcount or 0)
    return n


def set_key_unit_flags(session: Session, building_ids: set[int]) -> int:
    """buildings.key_unit true exactly for building_ids; returns how many rows changed."""
    now = set(session.scalars(select(Building.id).where(Building.key_unit.is_(True))))
    on, off = sorted(building_ids - now), sorted(now - building_ids)
    for ids, flag in ((on, True), (off, False)):
        for lo in range(0, len(ids), 10_000):
            session.execute(update(Building).where(Building.id.in_(ids[lo:lo + 10_000])).values(key_unit=flag))
    return len(on) + len(off)


def store_buildings(session: Session, table: BuildingTable) -> int:
    """Insert every building of table (ids kept) within the session's transaction."""
    conn = session.connection()
    dialect = conn.dialect.name
    raw = conn.connection.dbapi_connection
    cols = ", ".join(f'"{c}"' for c in _COLS)
    n = len(table)
    for lo in range(0, n, BATCH):
        rows = _rows(table, lo, min(n, lo + BATCH))
        if dialect == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY buildings ({cols}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
        else:
            marks = ", ".join("?" * len(_COLS))
            raw.cursor().executemany(f"INSERT INTO buildings ({cols}) VALUES ({marks})", rows)
    if dialect == "postgresql" and n:
        session.execute(select(func.setval(func.pg_get_serial_sequence("buildings", "id"),
                                           select(func.max(Building.id)).scalar_subquery())))
    if n:
        bump_revision(session)  # SQLite has no statement trigger for the inserts
    return n


def seed_buildings(session: Session, seed: int, n_buildings: int) -> dict[str, Any]:
    """Generate the synthetic city and store it, unless the table already holds buildings.
    Returns {"inserted", "existing", "generate_s", "insert_s"}; the caller commits."""
    existing = session.scalar(select(func.count()).select_from(Building)) or 0
    if existing:
        return {"inserted": 0, "existing": int(existing), "generate_s": 0.0, "insert_s": 0.0}
    from citymodel.generator import generate_city

    t0 = time.perf_counter()
    table = generate_city(seed, n_buildings)
    t1 = time.perf_counter()
    n = store_buildings(session, table)
    t2 = time.perf_counter()
    log.info("seeded %d CIM buildings (generate %.1f s, insert %.1f s)", n, t1 - t0, t2 - t1)
    return {"inserted": n, "existing": 0, "generate_s": round(t1 - t0, 2), "insert_s": round(t2 - t1, 2)}


def rows_to_table(rows: list[Any]) -> BuildingTable:
    """Building rows (sequences in _COLS order, or objects with the model's attribute names) to a
    table. Column-wise: a dense tile of 3,000 rows is one buildings.get answer, and 2,500 of them
    make the city a console fetches the first time."""
    n = len(rows)
    if n and not hasattr(rows[0], "__len__"):  # ORM objects; Row and tuple are sequences
        rows = [tuple(getattr(r, c) for c in _COLS) for r in rows]
    cols = dict(zip(_COLS, zip(*rows, strict=True), strict=True)) if n else {c: () for c in _COLS}
    fps = cols["footprint"]
    sizes = np.fromiter((len(f) // 8 for f in fps), np.int64, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    xy = np.frombuffer(b"".join(fps), dtype="<f4").reshape(-1, 2).astype(np.float64)
    cx = np.asarray(cols["cx"], float)
    cy = np.asarray(cols["cy"], float)
    # stored relative to the tile origin; the table wants them relative to the centroid
    tile_names, tile_idx = np.unique(np.asarray(cols["tile"], dtype=object).astype(str), return_inverse=True)
    origins = np.array([[float(v) * SERVICE_TILE_M for v in t.split("_")] for t in tile_names]).reshape(-1, 2)
    rep = np.repeat(np.arange(n), sizes)
    xy[:, 0] += origins[tile_idx, 0][rep] - cx[rep]
    xy[:, 1] += origins[tile_idx, 1][rep] - cy[rep]
    lon, lat = to_lonlat(cx, cy) if n else (np.zeros(0), np.zeros(0))
    area = np.array([np.nan if a is None else a for a in cols["area_m2"]], float)
    if n and not np.isfinite(area).all():
        area = np.abs(ring_area_centroid(offsets, xy)[0])

    def codes(name: str, index: dict[str, int], default: int) -> np.ndarray:
        return np.fromiter((index.get(v, default) for v in cols[name]), np.int64, n)

    return BuildingTable(
        id=np.asarray(cols["id"], np.int64), town=codes("town", TOWN_INDEX, 0), cx=cx, cy=cy, lon=lon, lat=lat,
        height=np.asarray(cols["height"], float), floors=np.asarray(cols["floors"], np.int64),
        structure=codes("structure", STRUCTURE_INDEX, len(STRUCTURE_CODES) - 1),
        use=codes("use", USE_INDEX, len(USE_CODES) - 1),
        year=np.fromiter((y or 0 for y in cols["year"]), np.int64, n),
        key_unit=np.fromiter((bool(k) for k in cols["key_unit"]), bool, n),
        area=area, road=np.full(n, -1), house_no=np.zeros(n), fp_offsets=offsets, fp_xy=xy,
        address=np.array(cols["address"], dtype=object) if n else np.zeros(0, dtype=object),
    )


def load_buildings(session: Session, *, tile: str | None = None, tiles: list[str] | None = None,
                   ids: list[int] | None = None,
                   bbox: tuple[float, float, float, float] | None = None, limit: int | None = None,
                   after_id: int | None = None) -> BuildingTable:
    q = select(Building)
    if after_id is not None:
        q = q.where(Building.id > after_id)
    if tile is not None:
        q = q.where(Building.tile == tile)
    if tiles is not None:
        q = q.where(Building.tile.in_(tiles))
    if ids is not None:
        q = q.where(Building.id.in_(ids))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        q = q.where(Building.cx >= x0, Building.cx <= x1, Building.cy >= y0, Building.cy <= y1)
        if tiles is None and tile is None and (x1 - x0) * (y1 - y0) <= 25 * SERVICE_TILE_M ** 2:
            # through the tile index: cx and cy have none, a box would scan the whole table
            (i0, i1), (j0, j1) = service_tile_ij(np.array([x0, x1]), np.array([y0, y1]))
            q = q.where(Building.tile.in_([tile_key(i, j) for i in range(int(i0), int(i1) + 1)
                                           for j in range(int(j0), int(j1) + 1)]))
    q = q.order_by(Building.id)
    if limit is not None:
        q = q.limit(limit)
    # through the connection, not the ORM: plain tuples, a third of the cost for a dense tile
    stmt = q.with_only_columns(*[getattr(Building, c) for c in _COLS])
    return rows_to_table(session.connection().execute(stmt).all())

