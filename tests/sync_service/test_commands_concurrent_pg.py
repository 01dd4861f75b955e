"""Two real `python -m sync_service` processes on one PostgreSQL behave as one service for
commands: the same change sent through both at the same moment is applied once.

- the same alert transition from a console on each process, 50 alerts at once, through the
  whole lifecycle: per alert and step exactly one `ok`, the other `conflict`, and the event log
  has exactly one alert.upsert per transition
- notes and assignments sent through both at once are all kept, in the order the log says
- one alert pulled into an incident from both: one incident; a proposed task decided from both:
  one decision
- one command id sent to both processes at once: applied once, the other answer is the stored
  one (`duplicate`)
- the only two admins disabling each other through the two processes at once: one stays
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed

from sync_service.db import models as m
from sync_service.db.engine import make_engine
from tests.sync_service.server_helpers import ADMIN_PASSWORD, Client, ServiceProcess, cid

pytestmark = pytest.mark.postgres

N = 50  # alerts raced at once (one connection has at most 64 requests in flight)


@contextlib.asynccontextmanager
async def _two(pg_url: str, tmp_path: Path) -> AsyncIterator[list[ServiceProcess]]:
    procs = [ServiceProcess(pg_url, log_path=tmp_path / f"p{i}.log", extra=["--server-id", f"p{i}"])
             for i in range(2)]
    try:
        for p in procs:
            await asyncio.to_thread(p.start)
        yield procs
    finally:
        for p in procs:
            p.stop()


async def _burst(c: Client, cmds: list[tuple[str, str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Send every (id, name, args) at once, then gather the answers by id."""
    for cmd_id, name, args in cmds:
        await c.send({"type": "command", "id": cmd_id, "name": name, "args": args})
    want = {cmd_id for cmd_id, _, _ in cmds}
    got: dict[str, dict[str, Any]] = {}
    while want - got.keys():
        f = await c.recv(30)
        ref = f.get("id") if f["type"] == "result" else f.get("ref") if f["type"] == "error" else None
        if ref in want:
            got[ref] = f
    return got


async def _race(c0: Client, c1: Client, name: str, args: list[dict[str, Any]]) -> list[tuple[dict[str, Any], ...]]:
    """The same command (fresh ids) for every args, through both connections at once; the two
    answers per args."""
    ids = [(cid(), cid()) for _ in args]
    r0, r1 = await asyncio.gather(_burst(c0, [(i, name, a) for (i, _), a in zip(ids, args, strict=True)]),
                                  _burst(c1, [(j, name, a) for (_, j), a in zip(ids, args, strict=True)]))
    return [(r0[i], r1[j]) for i, j in ids]


def _upserts(pg_url: str, kind: str = "alert.upsert") -> dict[int, list[dict[str, Any]]]:
    """Every event of `kind` in the log, by entity id, in seq order."""
    engine = make_engine(pg_url)
    try:
        with Session(engine) as s:
            rows = s.scalars(select(m.EventRecord.data).where(m.EventRecord.kind == kind).order_by(m.EventRecord.seq))
            out: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for d in rows:
                out[int(d["id"])].append(d)
            return out
    finally:
        engine.dispose()


def _one_ok(pairs: list[tuple[dict[str, Any], ...]], refused: str = "conflict") -> None:
    for pair in pairs:
        oks = [r for r in pair if r["type"] == "result" and r["ok"]]
        assert len(oks) == 1, pair
        other = next(r for r in pair if r is not oks[0])
        assert other["type"] == "result", other
        assert other["error"]["code"] == refused, other


async def _raise(c: Client, n: int) -> list[int]:
    got = await _burst(c, [(cid(), "alert.raise", {"level": 2, "domain": "fire", "town": "nancheng",
                                                    "title": f"并发 {i}"}) for i in range(n)])
    assert all(r["ok"] for r in got.values()), got
    return sorted(r["data"]["alert_id"] for r in got.values())


async def test_same_transition_through_two_processes_applies_once(pg_url: str, tmp_path: Path) -> None:
    async with _two(pg_url, tmp_path) as (p0, p1), \
            Client.open(p0.url, "operator") as c0, Client.open(p1.url, "duty") as c1:
        ids = await _raise(c0, N)
        steps = [("alert.ack", "acknowledged"), ("alert.dispatch", "dispatched"), ("alert.resolve", "resolved"),
                 ("alert.close", "closed")]
        for name, _ in steps:
            _one_ok(await _race(c0, c1, name, [{"alert_id": a} for a in ids]))
        log = _upserts(pg_url)
        for a in ids:
            assert [e["state"] for e in log[a]] == ["new", *[state for _, state in steps]], log[a]
            # one note per transition, by whoever won it, and acknowledged_by names the winner
            texts = [n["text"] for n in log[a][-1]["notes"]]
            assert len(texts) == 1 + len(steps), texts
            ack = log[a][1]
            assert ack["acknowledged_by"] == ack["updated_by"] in ("operator", "duty")


