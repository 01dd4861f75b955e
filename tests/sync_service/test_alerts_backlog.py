"""The alert manager's backlog: changes to an alert not yet written fold into one write, the
store ends exactly where writing every change one by one leaves it, the backlog is bounded
(distinct alerts, then a cap that sheds low levels first and never orange or red), orange and
red go first, and a flood of flapping smoke alarms through the real pipeline stays bounded and
ends with each alert's last state in the store."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
from typing import Any

import pytest
from sqlalchemy import select

from protocol.enums import AlertSource, AlertState
from sync_service.alerts import store
from sync_service.alerts.engine import LevelChange, Rule
from sync_service.alerts.manager import (
    MAX_PER_TX,
    AlertManager,
    _Down,
    _Pending,
    _Up,
    offline_key,
    rule_key,
)
from sync_service.db.models import Alert
from sync_service.ingest.auth import Bureau
from tests.sync_service.ingest_support import Running, running, seed

FIRE = Bureau("fire", "gw")
NO_ESCALATION = 1e9  # the escalator would change old red alerts behind the comparison
FIELDS = ("level", "state", "count", "first_ts", "last_ts", "value", "threshold", "silenced",
          "acknowledged_by", "escalations", "source", "group_key")


def smoke_rule(r: Running) -> Rule:
    return next(x for x in r.c["rules"].rules.values() if (x.device_type, x.metric) == ("smoke_detector", "smoke"))


def devices(prefix: str, n: int) -> dict[str, tuple[str, str, int | None, float, float]]:
    return {f"{prefix}-{i}": ("smoke_detector", "nancheng", 5000 + i // 4, 113.74, 23.01) for i in range(n)}


def level_walk(rng: random.Random, steps: int, t0: float) -> list[tuple[int, int, float, float]]:
    """(old, new, value, ts) level changes as the rule engine reports them for one device."""
    out, level, ts = [], 0, t0
    for _ in range(steps):
        ts += rng.uniform(0.5, 5.0)
        new = rng.choice((0, 0, 1, 2, 3, 4))
        if new != level:
            out.append((level, new, round(rng.uniform(0.0, 2.0), 3), ts))
            level = new
    return out


def change(rule: Rule, pk: int, old: int, new: int, value: float, ts: float) -> LevelChange:
    return LevelChange(rule, pk, old, new, value, ts, 0.25 if new else None, False)


# Initial states of an alert before the changes come: the store's state classes the folding
# reasons about (absent, resolved, open and resolvable, open and sticky by level or by ack).
def _initial(kind: str) -> Any:
    def make(s: Any, spec: store.AlertSpec, now: float) -> None:
        if kind == "none":
            return
        spec.level = {"new1": 1, "new2": 2, "new4": 4, "ack1": 1, "ack2": 2, "resolved2": 2, "closed": 3,
                      "dispatched1": 1}[kind]
        a, _ = store.raise_alert(s, spec, now)
        if kind.startswith(("ack", "dispatched")):
            store.transition(a, AlertState.ACKNOWLEDGED, "op", now)
        if kind.startswith("dispatched"):
            store.transition(a, AlertState.DISPATCHED, "op", now)
        if kind in ("resolved2", "closed"):
            store.transition(a, AlertState.RESOLVED, "op", now)
        if kind == "closed":
            store.transition(a, AlertState.CLOSED, "op", now)
    return make


KINDS = ("none", "new1", "new2", "new4", "ack1", "ack2", "dispatched1", "resolved2", "closed")


async def _rows(r: Running, keys: list[str]) -> dict[str, Alert]:
    def fn(s: Any) -> dict[str, Alert]:
        out = {}
        for a in s.scalars(select(Alert).where(Alert.dedup_key.in_(keys)).order_by(Alert.id)):
            s.expunge(a)
            out[a.dedup_key] = a
        return out
    return await r.ctx.db.read(fn)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Both write paths: SQLite's one-statement JSON batches and PostgreSQL's executemany."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


async def test_folded_writes_leave_the_store_where_one_by_one_writes_do(store_url: str) -> None:
    """Random level walks from every initial state: written change by change (the reference) and
    written folded (all at once, and with writes at random points in between) end in the same
    alert state, level, count, times, value."""
    sqlite_url = store_url
    n_cases = 90
    rng = random.Random(20240611)
    devs = {**devices("SEQ", n_cases), **devices("ALL", n_cases), **devices("MIX", n_cases)}
    async with running(sqlite_url, seed_fn=lambda s: seed(s, devs), escalate_after_s=NO_ESCALATION) as r:
        mgr: AlertManager = r.c["alerts"]
        reg = r.c["devices"]
        rule = smoke_rule(r)
        t0 = time.time() - 10_000
        walks = [level_walk(rng, rng.randint(2, 40), t0) for _ in range(n_cases)]
        # the same initial state for the three copies of each case
        for side in ("SEQ", "ALL", "MIX"):
            for i in range(n_cases):
                d = reg.devices[f"{side}-{i}"]
                spec = mgr._rule_spec(change(rule, d.pk, 0, 1, 0.5, t0 - 100), d, t0 - 100)
                spec.ts = t0 - 100
                await r.ctx.db.write(lambda s, sp=spec, k=KINDS[i % len(KINDS)]: _initial(k)(s, sp, t0 - 100))
        longest = 0
        # one by one: every change its own write
        for i, walk in enumerate(walks):
            for old, new, value, ts in walk:
                mgr.on_level_change(change(rule, reg.devices[f"SEQ-{i}"].pk, old, new, value, ts))
                await mgr.drain()
        # all at once: nothing written until every change is in
        mgr._wake.set = lambda: None  # type: ignore[method-assign]  # hold the writer
        for i, walk in enumerate(walks):
            for old, new, value, ts in walk:
                mgr.on_level_change(change(rule, reg.devices[f"ALL-{i}"].pk, old, new, value, ts))
            longest = max(longest, len(mgr._entries[rule_key(rule.id, f"ALL-{i}")].ops) if walk else 0)
        del mgr._wake.set  # type: ignore[attr-defined]
        assert mgr.pending == sum(1 for w in walks if w)  # one entry per alert, however many changes
        mgr._wake.set()
        await mgr.drain()
        # interleaved: writes happen at random points while changes keep coming
        pos = [0] * n_cases
        while any(p < len(w) for p, w in zip(pos, walks, strict=True)):
            i = rng.randrange(n_cases)
            if pos[i] < len(walks[i]):
                old, new, value, ts = walks[i][pos[i]]
                pos[i] += 1
                mgr.on_level_change(change(rule, reg.devices[f"MIX-{i}"].pk, old, new, value, ts))
            if rng.random() < 0.05:
                await asyncio.sleep(0)  # let a write begin
            if rng.random() < 0.02:
                await mgr.drain()
        await mgr.drain()
        print(f"{sum(len(w) for w in walks)} changes in {n_cases} walks; longest folded entry {longest} steps")
        assert longest <= 6
        for i in range(n_cases):
            keys = [rule_key(rule.id, f"{side}-{i}") for side in ("SEQ", "ALL", "MIX")]
            rows = await _rows(r, keys)
            if not rows:
                assert not walks[i] or KINDS[i % len(KINDS)] in ("none", "closed")
                continue
            ref = rows[keys[0]]
            for k in keys[1:]:
                got = rows[k]
                diff = {f: (getattr(ref, f), getattr(got, f)) for f in FIELDS if getattr(ref, f) != getattr(got, f)}
                assert not diff, (KINDS[i % len(KINDS)], walks[i], k, diff)


async def test_offline_alerts_fold_to_the_same_state(sqlite_url: str) -> None:
    """Offline and back online, repeatedly (and at changing offline levels, as after a rule
    edit): folded writes end where one-by-one writes do, from every initial state."""
    n_cases = 60
    rng = random.Random(99)
    devs = {**devices("OFS", n_cases), **devices("OFA", n_cases)}
    async with running(sqlite_url, seed_fn=lambda s: seed(s, devs), escalate_after_s=NO_ESCALATION) as r:
        mgr: AlertManager = r.c["alerts"]
        reg = r.c["devices"]
        base = dataclasses.replace(smoke_rule(r), offline_periods=3)
        t0 = time.time() - 10_000
        walks: list[list[tuple[str, int, float]]] = []
        for _ in range(n_cases):
            ts, walk = t0, []
            for _ in range(rng.randint(1, 30)):
                ts += rng.uniform(1, 60)
                walk.append((rng.choice(("off", "off", "on")), rng.randint(1, 4), ts))
            walks.append(walk)
        for side in ("OFS", "OFA"):
            for i in range(n_cases):
                d = reg.devices[f"{side}-{i}"]
                spec = mgr._device_spec(d, AlertSource.OFFLINE, offline_key(d.uid), 1, "离线", "offline", "", t0, t0)
                await r.ctx.db.write(lambda s, sp=spec, k=KINDS[i % len(KINDS)]: _initial(k)(s, sp, t0))

        def feed(side: str, i: int, what: str, level: int, ts: float) -> None:
            d = reg.devices[f"{side}-{i}"]
            if what == "off":
                mgr.on_offline(d, dataclasses.replace(base, offline_level=level), ts)
            else:
                mgr.on_online(d, ts)

        for i, walk in enumerate(walks):
            for step in walk:
                feed("OFS", i, *step)
                await mgr.drain()
        mgr._wake.set = lambda: None  # type: ignore[method-assign]
        for i, walk in enumerate(walks):
            for step in walk:
                feed("OFA", i, *step)
            assert len(mgr._entries[offline_key(f"OFA-{i}")].ops) <= 4  # offline episodes always fold
        del mgr._wake.set  # type: ignore[attr-defined]
        mgr._wake.set()
        await mgr.drain()
        for i in range(n_cases):
            keys = [offline_key(f"{side}-{i}") for side in ("OFS", "OFA")]
            rows = await _rows(r, keys)
            if not rows:
                continue
            diff = {f: (getattr(rows[keys[0]], f), getattr(rows[keys[1]], f)) for f in FIELDS
                    if getattr(rows[keys[0]], f) != getattr(rows[keys[1]], f)}
            assert not diff, (KINDS[i % len(KINDS)], walks[i], diff)


def _up(level: int, ts: float, counts: bool = True) -> _Up:
    return _Up(level, ts, ts, counts, 0, None, None, None, ts)  # type: ignore[arg-type]


def test_folding_keeps_an_entry_small_and_counts_everything() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        e = _Pending("k", offline=rng.random() < 0.2, seq=0)
        level, ts, raises = 0, 0.0, 0
        for _ in range(rng.randint(1, 300)):
            ts += 1
            new = rng.choice((0, 1, 2, 3, 4))
            if new == 0 and level:
                e.add(_Down(0.01, ts))
            elif new > level:
                e.add(_up(new, ts, counts=level == 0))
                raises += level == 0
            level = new  # as the engine: a lower level is its level too, though nothing is written
            assert len(e.ops) <= 6, e.ops
        ups = [op for op in e.ops if isinstance(op, _Up)]
        assert sum(int(op.counts) + op.more for op in ups) == raises  # every occurrence still counted


async def test_a_flapping_red_alarm_counts_its_returns_in_one_note(store_url: str) -> None:
    async with running(store_url, escalate_after_s=NO_ESCALATION) as r:
        mgr: AlertManager = r.c["alerts"]
        rule, d = smoke_rule(r), r.c["devices"].devices["SD-1"]
        t = time.time() - 100
        for k in range(12):  # written one by one ...
            mgr.on_level_change(change(rule, d.pk, 0, 4, 0.9, t + 2 * k))
            mgr.on_level_change(change(rule, d.pk, 4, 0, 0.01, t + 2 * k + 1))
            await mgr.drain()
        for k in range(12, 40):  # ... and folded
            mgr.on_level_change(change(rule, d.pk, 0, 4, 0.9, t + 2 * k))
            mgr.on_level_change(change(rule, d.pk, 4, 0, 0.02, t + 2 * k + 1))
        await mgr.drain()
        a = (await _rows(r, [rule_key(rule.id, "SD-1")]))[rule_key(rule.id, "SD-1")]
        assert (a.level, a.state, a.count, a.last_ts) == (4, "new", 40, t + 78)
        assert [n["text"] for n in a.notes] == ["已恢复正常 ×40（最近 0.02）/ back to normal ×40 (last 0.02)"]


async def test_cap_sheds_low_levels_first_and_never_orange_or_red(sqlite_url: str) -> None:
    devs = devices("CAP", 40)
    async with running(sqlite_url, seed_fn=lambda s: seed(s, devs), escalate_after_s=NO_ESCALATION) as r:
        mgr: AlertManager = r.c["alerts"]
        rule, reg = smoke_rule(r), r.c["devices"]
        mgr.max_pending = 10
        mgr._wake.set = lambda: None  # type: ignore[method-assign]  # hold the writer: the backlog stays
        t = time.time() - 100

        def push(i: int, old: int, new: int) -> None:
            mgr.on_level_change(change(rule, reg.devices[f"CAP-{i}"].pk, old, new, 0.5, t + i))

        for i in range(10):
            push(i, 0, 1)  # ten blue: full
        push(0, 1, 2)  # an alert already waiting folds in: no room needed
        assert (mgr.pending, mgr.shed) == (10, {})
        push(10, 0, 2)  # yellow newcomer: the oldest blue goes (CAP-1; CAP-0 rose to yellow)
        assert mgr.shed == {1: 1}
        push(11, 2, 0)  # a clear newcomer: nothing lower to shed, so it is shed itself
        assert mgr.shed == {1: 1, 0: 1}
        push(12, 0, 1)  # blue newcomer: nothing lower waits
        assert mgr.shed == {1: 2, 0: 1}
        for i in range(13, 30):
            push(i, 0, 4 if i % 2 else 3)  # 17 orange/red: the 8 blue then the 2 yellow make room, then the cap yields
        assert mgr.pending == 17 > mgr.max_pending
        assert mgr.shed == {1: 10, 0: 1, 2: 3}  # CAP-0 had folded two changes
        assert mgr.indicators() == {"alerts_pending": 17, "alerts_shed": 14}
        assert mgr.pending_max == 17
        del mgr._wake.set  # type: ignore[attr-defined]
        mgr._wake.set()
        await mgr.drain()
        rows = await _rows(r, [rule_key(rule.id, f"CAP-{i}") for i in range(40)])
        assert sorted(int(k.split("-")[1]) for k in rows) == list(range(13, 30))
        assert all(a.level >= 3 for a in rows.values())


async def test_news_first_then_orange_and_red_with_a_share_for_the_rest(sqlite_url: str) -> None:
    devs = devices("PRI", 1201)
    async with running(sqlite_url, seed_fn=lambda s: seed(s, devs), escalate_after_s=NO_ESCALATION) as r:
        mgr: AlertManager = r.c["alerts"]
        rule, reg = smoke_rule(r), r.c["devices"]
        t = time.time() - 100

        def push(i: int, old: int, new: int, dt: float = 0.0) -> None:
            mgr.on_level_change(change(rule, reg.devices[f"PRI-{i}"].pk, old, new, 0.9 if new else 0.01, t + dt))

        for i in range(601, 1200):  # red alerts, written: from now on their updates are routine
            push(i, 0, 4)
        await mgr.drain()
        mgr._wake.set = lambda: None  # type: ignore[method-assign]  # hold the writer
        for i in range(600):
            push(i, 0, 1)
        for i in range(601, 1200):  # flapping again
            push(i, 4, 0, 1)
            push(i, 0, 4, 2)
        push(600, 0, 4)  # a detector not heard of lately raises red: news, behind all of them
        push(0, 1, 4, 3)  # a blue alert waiting rises to red: news too
        batch = mgr._take(MAX_PER_TX)
        assert [e.key for e in batch] == [rule_key(rule.id, k) for k in ("PRI-600", "PRI-0")]  # by themselves
        mgr._requeue(batch)
        assert [e.key for e in mgr._take(MAX_PER_TX)] == [rule_key(rule.id, k) for k in ("PRI-600", "PRI-0")]
        batch = mgr._take(MAX_PER_TX)
        red = [e.key for e in batch if e.tier == 4]
        blue = [e.key for e in batch if e.tier == 1]
        assert red == [rule_key(rule.id, f"PRI-{i}") for i in range(601, 601 + MAX_PER_TX - MAX_PER_TX // 5)]
        assert blue == [rule_key(rule.id, f"PRI-{i}") for i in range(1, 1 + MAX_PER_TX // 5)]  # a fifth for the rest
        mgr._requeue(batch)
        assert [e.key for e in mgr._take(2)] == [rule_key(rule.id, k) for k in ("PRI-601", "PRI-1")]  # order kept
        del mgr._wake.set  # type: ignore[attr-defined]
        mgr._wake.set()
        await mgr.drain()
        assert mgr.pending == 0
        rows = await _rows(r, [rule_key(rule.id, f"PRI-{i}") for i in range(1200)])
        # taken by hand and never written: PRI-600, PRI-0, PRI-1 (PRI-601 was written before)
        assert sorted(set(range(1200)) - {int(k.split("-")[1]) for k in rows}) == [0, 1, 600]
        assert rows[rule_key(rule.id, "PRI-1199")].count == 2


def test_requeue_folds_what_arrived_meanwhile_after_the_refused_changes() -> None:
    mgr = AlertManager.__new__(AlertManager)
    AlertManager.__init__(mgr, None, None, None, None)  # type: ignore[arg-type]
    mgr._wake.set = lambda: None  # type: ignore[method-assign]
    old = _Pending("rule:1:X", offline=False, seq=1)
    old.add(_up(1, 1.0))
    old.add(_Down(0.0, 2.0))
    mgr._entries["rule:1:X"] = e = _Pending("rule:1:X", offline=False, seq=2)
    mgr._place(e, mgr._tiers[0])
    mgr._push("rule:1:X", False, _up(2, 3.0))  # arrived while the refused write was in flight
    mgr._push("rule:1:X", False, _Down(0.0, 4.0))
    mgr._requeue([old])
    got = mgr._entries["rule:1:X"]
    assert got is old
    assert [(type(op).__name__, getattr(op, "level", None)) for op in got.ops] == [("_Up", 1), ("_Down", None),
                                                                                 ("_Up", 2), ("_Down", None)]
    assert (got.changes, got.tier) == (4, 2)
    assert list(mgr._tiers[2]) == ["rule:1:X"]
    assert not mgr._tiers[0]


FLOOD_S = float(os.environ.get("IOC_ALERT_FLOOD_S", "10"))
FLOOD_DEVICES = int(os.environ.get("IOC_ALERT_FLOOD_DEVICES", "3000"))


async def test_flood_of_flapping_smoke_alarms_stays_bounded_and_ends_in_the_last_state(sqlite_url: str) -> None:
    """Every reading of thousands of smoke detectors flips their alarm, through the real
    ingest pipeline, for FLOOD_S seconds: the backlog never exceeds one entry per detector, and
    once it is written each alert holds the detector's last state: red, open, counted once per
    raise, last value and time of its last alarm. Half-way, a detector outside the flood raises
    red: as news, it is written ahead of the flood's routine updates."""
    n = FLOOD_DEVICES
    devs = {**devices("FL", n), "QUIET-1": ("smoke_detector", "dongcheng", 9999, 113.78, 23.03)}
    async with running(sqlite_url, seed_fn=lambda s: seed(s, devs), escalate_after_s=NO_ESCALATION) as r:
        pipe, mgr = r.c["ingest"], r.c["alerts"]
        rule = smoke_rule(r)
        news: dict[str, float] = {}

        def on_commit(events: list[Any]) -> None:
            if "seen" not in news and any(e.kind == "alert.upsert" and e.data["device_id"] == "QUIET-1"
                                          for e in events):
                news["seen"] = time.monotonic()
        r.ctx.db.on_commit(on_commit)
        raises = [0] * n
        last_alarm = [0.0] * n
        last_value = [0.0] * n
        k = 0
        t0 = time.monotonic()
        base = time.time()
        written0 = mgr.written
        while time.monotonic() - t0 < FLOOD_S:
            now = base + k * 0.01  # reading times rise per detector whatever the pace
            alarm = k % 2 == 0
            order = list(range(n))
            random.Random(k).shuffle(order)
            batch = []
            for j, i in enumerate(order):
                ts = now + j * 1e-6
                v = (0.5 + (k % 7) / 10) if alarm else 0.01 + (k % 5) / 100
                batch.append({"device": f"FL-{i}", "ts": ts, "values": {"smoke": v}})
                if alarm:
                    raises[i] += 1
                    last_alarm[i], last_value[i] = ts, v
            k += 1
            await pipe.wait_room()
            await pipe.ingest_async(batch, bureau=FIRE, door="test")
            assert mgr.pending <= n + 1
            if "sent" not in news and time.monotonic() - t0 > FLOOD_S / 2:
                pipe.ingest([{"device": "QUIET-1", "ts": now, "values": {"smoke": 0.8}}], bureau=FIRE, door="test")
                news["sent"] = time.monotonic()
        took = time.monotonic() - t0
        written = mgr.written - written0
        t1 = time.monotonic()
        await r.settle()
        print(f"flood: {k * n} readings ({k * n / took:.0f}/s), {mgr.received} alert changes in {took:.1f} s "
              f"({mgr.received / took:.0f}/s); backlog max {mgr.pending_max} alerts; {written} alert events "
              f"written during it ({written / took:.0f}/s), the rest {time.monotonic() - t1:.1f} s after; "
              f"shed {mgr.shed_total}; a new red alert written {news['seen'] - news['sent']:.2f} s after its "
              f"reading (a pass over the flood's alerts takes ~{n / max(written / took, 1):.0f} s)")
        assert mgr.received >= k * n - n  # every reading flipped a detector
        assert mgr.pending_max <= n + 1
        assert news["seen"] - news["sent"] < 5.0
        assert mgr.shed_total == 0
        rows = await _rows(r, [rule_key(rule.id, f"FL-{i}") for i in range(n)])
        assert len(rows) == n
        wrong = [(i, a.level, a.state, a.count, raises[i]) for i, a in
                 ((i, rows[rule_key(rule.id, f"FL-{i}")]) for i in range(n))
                 if (a.level, a.state, a.count, a.last_ts, a.value) != (4, "new", raises[i], last_alarm[i], last_value[i])]
        assert not wrong, wrong[:5]
        a = rows[rule_key(rule.id, "FL-0")]
        assert len(a.notes) == 1
        assert a.notes[0]["text"].startswith(f"已恢复正常 ×{k // 2}")  # every return to normal, in one note
