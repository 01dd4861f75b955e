"""`python -m sync_service` (ioc-sync): ready line, clean exit on SIGTERM, typed config errors,
idempotent seeding with a generated admin password written once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from sync_service.db.models import AlertRule, Building, Device, DeviceType, Domain, Town, User
from tests.sync_service.server_helpers import ROOT, Client, ServiceProcess, service


async def test_process_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    proc = ServiceProcess(f"sqlite:///{tmp_path / 'ioc.db'}")
    proc.start()
    try:
        async with Client.open(proc.url, "leader") as c:
            assert c.welcome["mode"] == "snapshot"
            assert len(c.snapshot["towns"]) == 34
    finally:
        code = proc.stop()
    assert code == 0  # SIGTERM: components stopped in order, exit 0


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "service.json"
    cfg.write_text('{"ws_port": "eighty"}', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "sync_service", "--config", str(cfg)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2
    assert "ws_port" in r.stderr
    assert "Traceback" not in r.stderr


async def test_seeding_is_idempotent_and_admin_password_generated_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    pw_file = tmp_path / "admin-password.txt"
    async with service(url, admin_password="", demo_users=False) as svc:
        generated = svc.admin_password
        assert generated
        assert pw_file.read_text(encoding="utf-8").split() == ["admin", generated]
        assert pw_file.stat().st_mode & 0o077 == 0  # readable by the owner only
        async with Client.open(svc.url, "admin", generated) as c:
            assert c.welcome["role"] == "admin"

    def counts(s):  # noqa: ANN001, ANN202
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Town, Domain, DeviceType, AlertRule, User))

    async with service(url, admin_password="", demo_users=True) as svc2:
        assert svc2.admin_password is None  # not regenerated
        first = await svc2.ctx.db.read(counts)
    async with service(url, admin_password="", demo_users=True) as svc3:
        assert await svc3.ctx.db.read(counts) == first
    assert first == (34, 10, 14, 17, 6)  # admin + 5 demo accounts


async def test_simulate_provisions_the_city_and_runs_the_simulator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    async with service(url, parts=("sync_service.ingest", "sync_service.alerts"), simulate=True,
                       sim_devices=300, sim_speed=10.0, cim_buildings=4000) as svc:
        sim = svc._sim
        assert sim is not None
        assert sim.poll() is None  # the ioc-sim child runs
        assert sim.args[-2:] == ["--cim-buildings", "4000"]  # it places devices in the same CIM

        def linked(s: Any) -> tuple[int, int, int]:
            placed = s.scalar(select(func.count()).select_from(Device).where(Device.building_id.is_not(None)))
            dangling = s.scalar(select(func.count()).select_from(Device).where(
                Device.building_id.is_not(None), Device.building_id.not_in(select(Building.id))))
            return s.scalar(select(func.count()).select_from(Building)), placed, dangling

        n_buildings, placed, dangling = await svc.ctx.db.read(linked)
        assert n_buildings == 4000  # the synthetic CIM city, seeded on the first start
        assert placed > 20  # detectors, cameras... sit in CIM buildings
        assert dangling == 0  # ...that exist
        async with Client.open(svc.url, "operator") as c:
            r = await c.query("devices.list", {"limit": 5})
            assert r["data"]["total"] == 300
            assert len(c.snapshot["resources"]) > 0  # fire stations, vehicles... provisioned too
    assert sim.poll() is not None  # stopped with the service
