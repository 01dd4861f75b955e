"""Key units of the fire brigade (六熟悉: 重点单位) with their plans (预案).

Each unit has the six-familiarities record (general information, address, category, key parts
(重点部位), contact, a "码上六熟悉" QR payload) and one fire-fighting and rescue plan whose text
names the real nearest stations and water sources of the simulated city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocol.enums import ResourceKind
from simulator import names
from simulator.assets import ResourceSpec
from simulator.placement import KM_LAT, KM_LON, TownSampler
from simulator.premises import USE_INDEX, Premises

KEY_UNITS = 1200
# category, suffixes, premises uses it sits in, key parts
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("高层公共建筑", ("大厦", "国际中心", "金融中心"), ("commercial", "office"),
     ("消防控制室", "消防水泵房", "避难层", "地下车库", "配电房", "屋顶直升机停机坪")),
    ("商场市场", ("广场", "购物中心", "批发市场"), ("commercial",),
     ("消防控制室", "中庭", "仓库", "餐饮区", "地下车库", "配电房")),
    ("劳动密集型企业", ("电子有限公司", "鞋业有限公司", "家具有限公司", "五金制品厂"), ("industrial",),
     ("生产车间", "原料仓库", "成品仓库", "员工宿舍", "配电房")),
    ("易燃易爆危险品单位", ("化工有限公司", "油气站", "燃气储配站"), ("industrial",),
     ("储罐区", "装卸区", "危化品仓库", "控制室", "消防水池")),
    ("医院", ("医院", "妇幼保健院", "中医院"), ("hospital", "commercial"),
     ("住院部", "手术室", "氧气站", "配电房", "消防控制室")),
    ("学校", ("中学", "实验学校", "职业技术学校"), ("school",),
     ("学生宿舍", "实验室", "食堂", "图书馆", "配电房")),
    ("宾馆饭店", ("酒店", "大酒店", "宾馆"), ("commercial", "restaurant"),
     ("客房层", "厨房", "消防控制室", "洗衣房", "配电房")),
    ("公共娱乐场所", ("影城", "KTV", "体育馆"), ("commercial",),
     ("观众厅", "包间区", "疏散通道", "配电房")),
    ("养老机构", ("养老院", "颐养中心"), ("residential", "hospital"),
     ("卧室区", "厨房", "氧气间", "疏散楼梯")),
)
CAT_WEIGHTS = np.array([0.18, 0.14, 0.22, 0.06, 0.06, 0.12, 0.1, 0.07, 0.05])


@dataclass
class KeyUnitSpec:
    id: int
    name: str
    town: str
    address: str
    category: str
    lon: float
    lat: float
    building_id: int | None
    premises: int
    key_parts: list[str]
    contact: str
    qr: str
    plan_title: str
    plan_body: str
    plan_level: str = "station"  # 灭火救援预案分级: corps, detachment, brigade, station


def build_key_units(seed: int, sampler: TownSampler, prem: Premises, resources: list[ResourceSpec],
                    landmarks: dict[str, int]) -> list[KeyUnitSpec]:
    rng = np.random.default_rng([seed, 404])
    stations = [r for r in resources if r.kind == ResourceKind.FIRE_STATION.value]
    st_xy = np.array([[r.lon, r.lat] for r in stations])
    water = [r for r in resources if r.kind == ResourceKind.WATER_SOURCE.value]
    w_xy = np.array([[r.lon, r.lat] for r in water])
    used: set[int] = set()
    out: list[KeyUnitSpec] = []
    cats = rng.choice(len(CATEGORIES), KEY_UNITS, p=CAT_WEIGHTS / CAT_WEIGHTS.sum())
    if "nancheng_highrise" in landmarks:
        cats[0] = 0  # the Nancheng tower of the fire scenario is a key unit with a plan
    floors_w = np.sqrt(np.maximum(prem.floors, 1).astype(float))
    for k, ci in enumerate(cats.tolist()):
        cat, suffixes, uses, parts = CATEGORIES[ci]
        if k == 0 and "nancheng_highrise" in landmarks:
            pi = landmarks["nancheng_highrise"]
        else:
            pi = _pick(prem, uses, floors_w, used, rng)
        used.add(pi)
        t = sampler.towns[int(prem.town[pi])]
        nm = f"东莞市{names.short(t.info.name_zh)}{names.brand(rng)}{suffixes[int(rng.integers(len(suffixes)))]}"
        addr = names.address(t.code, t.info.name_zh, rng)
        lon, lat = float(prem.lon[pi]), float(prem.lat[pi])
        kp = sorted(rng.choice(parts, min(len(parts), int(rng.integers(3, 6))), replace=False).tolist())
        code = f"KU-{t.code}-{k + 1:04d}"
        body = _plan(nm, cat, addr, int(prem.floors[pi]), float(prem.height[pi]), kp, lon, lat,
                     stations, st_xy, water, w_xy)
        bid = int(prem.building_id[pi])
        out.append(KeyUnitSpec(k + 1, nm, t.code, addr, cat, round(lon, 6), round(lat, 6),
                               bid if bid >= 0 else None, pi, kp,
                               f"消防安全管理人 值班电话 0769-{int(rng.integers(22000000, 23999999))}",
                               f"lsx:dongguan:keyunit:{code}:v1", f"{nm}灭火救援预案", body,
                               plan_level(cat, float(prem.height[pi]))))
    return out


BRIGADE_CATEGORIES = {"高层公共建筑", "商场市场", "劳动密集型企业", "医院", "养老机构"}


def plan_level(category: str, height: float) -> str:
    """Who commands the plan: the city's detachment (支队) for hazardous-materials sites and
    super high-rises (>= 100 m), a district brigade (大队) for crowded or high-rise places,
    else the fire station (站)."""
    if category == "易燃易爆危险品单位" or height >= 100.0:
        return "detachment"
    if category in BRIGADE_CATEGORIES:
        return "brigade"
    return "station"


def _pick(prem: Premises, uses: tuple[str, ...], w: np.ndarray, used: set[int], rng: np.random.Generator) -> int:
    """A premises of a fitting use, weighted by size; the CIM's own key-unit buildings first."""
    ok = np.isin(prem.use, [USE_INDEX[u] for u in uses])
    if prem.key_unit is not None and (ok & prem.key_unit).any():
        ok = ok & prem.key_unit
    cand = np.flatnonzero(ok) if ok.any() else np.arange(len(prem))
    for _ in range(8):
        pi = int(cand[rng.choice(len(cand), p=w[cand] / w[cand].sum())])
        if pi not in used:
            return pi
    return pi


