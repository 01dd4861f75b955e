"""The composition root: config -> store -> components, started in order, stopped in reverse.

    svc = SyncService(ServiceConfig.load(...))
    await svc.start()       # migrate, seed, hub, leadership, scale-out listener, ingest, alerts, metrics,
    ...                     # websocket server, simulator child
    await svc.stop()

`run(config)` does that until SIGTERM/SIGINT. Parts owned by other packages (ingest, alerts,
metrics, the simulator) are optional: a part whose package is not installed is skipped with a
log line; a part that is present is started, and its failure to start fails the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from typing import Any

from sqlalchemy import func, select

from sync_service.commands import load_all
from sync_service.commands.dispatch import Dispatcher
from sync_service.config import ServiceConfig
from sync_service.context import ServiceContext
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.db.models import Device
from sync_service.hub import Hub
from sync_service.leader import Leadership
from sync_service.seed import data_dir, seed_reference, seed_users
from sync_service.server.app import SyncServer
from sync_service.session_guard import SessionGuard

log = logging.getLogger(__name__)

OPTIONAL_PARTS = ("sync_service.ingest", "sync_service.alerts", "sync_service.metrics")
MIN_STOP_S = 1.0  # even past the stop budget, each component gets this long to cancel its tasks


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None  # the part is not there (yet)
        raise


def _present(module: str) -> bool:
    """Whether a module can be imported, without importing it (a __main__ would run)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class SyncService:
    """parts: which optional packages to start (default all of OPTIONAL_PARTS that exist)."""

    def __init__(self, config: ServiceConfig, *, parts: tuple[str, ...] | None = None) -> None:
        self.config = config
        self.parts = OPTIONAL_PARTS if parts is None else parts
        self.ctx: ServiceContext | None = None
        self.hub: Hub | None = None
        self.server: SyncServer | None = None
        self.dispatcher: Dispatcher | None = None
        self.started: list[Any] = []
        self.admin_password: str | None = None  # set when generated at this start
        self._sim: subprocess.Popen[bytes] | None = None
        self._sim_cim = 0  # CIM buildings ioc-sim regenerates to place devices (0: its own premises)

    @property
    def ws_port(self) -> int:
        return self.server.port if self.server else 0

    @property
    def url(self) -> str:
        return f"ws://{self.config.host}:{self.ws_port}"

    async def start(self) -> None:
        cfg = self.config
        server_id = cfg.server_id or f"{socket.gethostname()}:{os.getpid()}"
        engine = make_engine(cfg.db_url)
        await asyncio.to_thread(migrate, engine)
        db = Database(engine, origin=server_id)
        self.ctx = ctx = ServiceContext(config=cfg, db=db, server_id=server_id)
        await db.write(seed_reference)
        pw_file = data_dir(cfg.db_url) / "admin-password.txt"
        self.admin_password = await db.write(lambda s: seed_users(
            s, admin_user=cfg.admin_user, admin_password=cfg.admin_password,
            demo_users=cfg.demo_users, password_file=pw_file))
        if self.admin_password:
            print(f"ioc-sync: created admin account {cfg.admin_user!r}; password written to {pw_file}",
                  flush=True)
        if cfg.simulate:
            await self._provision()
        load_all()
        self.hub = Hub(ctx)
        self.dispatcher = Dispatcher(ctx)
        self.server = SyncServer(ctx, self.hub, self.dispatcher)
        ctx.components.update({"dispatcher": self.dispatcher})
        try:
            await self._start(self.hub)
            # Leadership first: the parts ask it whether this process does the once-per-store
            # work (SQLite: always). It stops after them, so a leader hands over once drained.
            await self._start(Leadership(ctx, routes="sync_service.alerts" in self.parts))
            if engine.dialect.name == "postgresql":
                from sync_service.scaleout import PgListener

                await self._start(PgListener(ctx, self.hub))
            doors: list[Any] = []
            for part in self.parts:
                mod = _optional(part)
                if mod is None or not hasattr(mod, "build_components"):
                    log.info("%s not available: skipped", part)
                    continue
                for comp in mod.build_components(ctx):
                    if getattr(comp, "door", False):
                        doors.append(comp)
                    else:
                        await self._start(comp)
            # Doors (MQTT, HTTP ingest) open once everything behind them runs, and so close
            # first on stop: no reading arrives while the alert manager or the pipeline drains.
            for comp in doors:
                await self._start(comp)
            await self._start(self.server)
            await self._start(SessionGuard(ctx, self.server))  # ends connections whose token ended
        except BaseException:
            await self.stop()
            raise
        if cfg.simulate:
            self._start_simulator()

    async def _start(self, comp: Any) -> None:
        await comp.start()
        self.started.append(comp)

    async def stop(self) -> None:
        """Stop in reverse order within config.stop_timeout_s: the websocket server, the doors,
        then the parts that drain (alert changes, buffered readings; each bounded, see their
        stop()), then the store. A component over the remaining budget is abandoned with a
        warning (its own stop() has cancelled its tasks by then); the others still stop."""
        self._stop_simulator()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.stop_timeout_s
        while self.started:
            comp = self.started.pop()
            budget = max(deadline - loop.time(), MIN_STOP_S)
            t0 = loop.time()
            try:
                await asyncio.wait_for(comp.stop(), timeout=budget)
                log.debug("stopped %s in %.2f s", type(comp).__name__, loop.time() - t0)
            except TimeoutError:
                log.warning("stopping %s: not done within %.1f s; abandoned", type(comp).__name__, budget)
            except Exception:
                log.exception("stopping %s failed", type(comp).__name__)
        if self.ctx is not None:
            await asyncio.to_thread(self.ctx.db.close)
            self.ctx = None

    # ---- the simulated city -----------------------------------------------------------------------
    async def _provision(self) -> None:
        """First start with --simulate: the synthetic CIM city (when the buildings table is empty)
        and the simulated city's devices, placed in its buildings, with their credentials."""
        city_mod, prov_mod = _optional("simulator.city"), _optional("simulator.provision")
        if city_mod is None or prov_mod is None:
            log.warning("--simulate: the simulator package is not available; no simulated city")
            return
        cfg = self.config
        assert self.ctx is not None
        db = self.ctx.db
        from sync_service.cim.store import store_buildings
        from sync_service.db.models import Building

        def count(model: Any) -> Any:
            return lambda s: s.scalar(select(func.count()).select_from(model)) or 0

        have_buildings = await db.read(count(Building))
        table = None
        if not have_buildings and cfg.cim_buildings > 0:
            from citymodel.generator import generate_city

            _starting("cim-generate", cfg.cim_buildings)
            table = await asyncio.to_thread(generate_city, cfg.sim_seed, cfg.cim_buildings)
            _starting("cim-store", len(table))
            await db.write(lambda s: store_buildings(s, table))
            log.info("seeded %d synthetic CIM buildings (seed %d)", len(table), cfg.sim_seed)
            have_buildings = len(table)
        # ioc-sim regenerates the same synthetic city to put its devices in the same buildings;
        # a CIM of another size (imported, or seeded otherwise) is not one it can regenerate
        self._sim_cim = cfg.cim_buildings if cfg.cim_buildings > 0 and have_buildings == cfg.cim_buildings else 0
        if await db.read(count(Device)) >= cfg.sim_devices:
            return  # provisioned on an earlier start: building the city again costs seconds
        _starting("provision", cfg.sim_devices)
        if table is not None:
            city = await asyncio.to_thread(city_mod.build_city, cfg.sim_seed, cfg.sim_devices, buildings=table)
        else:
            city = await asyncio.to_thread(city_mod.build_city, cfg.sim_seed, cfg.sim_devices,
                                           cim_buildings=self._sim_cim or None)
        n = await db.write(lambda s: prov_mod.provision(s, city, cfg.sim_secret))
        log.info("simulated city provisioned: %s", n)

    def _start_simulator(self) -> None:
        cfg = self.config
        exe = shutil.which("ioc-sim") or shutil.which("ioc-sim", path=os.path.dirname(sys.executable))
        if exe is None and not _present("simulator.cli"):
            log.warning("--simulate: ioc-sim is not available; the service runs without it")
            return
        http = self.ctx.components.get("http") if self.ctx else None
        http_port = getattr(http, "port", 0) or cfg.http_port  # the bound port when --http-port 0
        cmd = [exe] if exe else [sys.executable, "-m", "simulator"]
        cmd += ["--seed", str(cfg.sim_seed), "--devices", str(cfg.sim_devices), "--speed", str(cfg.sim_speed),
                "--http", f"http://{cfg.host}:{http_port}", "--secret", cfg.sim_secret, "--control-stdin"]
        if self._sim_cim:
            cmd += ["--cim-buildings", str(self._sim_cim)]
        if cfg.mqtt_enabled:
            cmd += ["--mqtt", f"{cfg.mqtt_host}:{cfg.mqtt_port}", "--mqtt-prefix", cfg.mqtt_prefix]
        log.info("starting the simulator: %s", " ".join(cmd[:1]))
        self._sim = subprocess.Popen(cmd, stdin=subprocess.PIPE)  # noqa: S603 - our own console script
        if self.ctx is not None:
            self.ctx.components["simulator"] = SimulatorControl(self._sim)

    def _stop_simulator(self) -> None:
        p, self._sim = self._sim, None
        if self.ctx is not None:
            self.ctx.components.pop("simulator", None)
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(OSError):
            if p.stdin is not None:
                p.stdin.close()
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _starting(step: str, n: int) -> None:
    """A slow first-start step, for the launcher waiting on the ready line (cli.py)."""
    log.info("starting: %s %d", step, n)
    print(f"ioc-sync starting {step} {n}", flush=True)


class SimulatorControl:
    """The running simulator child, as command handlers see it (scenario.start)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    @property
    def running(self) -> bool:
        return self._proc.poll() is None and self._proc.stdin is not None

    def start_scenario(self, name: str, speed: float) -> None:
        if not self.running or self._proc.stdin is None:
            raise RuntimeError("the simulator is not running")
        line = json.dumps({"op": "scenario", "name": name, "speed": speed}) + "\n"
        self._proc.stdin.write(line.encode())
        self._proc.stdin.flush()


async def run(config: ServiceConfig, *, ready: Any = None) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly. `ready(service)` is called once started."""
    svc = SyncService(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await svc.start()
    try:
        if ready is not None:
            ready(svc)
        await stop.wait()
    finally:
        await svc.stop()
