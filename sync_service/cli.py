"""`ioc-sync`: run the local sync service.

    ioc-sync                          # SQLite in the user data directory, ws://127.0.0.1:8765
    ioc-sync --simulate --demo-users  # with the simulated Dongguan and the demo accounts
    ioc-sync --db-url postgresql://user@host/db --ws-port 8775
    ioc-sync import-buildings FILE [--crs EPSG:4490] [--replace|--merge]  # real footprints into the CIM

Settings: defaults < config file (--config, IOC_CONFIG) < IOC_* environment < these flags.
Once listening it prints one line `ioc-sync ready ws://HOST:PORT http://HOST:PORT` (scripts and
tests wait for it; with --ws-port 0 it names the port chosen). Before that, slow first-start
steps print `ioc-sync starting STEP N` (cim-generate, cim-store, provision; N = how many) so a
launcher can tell the user what it is waiting for.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from sync_service.config import ServiceConfig

# The writer thread and the event loop hand the GIL to each other many times per commit; a
# thread that wants it waits for the holder to drop it, at most this long (Python's default: 5 ms).
SWITCH_INTERVAL_S = 0.001


def tune_process() -> None:
    """Process-wide settings for the service's latency, before it starts."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def settle_heap() -> None:
    """Once started: collect, then freeze what start-up left (device registry, rules, CIM...) into
    the collector's permanent generation, so full collections stop walking it: under ingest they
    took hundreds of ms of the loop (bench_fanout, with ingest, 2-core machine: gen-2 pauses of
    up to 0.3-0.8 s, 2 s in 10 s; frozen: tens of ms). What is freed later is still collected;
    only start-up objects that become cyclic garbage later are not."""
    gc.collect()
    gc.freeze()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="ioc-sync", description="IOC Console local sync service")
    ap.add_argument("--config", help="JSON config file (default: IOC_CONFIG or the user config dir)")
    ap.add_argument("--db-url", help="database URL (default: SQLite in the user data dir; or IOC_DB_URL)")
    ap.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--ws-port", type=int, help="websocket port for consoles (default 8765; 0 = any free)")
    ap.add_argument("--http-port", type=int, help="HTTP port for ingest/CAP/health (default 8766)")
    ap.add_argument("--server-id", help="this process's id in the event log (default host:pid)")
    ap.add_argument("--simulate", action="store_true", default=None, help="run the simulated city")
    ap.add_argument("--seed", type=int, help="simulator seed")
    ap.add_argument("--devices", type=int, help="simulated devices")
    ap.add_argument("--speed", type=float, help="simulator speed factor (1-60)")
    ap.add_argument("--cim-buildings", type=int,
                    help="with --simulate: synthetic CIM buildings seeded on first start (default 1700000; 0 = none)")
    ap.add_argument("--demo-users", action="store_true", default=None,
                    help="create the demo accounts (docs/protocol.md)")
    ap.add_argument("--no-mqtt", action="store_true", help="do not connect to an MQTT broker")
    ap.add_argument("--log-level", default="INFO")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["import-buildings"]:  # a subcommand; everything else runs the service
        from sync_service.cim.importing import main as import_main

        return import_main(args[1:])
    a = parse(argv)
    logging.basicConfig(level=a.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = ServiceConfig.load(
            a.config, db_url=a.db_url, host=a.host, ws_port=a.ws_port, http_port=a.http_port,
            server_id=a.server_id, simulate=a.simulate, sim_seed=a.seed, sim_devices=a.devices,
            sim_speed=a.speed, cim_buildings=a.cim_buildings, demo_users=a.demo_users, mqtt_enabled=False if a.no_mqtt else None)
    except ValueError as exc:
        print(f"ioc-sync: {exc}", file=sys.stderr)
        return 2

    def ready(svc: object) -> None:
        settle_heap()
        http = svc.ctx.components.get("http") if svc.ctx else None  # type: ignore[attr-defined]
        http_port = getattr(http, "port", cfg.http_port)
        print(f"ioc-sync ready {svc.url} http://{cfg.host}:{http_port}", flush=True)  # type: ignore[attr-defined]

    from sync_service.service import run

    tune_process()
    try:
        asyncio.run(run(cfg, ready=ready))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
