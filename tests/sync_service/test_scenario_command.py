"""scenario.start: a rehearsal begun from a console reaches the simulator child and its story
comes back through the ingest doors as alerts."""

from __future__ import annotations

from pathlib import Path

from tests.sync_service.server_helpers import Client, service

PARTS = ("sync_service.ingest", "sync_service.alerts")


def _fire_alerts(c: Client) -> list[dict]:
    return [e["data"] for e in c.events
            if e["kind"] == "alert.upsert" and e["data"]["domain"] == "fire" and e["data"]["town"] == "nancheng"
            and e["data"]["level"] == 4]


async def test_scenario_start_runs_the_story_in_the_simulator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    async with service(url, parts=PARTS, simulate=True, sim_devices=4000, sim_speed=1.0,
                       cim_buildings=0) as svc:
        async with Client.open(svc.url, "duty") as c:
            r = await c.command("scenario.start", {"name": "fire", "speed": 60})
            assert r["type"] == "result", r
            assert r["ok"], r
            def noticed() -> bool:
                return any(e["kind"] == "system.notice" and e["data"].get("scenario") == "fire" for e in c.events)

            if not noticed():
                await c.until(lambda f: noticed())
            # The story: detectors in one Nancheng tower go off within minutes of model time.
            if not _fire_alerts(c):
                await c.until(lambda f: bool(_fire_alerts(c)), wait_s=90)
            assert _fire_alerts(c)[0]["source"] == "rule"


async def test_scenario_start_refusals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ioc.db'}"
    async with service(url, parts=PARTS) as svc:  # no simulated city
        async with Client.open(svc.url, "duty") as c:
            r = await c.command("scenario.start", {"name": "fire"})
            assert r["ok"] is False
            assert r["error"]["code"] == "conflict"
            r = await c.command("scenario.start", {"name": "meteor"})
            assert r["ok"] is False
            assert r["error"]["code"] == "not_found"
        async with Client.open(svc.url, "operator") as c:
            r = await c.command("scenario.start", {"name": "fire"})
            assert r["ok"] is False
            assert r["error"]["code"] == "forbidden"
