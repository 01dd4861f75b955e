"""Red alerts: a sound and a flashing banner on every screen until acknowledged.

RedAlertCenter is one per application: it listens to store.red_alert (fires once per alert id
while new and unsilenced, whatever filter a feed has) and keeps the list of unacknowledged red
alerts; every window's RedAlertBanner shows it. The sound repeats every REPEAT_S until
acknowledged unless muted; mute is a setting, visibly shown in the header.
"""

from __future__ import annotations

import time
from importlib import resources as importlib_resources
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.commandbus import CommandSink
from app.sorted_rows import SortedRows
from app.store import StateStore
from protocol.entities import Alert
from protocol.enums import AlertState, Level
from widgets.common import alert_title, on_done, refresh_hub, town_name

REPEAT_S = 30.0
SOUND_GAP_S = 0.5  # reds announced within this of the last sound share it (a snapshot announces thousands)


def _waiting(a: Alert) -> bool:
    return a.level == Level.RED and a.state == AlertState.NEW and not a.silenced


class AlarmSound(QObject):
    """QSoundEffect with a mute. `plays` counts triggered plays (what tests and the e2e check)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.muted = False
        self.plays = 0
        self.suppressed = 0
        self.last_play_ts: float | None = None
        self._effect: Any = None
        try:
            from PySide6.QtMultimedia import QSoundEffect
            self._effect = QSoundEffect(self)
            path = importlib_resources.files("resources") / "sounds" / "red_alert.wav"
            self._effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effect.setVolume(1.0)
        except Exception:  # no multimedia backend: the banner still shows, the count still moves
            self._effect = None

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if muted and self._effect is not None:
            self._effect.stop()

    def play(self) -> bool:
        if self.muted:
            self.suppressed += 1
            return False
        self.plays += 1
        self.last_play_ts = time.time()
        if self._effect is not None:
            self._effect.play()
        return True


class RedAlertCenter(QObject):
    changed = Signal()  # the unacknowledged list changed: banners repaint

    def __init__(self, store: StateStore, commands: CommandSink, sound: AlarmSound | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store, self.commands = store, commands
        self.sound = sound or AlarmSound(self)
        # waiting ids ordered newest first, kept as they change (a burst brings dozens of reds a
        # second: no sort of the whole list per tick); `pending` is made from it when read
        self._order = SortedRows()
        self._key_of: dict[int, tuple[float, int]] = {}
        self._pending: list[Alert] | None = []
        self._shown: tuple[Any, ...] = (0,)  # what the banners show: how many, and the top one
        self._dirty = False
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.announced = 0
        self._sounded_at = -SOUND_GAP_S
        self._repeat = QTimer(self, interval=int(REPEAT_S * 1000))
        self._repeat.timeout.connect(self._on_repeat_timeout)
        store.red_alert.connect(self._on_store_red_alert)
        store.alerts_changed.connect(self._on_store_alerts_changed)
        store.reset.connect(self._on_store_reset)
        self._recount()

    @property
    def pending(self) -> list[Alert]:
        """Unacknowledged red alerts, newest first."""
        if self._pending is None:
            alerts = self.store.alerts
            self._pending = [a for k in self._order if (a := alerts.get(k[1])) is not None]
        return self._pending

    def count(self) -> int:
        return len(self._order)

    def top(self) -> Alert | None:
        return self.store.alerts.get(self._order[0][1]) if self._order else None

    def _track(self, alert_id: int, a: Alert | None) -> bool:
        """Put the alert where it belongs in the order (or out of it); True if anything moved."""
        old = self._key_of.get(alert_id)
        if a is not None and _waiting(a):
            k = (-a.last_ts, alert_id)
            if k != old:  # a snapshot's reds are announced right after the recount put them here
                if old is not None:
                    self._order.remove(old)
                self._order.add(k)
                self._key_of[alert_id] = k
            return True  # added, or still waiting (its title or count may have changed)
        if old is None:
            return False
        del self._key_of[alert_id]
        self._order.remove(old)
        return True

    def _on_store_red_alert(self, alert: Alert) -> None:
        self.announced += 1
        now = time.monotonic()
        if now - self._sounded_at >= SOUND_GAP_S:  # not once per red of a snapshot: thousands at a time
            self._sounded_at = now
            self.sound.play()
            self._repeat.start()
        self._track(alert.id, self.store.alerts.get(alert.id, alert))
        self._publish_soon()  # the sound is at once; banners follow on the next refresh tick

    def _on_store_alerts_changed(self, ids: set[int]) -> None:
        # incremental: only the changed alerts can enter or leave the list (a full scan per
        # event frame would cost O(all alerts) many times a second under a burst)
        changed = False
        alerts = self.store.alerts
        for i in ids:
            changed |= self._track(i, alerts.get(i))
        if changed:
            self._publish_soon()

    def _on_store_reset(self) -> None:
        self._recount()

    def _on_repeat_timeout(self) -> None:
        if self.pending:
            self.sound.play()
        else:
            self._repeat.stop()

    def _recount(self) -> None:
        self._key_of = {a.id: (-a.last_ts, a.id) for a in self.store.unacknowledged_red()}
        self._order = SortedRows(sorted(self._key_of.values()))
        self._publish()

    def _publish_soon(self) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty:
            self._publish()

    def _publish(self) -> None:
        """Banners show the newest and how many wait: tell them when either changes."""
        self._dirty = False
        self._pending = None
        top = self.top()
        shown = (self.count(),) if top is None else (self.count(), top.id, top.count, top.title, top.title_en, top.town)
        if shown != self._shown:
            self._shown = shown
            self.changed.emit()
        if top is None:
            self._repeat.stop()

    def acknowledge(self, alert_id: int) -> None:
        on_done(self.commands.send("alert.ack", {"alert_id": alert_id}), lambda _r: None)


class RedAlertBanner(QWidget):
    """A flashing strip at the top of a window; hidden when nothing red waits."""

    def __init__(self, center: RedAlertCenter, store: StateStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RedAlertBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.center, self.store = center, store
        self.label = QLabel(objectName="RedAlertText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)  # a long title takes a second line, never a wider window
        self.ack = QPushButton(self.tr("确认 (Ctrl+Enter)"), objectName="RedAlertAck")
        self.ack.clicked.connect(self.acknowledge_top)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.ack)
        self._flash_on = False
        self._flash = QTimer(self, interval=500)
        self._flash.timeout.connect(self._on_flash_timeout)
        center.changed.connect(self._on_center_changed)
        store.session_changed.connect(self._on_store_session_changed)
        self._on_center_changed()

    def _on_store_session_changed(self, _info: Any) -> None:
        self._on_center_changed()

    def _on_center_changed(self) -> None:
        top, n = self.center.top(), self.center.count()
        self.setVisible(top is not None)
        if top is None:
            self._flash.stop()
            return
        more = self.tr("（另有 %n 条）", "", n - 1) if n > 1 else ""
        self.label.setText(self.tr("红色告警") + f"  #{top.id}  {alert_title(top)} · "
                           f"{town_name(self.store, top.town)}{more}")
        self.ack.setEnabled(self.store.can("alert.ack"))
        if not self._flash.isActive():
            self._flash.start()

    def _on_flash_timeout(self) -> None:
        self._flash_on = not self._flash_on
        self.setProperty("flash", self._flash_on)
        self.style().unpolish(self)
        self.style().polish(self)

    def acknowledge_top(self) -> None:
        top = self.center.top()
        if top is not None and self.store.can("alert.ack"):
            self.center.acknowledge(top.id)
