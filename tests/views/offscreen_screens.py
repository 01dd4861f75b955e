"""Plug and unplug screens on Qt's offscreen platform while the application runs.

The offscreen plugin reads its screens from a JSON configfile at start and can be given a new
configuration later: screens named in it appear (QGuiApplication.screenAdded), screens no longer
named vanish (screenRemoved), as when a monitor is plugged in or pulled out. That entry point is
the plugin's native interface ("setConfiguration"), which PySide6 does not wrap: it is reached
with ctypes through Qt's exported symbols (Linux, x86-64 Itanium C++ ABI).
"""

from __future__ import annotations

import ctypes
import json
import os
from typing import Any

import PySide6
import shiboken6
from PySide6.QtCore import QByteArray, QJsonDocument
from PySide6.QtGui import QGuiApplication

_LIB = os.path.join(os.path.dirname(PySide6.__file__), "Qt", "lib")
_P = ctypes.c_void_p


def screen(name: str, x: int, y: int, w: int, h: int) -> dict[str, Any]:
    return {"name": name, "x": x, "y": y, "width": w, "height": h, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}


def config(*screens: dict[str, Any]) -> dict[str, Any]:
    return {"screens": list(screens)}


def _vtable_index(gui: ctypes.CDLL) -> int:
    """Where nativeResourceForIntegration sits in QPlatformNativeInterface's vtable (found by
    address in the base class's vtable, not assumed)."""
    vtable = ctypes.addressof(_P.in_dll(gui, "_ZTV24QPlatformNativeInterface")) + 16  # after offset and RTTI
    fn = ctypes.cast(gui["_ZN24QPlatformNativeInterface28nativeResourceForIntegrationERK10QByteArray"], _P).value
    for i in range(64):
        if _P.from_address(vtable + 8 * i).value == fn:
            return i
    raise RuntimeError("nativeResourceForIntegration not found in the vtable")


def set_configuration(cfg: dict[str, Any]) -> None:
    """Give the running offscreen platform a new screen configuration (see screen(), config())."""
    if QGuiApplication.platformName() != "offscreen":
        raise RuntimeError(f"needs the offscreen platform, not {QGuiApplication.platformName()!r}")
    gui = ctypes.CDLL(os.path.join(_LIB, "libQt6Gui.so.6"))
    core = ctypes.CDLL(os.path.join(_LIB, "libQt6Core.so.6"))
    get_iface = gui["_ZN15QGuiApplication23platformNativeInterfaceEv"]
    get_iface.restype = _P
    iface = get_iface()
    vptr = _P.from_address(iface).value
    resource_for = ctypes.CFUNCTYPE(_P, _P, _P)(_P.from_address(vptr + 8 * _vtable_index(gui)).value)
    name = QByteArray(b"setConfiguration")
    setter = resource_for(iface, shiboken6.getCppPointer(name)[0])
    if not setter:
        raise RuntimeError("the offscreen platform has no setConfiguration")
    doc = QJsonDocument.fromJson(QByteArray(json.dumps(cfg).encode()))
    obj = ctypes.create_string_buffer(16)  # a QJsonObject: one d-pointer
    to_object = ctypes.CFUNCTYPE(_P, _P, _P)(ctypes.cast(core["_ZNK13QJsonDocument6objectEv"], _P).value)
    to_object(ctypes.addressof(obj), shiboken6.getCppPointer(doc)[0])  # returned through a hidden pointer
    try:
        ctypes.CFUNCTYPE(None, _P, _P)(setter)(ctypes.addressof(obj), iface)
    finally:
        ctypes.CFUNCTYPE(None, _P)(ctypes.cast(core["_ZN11QJsonObjectD1Ev"], _P).value)(ctypes.addressof(obj))
