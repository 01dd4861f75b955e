"""Generate the simulated kitchen camera clip (kitchen_camera.mp4) that the shipped layouts' camera
tile plays for a 明厨亮灶 (bright-kitchen) alert: the simulated city's cameras send readings, not
video, so the demo shows this clip, captioned as simulated, instead of a placeholder stream URL.

`python -m resources.video.make_clip` (Qt's own encoder: QVideoFrameInput -> QMediaRecorder,
H.264 in MP4) rewrites it; the file is committed, nothing is generated or downloaded at run time.
A deployment with real cameras sets the layout's url_template to its streams instead.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLIP = HERE / "kitchen_camera.mp4"
W, H, FPS, SECONDS = 320, 240, 10, 8


def draw(painter: Any, k: int) -> None:
    """Frame k: a tiled kitchen wall, a steel counter, two burners with flickering flames, a pot
    whose steam rises, a cook walking along the counter, and a CCTV overlay with the time code."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QPen

    t = k / FPS
    painter.fillRect(0, 0, W, H, QColor(58, 66, 72))
    painter.setPen(QPen(QColor(74, 84, 90), 1))
    for x in range(0, W, 20):  # wall tiles
        painter.drawLine(x, 0, x, 140)
    for y in range(0, 140, 20):
        painter.drawLine(0, y, W, y)
    painter.fillRect(QRectF(0, 140, W, 100), QColor(120, 128, 134))  # counter front
    painter.fillRect(QRectF(0, 132, W, 12), QColor(176, 184, 190))  # counter top
    hood = QRectF(40, 18, 240, 34)
    painter.fillRect(hood, QColor(150, 158, 164))
    painter.setPen(Qt.PenStyle.NoPen)
    for cx in (110.0, 210.0):  # burners
        for i in range(7):
            a = i / 7 * 2 * math.pi
            flick = 5 + 3 * math.sin(7 * t + i * 1.7 + cx)
            painter.setBrush(QColor(70, 140, 255, 200))
            painter.drawEllipse(QPointF(cx + 12 * math.cos(a), 128), 3.0, flick)
    painter.setBrush(QColor(90, 96, 104))  # the pot on the left burner
    painter.drawRoundedRect(QRectF(88, 96, 44, 30), 4, 4)
    for i in range(5):  # steam puffs rising and fading
        phase = (t * 0.6 + i / 5) % 1.0
        painter.setBrush(QColor(235, 235, 235, int(150 * (1 - phase))))
        painter.drawEllipse(QPointF(110 + 10 * math.sin(3 * phase + i), 92 - 50 * phase), 6 + 8 * phase, 5 + 6 * phase)
    x = 60 + 200 * (0.5 + 0.5 * math.sin(t * 2 * math.pi / SECONDS))  # the cook, one walk per loop
    painter.setBrush(QColor(240, 240, 240))
    painter.drawRoundedRect(QRectF(x - 14, 78, 28, 56), 6, 6)  # white jacket
    painter.drawRect(QRectF(x - 9, 46, 18, 12))  # chef's hat
    painter.setBrush(QColor(224, 182, 150))
    painter.drawEllipse(QPointF(x, 66), 10, 10)
    painter.setBrush(QColor(40, 40, 40, 170))
    painter.drawRect(QRectF(0, H - 22, W, 22))
    painter.setPen(QColor(255, 255, 255))
    f = QFont("Noto Sans Mono")
    f.setPixelSize(13)
    painter.setFont(f)
    painter.drawText(QRectF(6, H - 20, W - 12, 18), int(Qt.AlignmentFlag.AlignVCenter),
                     f"KITCHEN CAM  SIMULATED   {int(t // 60):02d}:{t % 60:04.1f}")
    painter.setBrush(QColor(230, 30, 30) if k % 10 < 5 else QColor(90, 20, 20))  # REC lamp
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QPointF(W - 14, 14), 5, 5)


def write(path: Path = CLIP) -> Path:
    from PySide6.QtCore import QEventLoop, QSize, QTimer, QUrl
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtMultimedia import (
        QMediaCaptureSession,
        QMediaFormat,
        QMediaRecorder,
        QVideoFrame,
        QVideoFrameInput,
    )

    frames = FPS * SECONDS
    session = QMediaCaptureSession()
    source = QVideoFrameInput()
    session.setVideoFrameInput(source)
    rec = QMediaRecorder()
    session.setRecorder(rec)
    fmt = QMediaFormat(QMediaFormat.FileFormat.MPEG4)
    fmt.setVideoCodec(QMediaFormat.VideoCodec.H264)
    rec.setMediaFormat(fmt)
    rec.setVideoResolution(QSize(W, H))
    rec.setVideoFrameRate(FPS)
    rec.setQuality(QMediaRecorder.Quality.NormalQuality)  # ~100 KB: MPEG-4 part 2 where no H.264 encoder ships
    tmp = path.with_suffix(".tmp.mp4")
    tmp.unlink(missing_ok=True)
    rec.setOutputLocation(QUrl.fromLocalFile(str(tmp)))
    sent = {"n": 0}
    loop = QEventLoop()
    step = 1_000_000 // FPS

    def push() -> None:
        if sent["n"] >= frames:
            rec.stop()
            return
        img = QImage(W, H, QImage.Format.Format_RGB32)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw(p, sent["n"])
        p.end()
        f = QVideoFrame(img)
        f.setStartTime(sent["n"] * step)
        f.setEndTime((sent["n"] + 1) * step)
        if source.sendVideoFrame(f):
            sent["n"] += 1

    def on_state(state: Any) -> None:
        if state == QMediaRecorder.RecorderState.StoppedState and sent["n"]:
            loop.quit()

    source.readyToSendVideoFrame.connect(push)
    rec.recorderStateChanged.connect(on_state)
    rec.record()
    QTimer.singleShot(100, push)
    QTimer.singleShot(60_000, loop.quit)
    loop.exec()
    if not tmp.exists() or tmp.stat().st_size == 0:
        raise RuntimeError(f"the clip was not written ({rec.errorString()})")
    tmp.replace(path)
    return path


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out = write()
    print(f"{out} {out.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
