"""Importers of real building footprints: GeoJSON, ESRI Shapefile (pyshp), CityJSON.

    table, report = import_file("buildings.geojson", attrs=AttributeMap(height=("HEIGHT",)))

Every importer reads features into (rings, properties) and hands them to common.build_table,
which reprojects to EPSG:4547 with pyproj, repairs what can be repaired (open rings, repeated
points, self-intersections, holes, clockwise rings) and rejects what cannot (too few points, zero
area, non-finite coordinates, absurd heights without a floor count, outside Dongguan), counting
each case in the ImportReport. A bad feature never stops an import; an unreadable file raises
ImportFailed with a clear message.
"""

from __future__ import annotations

from pathlib import Path

from citymodel.buildings import BuildingTable
from citymodel.importers.common import AttributeMap, ImportFailed, ImportReport

FORMATS = ("geojson", "shapefile", "cityjson")


def import_file(path: str | Path, *, src_crs: str | None = None, attrs: AttributeMap | None = None,
                id_start: int = 1, fmt: str | None = None) -> tuple[BuildingTable, ImportReport]:
    """Import by format (one of FORMATS), else by file extension: .geojson/.json, .shp (with
    .dbf beside it), .city.json."""
    p = Path(path)
    name = p.name.lower()
    attrs = attrs or AttributeMap()
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailed(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if not p.is_file():
        raise ImportFailed(f"no such file: {p}")
    if fmt == "cityjson" or (fmt is None and (name.endswith(".city.json") or name.endswith(".cityjson"))):
        from citymodel.importers.cityjson import import_cityjson

        return import_cityjson(p, src_crs=src_crs, attrs=attrs, id_start=id_start)
    if fmt == "geojson" or (fmt is None and (name.endswith(".geojson") or name.endswith(".json"))):
        from citymodel.importers.geojson import import_geojson

        return import_geojson(p, src_crs=src_crs, attrs=attrs, id_start=id_start)
    if fmt == "shapefile" or (fmt is None and (name.endswith(".shp") or name.endswith(".zip"))):
        from citymodel.importers.shp import import_shapefile

        return import_shapefile(p, src_crs=src_crs, attrs=attrs, id_start=id_start)
    raise ImportFailed(f"unsupported file type: {p.name} (expected .geojson, .shp or .city.json)")


__all__ = ["FORMATS", "AttributeMap", "ImportFailed", "ImportReport", "import_file"]
