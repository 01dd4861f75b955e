"""ESRI Shapefile footprints through pyshp: .shp + .dbf (+ .prj for the CRS), or a .zip of them.
Polygon parts: clockwise rings are outer rings (the shapefile convention), counter-clockwise
ones are holes of the outer ring before them."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import shapefile  # pyshp

from citymodel.buildings import BuildingTable
from citymodel.importers.common import (
    AttributeMap,
    ImportFailed,
    ImportReport,
    build_table,
    crs_from,
)


def _signed_area(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def import_shapefile(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                     ) -> tuple[BuildingTable, ImportReport]:
    p = Path(path)
    prj = p.with_suffix(".prj")
    wkt = prj.read_text(errors="replace") if prj.exists() else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader = shapefile.Reader(str(p), encoding="utf-8", encodingErrors="replace")
    except (shapefile.ShapefileException, OSError, ValueError, struct.error) as exc:
        raise ImportFailed(f"cannot read shapefile {p.name}: {exc}") from None
    report = ImportReport()
    for w in caught:  # e.g. a header size that does not match the file: read what is there
        report.messages.append(f"{p.name}: {w.message}")
    crs = crs_from(src_crs or wkt, "EPSG:4326")
    feats: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    with reader:
        if reader.shapeType not in (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM, shapefile.NULL):
            raise ImportFailed(f"{p.name}: shapes are {reader.shapeTypeName}, not polygons")
        names = [f[0] for f in reader.fields[1:]]
        for k in range(len(reader)):
            try:
                sr = reader.shapeRecord(k)
            except (shapefile.ShapefileException, ValueError, IndexError, OSError, struct.error) as exc:
                report.read += 1
                report.note("rejected", "unreadable_record", f"record {k}: {exc}")
                continue
            props = dict(zip(names, list(sr.record), strict=False))
            shp = sr.shape
            if shp.shapeType == shapefile.NULL or not shp.points:
                feats.append(([], props))
                continue
            bounds = list(shp.parts) + [len(shp.points)]
            rings = [np.asarray(shp.points[a:b], float) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            groups: list[list[np.ndarray]] = []
            for r in rings:
                if len(r) >= 3 and _signed_area(r) > 0 and groups:
                    groups[-1].append(r)  # counter-clockwise after an outer ring: a hole
                else:
                    groups.append([r])
            if len(groups) > 1:
                report.note("repaired", "multipolygon_split", f"record {k}")
            for g in groups:
                feats.append((g, props))
    return build_table(feats, crs, attrs, report, id_start), report
