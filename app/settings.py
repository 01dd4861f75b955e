"""The console's persisted settings: one validated model in a JSON file in the config directory.

Qt-free (the Qt layer reads and writes through this). Where: IOC_CONSOLE_CONFIG_DIR, else the
platform's user config dir /ioc-console/console.json. Environment overrides with the prefix
IOC_CONSOLE_ (e.g. IOC_CONSOLE_HALL=operations for an unattended wall machine). A file from an
older schema_version is migrated; a broken file is kept aside (console.json.bad) and defaults
are used, so a bad edit never stops the console from starting.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
APP_DIR_NAME = "ioc-console"
ENV_PREFIX = "IOC_CONSOLE_"


class Geometry(BaseModel):
    """A desk window's place on one screen: its normal rectangle, and whether it was maximised
    (a maximised window's rectangle restored as a normal window hangs its frame off the screen)."""

    x: int
    y: int
    w: int
    h: int
    maximised: bool = False


class ConsoleSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SCHEMA_VERSION
    server_url: str = "ws://127.0.0.1:8765"
    user: str = ""
    hall: str = ""  # last hall profile chosen; a fixed hall comes from --hall or the environment
    theme: str = Field(default="", pattern="^(|dark|light)$")  # "" = the profile's own theme
    language: str = Field(default="zh", pattern="^(zh|en)$")
    mute: bool = False
    filters: dict[str, Any] = Field(default_factory=dict)  # alert-feed filter per hall
    geometry: dict[str, Geometry] = Field(default_factory=dict)  # window geometry per screen name


def config_dir() -> Path:
    env = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    return Path(env) if env else Path(user_config_dir(APP_DIR_NAME, appauthor=False))


def settings_path() -> Path:
    return config_dir() / "console.json"


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = int(data.get("schema_version", 1))
    if version < 2:
        # v1 kept a single "geometry" rectangle and called the hall "last_hall"
        if "last_hall" in data:
            data["hall"] = data.pop("last_hall")
        geo = data.get("geometry")
        if isinstance(geo, list) and len(geo) == 4:
            data["geometry"] = {"primary": dict(zip("xywh", geo, strict=True))}
    data["schema_version"] = SCHEMA_VERSION
    return data


def _env_overrides() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field in ConsoleSettings.model_fields.items():
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is None or field.annotation not in (str, bool):
            continue
        out[name] = raw.lower() in {"1", "true", "yes"} if field.annotation is bool else raw
    return out


def load_settings(path: Path | None = None) -> ConsoleSettings:
    p = path or settings_path()
    data: dict[str, Any] = {}
    if p.exists():
        try:
            data = _migrate(json.loads(p.read_text(encoding="utf-8")))
            ConsoleSettings.model_validate(data)
        except (OSError, ValueError, ValidationError) as exc:
            log.warning("settings file %s is unreadable (%s); using defaults, kept as .bad", p, exc)
            try:
                p.replace(p.with_suffix(".json.bad"))
            except OSError:
                pass
            data = {}
    data.update(_env_overrides())
    try:
        return ConsoleSettings.model_validate(data)
    except ValidationError as exc:
        log.warning("ignoring invalid settings override: %s", exc)
        return ConsoleSettings()


def save_settings(s: ConsoleSettings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    p = path or settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(s.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(p)
    return p
