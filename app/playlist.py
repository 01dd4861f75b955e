"""Playlist timing for rotating screens (front hall), Qt-free and clock-injected.

The rotation advances every `interval_s`; it pauses while the user interacts (resumes
`idle_resume_s` after the last interaction) and while a red alert is unacknowledged (the alert
screen must stay up). The Qt layer calls tick(now) from a timer and shows `page`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Playlist:
    pages: int
    interval_s: float = 20.0
    idle_resume_s: float = 60.0
    page: int = 0
    red_alert: bool = False
    manual_pause: bool = False
    _last_switch: float = 0.0
    _last_interaction: float = field(default=-1e18)

    def start(self, now: float) -> None:
        self._last_switch = now

    def paused(self, now: float) -> bool:
        return (self.manual_pause or self.red_alert
                or now - self._last_interaction < self.idle_resume_s)

    def interaction(self, now: float) -> None:
        self._last_interaction = now

    def goto(self, page: int, now: float) -> None:
        self.page = page % max(self.pages, 1)
        self._last_switch = now

    def tick(self, now: float) -> bool:
        """Advance if due; returns True when the page changed."""
        if self.pages <= 1 or self.paused(now):
            if self.paused(now):
                self._last_switch = now  # a pause restarts the interval, no instant jump after
            return False
        if now - self._last_switch >= self.interval_s:
            self.goto(self.page + 1, now)
            return True
        return False
