"""CityJSON (1.0-2.0) Building / BuildingPart objects: the footprint is the union of the
geometry's surfaces seen from above (walls vanish, roofs and ground surfaces remain), the height
is measuredHeight when given, else the geometry's z extent. Vertices are integers scaled by
"transform"; the CRS comes from metadata.referenceSystem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from citymodel.buildings import BuildingTable
from citymodel.importers.common import (
    AttributeMap,
    ImportFailed,
    ImportReport,
    build_table,
    crs_from,
)

_TYPES = {"Building", "BuildingPart"}


def _surfaces(boundaries: Any, gtype: str) -> list[list[list[int]]]:
    """Every surface (a list of rings of vertex indices) of a geometry."""
    if gtype in ("MultiSurface", "CompositeSurface"):
        return list(boundaries)
    if gtype == "Solid":
        return [s for shell in boundaries for s in shell]
    if gtype in ("MultiSolid", "CompositeSolid"):
        return [s for solid in boundaries for shell in solid for s in shell]
    return []


def import_cityjson(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                    ) -> tuple[BuildingTable, ImportReport]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("type") != "CityJSON":
            raise ValueError("type is not CityJSON")
        verts = np.asarray(data["vertices"], float).reshape(-1, 3)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ImportFailed(f"cannot read CityJSON {path}: {exc}") from None
    t = data.get("transform")
    if t:
        verts = verts * np.asarray(t.get("scale", [1, 1, 1]), float) + np.asarray(t.get("translate", [0, 0, 0]), float)
    ref = (data.get("metadata") or {}).get("referenceSystem")
    crs = crs_from(src_crs or ref, "EPSG:4547")
    report = ImportReport()
    feats: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    zheights: list[float | None] = []
    for oid, obj in (data.get("CityObjects") or {}).items():
        if not isinstance(obj, dict) or obj.get("type") not in _TYPES:
            continue
        props = dict(obj.get("attributes") or {})
        props.setdefault("id", None)
        props["_cityjson_id"] = oid
        polys, zs = [], []
        try:
            geoms = obj.get("geometry") or []
            geom = max(geoms, key=lambda g: float(g.get("lod", 0))) if geoms else None
            for surf in _surfaces(geom["boundaries"], geom["type"]) if geom else []:
                outer = verts[np.asarray(surf[0], int)]
                zs.extend(outer[:, 2].tolist())
                p = Polygon(outer[:, :2])
                if p.is_valid and p.area > 0:
                    polys.append(p)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            report.note("repaired", "bad_surface_skipped", f"{oid}: {exc}")
        if not polys:
            feats.append(([], props))
            zheights.append(None)
            continue
        foot = shapely.union_all(polys)
        parts = [g for g in shapely.get_parts(foot) if isinstance(g, Polygon)]
        main = max(parts, key=lambda g: g.area)
        feats.append(([np.asarray(main.exterior.coords)], props))
        zheights.append(float(max(zs) - min(zs)) if zs and max(zs) > min(zs) else None)
    return build_table(feats, crs, attrs, report, id_start, heights_from_geometry=zheights), report
