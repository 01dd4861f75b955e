"""Write a short test video with Qt Multimedia itself (QVideoFrameInput -> QMediaRecorder), so
the camera tile can be tested on a real file without downloading anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QSize, QTimer, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import (
    QMediaCaptureSession,
    QMediaFormat,
    QMediaRecorder,
    QVideoFrame,
    QVideoFrameInput,
)


def write_video(path: Path, frames: int = 30, fps: int = 10) -> Path:
    session = QMediaCaptureSession()
    source = QVideoFrameInput()
    session.setVideoFrameInput(source)
    rec = QMediaRecorder()
    session.setRecorder(rec)
    fmt = QMediaFormat(QMediaFormat.FileFormat.MPEG4)
    fmt.setVideoCodec(QMediaFormat.VideoCodec.H264)
    rec.setMediaFormat(fmt)
    rec.setVideoResolution(QSize(160, 120))
    rec.setVideoFrameRate(fps)
    rec.setOutputLocation(QUrl.fromLocalFile(str(path)))
    sent = {"n": 0}
    loop = QEventLoop()
    step = 1_000_000 // fps

    def push() -> None:
        if sent["n"] >= frames:
            rec.stop()
            return
        img = QImage(160, 120, QImage.Format.Format_RGB32)
        img.fill(QColor((sent["n"] * 8) % 255, 90, 170))
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
    QTimer.singleShot(20_000, loop.quit)
    loop.exec()
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"could not write the test video {path}")
    return path
