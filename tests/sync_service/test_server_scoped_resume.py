"""A bureau (domain-scoped) session's resume when most of the log is other domains' events.

Heartbeats and pongs carry `synced_seq`: every event the session may see up to it has been sent
before the frame. A client adopting it resumes from near the head, so a long stretch of other
bureaus' traffic neither exceeds the replay window (a snapshot) nor has to be read again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.orm import Session

from protocol.events import FOCUS_SET, SYSTEM_NOTICE
from sync_service.eventlog import NewEvent, read_after
from sync_service.server.scope import filter_events
from tests.sync_service.server_helpers import Client, service


def domain_notices(domain: str, n: int, tag: str = "") -> Any:
    def fn(_s: Session) -> tuple[None, list[NewEvent]]:
        return None, [NewEvent(SYSTEM_NOTICE, {"level": "info", "text": f"{domain} {tag}{i}", "i": i}, domain=domain)
                      for i in range(n)]
    return fn


async def _fire_flood(svc: Any, n: int, per_tx: int = 200) -> None:
    for i in range(0, n, per_tx):
        await svc.ctx.db.write_events(domain_notices("fire", per_tx, f"f{i}-"))


async def test_heartbeat_and_pong_bring_a_quiet_bureau_up_to_the_head(sqlite_url: str) -> None:
    async with service(sqlite_url, heartbeat_s=1.0, replay_window=500) as svc:
        await svc.ctx.db.write_events(domain_notices("water", 3))
        async with Client.open(svc.url, "bureau_water") as c:
            own = c.snapshot_seq
            assert own is not None
            await _fire_flood(svc, 2000)  # four replay windows of another bureau's events
            head = svc.hub.last_seq
            assert head - own >= 2000
            hb = await c.until(lambda f: f["type"] == "heartbeat" and (f.get("synced_seq") or 0) >= head)
            assert hb["synced_seq"] == head
            await c.send({"type": "ping", "t": 1.5})
            pong = await c.until(lambda f: f["type"] == "pong")
            assert (pong["t"], pong["synced_seq"]) == (1.5, head)
            assert c.events == []  # none of it was sent: only the seq moved
            token = c.welcome["session"]
        # the console was away; meanwhile more fire traffic and one water event
        await _fire_flood(svc, 400)
        await svc.ctx.db.write_events(domain_notices("water", 1, "back-"))
        water_seq = svc.hub.last_seq
        async with Client.open(svc.url, headers=[("Authorization", f"Bearer {token}")], last_seq=head) as c2:
            assert (c2.welcome["mode"], c2.welcome["reason"]) == ("resume", "")
            await c2.wait_seq(water_seq)
            assert [e["data"]["text"] for e in c2.events] == ["water back-0"]
            # straight after going live it is told where it stands (no waiting for a heartbeat)
            hb = await c2.until(lambda f: f["type"] == "heartbeat", 2)
            assert hb["synced_seq"] == water_seq
        # without adopting it, its last own event is four windows behind: a snapshot
        async with Client.open(svc.url, headers=[("Authorization", f"Bearer {token}")], last_seq=own) as c3:
            assert (c3.welcome["mode"], c3.welcome["reason"]) == ("snapshot", "too_old")
        assert svc.server.snapshot_reloads == 1


async def test_scoped_replay_reads_what_the_scope_may_see_and_redacts_focus(sqlite_url: str) -> None:
    async with service(sqlite_url) as svc:
        db = svc.ctx.db
        await db.write_events(domain_notices("water", 2))
        start = svc.hub.last_seq

        def mixed(_s: Session) -> tuple[None, list[NewEvent]]:
            evs = []
            for i in range(300):
                d = ("fire", "water", None, "transport")[i % 4]
                evs.append(NewEvent(SYSTEM_NOTICE, {"level": "info", "text": f"m{i}", "i": i}, domain=d))
            evs.append(NewEvent(FOCUS_SET, {"incident_id": 7, "by": "duty", "hall": "decision", "ts": 1.0},
                                domain="fire", town="nancheng"))
            return None, evs

        await db.write_events(mixed)
        head = svc.hub.last_seq
        log = await db.read(lambda s: read_after(s, start, 10_000))
        scope = frozenset({"water"})
        narrowed = await db.read(lambda s: read_after(s, start, 10_000, domains=scope))
        assert len(narrowed) == 151  # water and city-wide ones, and the focus (to be redacted)
        assert filter_events(narrowed, scope) == filter_events(log, scope)
        capped = await db.read(lambda s: read_after(s, start, 10_000, upto=start + 10, domains=scope))
        assert [e.seq for e in capped] == [e.seq for e in narrowed if e.seq <= start + 10]

        async with Client.open(svc.url, "bureau_water", last_seq=start) as c:
            assert c.welcome["mode"] == "resume"
            await c.wait_seq(head)
            want = [e.seq for e in filter_events(log, scope)]
            assert c.seqs() == want
            assert {e["domain"] for e in c.events} == {"water", None}
            focus = c.events[-1]
            assert (focus["kind"], focus["data"]["incident_id"], focus["data"]["elsewhere"]) == (FOCUS_SET, None, True)


async def test_synced_seq_never_runs_ahead_of_what_was_sent_under_load(sqlite_url: str) -> None:
    """For every pong (or heartbeat), each water or city-wide event up to its synced_seq arrived first."""
    async with service(sqlite_url, heartbeat_s=2.0) as svc:  # pongs do the checking: no tight ping timeouts
        db = svc.ctx.db
        stop = asyncio.Event()

        async def writer() -> None:
            i = 0
            while not stop.is_set():
                await db.write_events(domain_notices("fire", 20, f"w{i}-"))
                await db.write_events(domain_notices(("water", "fire")[i % 2], 1, f"x{i}-"))
                i += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(writer())
        checks = 0
        try:
            async with Client.open(svc.url, "bureau_water", last_seq=0) as c:
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    await c.send({"type": "ping"})
                    f = await c.until(lambda f: f["type"] in ("heartbeat", "pong"))
                    synced = f.get("synced_seq")
                    if synced is None:
                        continue
                    got = set(c.seqs())
                    visible = await db.read(lambda s, u=synced: read_after(s, 0, 1_000_000, upto=u,
                                                                          domains=frozenset({"water"})))
                    assert {e.seq for e in visible} <= got, f"missing below synced_seq {synced}"
                    checks += 1
        finally:
            stop.set()
            await task
        assert checks >= 10
