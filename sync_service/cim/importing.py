"""`ioc-sync import-buildings FILE`: real building footprints into the service's CIM.

    ioc-sync import-buildings survey.geojson --crs EPSG:4490 --height-attr 建筑高度 --replace
    ioc-sync import-buildings edits.shp --merge

Runs the importer (citymodel.importers: GeoJSON, Shapefile, CityJSON), prints its repair/reject
report, stores the buildings in one transaction and brings the key units along
(sync_service.cim.keyunits): buildings flagged by a key-unit attribute get a record, units are
linked to the buildings at their location, the key-unit flags follow the records and the site
plans around the imported area are made again. The buildings revision moves (and so the
manifest's version): every console downloads the new city the next time it asks. A
system.notice event tells the halls at once.

--replace: the imported buildings are the whole city. --merge: they update the buildings with
their ids (the same building: centroids within MERGE_SAME_M) and are added otherwise, and an
existing building whose centroid lies inside an imported footprint is superseded by it. A
table that holds buildings needs one of the two.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citymodel.buildings import BuildingTable
from citymodel.importers import AttributeMap, ImportFailed, ImportReport, import_file
from protocol.events import SYSTEM_NOTICE
from sync_service.cim.keyunits import add_records_for_flagged, refresh_key_units
from sync_service.cim.store import delete_buildings, load_buildings, revision, store_buildings
from sync_service.db.models import Building
from sync_service.eventlog import NewEvent, append_events

MERGE_SAME_M = 50.0  # an imported id whose stored building is farther than this is another building


@dataclass
class ImportResult:
    mode: str
    imported: int = 0
    replaced: int = 0  # stored buildings deleted (all of them with --replace)
    updated: int = 0  # same id, same place: the stored building replaced by the imported one
    superseded: int = 0  # stored buildings under an imported footprint
    renumbered: int = 0  # imported ids that name another, distant stored building
    key_units: dict[str, int] = field(default_factory=dict)
    revision: int = 0


def _superseded(session: Session, table: BuildingTable, keep: set[int]) -> list[int]:
    """Stored buildings (not in keep) whose centroid lies inside an imported footprint."""
    x0, y0 = float(table.cx.min()) - 200, float(table.cy.min()) - 200
    x1, y1 = float(table.cx.max()) + 200, float(table.cy.max()) + 200
    old = load_buildings(session, bbox=(x0, y0, x1, y1))
    if not len(old):
        return []
    polys = [shapely.Polygon(table.footprint(i))
             for i in range(len(table))]
    tree = shapely.STRtree(polys)
    pts = shapely.points(old.cx, old.cy)
    hit_pt, _ = tree.query(pts, predicate="within")
    return sorted({int(old.id[i]) for i in np.unique(hit_pt).tolist()} - keep)


def import_buildings(session: Session, table: BuildingTable, report: ImportReport, mode: str,
                     *, now: float | None = None) -> ImportResult:
    """Store an imported table (mode "replace" or "merge") and refresh the key units, within
    the caller's transaction."""
    if mode not in ("replace", "merge"):
        raise ValueError(f"mode must be replace or merge, not {mode!r}")
    res = ImportResult(mode)
    if mode == "replace":
        res.replaced = delete_buildings(session)
    elif len(table):
        stored = {int(r.id): (r.cx, r.cy) for r in session.execute(
            select(Building.id, Building.cx, Building.cy).where(Building.id.in_(table.id.tolist()))).all()} \
            if len(table) <= 10_000 else _stored_positions(session, table.id.tolist())
        ids = table.id.copy()
        next_id = int(session.scalar(select(func.max(Building.id))) or 0) + 1
        next_id = max(next_id, int(ids.max()) + 1)
        same: list[int] = []
        for i, bid in enumerate(ids.tolist()):
            at = stored.get(bid)
            if at is None:
                continue
            if np.hypot(at[0] - table.cx[i], at[1] - table.cy[i]) <= MERGE_SAME_M:
                same.append(bid)
            else:
                ids[i] = next_id
                next_id += 1
                res.renumbered += 1
                report.note("repaired", "id_of_another_building", f"feature id {bid}: stored as {ids[i]}")
        if res.renumbered:
            old_units = report.key_units
            moved = {int(a): int(b) for a, b in zip(table.id.tolist(), ids.tolist(), strict=True) if a != b}
            report.key_units = {moved.get(k, k): v for k, v in old_units.items()}
            table.id = ids
        res.updated = delete_buildings(session, same)
        gone = _superseded(session, table, set(ids.tolist()))
        res.superseded = delete_buildings(session, gone)
    session.flush()
    res.imported = store_buildings(session, table)
    session.flush()
    add_records_for_flagged(session, table, report.key_units)
    area = None
    if len(table):
        area = (float(table.cx.min()), float(table.cy.min()), float(table.cx.max()), float(table.cy.max()))
    res.key_units = refresh_key_units(session, area=area, all_plans=mode == "replace", now=now)
    res.revision = revision(session)
    n = res.imported
    append_events(session, [NewEvent(SYSTEM_NOTICE, {
        "level": "info",
        "text": f"城市模型已更新：导入 {n} 栋建筑，三维城市将重新下载",
        "text_en": f"City model updated: {n} buildings imported; the 3D city downloads it again",
        "cim_revision": res.revision})], origin="import-buildings")
    return res


