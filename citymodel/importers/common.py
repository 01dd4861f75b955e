"""Shared by the importers: attribute mapping, geometry repair, reprojection, the table."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely import affinity
from shapely.errors import GEOSException
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from citymodel.buildings import (
    STRUCTURE_INDEX,
    USE_INDEX,
    BuildingTable,
    empty_table,
    ring_area_centroid,
)
from citymodel.geo import CITY_CRS, to_lonlat

MAX_HEIGHT_M = 700.0  # taller than any building in China (Shanghai Tower: 632 m)
MAX_FLOORS = 200
MIN_AREA_M2 = 1.0

# Attribute values seen in Chinese and English data sets, mapped onto the model's codes.
USE_WORDS: dict[str, str] = {
    "住宅": "residential", "居住": "residential", "宿舍": "residential", "residential": "residential",
    "house": "residential", "apartments": "residential", "商业": "commercial", "商场": "commercial",
    "commercial": "commercial", "retail": "commercial", "餐饮": "restaurant", "restaurant": "restaurant",
    "办公": "office", "office": "office", "工业": "industrial", "厂房": "industrial", "industrial": "industrial",
    "factory": "industrial", "仓储": "warehouse", "仓库": "warehouse", "warehouse": "warehouse",
    "学校": "school", "教育": "school", "school": "school", "university": "school", "医院": "hospital",
    "医疗": "hospital", "hospital": "hospital", "酒店": "hotel", "宾馆": "hotel", "hotel": "hotel",
    "政府": "government", "机关": "government", "government": "government", "public": "government",
}
STRUCTURE_WORDS: dict[str, str] = {
    "钢筋混凝土": "reinforced_concrete", "混凝土": "reinforced_concrete", "框架": "reinforced_concrete",
    "reinforced_concrete": "reinforced_concrete", "concrete": "reinforced_concrete", "钢结构": "steel",
    "钢": "steel", "steel": "steel", "砖混": "masonry", "砌体": "masonry", "masonry": "masonry", "brick": "masonry",
    "砖木": "brick_wood", "brick_wood": "brick_wood", "timber": "brick_wood", "钢混": "steel_concrete",
    "steel_concrete": "steel_concrete",
}


class ImportFailed(Exception):
    """The file as a whole cannot be read (not the format, truncated, unknown CRS...)."""


@dataclass(frozen=True)
class AttributeMap:
    """Which properties hold what (first present name wins); storey_m turns floors into a
    height when a feature has no height."""

    id: tuple[str, ...] = ("id", "ID", "fid", "OBJECTID", "bldg_id", "编号", "建筑编号")
    height: tuple[str, ...] = ("height", "HEIGHT", "Height", "measuredHeight", "建筑高度", "高度", "bldg_h")
    floors: tuple[str, ...] = ("floors", "FLOORS", "Floor", "levels", "building:levels",
                               "storeysAboveGround", "层数", "楼层")
    use: tuple[str, ...] = ("use", "USE", "function", "building", "用途", "建筑用途")
    structure: tuple[str, ...] = ("structure", "STRUCTURE", "结构", "建筑结构")
    year: tuple[str, ...] = ("year", "YEAR", "yearOfConstruction", "start_date", "建成年份", "年代")
    address: tuple[str, ...] = ("address", "ADDRESS", "addr", "地址")
    # a key unit (重点单位) of the fire brigade: a yes/no flag, or the unit's name
    key_unit: tuple[str, ...] = ("key_unit", "KEY_UNIT", "keyunit", "is_key_unit", "重点单位", "消防重点单位")
    unit_category: tuple[str, ...] = ("key_unit_category", "unit_category", "单位类别", "重点单位类别")
    storey_m: float = 3.0


@dataclass
class ImportReport:
    read: int = 0
    imported: int = 0
    repaired: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    # imported buildings flagged as key units by an attribute: building id -> {"name", "category"}
    # (name "" when the attribute was only a yes/no flag)
    key_units: dict[int, dict[str, str]] = field(default_factory=dict)

    def note(self, kind: str, reason: str, where: str) -> None:
        (self.rejected if kind == "rejected" else self.repaired)[reason] += 1
        if len(self.messages) < 200:
            self.messages.append(f"{where}: {kind} ({reason})")

    def summary(self) -> str:
        return (f"read {self.read}, imported {self.imported}, repaired {dict(self.repaired)}, "
                f"rejected {dict(self.rejected)}")


def _first(props: dict[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        v = props.get(n)
        if v not in (None, ""):
            return v
    return None


def _num(v: Any) -> float | None:
    try:
        f = float(str(v).strip().removesuffix("m").strip()) if v is not None else None
    except ValueError:
        return None
    return f if f is not None and math.isfinite(f) else None


_YES = {"1", "true", "yes", "y", "t", "是", "有", "重点单位"}
_NO = {"0", "false", "no", "n", "f", "否", "无", "非", "none", "null"}
MAX_ID = 2**53  # ids travel as JSON numbers and int64 columns
# keys an importer may add to a feature's properties: where it is in the file ("feature 3",
# a CityJSON object id) and, for a feature without rings, why (default "no_geometry")
WHERE, REASON = "_where", "_reason"


def key_unit_of(v: Any) -> str | None:
    """None: not a key unit; "": a key unit (flag only); else the unit's name."""
    if v is None or isinstance(v, bool):
        return "" if v else None
    if isinstance(v, int | float):
        return "" if v else None
    text = str(v).strip()
    if not text or text.lower() in _NO:
        return None
    return "" if text.lower() in _YES else text[:200]


