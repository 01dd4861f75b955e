"""Themes (QSS in resources/styles) and the UI language (Qt Linguist .qm in resources/i18n).

A style is a colour theme (dark.qss, light.qss) plus a type scale (wall.qss: read from 10 m;
laptop.qss: arm's length). The scale follows the hall profile (Profile.type_scale), so a duty
laptop in the dark theme keeps laptop-size type; without one named, a theme brings its own
(dark: wall, light: laptop)."""

from __future__ import annotations

import logging
import sys
from importlib import resources as importlib_resources
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from widgets.common import set_language

log = logging.getLogger(__name__)
THEMES = ("dark", "light")
SCALES = ("wall", "laptop")
_PLOT_COLOURS = {"dark": ("#0d1b29", "#cfe8ff"), "light": ("#ffffff", "#1b2733")}
_installed: list[QTranslator] = []


def default_scale(theme: str) -> str:
    return "laptop" if theme == "light" else "wall"


def stylesheet(theme: str, scale: str | None = None) -> str:
    """The theme's colours and the scale's sizes as one QSS; @STYLES@ in it names the styles
    folder (its images), because Qt reads a url() relative to the working directory."""
    name = theme if theme in THEMES else "dark"
    size = scale if scale in SCALES else default_scale(name)
    styles = importlib_resources.files("resources") / "styles"
    text = (styles / f"{name}.qss").read_text(encoding="utf-8") + (styles / f"{size}.qss").read_text(encoding="utf-8")
    return text.replace("@STYLES@", Path(str(styles)).as_posix())


def apply_theme(app: QApplication, theme: str, scale: str | None = None, *, plots: bool = True) -> None:
    """QSS for widgets; pyqtgraph draws itself, so its colours are set to match (plots made
    after this call use them; the wall rebuilds its windows on a theme change). plots=False
    leaves that to configure_plots() before the first plot is built (pyqtgraph's import is
    ~200-450 ms the console need not spend before its first frame)."""
    size = scale if scale in SCALES else default_scale(theme)
    app.setStyleSheet(stylesheet(theme, size))
    app.setProperty("ioc_theme", theme)
    app.setProperty("ioc_scale", size)
    if plots or "pyqtgraph" in sys.modules:
        configure_plots()


def apply_scale(app: QApplication, scale: str) -> None:
    """The profile's type scale under the theme in use (nothing to do when no theme is set or
    the scale is already on: setting an application style sheet restyles every widget)."""
    theme = app.property("ioc_theme")
    if theme and app.property("ioc_scale") != scale:
        apply_theme(app, theme, scale, plots=False)


def configure_plots() -> None:
    """pyqtgraph's colours for the application's theme (imports pyqtgraph)."""
    import pyqtgraph as pg
    app = QApplication.instance()
    theme = app.property("ioc_theme") if app is not None else None
    bg, fg = _PLOT_COLOURS.get(str(theme), _PLOT_COLOURS["dark"])
    pg.setConfigOptions(background=bg, foreground=fg, antialias=True)


def qm_path(lang: str) -> Path:
    return Path(str(importlib_resources.files("resources") / "i18n" / f"ioc_{lang}.qm"))


def apply_language(app: QApplication, lang: str) -> bool:
    """Install the translators for a language ("zh" is the source language: none needed).
    Returns False when the .qm file is missing (run `make translations`); the UI stays Chinese."""
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    set_language(lang)
    if lang == "zh":
        QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
        return True
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    ok = True
    ours = QTranslator(app)
    if ours.load(str(qm_path(lang))):
        app.installTranslator(ours)
        _installed.append(ours)
    else:
        log.warning("translation %s not found; run `make translations`", qm_path(lang))
        ok = False
    qt = QTranslator(app)
    if qt.load(QLocale(QLocale.Language.English), "qtbase", "_",
               QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    return ok
