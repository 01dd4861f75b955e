"""Seed catalogue: the bureaus (domains), device types with their metrics and physical ranges,
and the default alert rules. Loaded into the store on first start; rules are then data,
editable by admins (rule.upsert), never code.

Device-type shares (`share`) spread the simulated 100,000+ devices in the proportions a city
IoT platform of this kind has: many smoke detectors, few radar stations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("education", "教育局", "Education Bureau"),
    ("water", "水务局", "Water Affairs Bureau"),
    ("fire", "消防救援支队", "Fire and Rescue Brigade"),
    ("urban", "城市管理和综合执法局", "Urban Management Bureau"),
    ("environment", "生态环境局", "Ecology and Environment Bureau"),
    ("market", "市场监督管理局", "Market Supervision Bureau"),
    ("coastal", "洪梅镇海防", "Hongmei Coastal Defence"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("emergency", "应急管理局", "Emergency Management Bureau"),
    ("weather", "气象局", "Meteorological Bureau"),
)


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    min: float
    max: float
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class DeviceTypeSpec:
    code: str
    domain: str
    name_zh: str
    name_en: str
    period_s: int
    share: float  # fraction of all devices
    metrics: tuple[Metric, ...]
    placement: str = "urban"  # urban | building | river | school | road | coast | industrial
    rules: tuple[dict, ...] = field(default_factory=tuple)


def _m(name: str, unit: str, lo: float, hi: float, zh: str, en: str) -> Metric:
    return Metric(name, unit, lo, hi, zh, en)


DEVICE_TYPES: tuple[DeviceTypeSpec, ...] = (
    DeviceTypeSpec(
        "smoke_detector", "fire", "独立式烟感", "Smoke detector", 300, 0.46,
        (_m("smoke", "dB/m", 0, 2.0, "烟雾浓度", "Smoke obscuration"),
         _m("battery", "%", 0, 100, "电量", "Battery")),
        "building",
        ({"metric": "smoke", "thresholds": {4: 0.25}, "hysteresis": 0.05, "min_duration_s": 0,
          "title_zh": "烟感报警", "title_en": "Smoke alarm"},
         {"metric": "battery", "direction": "below", "thresholds": {1: 15}, "hysteresis": 5,
          "title_zh": "烟感电量低", "title_en": "Smoke detector battery low"}),
    ),
    DeviceTypeSpec(
        "fire_detector", "fire", "火灾探测器", "Fire detector", 300, 0.12,
        (_m("temp", "°C", -40, 300, "温度", "Temperature"),
         _m("alarm", "", 0, 1, "报警", "Alarm")),
        "building",
        ({"metric": "temp", "thresholds": {2: 57, 3: 70, 4: 85}, "hysteresis": 3, "min_duration_s": 20,
          "rate_per_min": 8, "rate_level": 3, "title_zh": "火灾探测器高温", "title_en": "Fire detector heat"},
         {"metric": "alarm", "thresholds": {4: 0.5}, "title_zh": "火灾报警", "title_en": "Fire alarm"}),
    ),
    DeviceTypeSpec(
        "water_level", "water", "水位计", "Water-level gauge", 300, 0.02,
        (_m("level", "m", -5, 30, "水位", "Water level"),),
        "river",
        ({"metric": "level", "thresholds": {1: 4.5, 2: 5.2, 3: 6.0, 4: 6.8}, "hysteresis": 0.1,
          "min_duration_s": 300, "rate_per_min": 0.05, "rate_level": 2, "offline_periods": 4,
          "title_zh": "河道水位超警戒", "title_en": "River level above warning"},),
    ),
    DeviceTypeSpec(
        "rain_gauge", "water", "雨量计", "Rain gauge", 300, 0.02,
        (_m("rain_1h", "mm", 0, 300, "小时雨量", "Rain, 1 h"),),
        "urban",
        ({"metric": "rain_1h", "thresholds": {1: 20, 2: 30, 3: 50, 4: 80}, "hysteresis": 2,
          "offline_periods": 4, "title_zh": "短时强降雨", "title_en": "Heavy rain"},),
    ),
    DeviceTypeSpec(
        "school_alarm", "education", "校园一键报警", "School one-click alarm", 600, 0.03,
        (_m("alarm", "", 0, 1, "报警", "Alarm"),),
        "school",
        ({"metric": "alarm", "thresholds": {4: 0.5}, "offline_periods": 3,
          "title_zh": "校园一键报警", "title_en": "School one-click alarm"},),
    ),
    DeviceTypeSpec(
        "school_bus", "education", "校车监控", "School-bus monitor", 60, 0.015,
        (_m("speed", "km/h", 0, 160, "车速", "Speed"),
         _m("occupancy", "", 0, 80, "载客数", "Passengers")),
        "road",
        ({"metric": "speed", "thresholds": {2: 60, 3: 80}, "min_duration_s": 30,
          "title_zh": "校车超速", "title_en": "School bus speeding"},),
    ),
    DeviceTypeSpec(
        "sanitation_card", "urban", "环卫工牌", "Sanitation-worker card", 120, 0.08,
        (_m("sos", "", 0, 1, "求救", "SOS"), _m("heart_rate", "bpm", 20, 230, "心率", "Heart rate")),
        "road",
        ({"metric": "sos", "thresholds": {3: 0.5}, "title_zh": "环卫工人求救", "title_en": "Sanitation worker SOS"},
         {"metric": "heart_rate", "thresholds": {2: 150}, "min_duration_s": 120,
          "title_zh": "环卫工人心率异常", "title_en": "Sanitation worker heart rate"}),
    ),
    DeviceTypeSpec(
        "gas_pressure", "urban", "燃气压力计", "Gas-pressure gauge", 300, 0.05,
        (_m("pressure", "kPa", 0, 1000, "管网压力", "Pipe pressure"),),
        "urban",
        ({"metric": "pressure", "direction": "below", "thresholds": {2: 250, 3: 200, 4: 150},
          "hysteresis": 10, "min_duration_s": 60, "rate_per_min": 30, "rate_level": 3,
          "offline_periods": 4, "title_zh": "燃气管网压力异常", "title_en": "Gas pressure low"},),
    ),
    DeviceTypeSpec(
        "manhole_cover", "urban", "智能井盖", "Smart manhole cover", 900, 0.06,
        (_m("tilt", "°", 0, 180, "倾角", "Tilt"), _m("water", "cm", 0, 500, "井内水位", "Water in well")),
        "road",
        ({"metric": "tilt", "thresholds": {2: 15, 3: 30}, "title_zh": "井盖位移", "title_en": "Manhole cover displaced"},),
    ),
    DeviceTypeSpec(
        "air_station", "environment", "空气质量监测站", "Air-quality station", 3600, 0.002,
        (_m("pm25", "µg/m³", 0, 1000, "PM2.5", "PM2.5"), _m("pm10", "µg/m³", 0, 2000, "PM10", "PM10"),
         _m("o3", "µg/m³", 0, 1000, "臭氧", "Ozone")),
        "urban",
        ({"metric": "pm25", "thresholds": {1: 75, 2: 115, 3: 150, 4: 250}, "hysteresis": 5,
          "min_duration_s": 3600, "offline_periods": 3,
          "title_zh": "PM2.5 超标", "title_en": "PM2.5 above standard"},),
    ),
    DeviceTypeSpec(
        "pollution_source", "environment", "污染源在线监测", "Pollution-source monitor", 600, 0.006,
        (_m("voc", "mg/m³", 0, 500, "VOCs", "VOCs"), _m("so2", "mg/m³", 0, 1000, "二氧化硫", "SO₂")),
        "industrial",
        ({"metric": "voc", "thresholds": {2: 60, 3: 80, 4: 120}, "min_duration_s": 600,
          "title_zh": "VOCs 排放超标", "title_en": "VOC emission above limit"},),
    ),
    DeviceTypeSpec(
        "kitchen_camera", "market", "明厨亮灶摄像头", "Bright-kitchen camera", 600, 0.1,
        (_m("violation", "", 0, 1, "违规行为", "Violation"),),
        "building",
        ({"metric": "violation", "thresholds": {1: 0.5}, "title_zh": "后厨违规行为",
          "title_en": "Kitchen violation"},),
    ),
    DeviceTypeSpec(
        "coastal_radar", "coastal", "海防雷达", "Coastal radar", 60, 0.0003,
        (_m("intrusion", "", 0, 1, "越界目标", "Intrusion"),),
        "coast",
        ({"metric": "intrusion", "thresholds": {3: 0.5}, "offline_periods": 5,
          "title_zh": "海防越界告警", "title_en": "Coastal intrusion"},),
    ),
    DeviceTypeSpec(
        "traffic_flow", "transport", "交通流量检测器", "Traffic-flow detector", 300, 0.04,
        (_m("flow", "veh/h", 0, 10000, "车流量", "Flow"), _m("speed", "km/h", 0, 200, "平均车速", "Mean speed")),
        "road",
        ({"metric": "speed", "direction": "below", "thresholds": {1: 15, 2: 8}, "min_duration_s": 600,
          "title_zh": "道路拥堵", "title_en": "Road congestion"},),
    ),
)

DEVICE_TYPES_BY_CODE = {t.code: t for t in DEVICE_TYPES}

# Values some devices send instead of "no value"; rejected as DQReason.SENTINEL.
SENTINELS = frozenset({-9999.0, -999.0, 9999.0, -32768.0, 65535.0})

# Metrics whose exact repetition means a frozen sensor: continuous, noisy physical quantities.
# Binary flags (alarm, sos...) and often-constant ones (battery, rain 0 mm, smoke 0) are exempt.
# A device repeating the exact same value STUCK_REPEATS times running is flagged (quality=1,
# DQReason.STUCK) and its health becomes faulty (sync_service.ingest.validate.StuckTracker).
STUCK_METRICS = frozenset({"level", "temp", "pressure", "pm25", "pm10", "o3", "voc", "so2",
                           "heart_rate", "flow", "smoke"})
STUCK_REPEATS = 12