def crs_from(text: str | int | None, default: str = "EPSG:4326") -> CRS:
    """A CRS from "EPSG:4547", an OGC URN/URL or a WKT; ImportFailed when unknown."""
    if text is None:
        return CRS.from_user_input(default)
    try:
        s = str(text)
        if "EPSG" in s.upper() and ("/" in s or "::" in s):
            s = "EPSG:" + s.rstrip("/").split("/")[-1].split(":")[-1]
        return CRS.from_user_input(s)
    except Exception as exc:  # pyproj raises its own CRSError (and others) for unknown text
        raise ImportFailed(f"unknown coordinate reference system {text!r}: {exc}") from None


def _repair(ring: np.ndarray, where: str, report: ImportReport) -> Polygon | None:
    """A valid CCW polygon from a projected outer ring, or None (rejected, reported)."""
    if not np.isfinite(ring).all():
        report.note("rejected", "bad_coordinates", where)
        return None
    if len(ring) >= 2 and not np.array_equal(ring[0], ring[-1]):
        report.note("repaired", "open_ring", where)
    else:
        ring = ring[:-1]
    keep = np.r_[True, np.any(np.diff(ring, axis=0) != 0, axis=1)]
    ring = ring[keep]
    if len(ring) < 3:
        report.note("rejected", "too_few_points", where)
        return None
    o = ring.min(axis=0)
    poly = Polygon(ring - o)
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(fixed) if isinstance(g, Polygon) and g.area > 0]
        if not parts:
            report.note("rejected", "zero_area" if poly.area == 0 else "invalid_geometry", where)
            return None
        poly = max(parts, key=lambda g: g.area)
        report.note("repaired", "self_intersection", where)
    if poly.area < MIN_AREA_M2:
        report.note("rejected", "zero_area", where)
        return None
    poly = affinity.translate(orient(Polygon(poly.exterior), 1.0), *o)
    return poly


