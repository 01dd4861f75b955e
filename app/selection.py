"""Cross-panel view state, Qt-free: what the user picked in one panel filters the others.

Clicking a town on the map sets `town`; the alert feed, device health and KPI tiles follow it.
Selecting an alert or incident lets the incident panel, camera tile and 3D view show it.
"""

from __future__ import annotations

from app.signals import Signal


class ViewState:
    def __init__(self) -> None:
        self.town: str | None = None
        self.alert_id: int | None = None
        self.incident_id: int | None = None
        self.town_changed = Signal("town_changed")
        self.alert_selected = Signal("alert_selected")
        self.incident_selected = Signal("incident_selected")

    def set_town(self, town: str | None) -> None:
        if town != self.town:
            self.town = town
            self.town_changed.emit(town)

    def select_alert(self, alert_id: int | None) -> None:
        if alert_id != self.alert_id:
            self.alert_id = alert_id
            self.alert_selected.emit(alert_id)

    def select_incident(self, incident_id: int | None) -> None:
        if incident_id != self.incident_id:
            self.incident_id = incident_id
            self.incident_selected.emit(incident_id)
