"""Building colours per colour mode, and the warning-level colours (pure numpy, no VTK)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP

from citymodel.buildings import USE_INDEX, BuildingTable

# (code, Chinese source text; shown through QCoreApplication.translate("CityView", text))
MODES: tuple[tuple[str, str], ...] = (
    ("height", QT_TRANSLATE_NOOP("CityView", "按高度")),
    ("use", QT_TRANSLATE_NOOP("CityView", "按用途")),
    ("age", QT_TRANSLATE_NOOP("CityView", "按年代")),
    ("state", QT_TRANSLATE_NOOP("CityView", "实时状态")),
)

# China's warning levels 1-4: blue, yellow, orange, red (RGB 0-255).
LEVEL_RGB: dict[int, tuple[int, int, int]] = {
    1: (40, 120, 255), 2: (255, 220, 0), 3: (255, 130, 0), 4: (255, 0, 0),
}
SELECTED_RGB = (0, 255, 255)
SURROUND_RGB = (190, 120, 255)

# Dark-theme friendly ramps: low -> high.
_HEIGHT_STOPS = np.array([
    (0.0, 52, 74, 110), (12.0, 60, 110, 150), (24.0, 70, 150, 170), (50.0, 120, 190, 160),
    (100.0, 220, 220, 150), (200.0, 250, 250, 235)])
_AGE_STOPS = np.array([
    (1950.0, 140, 90, 60), (1980.0, 170, 130, 80), (2000.0, 110, 140, 150), (2015.0, 90, 170, 210),
    (2025.0, 170, 220, 250)])
USE_RGB: dict[str, tuple[int, int, int]] = {
    "residential": (200, 170, 120), "commercial": (80, 160, 230), "restaurant": (240, 140, 60),
    "office": (120, 200, 230), "industrial": (130, 130, 140), "warehouse": (110, 100, 90),
    "school": (120, 210, 110), "hospital": (240, 240, 240), "hotel": (200, 120, 200),
    "government": (230, 200, 80), "other": (150, 150, 150),
}


def _ramp(values: np.ndarray, stops: np.ndarray) -> np.ndarray:
    out = np.empty((len(values), 3), np.uint8)
    for c in range(3):
        out[:, c] = np.interp(values, stops[:, 0], stops[:, c + 1]).astype(np.uint8)
    return out


def building_colors(table: BuildingTable, mode: str) -> np.ndarray:
    """(N, 3) uint8 colour per building for a colour mode ("state" is height-toned grey:
    alerting buildings are drawn over it by the alert layer)."""
    if mode == "height":
        return _ramp(table.height.astype(float), _HEIGHT_STOPS)
    if mode == "age":
        yr = np.where(table.year > 0, table.year, 1990).astype(float)
        return _ramp(yr, _AGE_STOPS)
    if mode == "use":
        lut = np.zeros((len(USE_INDEX), 3), np.uint8)
        for code, i in USE_INDEX.items():
            lut[i] = USE_RGB.get(code, (150, 150, 150))
        return lut[table.use]
    if mode == "state":
        g = np.clip(70 + table.height.astype(float) * 0.8, 70, 170).astype(np.uint8)
        return np.column_stack((g, g, (g.astype(int) + 12).clip(0, 255).astype(np.uint8)))
    raise ValueError(f"unknown colour mode {mode!r}")


def legend(mode: str) -> list[tuple[str, tuple[int, int, int]]]:
    """(label, colour) pairs for the legend of a mode, in the UI language."""
    if mode == "height":
        return [(f"{int(s[0])} m", (int(s[1]), int(s[2]), int(s[3]))) for s in _HEIGHT_STOPS]
    if mode == "age":
        return [(str(int(s[0])), (int(s[1]), int(s[2]), int(s[3]))) for s in _AGE_STOPS]
    if mode == "use":
        from citymodel.buildings import USES
        from widgets.common import pick

        return [(pick(zh, en), USE_RGB[code]) for code, zh, en in USES]
    from widgets.common import level_text

    return [(level_text(lv), LEVEL_RGB[lv]) for lv in (4, 3, 2, 1)]
