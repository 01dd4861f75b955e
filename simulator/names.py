"""Chinese names and addresses for the simulated city's things: deterministic, plausible, made up.

Road names are real Dongguan arterials used generically (a simulated address is never a real
one); unit names are composed from common commercial syllables.
"""

from __future__ import annotations

import numpy as np

ROADS: dict[str, tuple[str, ...]] = {
    "guancheng": ("北正路", "运河东路", "罗沙路", "光明路", "市桥路"),
    "nancheng": ("鸿福路", "元美路", "宏图路", "莞太路", "胜和路", "西平二路", "石鼓路"),
    "dongcheng": ("东城中路", "东纵大道", "莞樟路", "主山路", "温塘路", "旗峰路"),
    "wanjiang": ("万道路", "金泰路", "莞穗路", "新村路"),
    "songshanhu": ("新城路", "工业北路", "科技七路", "大学路"),
}
GENERIC_ROADS = ("人民路", "中山路", "建设路", "振兴路", "工业大道", "环城路", "沿江路", "文化路",
                 "东风路", "新华路", "府前路", "兴业路", "迎宾路", "创业路", "园林路", "富民路")
SYLLABLES = ("华", "鸿", "宏", "金", "富", "盛", "星", "汇", "嘉", "恒", "泰", "丰", "源", "发", "达",
             "利", "龙", "凯", "信", "德", "美", "新", "永", "隆", "海", "峰", "国", "锦", "君", "悦")
FIRE_VEHICLE_TYPES: tuple[tuple[str, str, int], ...] = (
    # (type zh, type en, crew)
    ("水罐消防车", "water tender", 6),
    ("泡沫水罐消防车", "foam tender", 6),
    ("抢险救援消防车", "rescue vehicle", 5),
    ("登高平台消防车", "aerial platform", 3),
    ("云梯消防车", "aerial ladder", 3),
    ("举高喷射消防车", "water tower", 3),
    ("供水消防车", "water supply tanker", 2),
    ("通信指挥消防车", "command vehicle", 4),
)
DIRECTIONS = ("中心", "东", "西", "南", "北", "新城", "特勤")


def short(name_zh: str) -> str:
    """莞城街道 -> 莞城, 石碣镇 -> 石碣, 松山湖 -> 松山湖, 滨海湾新区 -> 滨海湾."""
    for suffix in ("街道", "新区", "镇"):
        if name_zh.endswith(suffix):
            return name_zh[: -len(suffix)]
    return name_zh


def road(town: str, rng: np.random.Generator) -> str:
    pool = ROADS.get(town, ()) + GENERIC_ROADS
    return pool[int(rng.integers(len(pool)))]


def address(town: str, town_zh: str, rng: np.random.Generator) -> str:
    return f"东莞市{town_zh}{road(town, rng)}{int(rng.integers(1, 400))}号"


def brand(rng: np.random.Generator) -> str:
    a, b = rng.choice(len(SYLLABLES), 2, replace=False)
    return SYLLABLES[int(a)] + SYLLABLES[int(b)]


def plate(rng: np.random.Generator) -> str:
    """A Dongguan (粤S) emergency-vehicle plate."""
    return f"粤S·{int(rng.integers(0, 10000)):04d}应急"
