"""The hub and its helpers without a network: ordered delivery across gaps, encode-once per
scope, frame packing, scope redaction, the token bucket."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from sqlalchemy.orm import Session

from protocol.frames import MAX_EVENTS_PER_FRAME, Event, decode_server_frame
from sync_service.config import ServiceConfig
from sync_service.context import ServiceContext
from sync_service.db.database import Database
from sync_service.db.engine import make_engine, migrate
from sync_service.eventlog import NewEvent, append_events
from sync_service.hub import Batch, Hub, encode_events
from sync_service.server.ratelimit import TokenBucket
from sync_service.server.scope import visible
from tests.sync_service.data_helpers import notices


class _Sink:
    def __init__(self, scope: frozenset[str] | None) -> None:
        self.scope = scope
        self.seqs: list[int] = []
        self.frames: list[bytes] = []

    def on_hub_batch(self, batch: Batch) -> None:
        self.seqs.extend(e.seq for e in batch.events_for(self.scope))
        self.frames.extend(b for b, _ in batch.frames_for(self.scope))


@pytest.fixture
def db(sqlite_url: str):  # noqa: ANN201
    engine = make_engine(sqlite_url)
    migrate(engine)
    d = Database(engine)
    yield d
    d.close()


async def test_hub_delivers_in_order_across_gaps_and_bypassing_writers(db: Database) -> None:
    ctx = ServiceContext(config=ServiceConfig(db_url=str(db.engine.url)), db=db, server_id="t")
    hub = Hub(ctx, poll_s=0.1)
    await hub.start()
    all_sink, fire_sink = _Sink(None), _Sink(frozenset({"fire"}))
    hub.subscribe(all_sink)
    hub.subscribe(fire_sink)
    try:
        await db.write_events(notices(3))  # fast path: contiguous after the hub's start

        def bypass(s: Session) -> None:  # a writer that does not go through write_events
            append_events(s, [NewEvent("system.notice", {"i": 100}), NewEvent("alert.upsert", {"id": 1}, domain="fire"),
                              NewEvent("alert.upsert", {"id": 2}, domain="water")])
        await db.write(bypass)
        await db.write_events(notices(2, 3))  # arrives with a gap: the hub reads the log first
        for _ in range(50):
            if hub.last_seq == 8 and len(all_sink.seqs) == 8:
                break
            await asyncio.sleep(0.05)
        assert all_sink.seqs == list(range(1, 9))
        assert fire_sink.seqs == [1, 2, 3, 4, 5, 7, 8]  # not the water alert (seq 6)
        assert hub.reads >= 1
    finally:
        await hub.stop()


def test_batch_encodes_once_per_scope_and_packs_frames() -> None:
    evs = [Event(seq=i, ts=1.0, kind="system.notice", domain=("fire" if i % 2 else "water"), data={"i": i})
           for i in range(1, 1202)]
    b = Batch(evs)
    f1, f2 = b.frames_for(None), b.frames_for(None)
    assert f1 is f2  # the same bytes for every session of a scope
    assert [n for _, n in f1] == [500, 500, 201]
    fire = b.frames_for(frozenset({"fire"}))
    items = [e for data, _ in fire for e in decode_server_frame(data).items]
    assert [e.seq for e in items] == list(range(1, 1202, 2))
    big = [Event(seq=i, ts=1.0, kind="x", data={"pad": "x" * 5000}) for i in range(200)]
    frames = encode_events(big)
    assert all(len(data) < 300_000 for data, _ in frames)  # bytes cap, not only the count
    assert sum(n for _, n in frames) == 200
    assert all(n <= MAX_EVENTS_PER_FRAME for _, n in frames)
    assert orjson.loads(frames[0][0])["type"] == "events"


def test_scope_redaction() -> None:
    stats = Event(seq=1, ts=0, kind="devices.stats", data={"items": [{"domain": "fire"}, {"domain": "water"}]})
    dq = Event(seq=2, ts=0, kind="dq.counts", data={"total": {"nan": 9}, "by_domain": {"fire": {"nan": 4}, "water": {"nan": 5}}})
    rule = Event(seq=3, ts=0, kind="rule.upsert", data={"device_type": "water_level"})
    fire = frozenset({"fire"})
    assert visible(stats, fire).data["items"] == [{"domain": "fire"}]
    assert visible(dq, fire).data == {"total": {"nan": 4}, "by_domain": {"fire": {"nan": 4}}}
    assert visible(rule, fire) is None
    assert visible(rule, frozenset({"water"})) is rule
    assert visible(stats, None) is stats
    assert visible(Event(seq=4, ts=0, kind="alert.upsert", domain="water"), fire) is None


def test_token_bucket_refill_and_flood() -> None:
    now = [0.0]
    b = TokenBucket(10, 5, flood_factor=2, flood_window_s=10, clock=lambda: now[0])
    assert [b.take() for _ in range(7)] == [True] * 5 + [False] * 2
    now[0] += 0.5  # 5 tokens back
    assert [b.take() for _ in range(6)] == [True] * 5 + [False]
    assert not b.flooding()
    for _ in range(8):
        b.take()
    assert b.flooding()  # 11 refused within 10 s > 2 x 5
    now[0] += 11
    assert not b.flooding()