async def test_notes_and_assignments_through_two_processes_are_all_kept(pg_url: str, tmp_path: Path) -> None:
    async with _two(pg_url, tmp_path) as (p0, p1), \
            Client.open(p0.url, "operator") as c0, Client.open(p1.url, "duty") as c1:
        ids = await _raise(c0, N // 2)
        for rnd in range(3):
            r0, r1 = await asyncio.gather(
                _burst(c0, [(cid(), "alert.note", {"alert_id": a, "text": f"p0 r{rnd} {a}"}) for a in ids]),
                _burst(c1, [(cid(), "alert.note", {"alert_id": a, "text": f"p1 r{rnd} {a}"}) for a in ids]))
            assert all(r["ok"] for r in [*r0.values(), *r1.values()])
        assigned = await _race(c0, c1, "alert.assign", [{"alert_id": a, "assignee": "leader"} for a in ids])
        assert all(r["ok"] for pair in assigned for r in pair)
        # each note command's answer counts the notes it left: two answers never count the same
        log = _upserts(pg_url)
        for a in ids:
            last = log[a][-1]
            texts = [n["text"] for n in last["notes"]]
            assert sorted(t for t in texts if t.startswith("p")) == sorted(
                f"p{p} r{rnd} {a}" for p in (0, 1) for rnd in range(3))
            assert sum("assigned to leader" in t for t in texts) == 2
            assert last["assignee"] == "leader"
            # every event carries all the notes before it: none was written over
            counts = [len(e["notes"]) for e in log[a]]
            assert counts == list(range(counts[0], counts[0] + len(counts))), counts


async def test_incident_and_decision_through_two_processes_once(pg_url: str, tmp_path: Path) -> None:
    async with _two(pg_url, tmp_path) as (p0, p1), \
            Client.open(p0.url, "leader") as c0, Client.open(p1.url, "leader") as c1:
        ids = await _raise(c0, 20)
        opened = await _race(c0, c1, "incident.open", [{"alert_ids": [a]} for a in ids])
        _one_ok(opened)
        engine = make_engine(pg_url)
        try:
            with Session(engine) as s:
                assert s.scalar(select(func.count()).select_from(m.Incident)) == len(ids)
                inc_of = dict(s.execute(select(m.Alert.id, m.Alert.incident_id).where(m.Alert.id.in_(ids))).all())
                by_inc = dict(s.execute(select(m.Incident.id, m.Incident.alert_ids)).all())
            assert all(by_inc[inc_of[a]] == [a] for a in ids)
            tasks = await _burst(c0, [(cid(), "task.create", {"title": f"任务 {a}", "alert_id": a,
                                                              "requires_approval": True}) for a in ids])
            task_ids = sorted(r["data"]["task_id"] for r in tasks.values())
            decided = await _race(c0, c1, "task.decide", [{"task_id": t, "approve": True} for t in task_ids])
            _one_ok(decided)
            moved = await _race(c0, c1, "task.update", [{"task_id": t, "state": "dispatched"} for t in task_ids])
            _one_ok(moved)
            log = _upserts(pg_url, "task.upsert")
            for t in task_ids:
                assert [e["state"] for e in log[t]] == ["proposed", "approved", "dispatched"]
        finally:
            engine.dispose()


async def test_one_command_id_through_two_processes_applies_once(pg_url: str, tmp_path: Path) -> None:
    async with _two(pg_url, tmp_path) as (p0, p1), \
            Client.open(p0.url, "operator") as c0, Client.open(p1.url, "operator") as c1:
        ids = await _raise(c0, 10)
        cmds = [(cid(), "alert.note", {"alert_id": a, "text": f"一次 {k}"}) for a in ids for k in range(3)]
        r0, r1 = await asyncio.gather(_burst(c0, cmds), _burst(c1, cmds))
        for cmd_id, _, _ in cmds:
            pair = (r0[cmd_id], r1[cmd_id])
            assert all(r["type"] == "result" and r["ok"] for r in pair), pair
            assert sorted(r["duplicate"] for r in pair) == [False, True], pair
            assert pair[0]["data"] == pair[1]["data"]
            assert pair[0]["seq"] == pair[1]["seq"]
        log = _upserts(pg_url)
        for a in ids:
            texts = [n["text"] for n in log[a][-1]["notes"]]
            assert sorted(t for t in texts if t.startswith("一次")) == [f"一次 {k}" for k in range(3)]
            assert len(log[a]) == 1 + 3  # raised, then one event per note


async def test_two_admins_disabling_each_other_through_two_processes_leave_one(pg_url: str, tmp_path: Path) -> None:
    pw = {"admin": ADMIN_PASSWORD}
    survivor = "admin"
    engine = make_engine(pg_url)
    try:
        async with _two(pg_url, tmp_path) as (p0, p1):
            for rnd in range(6):
                other = f"adm{rnd}"
                pw[other] = f"pw-{other}-2024"
                async with Client.open(p0.url, survivor, pw[survivor]) as c0:
                    r = await c0.command("user.create", {"username": other, "password": pw[other], "role": "admin"})
                    assert r["ok"], r
                    async with Client.open(p1.url, other, pw[other]) as c1:
                        ids = (cid(), cid())
                        await asyncio.gather(
                            c0.send({"type": "command", "id": ids[0], "name": "user.disable", "args": {"username": other}}),
                            c1.send({"type": "command", "id": ids[1], "name": "user.disable",
                                     "args": {"username": survivor}}))
                        for c, i in ((c0, ids[0]), (c1, ids[1])):  # the loser's socket may be closed first
                            with contextlib.suppress(ConnectionClosed, TimeoutError):
                                await c.until(lambda f, i=i: f.get("id") == i, 15)
                with Session(engine) as s:
                    done = dict(s.execute(select(m.CommandRecord.id, m.CommandRecord.ok)
                                          .where(m.CommandRecord.id.in_(ids))).all())
                    admins = list(s.scalars(select(m.User.username).where(m.User.role == "admin",
                                                                          m.User.disabled.is_(False))))
                assert sorted(done.values()) == [False, True], (rnd, done)
                # whoever's disable went through is the one left
                assert admins == [survivor if done[ids[0]] else other], (rnd, admins, done)
                survivor = admins[0]
    finally:
        engine.dispose()
