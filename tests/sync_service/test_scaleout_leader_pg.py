"""Two real `python -m sync_service` processes on one PostgreSQL and the real Mosquitto, both
ingesting (HTTP to each, MQTT through the shared subscription): the once-per-store work is done
once, by the leader, from the whole city.

- no false offline alerts for devices that report to the other process only; the silent
  device gets exactly one offline alert
- metrics.tick and devices.stats from one process, with readings_per_s of both
- each escalation step exactly once, also across the leader being killed and stopped
- one open alert per dedup key; the rule alert of a device whose readings the broker dealt to
  both processes is what a single process makes of the same readings (min duration, hysteresis)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import orjson
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from protocol.enums import AlertSource
from sync_service.db import models as m
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import bureau_key, device_key, running, seed
from tests.sync_service.server_helpers import ServiceProcess

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]

DEVICES: dict[str, tuple[str, str, int | None, float, float]] = {
    "WL-H1": ("water_level", "hongmei", None, 113.61, 23.00),  # HTTP to the follower only
    "WL-H2": ("water_level", "hongmei", None, 113.62, 23.01),  # HTTP to the follower only
    "WL-L1": ("water_level", "humen", None, 113.67, 22.82),  # HTTP to the leader only
    "WL-S": ("water_level", "humen", None, 113.67, 22.83),  # one reading, then silent
    "WL-M": ("water_level", "hongmei", None, 113.63, 23.02),  # MQTT, dealt to both
    "SD-1": ("smoke_detector", "nancheng", 5001, 113.74, 23.01),  # one red reading
    "SD-2": ("smoke_detector", "nancheng", 5002, 113.74, 23.01),
}
PERIOD_S = 2  # water-level gauges: offline after 3 periods, an offline alert after 4
# The MQTT gauge's rule: yellow at 5.0 (so it does not escalate, and resolves itself when back
# to normal), kept down to 4.5, reached after 1.5 s beyond it.
RULE = {"thresholds": {"2": 5.0}, "hysteresis": 0.5, "min_duration_s": 1.5, "rate_per_min": None}
# (value, how many readings), 0.25 s apart (closer than one process's forwarding delay under
# load): a run too short (1 s), a raise, the hysteresis band, a clear, a second raise, a clear
SEQUENCE = [(4.0, 3), (5.5, 5), (4.0, 1), (5.5, 8), (4.7, 6), (4.2, 2), (5.6, 8), (4.0, 2)]
SPACING_S = 0.25
ENV = {"IOC_STATE_FLUSH_S": "1", "IOC_LEADER_MERGE_S": "1"}
WATER, FIRE = bureau_key("water"), bureau_key("fire")


def _seed(s: Session) -> None:
    seed(s, DEVICES)
    s.flush()
    s.execute(update(m.DeviceType).where(m.DeviceType.code == "water_level").values(period_s=PERIOD_S))
    s.execute(update(m.AlertRule).where(m.AlertRule.device_type == "water_level", m.AlertRule.metric == "level")
              .values(**RULE))


def _readings(t0: float) -> list[tuple[float, float]]:
    out, i = [], 0
    for value, n in SEQUENCE:
        for _ in range(n):
            out.append((value, t0 + i * SPACING_S))
            i += 1
    return out


@contextlib.asynccontextmanager
async def _cluster(pg_url: str, tmp_path: Path, mqtt_broker: tuple[str, int], **env: str) -> AsyncIterator[
        tuple[list[ServiceProcess], str]]:
    engine = make_engine(pg_url)
    migrate(engine)
    db = Database(engine)
    db.run_sync(_seed)
    db.close()
    prefix = f"t{uuid.uuid4().hex[:10]}/ioc/v1"
    env = {**ENV, "IOC_MQTT_PREFIX": prefix, "IOC_MQTT_HOST": mqtt_broker[0], "IOC_MQTT_PORT": str(mqtt_broker[1]),
           **env}
    procs = [ServiceProcess(pg_url, log_path=tmp_path / f"p{i}.log", extra=["--server-id", f"p{i}"], env=env,
                            mqtt=True) for i in range(2)]
    try:
        for p in procs:  # one after the other: p0 leads
            await asyncio.to_thread(p.start)
        yield procs, prefix
    finally:
        for p in procs:
            p.stop()


async def _health(http: aiohttp.ClientSession, p: ServiceProcess) -> dict[str, Any]:
    async with http.get(f"http://127.0.0.1:{p.http_port}/healthz") as r:
        return await r.json()


async def _post(http: aiohttp.ClientSession, p: ServiceProcess, key: str, readings: list[dict[str, Any]]) -> None:
    async with http.post(f"http://127.0.0.1:{p.http_port}/ingest/v1/readings", json={"readings": readings},
                         headers={"Authorization": f"Bearer {key}"}) as r:
        assert r.status == 200, await r.text()
        assert (await r.json())["accepted"] == len(readings)


def _alive(p: ServiceProcess) -> bool:
    return p.proc is not None and p.proc.poll() is None


async def _report(http: aiohttp.ClientSession, targets: Callable[[], ServiceProcess | None], uids: list[str],
                  sent: list[int], every: float = 0.5) -> None:
    """Readings of `uids` every `every` s (values that move: nothing looks stuck) to the process
    targets() names, as long as it is running."""
    i = 0
    while True:
        p = targets()
        if p is not None and _alive(p):
            now = time.time()
            with contextlib.suppress(aiohttp.ClientError):
                await _post(http, p, WATER, [{"device": u, "ts": now, "values": {"level": 2.0 + 0.01 * (i % 7)}}
                                             for u in uids])
                sent[0] += len(uids)
        i += 1
        await asyncio.sleep(every)


async def _until(what: Callable[[], Any], within: float, label: str, step: float = 0.25) -> Any:
    deadline = time.monotonic() + within
    while True:
        got = await what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {label}")
        await asyncio.sleep(step)


def _rows(db: Database, fn: Callable[[Session], Any]) -> Any:
    return db.run_sync(fn)


def _escalation_notices(s: Session, alert_id: int) -> list[tuple[int, str]]:
    out = []
    for data, origin in s.execute(select(m.EventRecord.data, m.EventRecord.origin)
                                  .where(m.EventRecord.kind == "system.notice").order_by(m.EventRecord.seq)):
        if isinstance(data, dict) and data.get("alert_id") == alert_id:
            out.append((int(data["escalations"]), origin))
    return out


def _open_duplicates(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(
        select(m.Alert.dedup_key).where(m.Alert.state != "closed").group_by(m.Alert.dedup_key)
        .having(func.count() > 1).subquery())) or 0)


def _alert_of(s: Session, uid: str, source: str) -> list[m.Alert]:
    rows = list(s.scalars(select(m.Alert).where(m.Alert.device_id == uid, m.Alert.source == source)))
    for a in rows:
        s.expunge(a)
    return rows


def _origins(s: Session, kind: str) -> list[str]:
    return list(s.scalars(select(m.EventRecord.origin).where(m.EventRecord.kind == kind).order_by(m.EventRecord.seq)))


async def _single_process_reference(sqlite_url: str, readings: list[tuple[float, float]]) -> m.Alert:
    """The same gauge readings, in the same order, through one process."""
    async with running(sqlite_url, seed_fn=_seed, escalate_after_s=1e9) as r:
        pipe = r.c["ingest"]
        for value, ts in readings:
            out = pipe.ingest([{"device": "WL-M", "ts": ts, "values": {"level": value}}],
                              bureau=Bureau("water", "gw"), door="t")
            assert out.accepted == 1
        await r.settle()
        [a] = await r.ctx.db.read(lambda s: _alert_of(s, "WL-M", AlertSource.RULE.value))
        return a


async def test_both_processes_ingest_and_the_leader_alone_alerts_escalates_and_ticks(
        pg_url: str, sqlite_url: str, tmp_path: Path, mqtt_broker: tuple[str, int]) -> None:
    async with _cluster(pg_url, tmp_path, mqtt_broker, IOC_ESCALATE_AFTER_S="2") as (procs, prefix), \
            aiohttp.ClientSession() as http:
        leader, follower = procs
        h0, h1 = await _health(http, leader), await _health(http, follower)
        assert (h0["leadership"]["leader"], h1["leadership"]["leader"]) == (True, False)
        # the leader holds its rule input for the follower's once it hears from it
        await _until(lambda: _mode(http, leader, "hold"), 10, "the leader hears the follower")
        db = Database(make_engine(pg_url))
        started = time.time()
        sent = [0]
        feeders = [asyncio.create_task(_report(http, lambda: follower, ["WL-H1", "WL-H2"], sent)),
                   asyncio.create_task(_report(http, lambda: leader, ["WL-L1"], sent))]
        # the silent gauge reports once, and a smoke detector raises a red alarm, both to the follower
        await _post(http, follower, WATER, [{"device": "WL-S", "ts": time.time(), "values": {"level": 2.0}}])
        await _post(http, follower, FIRE, [{"device": "SD-1", "ts": time.time(), "values": {"smoke": 0.6}}])
        # the MQTT gauge: its readings go to either process (round-robin)
        seq = _readings(time.time())
        async with aiomqtt.Client(*mqtt_broker, identifier=f"pub-{uuid.uuid4().hex[:8]}") as mq:
            topic = f"{prefix}/water/water_level/WL-M/reading"
            for value, ts in seq:
                await mq.publish(topic, orjson.dumps({"key": device_key("WL-M"), "ts": ts, "values": {"level": value}}),
                                 qos=1)
                await asyncio.sleep(max(0.0, ts + SPACING_S - time.time()))
            # afterwards it keeps reporting, quietly
            k = 0
            while time.time() - started < 24:
                await mq.publish(topic, orjson.dumps({"key": device_key("WL-M"), "ts": time.time(),
                                                      "values": {"level": 4.0 + 0.01 * (k % 5)}}), qos=1)
                k += 1
                await asyncio.sleep(SPACING_S)
        mqtt_sent = len(seq) + k
        # the silent gauge's offline alert (4 periods + the merge margin after its reading)
        await _until(lambda: asyncio.to_thread(_rows, db, lambda s: _alert_of(s, "WL-S", "offline")), 20,
                     "the silent gauge's offline alert")
        h0, h1 = await _health(http, leader), await _health(http, follower)
        for t in feeders:
            t.cancel()
        await asyncio.gather(*feeders, return_exceptions=True)
        elapsed = time.time() - started
        await asyncio.sleep(2.5)  # the last flushes and ticks

        def check(s: Session) -> dict[str, Any]:
            devs = {d.uid: d for d in s.scalars(select(m.Device))}
            return {"offline": [a.device_id for a in s.scalars(select(m.Alert).where(m.Alert.source == "offline"))],
                    "health": {u: devs[u].health for u in ("WL-H1", "WL-H2", "WL-L1", "WL-S", "WL-M")},
                    "dups": _open_duplicates(s), "ticks": _origins(s, "metrics.tick"),
                    "stats": _origins(s, "devices.stats"),
                    "tick_data": [e.data for e in s.scalars(select(m.EventRecord).where(
                        m.EventRecord.kind == "metrics.tick").order_by(m.EventRecord.seq))],
                    "smoke": _alert_of(s, "SD-1", "rule"), "mqtt": _alert_of(s, "WL-M", "rule")}

        got = await asyncio.to_thread(_rows, db, check)
        print(f"leader {h0}\nfollower {h1}")
        # no false offline alert: only the silent gauge's, raised once, by the leader
        assert got["offline"] == ["WL-S"]
        assert got["health"] == {"WL-H1": "online", "WL-H2": "online", "WL-L1": "online", "WL-S": "offline",
                                 "WL-M": "online"}
        assert got["dups"] == 0
        # one set of metrics: the leader's, with both processes' readings in its rate
        assert set(got["ticks"]) == {"p0"}
        assert set(got["stats"]) == {"p0"}
        assert len(got["ticks"]) >= 4
        offered = (sent[0] + 2 + mqtt_sent) / elapsed
        rates = [t["city"]["readings_per_s"] for t in got["tick_data"][1:-1]]
        print(f"offered {offered:.1f} readings/s; the leader's ticks say {rates}")
        assert rates
        assert 0.6 * offered <= max(rates) <= 1.4 * offered
        assert got["tick_data"][-1]["city"]["devices_offline"] == 1  # the silent gauge, nothing else
        # the red alarm taken by the follower: raised by the leader, escalated once per step
        [smoke] = got["smoke"]
        notices = await asyncio.to_thread(_rows, db, lambda s: _escalation_notices(s, smoke.id))
        assert [n for n, _ in notices] == [1, 2, 3]
        assert {o for _, o in notices} == {"p0"}
        assert (smoke.escalations, smoke.level) == (3, 4)
        # the MQTT gauge: both processes took some of its readings, and its alert is what one
        # process makes of them
        assert h0["mqtt_messages"] > 0
        assert h1["mqtt_messages"] > 0
        assert h0["mqtt_messages"] + h1["mqtt_messages"] == mqtt_sent
        assert h1["rules"]["forwarded"] > 0
        assert h0["rules"]["late"] == 0
        [two] = got["mqtt"]
        one = await _single_process_reference(sqlite_url, seq)
        fields = ("level", "state", "count", "first_ts", "last_ts", "value", "threshold")
        assert {f: getattr(two, f) for f in fields} == {f: getattr(one, f) for f in fields}
        assert [n["text"] for n in two.notes] == [n["text"] for n in one.notes]
        # two raises (the short run and the band raised nothing), each resolved by its clear
        assert (two.count, two.level, two.state) == (2, 2, "resolved")
        assert len(two.notes) == 2  # raised again; back to normal (x2)
        db.close()


async def _mode(http: aiohttp.ClientSession, p: ServiceProcess, mode: str) -> bool:
    return (await _health(http, p))["rules"]["mode"] == mode


async def _leads(http: aiohttp.ClientSession, p: ServiceProcess) -> bool:
    with contextlib.suppress(aiohttp.ClientError):
        return bool((await _health(http, p))["leadership"]["leader"])
    return False


async def test_killed_and_stopped_leaders_hand_over_without_duplicates(
        pg_url: str, tmp_path: Path, mqtt_broker: tuple[str, int]) -> None:
    """SIGKILL the leader: the follower takes over within seconds and goes on escalating and
    ticking; the killed one comes back as a follower; SIGTERM the new leader: the first takes
    over again. Each escalation step exactly once, ticks from one process at a time, the
    silent gauge's offline alert once, no offline alert for the gauges that kept reporting."""
    async with _cluster(pg_url, tmp_path, mqtt_broker, IOC_ESCALATE_AFTER_S="6") as (procs, _), \
            aiohttp.ClientSession() as http:
        p0, p1 = procs
        db = Database(make_engine(pg_url))
        sent = [0]
        # WL-H1 reports to p1 while it runs, WL-L1 to p0 while it runs, each else to the other
        feeders = [asyncio.create_task(_report(http, lambda: p1 if _alive(p1) else p0, ["WL-H1", "WL-H2"], sent)),
                   asyncio.create_task(_report(http, lambda: p0 if _alive(p0) else p1, ["WL-L1", "WL-M"], sent))]
        await _post(http, p1, WATER, [{"device": "WL-S", "ts": time.time(), "values": {"level": 2.0}}])
        await _post(http, p1, FIRE, [{"device": "SD-2", "ts": time.time(), "values": {"smoke": 0.6}}])

        async def escalations(n: int) -> bool:
            def fn(s: Session) -> bool:
                a = s.scalar(select(m.Alert).where(m.Alert.device_id == "SD-2"))
                return a is not None and a.escalations >= n
            return await asyncio.to_thread(_rows, db, fn)

        await _until(lambda: escalations(1), 15, "the first escalation")
        p0.kill()
        t_kill = time.monotonic()
        await _until(lambda: _leads(http, p1), 10, "p1 takes over", step=0.1)
        took_over = time.monotonic() - t_kill
        await asyncio.to_thread(p0.start)  # back, as a follower
        assert not await _leads(http, p0)
        await _until(lambda: escalations(2), 15, "the second escalation")
        stop = asyncio.create_task(asyncio.to_thread(p1.stop))
        t_stop = time.monotonic()
        await _until(lambda: _leads(http, p0), 30, "p0 takes over again", step=0.1)
        handed = time.monotonic() - t_stop
        assert await stop == 0  # a clean stop
        await _until(lambda: escalations(3), 15, "the third escalation")
        await asyncio.sleep(6)  # the new leader ticks; nothing more escalates
        for t in feeders:
            t.cancel()
        await asyncio.gather(*feeders, return_exceptions=True)

        def check(s: Session) -> dict[str, Any]:
            [a] = _alert_of(s, "SD-2", "rule")
            return {"notices": _escalation_notices(s, a.id), "escalations": a.escalations,
                    "ticks": _origins(s, "metrics.tick"), "dups": _open_duplicates(s),
                    "offline": [x.device_id for x in s.scalars(select(m.Alert).where(m.Alert.source == "offline"))]}

        got = await asyncio.to_thread(_rows, db, check)
        print(f"killed leader replaced in {took_over:.2f} s; stopped leader replaced in {handed:.2f} s; "
              f"escalations by {got['notices']}; tick origins {got['ticks']}")
        assert took_over < 5
        assert [n for n, _ in got["notices"]] == [1, 2, 3]  # each step once
        assert [o for _, o in got["notices"]] == ["p0", "p1", "p0"]
        assert got["escalations"] == 3
        runs = [o for i, o in enumerate(got["ticks"]) if i == 0 or got["ticks"][i - 1] != o]
        assert runs == ["p0", "p1", "p0"]  # one process ticking at a time
        assert got["dups"] == 0
        assert got["offline"] == ["WL-S"]
        db.close()
