"""The ioc-sim command: lists, refuses bad arguments with a one-line error, runs against a
service and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from tests.simulator.support import Receiver

ENV = {**os.environ, "IOC_SIM_RECONNECT_MIN_S": "0.05", "IOC_SIM_RECONNECT_MAX_S": "0.3"}


async def _run(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "simulator", *args, env=ENV,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_list_scenarios() -> None:
    p = await _run("--list-scenarios")
    out, _ = await p.communicate()
    assert p.returncode == 0
    text = out.decode()
    for name in ("typhoon", "fire", "pollution", "school", "gas"):
        assert f"{name}:" in text
    assert "南城高层建筑火灾" in text


async def test_bad_arguments_exit_2_with_a_clear_message() -> None:
    for args, words in ((("--scenario", "volcano"), "unknown scenario"), (("--speed", "0"), "speed"),
                        (("--mqtt", "localhost"), "HOST:PORT"), (("--devices", "3"), "at least 14")):
        p = await _run(*args)
        _, err = await p.communicate()
        assert p.returncode == 2, args
        assert words in err.decode(), err.decode()
        assert "Traceback" not in err.decode()


async def test_runs_against_a_service_and_stops_on_sigterm() -> None:
    rx = Receiver()
    await rx.start()
    try:
        p = await _run("--http", f"http://127.0.0.1:{rx.port}", "--devices", "5000", "--speed", "60",
                       "--scenario", "typhoon", "--seed", "3")
        deadline = time.monotonic() + 60
        def readings() -> int:
            return sum(len(r.json()["readings"]) for r in rx.of("readings"))

        while not (readings() > 100 and rx.of("cap")):
            assert time.monotonic() < deadline, "no readings and CAP from ioc-sim"
            assert p.returncode is None
            await asyncio.sleep(0.1)
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(p.communicate(), 15)
        assert p.returncode == 0, err.decode()[-2000:]
        assert time.monotonic() - t < 5
        assert "Traceback" not in err.decode()
    finally:
        await rx.stop()
