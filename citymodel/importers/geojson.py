"""GeoJSON FeatureCollection of Polygon / MultiPolygon footprints (each polygon of a
MultiPolygon becomes a building). CRS: RFC 7946 says WGS84; an old-style "crs" member or
src_crs overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from citymodel.buildings import BuildingTable
from citymodel.importers.common import (
    AttributeMap,
    ImportFailed,
    ImportReport,
    build_table,
    crs_from,
)


def features_of(data: Any, report: ImportReport) -> list[tuple[list[np.ndarray], dict[str, Any]]]:
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise ImportFailed("not a GeoJSON FeatureCollection")
    feats = data.get("features", []) if data["type"] == "FeatureCollection" else [data]
    out: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    for k, f in enumerate(feats):
        props = (f or {}).get("properties") or {}
        geom = (f or {}).get("geometry") or {}
        t = geom.get("type")
        try:
            if t == "Polygon":
                polys = [geom["coordinates"]]
            elif t == "MultiPolygon":
                polys = geom["coordinates"]
                if len(polys) > 1:
                    report.note("repaired", "multipolygon_split", f"feature {k}")
            else:
                out.append(([], props))  # counted as no_geometry by build_table
                continue
            for rings in polys:
                out.append(([np.asarray(r, float).reshape(-1, len(r[0]) if r else 2) for r in rings if r], props))
        except (KeyError, TypeError, ValueError, IndexError):
            out.append(([], props))
    return out


def import_geojson(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                   ) -> tuple[BuildingTable, ImportReport]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportFailed(f"cannot read GeoJSON {path}: {exc}") from None
    report = ImportReport()
    crs_member = ((data.get("crs") or {}).get("properties") or {}).get("name") if isinstance(data, dict) else None
    crs = crs_from(src_crs or crs_member, "EPSG:4326")
    feats = features_of(data, report)
    return build_table(feats, crs, attrs, report, id_start), report
