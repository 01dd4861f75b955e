"""Service configuration: defaults, then the config file, then IOC_* environment variables.

Config file: JSON at <user config dir>/ioc-console/service.json or the path in IOC_CONFIG.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from platformdirs import user_config_dir

from sync_service.db.engine import APP_NAME, default_db_url


@dataclass
class ServiceConfig:
    db_url: str = field(default_factory=default_db_url)
    host: str = "127.0.0.1"
    ws_port: int = 8765  # websocket: consoles
    http_port: int = 8766  # HTTP: ingest endpoints, CAP, health
    server_id: str = ""  # defaults to host:pid at start
    # websocket limits
    max_frame_bytes: int = 1 << 20
    origins: list[str] = field(default_factory=lambda: ["", "null"])  # "" = no Origin header
    rate_per_s: float = 50.0  # inbound frames per connection (token bucket)
    rate_burst: int = 200
    heartbeat_s: float = 5.0
    send_queue_max: int = 20000  # events queued for one slow client before it is cut off
    replay_window: int = 1_000_000  # events a client may resume across; older -> snapshot
    session_ttl_s: float = 7 * 24 * 3600
    stop_timeout_s: float = 20.0  # stop() returns within about this, whatever the load
    # ingestion
    mqtt_enabled: bool = True
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_prefix: str = "ioc/v1"
    # Shared subscription group: every service process on one store subscribes as
    # $share/<group>/<prefix>/# and the broker hands each message to one of them. "" = a plain
    # subscription (then each process would ingest every message).
    mqtt_share_group: str = "ioc-sync"
    embedded_mqtt_fallback: bool = True  # no broker: run without MQTT, HTTP ingest still works
    ts_max_past_s: float = 7 * 24 * 3600
    ts_max_future_s: float = 300.0
    state_flush_s: float = 10.0  # devices' last state (values, health, seen) to the store, this often
    # scale-out (several processes on one PostgreSQL): the leader merges the devices' state the
    # others flushed this often (docs/ingest.md, "Scale-out")
    leader_merge_s: float = 5.0
    # alerts
    escalate_after_s: float = 300.0  # red/orange not acknowledged within this escalates
    # storage
    raw_retention_s: float = 2 * 24 * 3600
    hourly_retention_s: float = 400 * 24 * 3600
    # simulator
    simulate: bool = False
    sim_seed: int = 2024
    sim_devices: int = 100_000
    sim_speed: float = 1.0
    sim_secret: str = "ioc-sim-provisioning"  # derives simulated device and bureau keys
    # the synthetic CIM city seeded (with sim_seed) on a first --simulate start into an empty
    # buildings table, and the buildings the simulated devices are placed in; 0 = none
    cim_buildings: int = 1_700_000
    # bootstrap admin (first start only)
    admin_user: str = "admin"
    admin_password: str = ""  # empty: generated and written to <data dir>/admin-password.txt
    demo_users: bool = False  # create the demo operator/leader/duty/bureau accounts

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: object) -> ServiceConfig:
        cfg = cls()
        p = Path(path or os.environ.get("IOC_CONFIG") or Path(user_config_dir(APP_NAME, appauthor=False)) / "service.json")
        if p.exists():
            data = json.loads(p.read_text(encoding="utf-8"))
            cfg._apply(data, source=str(p))
        env = {f.name: os.environ[f"IOC_{f.name.upper()}"] for f in fields(cls) if f"IOC_{f.name.upper()}" in os.environ}
        cfg._apply(env, source="environment")
        cfg._apply({k: v for k, v in overrides.items() if v is not None}, source="arguments")
        return cfg

    def _apply(self, data: dict[str, object], *, source: str) -> None:
        known = {f.name: f for f in fields(self)}
        for key, raw in data.items():
            if key not in known:
                raise ValueError(f"{source}: unknown setting {key!r}")
            current = getattr(self, key)
            setattr(self, key, _coerce(raw, current, key, source))


def _coerce(raw: object, current: object, key: str, source: str) -> object:
    try:
        if isinstance(current, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in {"1", "true", "yes", "on"}
            return bool(raw)
        if isinstance(current, int):
            return int(raw)  # type: ignore[arg-type]
        if isinstance(current, float):
            return float(raw)  # type: ignore[arg-type]
        if isinstance(current, list):
            return raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
        return str(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: setting {key!r} has a bad value {raw!r}") from None
