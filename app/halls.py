"""Hall profiles as data: which panels go on which screen, in which grid cells.

A profile is a versioned JSON file. Shipped profiles live in resources/layouts/; a user's saved
or edited copies live in <config dir>/layouts/ and take precedence by id. Qt-free: the views
turn a Profile into windows.

Shape (schema_version 1)::

    {"schema_version": 1, "id": "operations", "name_zh": "运营大厅", "name_en": "Operations hall",
     "theme": "dark", "scale": "" | "wall" | "laptop", "kiosk": true, "follow_focus": true, "sends_focus": false,
     "screens": [{"name_zh": ..., "name_en": ..., "mode": "grid" | "tabs" | "playlist",
                  "rotate_s": 20,
                  "pages": [{"name_zh": ..., "name_en": ..., "rows": 2, "cols": 3,
                             "cells": [{"panel": "alert_feed", "row": 0, "col": 0,
                                        "rowspan": 1, "colspan": 1, "options": {}}]}]}]}
"""

from __future__ import annotations

import json
import re
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.settings import config_dir

LAYOUT_SCHEMA_VERSION = 1


class LayoutError(ValueError):
    """A profile file that cannot be used; the message says which file and what is wrong."""


class Cell(BaseModel):
    model_config = ConfigDict(extra="forbid")
    panel: str
    row: int = Field(default=0, ge=0)
    col: int = Field(default=0, ge=0)
    rowspan: int = Field(default=1, ge=1)
    colspan: int = Field(default=1, ge=1)
    options: dict[str, Any] = Field(default_factory=dict)


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str = ""
    name_en: str = ""
    rows: int = Field(default=1, ge=1, le=8)
    cols: int = Field(default=1, ge=1, le=8)
    cells: list[Cell] = Field(default_factory=list)
    row_stretch: list[int] = Field(default_factory=list)
    col_stretch: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cells_fit(self) -> Page:
        taken: set[tuple[int, int]] = set()
        for c in self.cells:
            if c.row + c.rowspan > self.rows or c.col + c.colspan > self.cols:
                raise ValueError(f"cell {c.panel!r} at ({c.row},{c.col}) does not fit a {self.rows}x{self.cols} grid")
            area = {(r, k) for r in range(c.row, c.row + c.rowspan) for k in range(c.col, c.col + c.colspan)}
            if area & taken:
                raise ValueError(f"cell {c.panel!r} at ({c.row},{c.col}) overlaps another cell")
            taken |= area
        return self

    def cell_at(self, row: int, col: int) -> Cell | None:
        for c in self.cells:
            if c.row <= row < c.row + c.rowspan and c.col <= col < c.col + c.colspan:
                return c
        return None


class Screen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str = ""
    name_en: str = ""
    mode: Literal["grid", "tabs", "playlist"] = "grid"
    rotate_s: float = Field(default=20.0, ge=2, le=3600)
    pages: list[Page] = Field(min_length=1)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = LAYOUT_SCHEMA_VERSION
    id: str = Field(pattern=r"^[a-z0-9_\-]{1,40}$")
    name_zh: str
    name_en: str
    theme: Literal["dark", "light"] = "dark"
    # type scale: "wall" (read from 10 m) or "laptop" (arm's length); "" = by kiosk, whatever
    # the colour theme (a duty laptop switched to the dark theme keeps laptop-size type)
    scale: Literal["", "wall", "laptop"] = ""
    kiosk: bool = False  # wall machine: frameless full screen per QScreen, no accidental close
    follow_focus: bool = False  # bring up the incident the decision room puts in focus
    sends_focus: bool = False  # this hall sets the focus (decision room)
    header: bool = True
    screens: list[Screen] = Field(min_length=1)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def type_scale(self) -> str:
        return self.scale or ("wall" if self.kiosk else "laptop")

    def panels(self) -> list[str]:
        return [c.panel for s in self.screens for p in s.pages for c in p.cells]


def parse_profile(data: dict[str, Any], source: str = "<data>") -> Profile:
    version = data.get("schema_version", LAYOUT_SCHEMA_VERSION)
    if version != LAYOUT_SCHEMA_VERSION:
        raise LayoutError(f"{source}: layout schema_version {version!r} is not supported (expected 1)")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise LayoutError(f"{source}: {loc}: {first.get('msg')}") from None


def load_profile_file(path: Path) -> Profile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LayoutError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{path}: a profile must be a JSON object")
    return parse_profile(data, str(path))


def user_layouts_dir() -> Path:
    return config_dir() / "layouts"


def shipped_profiles() -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    folder = importlib_resources.files("resources") / "layouts"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            p = parse_profile(json.loads(entry.read_text(encoding="utf-8")), f"resources/layouts/{entry.name}")
            out[p.id] = p
    return out


SHIPPED_ORDER = ("front", "operations", "decision", "intelligence", "duty")


