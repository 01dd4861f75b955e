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
    REASON,
    WHERE,
    AttributeMap,
    ImportFailed,
    ImportReport,
    build_table,
    crs_from,
)


def features_of(data: Any, report: ImportReport) -> list[tuple[list[np.ndarray], dict[str, Any]]]:
    """(rings, properties) per footprint. Anything that is not a feature object (a bare string,
    a number, null) or has no usable geometry becomes an empty entry, which build_table counts
    and reports: a bad feature never stops the import."""
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise ImportFailed("not a GeoJSON FeatureCollection")
    feats = data.get("features", []) if data["type"] == "FeatureCollection" else [data]
    if not isinstance(feats, list):
        raise ImportFailed(f"GeoJSON features is a {type(feats).__name__}, not a list")
    out: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    for k, f in enumerate(feats):
        if not isinstance(f, dict):
            report.read += 1
            report.note("rejected", "not_a_feature", f"feature {k}: {type(f).__name__}")
            continue
        props = f.get("properties")
        props = {**(props if isinstance(props, dict) else {}), WHERE: f"feature {k}"}
        geom = f.get("geometry")
        t = geom.get("type") if isinstance(geom, dict) else None
        try:
            if t == "Polygon":
                polys = [geom["coordinates"]]  # type: ignore[index]
            elif t == "MultiPolygon":
                polys = geom["coordinates"]  # type: ignore[index]
                if isinstance(polys, list) and len(polys) > 1:
                    report.note("repaired", "multipolygon_split", f"feature {k}")
            else:
                out.append(([], props))  # counted as no_geometry by build_table
                continue
            if not isinstance(polys, list):
                raise TypeError(f"coordinates are a {type(polys).__name__}")
            for rings in polys:
                if not isinstance(rings, list):
                    raise TypeError(f"a polygon is a {type(rings).__name__}")
                out.append(([_ring(r) for r in rings if r], props))
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            out.append(([], {**props, REASON: "bad_geometry"}))
    return out


def _ring(r: Any) -> np.ndarray:
    """A ring of positions as an (n, 2 or 3) float array; ValueError/TypeError when it is not."""
    if not isinstance(r, list) or not isinstance(r[0], list):
        raise TypeError("a ring is not a list of positions")
    a = np.asarray(r, float)
    if a.ndim != 2 or a.shape[1] < 2:
        raise ValueError(f"ring of shape {a.shape}")
    return a


def import_geojson(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                   ) -> tuple[BuildingTable, ImportReport]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportFailed(f"cannot read GeoJSON {path}: {exc}") from None
    report = ImportReport()
    crs_member = None
    if isinstance(data, dict) and isinstance(data.get("crs"), dict) and isinstance(data["crs"].get("properties"), dict):
        crs_member = data["crs"]["properties"].get("name")
    crs = crs_from(src_crs or crs_member, "EPSG:4326")
    feats = features_of(data, report)
    return build_table(feats, crs, attrs, report, id_start), report
