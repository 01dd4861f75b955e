"""Header: hall name, clock and date, weather from the metrics tick, user and role, the
connection state (online / reconnecting / offline with the age of the data) and the mute state.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.kpi import metric_value
from app.store import Connection, StateStore
from widgets.common import fmt_age, lang, role_text

WEEKDAYS_ZH = "一二三四五六日"
STALE_AFTER_S = 30.0  # online but nothing new for this long: the data age is shown


class _OptionalLabel(QLabel):
    """A header text that gives way: no minimum width, so it never widens the window; the
    header hides it when its whole text does not fit (never a clipped half)."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(0, super().minimumSizeHint().height())


class HeaderBar(QWidget):
    mute_toggled = Signal(bool)

    def __init__(self, store: StateStore, hall_name: str, muted: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HeaderBar")
        self.store = store
        self.hall = QLabel(hall_name, objectName="HallName")
        self.clock = QLabel("", objectName="Clock")
        self.date = _OptionalLabel("", objectName="Date")
        self.weather = _OptionalLabel("", objectName="Weather")
        # shown while the header has room for them, the weather going first
        self._optional = (self.date, self.weather)
        self.user = QLabel("", objectName="UserLabel")
        self.conn = QLabel("", objectName="ConnState")
        self.mute = QPushButton(objectName="MuteButton", checkable=True)
        self.mute.setChecked(muted)
        self.mute.toggled.connect(self._on_mute_toggled)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 4, 12, 4)
        lay.setSpacing(18)
        lay.addWidget(self.hall)
        lay.addStretch(1)
        for w in (self.weather, self.date, self.clock, self.user, self.conn, self.mute):
            lay.addWidget(w)
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        # bound methods: the store holds them weakly, so a closed header is not kept alive
        store.connection_changed.connect(self._on_store_changed)
        store.session_changed.connect(self._on_store_changed)
        store.metrics_changed.connect(self._on_store_metrics_changed)
        self._show_mute()
        self.refresh()

    def _on_store_changed(self, *_: Any) -> None:
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_optional()

    def _fit_optional(self) -> None:
        """Show the date and the weather only when the rest leaves room for their whole text
        (a laptop in English with the wall's big type has none for the weather)."""
        lay = self.layout()
        m = lay.contentsMargins()
        items = [lay.itemAt(i).widget() for i in range(lay.count())]
        fixed = [w for w in items if w is not None and w not in self._optional and not w.isHidden()]
        room = self.width() - m.left() - m.right() - sum(w.sizeHint().width() for w in fixed) \
            - lay.spacing() * max(len(fixed) - 1, 0)
        for w in self._optional:
            want = w.sizeHint().width() + lay.spacing()
            show = bool(w.text()) and room >= want
            if show:
                room -= want
            if w.isHidden() == show:
                w.setVisible(show)

    def _on_store_metrics_changed(self, *_: Any) -> None:
        self._refresh_weather()

    def add_tool(self, w: QWidget) -> None:
        """A window-level button (e.g. drills) in the header, left of the mute button."""
        lay = self.layout()
        lay.insertWidget(lay.indexOf(self.mute), w)
        self._fit_optional()

    def set_hall_name(self, name: str) -> None:
        self.hall.setText(name)

    def _on_mute_toggled(self, on: bool) -> None:
        self._show_mute()
        self.mute_toggled.emit(on)

    def set_muted(self, on: bool) -> None:
        self.mute.blockSignals(True)
        self.mute.setChecked(on)
        self.mute.blockSignals(False)
        self._show_mute()

    def _show_mute(self) -> None:
        on = self.mute.isChecked()
        self.mute.setText(self.tr("✕ 已静音") if on else self.tr("♪ 声音开"))
        self.mute.setProperty("muted", on)
        self.mute.style().unpolish(self.mute)
        self.mute.style().polish(self.mute)

    def connection_text(self, now: float | None = None) -> tuple[str, str]:
        """(text, state) for the connection label; state drives the colour in the QSS."""
        now = now or time.time()
        c = self.store.connection
        age = fmt_age(now - self.store.data_ts) if self.store.data_ts else ""
        if c == Connection.ONLINE:
            if self.store.data_ts and now - self.store.data_ts > STALE_AFTER_S:
                return self.tr("● 在线 · 数据 %1 前").replace("%1", age), "stale"
            return self.tr("● 在线"), "online"
        if c == Connection.RECONNECTING:
            return self.tr("◐ 重连中") + (self.tr(" · 数据 %1 前").replace("%1", age) if age else ""), "reconnecting"
        if c == Connection.CONNECTING:
            return self.tr("◌ 连接中"), "reconnecting"
        return self.tr("○ 离线 · 数据 %1 前").replace("%1", age or "—"), "offline"

    def refresh(self) -> None:
        now = time.time()
        lt = time.localtime(now)
        self.clock.setText(time.strftime("%H:%M:%S", lt))
        if lang() == "en":
            self.date.setText(time.strftime("%a %d %b %Y", lt))
        else:
            self.date.setText(time.strftime("%Y年%m月%d日", lt) + " 星期" + WEEKDAYS_ZH[lt.tm_wday])
        text, state = self.connection_text(now)
        self.conn.setText(text)
        if self.conn.property("state") != state:
            self.conn.setProperty("state", state)
            self.conn.style().unpolish(self.conn)
            self.conn.style().polish(self.conn)
        s = self.store.session
        self.user.setText(f"{s.display_name or s.user}" + (f" · {role_text(s.role)}" if s.role else "") if s.user else "")
        self._refresh_weather()
        self._fit_optional()

    def _refresh_weather(self) -> None:
        tick = self.store.metrics
        parts = []
        temp = metric_value(tick, "temp_c")
        if temp is not None:
            parts.append(f"{temp:.0f}°C")
        rain = metric_value(tick, "rain_1h_max")
        if rain is None:
            rain = metric_value(tick, "rain_1h")
        if rain is not None:
            parts.append(self.tr("雨量 %1 mm").replace("%1", f"{rain:.0f}"))
        pm25 = metric_value(tick, "pm25_avg")
        if pm25 is not None:
            parts.append(f"PM2.5 {pm25:.0f}")
        text = "  ".join(parts)
        if text != self.weather.text():
            self.weather.setText(text)
            self._fit_optional()

    def event_names(self) -> dict[str, Any]:
        return {"hall": self.hall.text(), "conn": self.conn.text(), "mute": self.mute.text()}