def _km(xy: np.ndarray, lon: float, lat: float) -> np.ndarray:
    return np.hypot((xy[:, 0] - lon) / KM_LON, (xy[:, 1] - lat) / KM_LAT)


def _plan(name: str, cat: str, addr: str, floors: int, height: float, parts: list[str], lon: float, lat: float,
          stations: list[ResourceSpec], st_xy: np.ndarray, water: list[ResourceSpec], w_xy: np.ndarray) -> str:
    d = _km(st_xy, lon, lat)
    near = np.argsort(d)[:3]
    wd = _km(w_xy, lon, lat)
    n_water = int((wd < 0.3).sum())
    w0 = int(np.argmin(wd))
    lines = [
        f"一、单位概况：{name}，{cat}，位于{addr}，建筑{floors}层，高约{height:.0f}米。",
        f"二、重点部位：{'、'.join(parts)}。",
        "三、力量调派：首战出动" + f"{stations[near[0]].name}（直线约{d[near[0]]:.1f}公里）；增援"
        + "、".join(f"{stations[i].name}（约{d[i]:.1f}公里）" for i in near[1:]) + "。",
        f"四、水源情况：300米内消火栓{n_water}个；最近水源{water[w0].name}（约{wd[w0] * 1000:.0f}米）。",
        "五、作战部署：" + ("利用室内消火栓和消防电梯内攻，登高平台车外部供水，逐层搜救被困人员。" if floors >= 10
                        else "占据上风方向，设立水枪阵地堵截火势蔓延，分组搜救。"),
        "六、注意事项：" + ("防止轰燃和烟气蔓延，确认避难层人员疏散。" if floors >= 10
                        else "注意建筑结构安全和危险物品，设置安全员。"),
    ]
    return "\n".join(lines)
