"""`ioc-sim`: run the simulated Dongguan against a sync service.

    ioc-sim --service-http http://127.0.0.1:8766 --mqtt 127.0.0.1:1883 --speed 60 \\
            --scenario typhoon --scenario fire@30m

Starts in a couple of seconds (the city is built in memory from the seed), stops cleanly on
SIGTERM or Ctrl-C (exit code 0). Bad arguments give a one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from datetime import datetime

from simulator.runner import Runner
from simulator.scenarios import SCENARIOS, ScheduleError, make, parse_schedule

log = logging.getLogger("ioc-sim")
DEFAULT_SECRET = "ioc-sim-provisioning"  # = sync_service.config.ServiceConfig.sim_secret


def _hostport(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    try:
        return (host or "127.0.0.1"), int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {s!r}") from None


def _speed(s: str) -> float:
    v = float(s)
    if not 0.1 <= v <= 600:
        raise argparse.ArgumentTypeError("speed must be between 0.1 and 600 (1-60 is the intended range)")
    return v


def _when(s: str) -> float:
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO time like 2024-07-01T08:00+08:00, got {s!r}") from None
    if dt.tzinfo is None:
        raise argparse.ArgumentTypeError("give the start time with its UTC offset, e.g. +08:00")
    return dt.timestamp()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ioc-sim", description="Simulated Dongguan: IoT readings, warnings and "
                                "scenario stories published to an IOC sync service over MQTT and HTTP.")
    p.add_argument("--service-http", "--http", dest="service_http", default=os.environ.get("IOC_SIM_SERVICE_HTTP", "http://127.0.0.1:8766"),
                   help="the service's HTTP ingest base URL (default %(default)s)")
    p.add_argument("--mqtt", type=_hostport, default=None, metavar="HOST:PORT",
                   help="publish readings to this MQTT broker; without it readings go over HTTP")
    p.add_argument("--mqtt-prefix", default=os.environ.get("IOC_MQTT_PREFIX", "ioc/v1"),
                   help="topic prefix (default: IOC_MQTT_PREFIX, as the service reads it, else %(default)s)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--devices", type=int, default=100_000)
    p.add_argument("--speed", type=_speed, default=1.0, help="model seconds per wall second (1-60)")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME[@OFFSET]",
                   help=f"run a scenario ({', '.join(SCENARIOS)}), optionally OFFSET model time after the "
                        "start (30m, 2h, 90s); repeatable")
    p.add_argument("--secret", default=os.environ.get("IOC_SIM_SECRET", DEFAULT_SECRET),
                   help="shared secret the device and bureau keys derive from")
    p.add_argument("--rate", type=float, default=20_000.0, help="cap on readings per second (0: none)")
    p.add_argument("--start", type=_when, default=None, help="model start time (default: now)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many wall seconds")
    p.add_argument("--cim-buildings", type=int, default=0,
                   help="host building devices in the synthetic CIM city of this size (citymodel.generator)")
    p.add_argument("--cap-status", choices=("Exercise", "Actual"), default="Exercise",
                   help="CAP <status> of the scenarios' warnings (default Exercise: a rehearsal)")
    p.add_argument("--control-stdin", action="store_true",
                   help="read control lines from standard input while running, e.g. "
                        '{"op": "scenario", "name": "fire", "speed": 10} (the service uses this)')
    p.add_argument("--list-scenarios", action="store_true", help="print the scenarios and their beats, then exit")
    p.add_argument("--log-level", default="INFO")
    return p


def _list() -> None:
    for name, cls in SCENARIOS.items():
        sc = cls()
        print(f"{name}: {sc.title_zh} / {sc.title_en} ({sc.duration_s / 3600:.1f} h model time)")


async def _main(args: argparse.Namespace) -> int:
    from simulator.city import build_city
    from simulator.engine import Simulation
    from simulator.publishers import HttpPublisher, MqttPublisher

    t = time.perf_counter()
    city = build_city(args.seed, args.devices, cim_buildings=args.cim_buildings or None)
    sim = Simulation(city)
    wall0 = time.time()
    model0 = args.start if args.start is not None else wall0
    for name, offset in parse_schedule(args.scenario):
        sc = make(name)
        if hasattr(sc, "cap_status"):
            sc.cap_status = args.cap_status
        sim.add_scenario(sc, model0 + offset)
        log.info("scenario %s (%s) at +%.0f s model time", name, sc.title_zh, offset)
    log.info("city of %d devices built in %.1f s; speed %gx", len(city.devices), time.perf_counter() - t, args.speed)
    http = HttpPublisher(args.service_http)
    mqtt = MqttPublisher(args.mqtt[0], args.mqtt[1], prefix=args.mqtt_prefix) if args.mqtt else None
    runner = Runner(sim, secret=args.secret, http=http, mqtt=mqtt, speed=args.speed, rate=args.rate or None,
                    model_start=model0, wall_start=wall0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    control = asyncio.create_task(_read_control(runner, stop)) if args.control_stdin else None
    try:
        await runner.run(stop, duration_s=args.duration)
    finally:
        if control is not None:
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)
    return 0


def apply_control(runner: Runner, line: bytes) -> None:
    """One control line (JSON). A bad line is logged and ignored: the city keeps running."""
    try:
        msg = json.loads(line)
        if not isinstance(msg, dict) or msg.get("op") != "scenario":
            raise ValueError("expected {\"op\": \"scenario\", \"name\": ...}")
        speed = msg.get("speed")
        runner.start_scenario(str(msg["name"]), speed=float(speed) if speed is not None else None)
    except (ValueError, KeyError, TypeError, ScheduleError) as exc:
        log.warning("control line ignored (%s): %r", exc, line[:200])


async def _read_control(runner: Runner, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            return  # the service closed the pipe: no more control, the city keeps running
        if line.strip():
            apply_control(runner, line)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.list_scenarios:
        _list()
        return 0
    if args.devices < 14:
        print("ioc-sim: error: --devices must be at least 14 (one per device type)", file=sys.stderr)
        return 2
    try:
        parse_schedule(args.scenario)
    except ScheduleError as exc:
        print(f"ioc-sim: error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
