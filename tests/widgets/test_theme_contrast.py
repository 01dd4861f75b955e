"""Readable themes: the camera tile's "no signal" text and the hidden-red strip as they are
really painted inside a hall's panel frame (a '#PanelFrame QLabel' rule once took their
backgrounds away: pale orange, or white, on a white panel), and every text colour of the
themes against the background it sits on."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

from app.alert_filter import AlertFilter
from app.halls import shipped_profiles
from app.settings import ConsoleSettings
from views.context import ViewContext
from views.page import PanelFrame
from views.theme import apply_theme, stylesheet

PANEL_BG = {"dark": ["#0b1622", "#0f1e2d"], "light": ["#ffffff", "#f4f6f8"]}
MIN_CONTRAST = {"dark": 7.0, "light": 4.5}  # the wall is read from 10 m: WCAG AAA there, AA on a laptop


def luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def as_seen(frame: QWidget, child: QWidget) -> QImage:
    """The child as it appears in the frame, whatever shows through it (a child's own grab
    leaves a transparent background transparent)."""
    return frame.grab(QRect(child.mapTo(frame, QPoint(0, 0)), child.size())).toImage()


def painted_colours(img: QImage) -> tuple[QColor, QColor]:
    """(background, text) of a rendered label: the commonest pixel, and the pixel that stands
    out most from it (the core of a bold glyph has the full text colour)."""
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    counts: Counter[int] = Counter(img.pixel(x, y) for y in range(0, img.height(), 2) for x in range(img.width()))
    bg = QColor.fromRgb(counts.most_common(1)[0][0])
    text = max((QColor.fromRgb(p) for p in counts), key=lambda c: contrast(c, bg))
    return bg, text


@pytest.fixture(params=["dark", "light"])
def theme(request: Any, qapp: Any) -> Iterator[str]:
    apply_theme(qapp, request.param)
    yield request.param
    qapp.setStyleSheet("")


def _ctx(store: Any, sink: Any) -> ViewContext:
    return ViewContext(store, sink, ConsoleSettings(), shipped_profiles()["operations"])


def test_no_signal_is_readable_in_a_panel(theme: str, store: Any, sink: Any, qtbot: Any, qapp: Any) -> None:
    frame = PanelFrame(_ctx(store, sink), "camera", {})  # no source: the tile says so
    qtbot.addWidget(frame)
    frame.resize(520, 340)
    frame.show()
    qapp.processEvents()
    label = frame.body.no_signal
    assert label.isVisible()
    assert label.text() == "无视频源"
    bg, text = painted_colours(as_seen(frame, label))
    ratio = contrast(bg, text)
    assert ratio >= MIN_CONTRAST[theme], f"{theme}: text {text.name()} on {bg.name()} is {ratio:.1f}:1"
    # a video tile without a picture is a dark screen in both themes, not the panel's colour
    assert luminance(bg) < 0.05
    if theme == "dark":
        assert label.font().pixelSize() >= 28  # big enough for the wall


def test_hidden_red_strip_is_readable_in_a_panel(theme: str, city_store: Any, sink: Any, qtbot: Any,
                                                 qapp: Any) -> None:
    frame = PanelFrame(_ctx(city_store, sink), "alert_feed", {})
    qtbot.addWidget(frame)
    frame.resize(900, 500)
    frame.show()
    f = AlertFilter()
    f.levels = {1}  # only blue: the red ones are hidden, and the strip says so
    frame.body.apply_filter(f)
    qapp.processEvents()
    notice = frame.body.hidden_notice
    assert notice.isVisible()
    bg, text = painted_colours(as_seen(frame, notice))
    assert bg.red() > 150
    assert bg.green() < 80
    assert contrast(bg, text) >= 4.5


def _rules(theme: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", stylesheet(theme), flags=re.S)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)]


@pytest.mark.parametrize("name", ["dark", "light"])
def test_every_text_colour_stands_out_from_its_background(name: str) -> None:
    """Static check of the QSS: a rule's text colour against its own background, or the panel
    backgrounds when it has none. Disabled controls are meant to look faint; the banner's
    labels sit on the banner's red."""
    checked = 0
    for sel, body in _rules(name):
        colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", body)
        if colour is None or ":disabled" in sel or sel.startswith("#RedAlertBanner"):
            continue
        bg = re.search(r"background(?:-color)?:\s*(#[0-9a-fA-F]{6})", body)
        against = [bg.group(1)] if bg else PANEL_BG[name]
        worst = min(contrast(QColor(colour.group(1)), QColor(b)) for b in against)
        assert worst >= 4.5, f"{name}: {sel} {colour.group(1)} on {against}: {worst:.2f}:1"
        checked += 1
    assert checked > 20



@pytest.mark.parametrize("name", ["dark", "light"])
def test_style_sheet_images_are_found(name: str) -> None:
    """Images in the QSS (the combo arrow) are named by absolute path: Qt resolves a url() from
    the working directory, so a relative one vanishes when the console starts elsewhere."""
    from pathlib import Path
    css = stylesheet(name)
    assert "@STYLES@" not in css
    urls = re.findall(r"url\(([^)]+)\)", css)
    assert urls
    for u in urls:
        assert Path(u).is_absolute()
        assert Path(u).is_file(), u


def test_warning_numbers_painted_in_code_read_on_their_theme(theme: str, city_store: Any, sink: Any, qtbot: Any,
                                                             qapp: Any) -> None:
    """Offline and faulty counts (device health) and a KPI value past its warning threshold are
    painted in code, not QSS: on the light theme their colours were yellow and salmon on white."""
    from widgets.common import status_text_colour
    from widgets.device_health import DeviceHealth
    for kind in ("warn", "alarm"):
        for bg in PANEL_BG[theme]:
            assert contrast(status_text_colour(kind), QColor(bg)) >= 4.5, (theme, kind, bg)
    panel = DeviceHealth(city_store, sink)
    qtbot.addWidget(panel)
    panel.rebuild()
    top = panel.tree.topLevelItem(0)
    assert top.foreground(3).color() == status_text_colour("alarm")
    assert top.foreground(4).color() == status_text_colour("warn")
