"""Situation summary for the decision room: open alerts per level in big type, active incidents,
decisions waiting and device availability, at one glance."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from app.alert_filter import open_counts_by
from app.kpi import derived_value
from app.store import StateStore
from widgets.common import LEVEL_COLORS, LEVEL_TEXT_COLORS, level_text, refresh_hub, scan_due


class _Figure(QFrame):
    def __init__(self, caption: str, colour: str = "", text_colour: str = "") -> None:
        super().__init__()
        self.setObjectName("SituationFigure")
        self.value = QLabel("—", objectName="SituationValue")
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel(caption, objectName="SituationCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if colour:
            self.setStyleSheet(f"#SituationFigure {{ background: {colour}; border-radius: 8px; }}"
                               f" QLabel {{ color: {text_colour}; background: transparent; }}")
        lay = QVBoxLayout(self)
        lay.addWidget(self.value, 1)
        lay.addWidget(self.caption)


class SituationSummary(QWidget):
    def __init__(self, store: StateStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SituationSummary")
        self.store = store
        grid = QGridLayout(self)
        grid.setSpacing(10)
        self.levels: dict[int, _Figure] = {}
        for col, lv in enumerate((4, 3, 2, 1)):
            f = _Figure(level_text(lv) + self.tr("告警"), LEVEL_COLORS[lv].name(), LEVEL_TEXT_COLORS[lv].name())
            self.levels[lv] = f
            grid.addWidget(f, 0, col)
        self.incidents = _Figure(self.tr("处置中事件"))
        self.decisions = _Figure(self.tr("待决策"))
        self.devices = _Figure(self.tr("设备在线率"))
        grid.addWidget(self.incidents, 1, 0, 1, 2)
        grid.addWidget(self.decisions, 1, 2)
        grid.addWidget(self.devices, 1, 3)
        self._dirty = True
        for sig in (store.alerts_changed, store.incidents_changed, store.tasks_changed, store.stats_changed,
                    store.reset):
            sig.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.rebuild()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and self.isVisible() and scan_due(self):
            self._dirty = False
            self.rebuild()

    def rebuild(self) -> None:
        counts = open_counts_by(self.store.open_alert_counts, "level")  # kept by the store: no scan
        for lv, f in self.levels.items():
            f.value.setText(f"{counts.get(lv, 0):,}")
        self.incidents.value.setText(f"{derived_value(self.store, 'incidents_active') or 0:.0f}")
        self.decisions.value.setText(f"{derived_value(self.store, 'decisions_waiting') or 0:.0f}")
        pct = derived_value(self.store, "devices_online_pct")
        self.devices.value.setText("—" if pct is None else f"{pct:.1f}%")

    def figures(self) -> dict[str, str]:
        return {**{f"level{lv}": f.value.text() for lv, f in self.levels.items()},
                "incidents": self.incidents.value.text(), "decisions": self.decisions.value.text(),
                "devices": self.devices.value.text()}
