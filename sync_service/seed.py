"""First-start data: towns, bureaus, device types, default rules, the admin and demo accounts.

Idempotent: every step inserts only what is missing, so it runs on every start. Default rules
are seeded only into an empty rule table: after that rules are data an admin edits (a deleted
default rule must not come back on the next start).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from protocol.enums import Role
from sync_service import catalog
from sync_service.auth import audit, create_user
from sync_service.db.engine import APP_NAME
from sync_service.db.models import AlertRule, DeviceType, Domain, Town, User

log = logging.getLogger(__name__)

DEMO_PASSWORD = "ioc-demo-2024"
# username, role, domains (None = all), display name
DEMO_USERS: tuple[tuple[str, Role, list[str] | None, str], ...] = (
    ("operator", Role.OPERATOR, None, "运营大厅值班员"),
    ("leader", Role.LEADER, None, "指挥长"),
    ("duty", Role.DUTY_OFFICER, None, "值班主任"),
    ("bureau_fire", Role.BUREAU_OPERATOR, ["fire"], "消防支队操作员"),
    ("bureau_water", Role.BUREAU_OPERATOR, ["water"], "水务局操作员"),
)


def data_dir(db_url: str) -> Path:
    """Where first-start files go: next to a SQLite database, else the user data directory."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    d = Path(user_data_dir(APP_NAME, appauthor=False))
    d.mkdir(parents=True, exist_ok=True)
    return d


def seed_reference(s: Session) -> dict[str, int]:
    """Towns, domains, device types and (into an empty table) the default rules."""
    from citymodel.towns import load_towns

    added = {"towns": 0, "domains": 0, "device_types": 0, "rules": 0}
    have = set(s.scalars(select(Town.code)))
    for t in load_towns():
        if t.code in have:
            continue
        lon, lat = t.centroid
        s.add(Town(code=t.code, name_zh=t.info.name_zh, name_en=t.info.name_en, kind=t.info.kind,
                   population=t.info.population, lon=round(lon, 6), lat=round(lat, 6),
                   geometry=_geojson(t.geometry)))
        added["towns"] += 1
    have = set(s.scalars(select(Domain.code)))
    for code, zh, en in catalog.DOMAINS:
        if code not in have:
            s.add(Domain(code=code, name_zh=zh, name_en=en))
            added["domains"] += 1
    s.flush()  # device types reference domains
    have = set(s.scalars(select(DeviceType.code)))
    for dt in catalog.DEVICE_TYPES:
        if dt.code in have:
            continue
        metrics = [{"name": m.name, "unit": m.unit, "min": m.min, "max": m.max,
                    "name_zh": m.name_zh, "name_en": m.name_en} for m in dt.metrics]
        s.add(DeviceType(code=dt.code, domain=dt.domain, name_zh=dt.name_zh, name_en=dt.name_en,
                         metrics=metrics, period_s=dt.period_s))
        added["device_types"] += 1
    s.flush()
    if not s.scalar(select(func.count()).select_from(AlertRule)):
        for dt in catalog.DEVICE_TYPES:
            for r in dt.rules:
                s.add(_rule(dt.code, r))
                added["rules"] += 1
    return added


def _rule(device_type: str, r: dict[str, Any]) -> AlertRule:
    return AlertRule(
        device_type=device_type, metric=r["metric"], direction=r.get("direction", "above"),
        thresholds={str(k): float(v) for k, v in r.get("thresholds", {}).items()},
        hysteresis=float(r.get("hysteresis", 0.0)), min_duration_s=float(r.get("min_duration_s", 0.0)),
        rate_per_min=r.get("rate_per_min"), rate_level=int(r.get("rate_level", 2)),
        offline_periods=r.get("offline_periods"), offline_level=int(r.get("offline_level", 1)),
        enabled=True, title_zh=r.get("title_zh", ""), title_en=r.get("title_en", ""), updated_ts=0.0,
    )


def _geojson(geom: Any) -> dict[str, Any]:
    g = mapping(geom)
    # tuples -> lists, rounded to ~1 m: JSON columns and the wire want plain lists
    def fix(c: Any) -> Any:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(x), 6) for x in c]
        return [fix(x) for x in c]
    return {"type": g["type"], "coordinates": fix(g["coordinates"])}


def seed_users(s: Session, *, admin_user: str, admin_password: str, demo_users: bool,
               password_file: Path) -> str | None:
    """Create the admin (and demo accounts). Returns a generated admin password, shown once."""
    generated: str | None = None
    if s.scalar(select(User).where(User.username == admin_user)) is None:
        password = admin_password
        if not password:
            password = generated = secrets.token_urlsafe(12)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(f"{admin_user}\n{password}\n", encoding="utf-8")
            password_file.chmod(0o600)
        create_user(s, admin_user, password, Role.ADMIN, display_name="系统管理员")
        audit(s, "system", "user.create", admin_user, detail={"role": "admin", "seed": True})
    if demo_users:
        for name, role, domains, display in DEMO_USERS:
            if s.scalar(select(User).where(User.username == name)) is None:
                create_user(s, name, DEMO_PASSWORD, role, domains=domains, display_name=display)
                audit(s, "system", "user.create", name, detail={"role": str(role), "seed": True})
    return generated
