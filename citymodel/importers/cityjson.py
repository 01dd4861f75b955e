"""CityJSON (1.0-2.0) Building / BuildingPart objects: the footprint is the union of the
geometry's surfaces seen from above (walls vanish, roofs and ground surfaces remain), the height
is measuredHeight when given, else the geometry's z extent. Vertices are integers scaled by
"transform"; the CRS comes from metadata.referenceSystem. An object whose geometry is not what
the specification says (not an object, boundaries of the wrong depth, vertex indices out of
range) is reported and skipped, never raised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Polygon

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

_TYPES = {"Building", "BuildingPart"}


def _surfaces(boundaries: Any, gtype: str) -> list[Any]:
    """Every surface (a list of rings of vertex indices) of a geometry."""
    if not isinstance(boundaries, list):
        raise TypeError(f"boundaries are a {type(boundaries).__name__}")
    if gtype in ("MultiSurface", "CompositeSurface"):
        return list(boundaries)
    if gtype == "Solid":
        return [s for shell in boundaries for s in shell]
    if gtype in ("MultiSolid", "CompositeSolid"):
        return [s for solid in boundaries for shell in solid for s in shell]
    return []


def _lod(g: Any) -> float:
    try:
        return float(g.get("lod", 0))
    except (TypeError, ValueError):
        return 0.0


def _vertices(data: dict[str, Any]) -> np.ndarray:
    verts = np.asarray(data["vertices"], float).reshape(-1, 3)
    t = data.get("transform")
    if t is not None:
        if not isinstance(t, dict):
            raise TypeError("transform is not an object")
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite vertices are rejected later
            verts = verts * np.asarray(t.get("scale", [1, 1, 1]), float).reshape(3) \
                + np.asarray(t.get("translate", [0, 0, 0]), float).reshape(3)
    return verts


def _footprint(obj: dict[str, Any], verts: np.ndarray) -> tuple[list[Polygon], list[float]]:
    """Surfaces of the object's most detailed geometry seen from above, and their z values."""
    geoms = obj.get("geometry") or []
    if not isinstance(geoms, list):
        raise TypeError(f"geometry is a {type(geoms).__name__}, not a list")
    objs = [g for g in geoms if isinstance(g, dict)]
    if len(objs) != len(geoms):
        raise TypeError("a geometry is not an object")
    if not objs:
        return [], []
    geom = max(objs, key=_lod)
    polys, zs = [], []
    for surf in _surfaces(geom["boundaries"], str(geom.get("type"))):
        idx = np.asarray(surf[0], dtype=np.int64)
        if idx.ndim != 1 or (idx < 0).any():
            raise ValueError("a ring is not a list of vertex indices")
        outer = verts[idx]
        zs.extend(outer[:, 2].tolist())
        p = Polygon(outer[:, :2])
        if p.is_valid and p.area > 0:
            polys.append(p)
    return polys, zs


def import_cityjson(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                    ) -> tuple[BuildingTable, ImportReport]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("type") != "CityJSON":
            raise ValueError("type is not CityJSON")
        verts = _vertices(data)
        meta = data.get("metadata")
        ref = meta.get("referenceSystem") if isinstance(meta, dict) else None
        objects = data.get("CityObjects") or {}
        if not isinstance(objects, dict):
            raise TypeError("CityObjects is not an object")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, OverflowError) as exc:
        raise ImportFailed(f"cannot read CityJSON {path}: {exc}") from None
    crs = crs_from(src_crs or ref, "EPSG:4547")
    report = ImportReport()
    feats: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    zheights: list[float | None] = []
    for oid, obj in objects.items():
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or obj["type"] not in _TYPES:
            continue
        attributes = obj.get("attributes")
        props = dict(attributes) if isinstance(attributes, dict) else {}
        props.setdefault("id", None)
        props[WHERE] = f"object {oid}"
        polys: list[Polygon] = []
        zs: list[float] = []
        try:
            polys, zs = _footprint(obj, verts)
        except (KeyError, TypeError, ValueError, IndexError, OverflowError, GEOSException) as exc:
            props[REASON] = "bad_geometry"
            report.messages.append(f"object {oid}: {exc}")
        if not polys:
            feats.append(([], props))
            zheights.append(None)
            continue
        try:
            foot = shapely.union_all(polys)
            parts = [g for g in shapely.get_parts(foot) if isinstance(g, Polygon) and not g.is_empty]
        except GEOSException:
            parts = []
        if not parts:
            feats.append(([], props))
            zheights.append(None)
            continue
        main = max(parts, key=lambda g: g.area)
        feats.append(([np.asarray(main.exterior.coords)], props))
        zheights.append(float(max(zs) - min(zs)) if zs and max(zs) > min(zs) else None)
    return build_table(feats, crs, attrs, report, id_start, heights_from_geometry=zheights), report