def build_table(features: list[tuple[list[np.ndarray], dict[str, Any]]], src_crs: CRS, attrs: AttributeMap,
                report: ImportReport, id_start: int = 1, heights_from_geometry: list[float | None] | None = None,
                ) -> BuildingTable:
    """features: (rings, properties) with rings[0] the outer ring in src_crs (x, y[, z]); any
    further rings are holes (dropped: the model keeps the outer ring). Properties may hold
    WHERE and REASON (see above)."""
    from citymodel.generator import projected_towns  # lazy: loads the town polygons

    tr = Transformer.from_crs(src_crs, CRS.from_user_input(CITY_CRS), always_xy=True)
    towns = projected_towns()
    rows: list[dict[str, Any]] = []
    rings_out: list[np.ndarray] = []
    next_id = id_start
    for k, (rings, props) in enumerate(features):
        report.read += 1
        where = str(props.get(WHERE, f"feature {k}"))
        try:
            if not rings:
                report.note("rejected", str(props.get(REASON, "no_geometry")), where)
                continue
            if len(rings) > 1:
                report.note("repaired", "holes_dropped", where)
            raw = np.asarray(rings[0], float)[:, :2]
            x, y = tr.transform(raw[:, 0], raw[:, 1])
            poly = _repair(np.column_stack((x, y)), where, report)
            if poly is None:
                continue
            c = poly.representative_point()
            town = next((ti for ti, g in enumerate(towns) if g.contains(c)), -1)
            if town < 0:
                report.note("rejected", "outside_city", where)
                continue
            h = _num(_first(props, attrs.height))
            if h is None and heights_from_geometry is not None:
                h = heights_from_geometry[k]
            f = _num(_first(props, attrs.floors))
            if f is not None and not (1 <= f <= MAX_FLOORS):
                report.note("repaired", "bad_floors_ignored", where)
                f = None
            if h is not None and not (0 < h <= MAX_HEIGHT_M):
                report.note("repaired" if f else "rejected", "bad_height", where)
                h = None
                if not f:
                    continue
            if h is None and f is None:
                report.note("rejected", "no_height", where)
                continue
            if h is None:
                h = f * attrs.storey_m  # type: ignore[operator]
                report.note("repaired", "height_from_floors", where)
            floors = int(round(f)) if f else max(1, int(round(h / attrs.storey_m)))
            fid = _first(props, attrs.id)
            ok_id = isinstance(fid, int | float) and not isinstance(fid, bool) and float(fid).is_integer() \
                and 0 < fid < MAX_ID
            bid = int(fid) if ok_id else next_id  # type: ignore[arg-type]
            next_id = max(next_id, bid) + 1
            use = USE_WORDS.get(str(_first(props, attrs.use) or "").strip().lower(),
                                USE_WORDS.get(str(_first(props, attrs.use) or "").strip(), "other"))
            struct = STRUCTURE_WORDS.get(str(_first(props, attrs.structure) or "").strip().lower(),
                                         STRUCTURE_WORDS.get(str(_first(props, attrs.structure) or "").strip(), "other"))
            yr = _num(str(_first(props, attrs.year) or "")[:4]) if _first(props, attrs.year) else None
            rows.append({"id": bid, "town": town, "height": h, "floors": floors, "use": USE_INDEX[use],
                         "structure": STRUCTURE_INDEX[struct], "year": int(yr) if yr and 1800 < yr < 2100 else 0,
                         "address": str(_first(props, attrs.address) or "")[:200],
                         "key_unit": key_unit_of(_first(props, attrs.key_unit)),
                         "category": str(_first(props, attrs.unit_category) or "")[:64]})
            rings_out.append(np.asarray(poly.exterior.coords)[:-1])
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, GEOSException) as exc:
            report.note("rejected", "invalid_feature", f"{where}: {exc}")
    if not rows:
        return empty_table()
    sizes = np.array([len(r) for r in rings_out])
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    xy = np.concatenate(rings_out)
    ref = xy.mean(axis=0)
    area, gx, gy = ring_area_centroid(offsets, xy - ref)  # relative: no precision loss at 2.5e6 m
    cx, cy = gx + ref[0], gy + ref[1]
    rep = np.repeat(np.arange(len(rows)), sizes)
    fp = np.column_stack((xy[:, 0] - cx[rep], xy[:, 1] - cy[rep]))
    lon, lat = to_lonlat(cx, cy)
    col = {k: np.array([r[k] for r in rows]) for k in ("id", "town", "height", "floors", "use", "structure", "year")}
    ids = col["id"]
    if len(np.unique(ids)) != len(ids):  # duplicate ids in the source: renumber the later ones
        seen: set[int] = set()
        nid = int(ids.max()) + 1
        for i, v in enumerate(ids.tolist()):
            if v in seen:
                ids[i] = nid
                nid += 1
                report.note("repaired", "duplicate_id", f"feature id {v}")
            seen.add(int(ids[i]))
    report.imported = len(rows)
    n = len(rows)
    key = np.array([r["key_unit"] is not None for r in rows], bool)
    report.key_units = {int(ids[i]): {"name": rows[i]["key_unit"], "category": rows[i]["category"]}
                        for i in np.flatnonzero(key).tolist()}
    return BuildingTable(id=ids, town=col["town"], cx=cx, cy=cy, lon=lon, lat=lat, height=col["height"],
                         floors=col["floors"], structure=col["structure"], use=col["use"], year=col["year"],
                         key_unit=key, area=np.abs(area), road=np.full(n, -1), house_no=np.zeros(n),
                         fp_offsets=offsets, fp_xy=fp, address=np.array([r["address"] for r in rows], dtype=object))
