"""Generate the red-alert tone (red_alert.wav): a two-tone siren pulse, 16-bit mono 22.05 kHz.

`python -m resources.sounds.make_tone` rewrites it; the WAV is committed (about 60 KB), so
nothing is generated or downloaded at run time.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050


def tone() -> np.ndarray:
    """Three pulses alternating 880 Hz / 660 Hz, each with a short fade so nothing clicks."""
    parts = []
    for i in range(6):
        f = 880.0 if i % 2 == 0 else 660.0
        t = np.arange(int(RATE * 0.22)) / RATE
        s = 0.6 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 2 * f * t)
        fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.015)
        parts.append(s * fade)
        parts.append(np.zeros(int(RATE * 0.04)))
    return np.concatenate(parts)


def write(path: Path) -> Path:
    pcm = (np.clip(tone(), -1, 1) * 32767 * 0.8).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return path


if __name__ == "__main__":
    print(write(Path(__file__).with_name("red_alert.wav")))
