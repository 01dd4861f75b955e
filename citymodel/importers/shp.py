"""ESRI Shapefile footprints through pyshp: .shp + .dbf (+ .prj for the CRS), or a .zip of them.
Polygon parts: clockwise rings are outer rings (the shapefile convention), counter-clockwise
ones are holes of the outer ring before them."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import shapefile  # pyshp

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

MAX_FAILED_RUN = 100


def _signed_area(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _open(p: Path) -> tuple[shapefile.Reader, str | None]:
    """A reader, and what was wrong with the file if it had to be patched to be read at all.
    pyshp 3 refuses a .shp or .shx whose header claims more bytes than the file has (a
    truncated copy; pyshp 2 warned): the header's length is set to what is there, in memory,
    and the records that are there are read (those past the end are reported unreadable)."""
    try:
        return shapefile.Reader(str(p), encoding="utf-8", encodingErrors="replace"), None
    except shapefile.ShapefileException as exc:
        if "file size" not in str(exc):
            raise
        problem = f"{p.name}: {exc}"
    files: dict[str, Any] = {}
    for ext in ("shp", "shx", "dbf"):
        f = next((c for c in (p.with_suffix(f".{ext}"), p.with_suffix(f".{ext.upper()}")) if c.exists()), None)
        if f is None:
            continue
        data = bytearray(f.read_bytes())
        if ext != "dbf" and len(data) >= 28:
            struct.pack_into(">i", data, 24, len(data) // 2)  # file length, in 16-bit words
        files[ext] = io.BytesIO(bytes(data))
    return shapefile.Reader(**files, encoding="utf-8", encodingErrors="replace"), problem


def import_shapefile(path: Path, *, src_crs: str | None, attrs: AttributeMap, id_start: int = 1
                     ) -> tuple[BuildingTable, ImportReport]:
    p = Path(path)
    prj = p.with_suffix(".prj")
    wkt = prj.read_text(errors="replace") if prj.exists() else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reader, truncated = _open(p)
            shape_type, n_records = reader.shapeType, len(reader)
            names = [f[0] for f in reader.fields[1:]]
    except Exception as exc:  # noqa: BLE001 - pyshp raises anything (asserts, struct, index...) on a bad file
        raise ImportFailed(f"cannot read shapefile {p.name}: {type(exc).__name__}: {exc}") from None
    report = ImportReport()
    if truncated:
        report.messages.append(truncated)
    for w in caught:  # e.g. a header size that does not match the file: read what is there
        report.messages.append(f"{p.name}: {w.message}")
    crs = crs_from(src_crs or wkt, "EPSG:4326")
    feats: list[tuple[list[np.ndarray], dict[str, Any]]] = []
    with reader:
        if shape_type not in (shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM, shapefile.NULL):
            raise ImportFailed(f"{p.name}: shapes are {reader.shapeTypeName}, not polygons")
        # a damaged header can claim billions of records: no more than the .shp can hold (a null
        # shape is 12 bytes), and a run of unreadable ones ends the file
        limit = p.stat().st_size // 12 + 1
        if n_records > limit:
            report.messages.append(f"{p.name}: header says {n_records} records, the file holds at most {limit}")
            n_records = limit
        failed_run = 0
        for k in range(n_records):
            if failed_run >= MAX_FAILED_RUN:
                report.messages.append(f"{p.name}: {failed_run} unreadable records in a row, stopped at record {k}")
                break
            try:
                sr = reader.shapeRecord(k)
                points, parts = list(sr.shape.points), list(sr.shape.parts)
                null = sr.shape.shapeType == shapefile.NULL
                values = list(sr.record)
            except Exception as exc:  # noqa: BLE001 - as above: one record pyshp cannot read
                report.read += 1
                report.note("rejected", "unreadable_record", f"record {k}: {type(exc).__name__}: {exc}")
                failed_run += 1
                continue
            failed_run = 0
            props = {**dict(zip(names, values, strict=False)), WHERE: f"record {k}"}
            if null or not points:
                feats.append(([], props))
                continue
            bounds = [*parts, len(points)]
            try:
                rings = [np.asarray(points[a:b], float).reshape(-1, 2) for a, b in zip(bounds[:-1], bounds[1:],
                                                                                       strict=True)]
            except (ValueError, TypeError) as exc:
                feats.append(([], {**props, REASON: "bad_geometry", WHERE: f"record {k}: {exc}"}))
                continue
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