def _stored_positions(session: Session, ids: list[int]) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    for lo in range(0, len(ids), 10_000):
        for r in session.execute(select(Building.id, Building.cx, Building.cy)
                                 .where(Building.id.in_(ids[lo:lo + 10_000]))).all():
            out[int(r.id)] = (r.cx, r.cy)
    return out


# ---- the command line -------------------------------------------------------------------------

def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="ioc-sync import-buildings",
                                 description="Import building footprints into the service's CIM")
    ap.add_argument("file", help=".geojson/.json, .shp (with .dbf, .prj beside it) or .city.json")
    ap.add_argument("--format", choices=("geojson", "shapefile", "cityjson"),
                    help="the file's format (default: from its name)")
    ap.add_argument("--crs", help="the file's coordinate reference system, e.g. EPSG:4490 (default: from the "
                                  "file, else WGS84 for GeoJSON)")
    for name, what in (("id", "building id"), ("height", "height in metres"), ("floors", "number of floors"),
                       ("use", "use"), ("key-unit", "key unit (yes/no, or the unit's name)")):
        ap.add_argument(f"--{name}-attr", action="append", metavar="NAME",
                        help=f"attribute holding the {what} (repeat for alternatives; default: common names)")
    ap.add_argument("--storey-height", type=float, default=3.0, metavar="M",
                    help="metres per floor when a building has floors but no height (default 3)")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--replace", action="store_const", const="replace", dest="mode",
                     help="the file is the whole city: stored buildings are deleted")
    how.add_argument("--merge", action="store_const", const="merge", dest="mode",
                     help="update buildings by id and add the rest; buildings under new footprints are dropped")
    ap.add_argument("--config", help="service config file (as for ioc-sync)")
    ap.add_argument("--db-url", help="database URL (default: the service's)")
    ap.add_argument("--dry-run", action="store_true", help="read and report only, store nothing")
    return ap.parse_args(argv)


def _attrs(a: argparse.Namespace) -> AttributeMap:
    over: dict[str, Any] = {"storey_m": a.storey_height}
    for key in ("id", "height", "floors", "use", "key_unit"):
        v = getattr(a, f"{key}_attr")
        if v:
            over[key] = tuple(v)
    return replace(AttributeMap(), **over)


def print_report(report: ImportReport, out: Any = None) -> None:
    out = out or sys.stdout
    print(f"import: {report.summary()}", file=out)
    for m in report.messages:
        print(f"  {m}", file=out)
    if len(report.messages) >= 200:
        print("  (first 200 messages)", file=out)


def main(argv: list[str]) -> int:
    a = parse(argv)
    if a.storey_height <= 0 or a.storey_height > 10:
        print("ioc-sync import-buildings: --storey-height must be within 0-10 m", file=sys.stderr)
        return 2
    try:
        table, report = import_file(a.file, src_crs=a.crs, attrs=_attrs(a), fmt=a.format)
    except ImportFailed as exc:
        print(f"ioc-sync import-buildings: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    printed = len(report.messages)
    if a.dry_run:
        return 0
    if not len(table):
        print("ioc-sync import-buildings: no building could be imported; nothing stored", file=sys.stderr)
        return 1
    from sync_service.config import ServiceConfig
    from sync_service.db.engine import make_engine, migrate

    try:
        cfg = ServiceConfig.load(a.config, db_url=a.db_url)
    except ValueError as exc:
        print(f"ioc-sync import-buildings: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(cfg.db_url)
    try:
        migrate(engine)
        with Session(engine) as s, s.begin():
            have = int(s.scalar(select(func.count()).select_from(Building)) or 0)
            if have and a.mode is None:
                print(f"ioc-sync import-buildings: the service holds {have:,} buildings: say --replace or --merge",
                      file=sys.stderr)
                return 2
            t0 = time.perf_counter()
            res = import_buildings(s, table, report, a.mode or "replace")
    finally:
        engine.dispose()
    for m in report.messages[printed:]:  # what storing found (ids of other buildings)
        print(f"  {m}")
    ku = res.key_units
    print(f"stored {res.imported} buildings ({res.mode}: {res.replaced} deleted, {res.updated} updated, "
          f"{res.superseded} superseded, {res.renumbered} renumbered) in {time.perf_counter() - t0:.1f} s; "
          f"key units {ku.get('key_units', 0)} ({ku.get('relinked', 0)} relinked, "
          f"{ku.get('flags_changed', 0)} flags changed, {ku.get('site_plans', 0)} site plans); "
          f"buildings revision {res.revision}")
    return 0
