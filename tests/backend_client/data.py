"""Entity dicts for client tests (wire form, as the service sends them)."""

from __future__ import annotations

from typing import Any


def alert(i: int, level: int = 2, state: str = "new", **kw: Any) -> dict[str, Any]:
    return dict(id=i, source="rule", level=level, state=state, domain="fire", town="nancheng",
                title=f"烟感告警 {i}", title_en=f"smoke {i}", first_ts=1.0, last_ts=1.0,
                updated_ts=1.0, **kw)


def town(code: str = "nancheng") -> dict[str, Any]:
    return dict(code=code, name_zh="南城街道", name_en="Nancheng", kind="street",
                population=300000, lon=113.75, lat=23.0)
