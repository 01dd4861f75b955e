"""Camera tile (QtMultimedia): plays a stream URL or a file; a clear "no signal" state on error,
on end of stream and when frames stop arriving (a watchdog), so it never shows a frozen frame.

Options: url (a fixed source), follow_alert (play the selected alert's camera: the device's
stream URL from url_template, e.g. "rtsp://cams.local/{device_id}"), loop (start a file again at
its end), simulated (caption the picture as simulated), title_zh/title_en. A source
"resource:video/kitchen_camera.mp4" is a file shipped in the resources package: the shipped
layouts play that clip for the simulated city's kitchen cameras, which send readings, not video.

Frames are painted by the tile itself from a QVideoSink (not a QVideoWidget, whose native
surface neither grab() nor a screenshot of the wall sees); a tile built while an alert is
selected plays that alert's camera at once.
"""

from __future__ import annotations

import time
from importlib import resources as importlib_resources
from typing import Any

from PySide6.QtCore import QRect, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from app.selection import ViewState
from app.store import StateStore

STALL_S = 3.0  # no new frame for this long while "playing" counts as no signal
RESOURCE = "resource:"


def resolve(source: str) -> str:
    """A playable location: "resource:<path>" becomes the shipped file's path."""
    if source.startswith(RESOURCE):
        return str(importlib_resources.files("resources").joinpath(source[len(RESOURCE):]))
    return source


class VideoView(QWidget):
    """The latest decoded frame, scaled to fit (letterboxed in black)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VideoView")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image = QImage()

    def show_frame(self, image: QImage) -> None:
        self.image = image
        self.update()

    def paintEvent(self, _e: Any) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.black)
        if not self.image.isNull():
            size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self.image)
        p.end()


class CameraTile(QWidget):
    def __init__(self, store: StateStore | None = None, view_state: ViewState | None = None,
                 options: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CameraTile")
        self.store = store
        self.view_state = view_state or ViewState()
        o = options or {}
        self.url_template: str = o.get("url_template", "")
        self.loop = bool(o.get("loop", False))
        self.simulated = bool(o.get("simulated", False))
        self.device_id: str = ""
        self.caption = QLabel(objectName="CameraCaption")
        self.caption.setWordWrap(True)  # a long caption wraps: it never widens the wall's column
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setVisible(False)
        self.no_signal = QLabel(objectName="NoSignal")
        self.no_signal.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_signal.setWordWrap(True)
        self.state = "idle"  # idle | loading | playing | no_signal
        self.source: str = ""
        self.last_frame_ts = 0.0
        self.frames = 0
        self._player: Any = None
        self._sink: Any = None
        self.video = VideoView(self)
        self._stack = QStackedLayout()
        self._stack.addWidget(self.no_signal)
        self._stack.addWidget(self.video)
        self._init_player()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(self._stack, 1)
        lay.addWidget(self.caption)
        self._watchdog = QTimer(self, interval=500)
        self._watchdog.timeout.connect(self._on_watchdog_timeout)
        self._watchdog.start()
        self._show_no_signal(self.tr("无视频源"))
        if o.get("follow_alert") and store is not None:
            self.view_state.alert_selected.connect(self._on_view_alert_selected)
            self._on_view_alert_selected(self.view_state.alert_id)  # chosen before this tile was built
        if o.get("url"):
            self.play(o["url"])

    def _init_player(self) -> None:
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink
        except ImportError:  # multimedia missing: the tile says so instead of failing
            return
        self._player = QMediaPlayer(self)
        self._audio = QAudioOutput(self)
        self._audio.setMuted(True)  # camera audio never competes with the alarm sound
        self._player.setAudioOutput(self._audio)
        self._sink = QVideoSink(self)
        self._player.setVideoOutput(self._sink)
        self._player.errorOccurred.connect(self._on_player_error)
        self._player.mediaStatusChanged.connect(self._on_player_status)
        self._sink.videoFrameChanged.connect(self._on_sink_frame)

    def play(self, source: str, device_id: str = "") -> None:
        self.source = source
        self.device_id = device_id
        self._show_caption()
        if self._player is None:
            self._show_no_signal(self.tr("本机不支持视频播放"))
            return
        from PySide6.QtMultimedia import QMediaPlayer
        where = resolve(source)
        url = QUrl(where) if "://" in where else QUrl.fromLocalFile(where)
        self.state = "loading"
        self.frames = 0
        self.last_frame_ts = time.monotonic()
        self.no_signal.setText(self.tr("连接中…"))
        self.video.show_frame(QImage())
        self._stack.setCurrentWidget(self.no_signal)  # never the previous source's last frame
        self._player.setLoops(int(QMediaPlayer.Loops.Infinite) if self.loop else 1)
        self._player.setSource(url)
        self._player.play()

    def _show_caption(self) -> None:
        parts = [self.device_id] if self.device_id else []
        if not self.source:
            parts = []
        elif self.simulated:
            parts.append(self.tr("模拟画面（仿真城市无真实视频）"))
        elif self.source and not self.source.startswith(RESOURCE):
            parts.append(self.source)
        self.caption.setText(" · ".join(parts))
        self.caption.setVisible(bool(parts))

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self.source = self.device_id = ""
        self._show_caption()
        self._show_no_signal(self.tr("无视频源"))

    def _on_view_alert_selected(self, alert_id: int | None) -> None:
        a = self.store.alerts.get(alert_id) if self.store is not None and alert_id else None
        if a is not None and a.device_id and a.device_type == "kitchen_camera" and self.url_template:
            self.play(self.url_template.format(device_id=a.device_id), a.device_id)

    @Slot("QVideoFrame")  # may come from the decoder's thread: a declared slot (PYSIDE-3124)
    def _on_sink_frame(self, frame: Any) -> None:
        if frame.isValid():
            self.frames += 1
            self.last_frame_ts = time.monotonic()
            if self.isVisible():  # a hidden tile (another page) decodes on but does not convert
                self.video.show_frame(frame.toImage())
            if self.state != "playing":
                self.state = "playing"
                self._stack.setCurrentWidget(self.video)

    def _on_player_error(self, _err: Any, message: str) -> None:
        # the source is named: whoever looks knows which camera (and URL) is dark
        self._show_no_signal(self.tr("无信号") + f"\n{self.source}" + (f"\n{message}" if message else ""))

    def _on_player_status(self, status: Any) -> None:
        from PySide6.QtMultimedia import QMediaPlayer
        if status in (QMediaPlayer.MediaStatus.EndOfMedia, QMediaPlayer.MediaStatus.InvalidMedia,
                      QMediaPlayer.MediaStatus.NoMedia) and self.state in ("loading", "playing"):
            self._show_no_signal(self.tr("无信号"))

    def _on_watchdog_timeout(self) -> None:
        if self.state in ("loading", "playing") and time.monotonic() - self.last_frame_ts > STALL_S:
            if self._player is not None:
                self._player.stop()
            self._show_no_signal(self.tr("无信号（画面中断）"))

    def _show_no_signal(self, text: str) -> None:
        self.state = "no_signal" if self.source else "idle"
        self.no_signal.setText(text)
        self.video.show_frame(QImage())  # the last frame is never left on screen
        self._stack.setCurrentWidget(self.no_signal)