def available_profiles(errors: list[str] | None = None) -> dict[str, Profile]:
    """Shipped profiles, overridden or extended by the user's copies (bad user files are
    reported in `errors`, never fatal)."""
    out = shipped_profiles()
    folder = user_layouts_dir()
    if folder.is_dir():
        for f in sorted(folder.glob("*.json")):
            try:
                p = load_profile_file(f)
            except LayoutError as exc:
                if errors is not None:
                    errors.append(str(exc))
                continue
            out[p.id] = p
    order = {k: i for i, k in enumerate(SHIPPED_ORDER)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def save_user_profile(profile: Profile) -> Path:
    folder = user_layouts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{profile.id}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(profile.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def slug(text: str) -> str:
    """A profile id from a user's name for it (ASCII letters/digits kept; else 'custom')."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]
    return s or "custom"


Address = tuple[int, int, int]  # screen, page, cell index
PageAddress = tuple[int, int]  # screen, page


def _edited(data: dict[str, Any], what: str) -> Profile:
    """The edited profile, validated; an edit that breaks the grid is a LayoutError naming it."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        msg = exc.errors()[0].get("msg", str(exc)).removeprefix("Value error, ")
        raise LayoutError(f"{what}: {msg}") from None


def _page(data: dict[str, Any], at: PageAddress) -> dict[str, Any]:
    return data["screens"][at[0]]["pages"][at[1]]


def move_cell(profile: Profile, src: Address, dst: Address) -> Profile:
    """Swap the panels of two cells (on any screens and pages); sizes stay with the places."""
    data = profile.model_dump()
    s_cell = _page(data, src[:2])["cells"][src[2]]
    d_cell = _page(data, dst[:2])["cells"][dst[2]]
    for key in ("panel", "options"):
        s_cell[key], d_cell[key] = d_cell[key], s_cell[key]
    return _edited(data, "move")


def move_cell_to(profile: Profile, src: Address, page: PageAddress, row: int, col: int) -> Profile:
    """Move a cell, with its panel and size, to a free place (this page or another's)."""
    data = profile.model_dump()
    cell = _page(data, src[:2])["cells"].pop(src[2])
    cell.update(row=row, col=col)
    target = _page(data, page)
    # a cell that does not fit its new place there (too wide, too tall) shrinks to fit
    cell["rowspan"] = max(min(cell["rowspan"], target["rows"] - row), 1)
    cell["colspan"] = max(min(cell["colspan"], target["cols"] - col), 1)
    target["cells"].append(cell)
    return _edited(data, "move")


def set_cell_panel(profile: Profile, at: Address, panel: str) -> Profile:
    data = profile.model_dump()
    cell = _page(data, at[:2])["cells"][at[2]]
    cell["panel"], cell["options"] = panel, {}
    return _edited(data, "replace")


def add_cell(profile: Profile, page: PageAddress, row: int, col: int, panel: str) -> Profile:
    """A new 1x1 cell showing a panel at a free place of a page."""
    data = profile.model_dump()
    _page(data, page)["cells"].append({"panel": panel, "row": row, "col": col, "rowspan": 1, "colspan": 1,
                                       "options": {}})
    return _edited(data, "add")


def remove_cell(profile: Profile, at: Address) -> Profile:
    data = profile.model_dump()
    _page(data, at[:2])["cells"].pop(at[2])
    return _edited(data, "remove")


def resize_cell(profile: Profile, at: Address, rowspan: int, colspan: int) -> Profile:
    """A cell spanning more or fewer rows and columns; it may not overlap another or leave the grid."""
    data = profile.model_dump()
    cell = _page(data, at[:2])["cells"][at[2]]
    cell["rowspan"], cell["colspan"] = rowspan, colspan
    return _edited(data, "resize")


def set_grid(profile: Profile, page: PageAddress, rows: int, cols: int) -> Profile:
    """A page with more or fewer rows and columns; the cells must still fit (remove or shrink
    them first). Stretch factors keep theirs, new rows and columns get 1."""
    data = profile.model_dump()
    p = _page(data, page)
    p["rows"], p["cols"] = rows, cols
    for key, n in (("row_stretch", rows), ("col_stretch", cols)):
        if p[key]:
            p[key] = (p[key] + [1] * n)[:n]
    return _edited(data, "grid")


def free_places(page: Page) -> list[tuple[int, int]]:
    """The grid places no cell covers, row by row."""
    return [(r, c) for r in range(page.rows) for c in range(page.cols) if page.cell_at(r, c) is None]


def fold_screens(profile_screens: int, physical: int, kiosk: bool) -> list[list[int]]:
    """Which profile screens go into which window. A wall (kiosk) gets one window per physical
    screen; when the profile has more screens than the machine, the extra ones fold as tabs
    into the last window. A desk machine (not kiosk) shows every screen as a tab of one window.
    """
    if profile_screens <= 0:
        return []
    if not kiosk or physical <= 1:
        return [list(range(profile_screens))]
    windows = [[i] for i in range(min(profile_screens, physical))]
    windows[-1].extend(range(len(windows), profile_screens))
    return windows


def page_with_panel(profile: Profile, panel: str) -> tuple[int, int] | None:
    """(screen, page) of the first page showing a panel: where focus-following switches to."""
    for si, s in enumerate(profile.screens):
        for pi, p in enumerate(s.pages):
            if any(c.panel == panel for c in p.cells):
                return si, pi
    return None
