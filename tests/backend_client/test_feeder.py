from __future__ import annotations

from app.store import StateStore
from backend_client.feeder import StoreFeeder
from protocol.frames import Event, Events, SnapshotBegin, SnapshotEnd, SnapshotPart, Welcome
from tests.backend_client.data import alert


def _welcome(mode: str, reason: str = "") -> Welcome:
    return Welcome(session="t", user="u", role="operator", domains=None, server_id="s",
                   head_seq=10, mode=mode, reason=reason, permissions=["alert.ack"])  # type: ignore[arg-type]


def _ev(seq: int, aid: int, **kw: object) -> Event:
    return Event(seq=seq, ts=1, kind="alert.upsert", data=alert(aid, **kw))  # type: ignore[arg-type]


def test_events_during_snapshot_are_applied_after_it() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_welcome(_welcome("snapshot", "first"), asked_resume=False)
    f.on_snapshot_begin(SnapshotBegin(seq=10))
    f.on_snapshot_part(SnapshotPart(collection="alerts", items=[alert(1)]))
    f.on_events(Events(items=[_ev(9, 5), _ev(11, 2)]))  # 9 is inside the snapshot already
    assert s.alerts == {}
    f.on_snapshot_end(SnapshotEnd(seq=10))
    assert set(s.alerts) == {1, 2}  # event 11 survived the swap; 9 was not re-applied
    assert s.seq == 11
    assert f.events_applied == 1
    assert f.events_skipped == 1
    assert s.snapshot_reloads == 0  # a first snapshot is not a reload
    assert s.session.role == "operator"
    assert s.can("alert.ack")


def test_replay_overlap_applies_each_event_once() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_events(Events(items=[_ev(1, 1), _ev(2, 2), _ev(3, 3)]))
    f.start_session()  # reconnect; the service replays from an older point
    f.on_events(Events(items=[_ev(2, 2, count=99), _ev(3, 3), _ev(4, 4)]))
    assert s.seq == 4
    assert s.alerts[2].count == 1  # the replayed copy of seq 2 was ignored
    assert f.events_applied == 4
    assert f.events_skipped == 2


def test_refused_resume_counts_a_snapshot_reload() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_welcome(_welcome("snapshot", "too_old"), asked_resume=True)
    f.on_welcome(_welcome("resume"), asked_resume=True)
    assert s.snapshot_reloads == 1


def test_half_received_snapshot_is_dropped_on_reconnect() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_events(Events(items=[_ev(1, 1)]))
    f.on_snapshot_begin(SnapshotBegin(seq=20))
    f.on_events(Events(items=[_ev(21, 7)]))
    f.start_session()  # the link died mid-snapshot
    f.on_events(Events(items=[_ev(2, 2)]))
    assert set(s.alerts) == {1, 2}
    assert s.seq == 2


def test_malformed_event_is_skipped_not_fatal() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    changed: list[set[int]] = []
    s.alerts_changed.connect(changed.append)
    bad = Event(seq=2, ts=1, kind="alert.upsert", data={"id": 2, "level": "very"})
    f.on_events(Events(items=[_ev(1, 1), bad, _ev(3, 3)]))
    assert set(s.alerts) == {1, 3}  # the rest of the batch still applied
    assert s.seq == 3
    assert s.bad_events == 1
    assert changed == [{1, 3}]


def test_malformed_snapshot_item_is_skipped() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_snapshot_begin(SnapshotBegin(seq=5))
    f.on_snapshot_part(SnapshotPart(collection="alerts", items=[alert(1), {"id": "x"}, alert(2)]))
    f.on_snapshot_end(SnapshotEnd(seq=5))
    assert set(s.alerts) == {1, 2}
