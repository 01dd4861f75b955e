"""Dongguan's 34 towns, streets and zones, from the real polygons in resources/data.

The source polygons (eddiehe99/dongguan-map, from Amap/poi86) are GCJ-02; they are converted
to WGS84 here. The source has 33 areas; 滨海湾新区 (Binhaiwan New Area) is not among them, so
it is carved out of the coastal strip of Humen, Chang'an and Shatian with an approximate outline
(marked ``approximate_outline``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from citymodel.geo import gcj02_to_wgs84


@dataclass(frozen=True)
class TownInfo:
    code: str
    name_zh: str
    name_en: str
    kind: str  # "street" | "town" | "zone"
    population: int  # approximate resident population (2020 census, rounded); weights the simulation


# Order: 4 streets, 28 towns, 2 zones, as the MISSION lists them.
TOWN_TABLE: tuple[TownInfo, ...] = (
    TownInfo("guancheng", "莞城街道", "Guancheng", "street", 165_000),
    TownInfo("nancheng", "南城街道", "Nancheng", "street", 420_000),
    TownInfo("dongcheng", "东城街道", "Dongcheng", "street", 600_000),
    TownInfo("wanjiang", "万江街道", "Wanjiang", "street", 300_000),
    TownInfo("shijie", "石碣镇", "Shijie", "town", 250_000),
    TownInfo("shilong", "石龙镇", "Shilong", "town", 145_000),
    TownInfo("chashan", "茶山镇", "Chashan", "town", 165_000),
    TownInfo("shipai", "石排镇", "Shipai", "town", 167_000),
    TownInfo("qishi", "企石镇", "Qishi", "town", 130_000),
    TownInfo("hengli", "横沥镇", "Hengli", "town", 210_000),
    TownInfo("qiaotou", "桥头镇", "Qiaotou", "town", 178_000),
    TownInfo("xiegang", "谢岗镇", "Xiegang", "town", 117_000),
    TownInfo("dongkeng", "东坑镇", "Dongkeng", "town", 137_000),
    TownInfo("changping", "常平镇", "Changping", "town", 436_000),
    TownInfo("liaobu", "寮步镇", "Liaobu", "town", 518_000),
    TownInfo("zhangmutou", "樟木头镇", "Zhangmutou", "town", 138_000),
    TownInfo("dalang", "大朗镇", "Dalang", "town", 520_000),
    TownInfo("huangjiang", "黄江镇", "Huangjiang", "town", 290_000),
    TownInfo("qingxi", "清溪镇", "Qingxi", "town", 350_000),
    TownInfo("tangxia", "塘厦镇", "Tangxia", "town", 530_000),
    TownInfo("fenggang", "凤岗镇", "Fenggang", "town", 410_000),
    TownInfo("dalingshan", "大岭山镇", "Dalingshan", "town", 310_000),
    TownInfo("changan", "长安镇", "Chang'an", "town", 780_000),
    TownInfo("humen", "虎门镇", "Humen", "town", 680_000),
    TownInfo("houjie", "厚街镇", "Houjie", "town", 600_000),
    TownInfo("shatian", "沙田镇", "Shatian", "town", 190_000),
    TownInfo("daojiao", "道滘镇", "Daojiao", "town", 170_000),
    TownInfo("hongmei", "洪梅镇", "Hongmei", "town", 65_000),
    TownInfo("machong", "麻涌镇", "Machong", "town", 135_000),
    TownInfo("wangniudun", "望牛墩镇", "Wangniudun", "town", 100_000),
    TownInfo("zhongtang", "中堂镇", "Zhongtang", "town", 170_000),
    TownInfo("gaobu", "高埗镇", "Gaobu", "town", 230_000),
    TownInfo("songshanhu", "松山湖", "Songshan Lake", "zone", 120_000),
    TownInfo("binhaiwan", "滨海湾新区", "Binhaiwan New Area", "zone", 50_000),
)

TOWNS_BY_CODE = {t.code: t for t in TOWN_TABLE}
_SOURCE_NAME_TO_CODE = {t.name_zh: t.code for t in TOWN_TABLE} | {"松山湖管委会": "songshanhu"}

# Approximate outline (WGS84) of the Binhaiwan New Area: Weiyuan island, Shajiao and the
# Jiaoyi Bay shore; intersected with the land of Humen, Chang'an and Shatian.
_BINHAIWAN_OUTLINE = Polygon([
    (113.598, 22.832), (113.640, 22.862), (113.684, 22.846), (113.704, 22.812),
    (113.738, 22.786), (113.722, 22.752), (113.680, 22.760), (113.640, 22.788),
    (113.606, 22.800),
])


@dataclass(frozen=True)
class Town:
    info: TownInfo
    geometry: BaseGeometry  # WGS84 lon/lat, Polygon or MultiPolygon
    approximate_outline: bool = False

    @property
    def code(self) -> str:
        return self.info.code

    @property
    def centroid(self) -> tuple[float, float]:
        p = self.geometry.representative_point()
        return (p.x, p.y)


def _to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    def fn(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, fn)


def _source_geojson() -> dict:
    ref = importlib_resources.files("resources") / "data" / "dongguan-towns.geojson"
    return json.loads(ref.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_towns() -> tuple[Town, ...]:
    """The 34 towns/streets/zones with WGS84 geometry, in TOWN_TABLE order."""
    geoms: dict[str, BaseGeometry] = {}
    for feat in _source_geojson()["features"]:
        code = _SOURCE_NAME_TO_CODE.get(feat["properties"]["name"])
        if code is None:
            raise ValueError(f"unknown area in town data: {feat['properties']['name']!r}")
        geoms[code] = _to_wgs84(shape(feat["geometry"]).buffer(0))
    coastal = unary_union([geoms["humen"], geoms["changan"], geoms["shatian"]])
    binhaiwan = coastal.intersection(_BINHAIWAN_OUTLINE)
    for code in ("humen", "changan", "shatian"):
        geoms[code] = geoms[code].difference(_BINHAIWAN_OUTLINE)
    geoms["binhaiwan"] = binhaiwan
    towns = []
    for info in TOWN_TABLE:
        g = geoms[info.code]
        if isinstance(g, Polygon):
            g = MultiPolygon([g])
        towns.append(Town(info, g, approximate_outline=info.code == "binhaiwan"))
    return tuple(towns)


def town_at(lon: float, lat: float) -> str | None:
    """Code of the town containing a WGS84 point, or None outside Dongguan."""
    from shapely.geometry import Point

    pt = Point(lon, lat)
    for t in load_towns():
        if t.geometry.contains(pt):
            return t.code
    return None
