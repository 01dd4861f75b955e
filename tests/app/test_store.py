from __future__ import annotations

from typing import Any

from app.store import DRAIN_CHECK_EVERY, StateStore
from protocol.frames import Event


def _alert(i: int, level: int = 4, state: str = "new", **kw: Any) -> dict[str, Any]:
    return dict(id=i, source="rule", level=level, state=state, domain="fire", title=f"a{i}",
                first_ts=1.0, last_ts=1.0, updated_ts=1.0, **kw)


def test_events_apply_once_and_in_order() -> None:
    s = StateStore()
    changed: list[set[int]] = []
    s.alerts_changed.connect(changed.append)
    evs = [Event(seq=i, ts=1, kind="alert.upsert", data=_alert(i, level=1)) for i in (1, 2, 3)]
    assert s.apply_events(evs) == 3
    assert s.apply_events(evs) == 0  # replay after reconnect: nothing applied twice
    assert s.seq == 3
    assert changed == [{1, 2, 3}]


def test_red_alert_announced_once_until_acknowledged() -> None:
    s = StateStore()
    red: list[int] = []
    s.red_alert.connect(lambda a: red.append(a.id))
    s.apply_events([Event(seq=1, ts=1, kind="alert.upsert", data=_alert(9))])
    s.apply_events([Event(seq=2, ts=1, kind="alert.upsert", data=_alert(9, count=2))])
    assert red == [9]
    s.apply_events([Event(seq=3, ts=1, kind="alert.upsert", data=_alert(9, state="acknowledged"))])
    assert s.unacknowledged_red() == []


def test_silenced_red_is_not_announced() -> None:
    s = StateStore()
    red: list[int] = []
    s.red_alert.connect(lambda a: red.append(a.id))
    s.apply_events([Event(seq=1, ts=1, kind="alert.upsert", data=_alert(5, silenced=True))])
    assert red == []


def test_snapshot_swaps_whole_and_dump_load_roundtrip() -> None:
    s = StateStore()
    resets: list[int] = []
    s.reset.connect(lambda: resets.append(1))
    s.begin_snapshot(10)
    s.snapshot_part("alerts", [_alert(1, level=2)])
    s.snapshot_part("towns", [dict(code="nancheng", name_zh="南城街道", name_en="Nancheng",
                                   kind="street", population=1, lon=113.7, lat=23.0)])
    assert s.alerts == {}  # not visible until the end
    s.end_snapshot(10)
    assert set(s.alerts) == {1}
    assert s.seq == 10
    dumped = s.dump()
    t = StateStore()
    t.load(dumped)
    assert t.seq == 10
    assert t.towns["nancheng"].name_zh == "南城街道"
    assert resets == [1]


def test_unknown_event_kind_is_skipped() -> None:
    s = StateStore()
    assert s.apply_events([Event(seq=1, ts=1, kind="from.the.future", data={})]) == 1
    assert s.seq == 1


def _alerts(first: int, last: int, level: int = 1) -> list[Event]:
    return [Event(seq=i, ts=1, kind="alert.upsert", data=_alert(i, level=level)) for i in range(first, last + 1)]


def test_paced_store_queues_then_applies_in_slices_in_order() -> None:
    s = StateStore()
    asked: list[int] = []
    s.pacer = lambda: asked.append(1)
    changed: list[set[int]] = []
    s.alerts_changed.connect(changed.append)
    assert s.apply_events(_alerts(1, 300)) == 300
    assert s.apply_events(_alerts(250, 400)) == 100  # replay overlap: only the new ones queue
    assert asked == [1]  # asked once while the queue waits
    assert s.alerts == {}
    assert s.seq == 0
    assert s.backlog == 400
    assert s.drain(0.0) is True  # an exhausted budget stops at the first look at the clock: a hard cap
    assert len(s.alerts) == DRAIN_CHECK_EVERY
    assert sorted(s.alerts) == list(range(1, len(s.alerts) + 1))
    assert s.seq == len(s.alerts)
    while s.drain(0.0):
        pass
    assert sorted(s.alerts) == list(range(1, 401))
    assert s.seq == 400
    assert s.backlog == 0
    assert len(changed) > 1
    assert set().union(*changed) == set(range(1, 401))
    assert s.apply_events(_alerts(401, 401)) == 1
    assert asked == [1, 1]  # the queue was empty again: the pacer is asked again


def test_a_synced_seq_set_while_events_are_queued_does_not_skip_them() -> None:
    s = StateStore()
    s.pacer = lambda: None
    s.apply_events(_alerts(1, 50))
    s.seq = 80  # heartbeat: synced to 80 (the events 51..80 were of other bureaus)
    assert s.seq == 0
    s.drain_all()
    assert sorted(s.alerts) == list(range(1, 51))  # none skipped because of the adopted seq
    assert s.seq == 80
    assert s.apply_events(_alerts(60, 90)) == 10  # at or below 80 counts as seen


def test_a_snapshot_drops_the_queue_and_a_paced_store_matches_an_unpaced_one() -> None:
    s = StateStore()
    s.pacer = lambda: None
    s.apply_events(_alerts(1, 20))
    s.begin_snapshot(30)
    s.snapshot_part("alerts", [_alert(i, level=2) for i in range(1, 31)])
    s.end_snapshot(30)
    assert s.backlog == 30  # the queued events are gone; the snapshot's items wait for drain()
    s.apply_events(_alerts(25, 40, level=3))
    s.drain_all()
    plain = StateStore()
    plain.begin_snapshot(30)
    plain.snapshot_part("alerts", [_alert(i, level=2) for i in range(1, 31)])
    plain.end_snapshot(30)
    plain.apply_events(_alerts(25, 40, level=3))
    assert s.seq == plain.seq == 40
    assert {i: a.level for i, a in s.alerts.items()} == {i: a.level for i, a in plain.alerts.items()}


def test_a_paced_snapshot_is_validated_in_slices_and_swapped_in_whole() -> None:
    """100k alerts are seconds of validation: paced, no drain() pass does it all, the old state
    stays on screen until the new one is complete, and events wait behind the swap."""
    s = StateStore()
    asked: list[int] = []
    s.pacer = lambda: asked.append(1)
    s.apply_events(_alerts(1, 5))
    s.drain_all()
    resets: list[int] = []
    s.reset.connect(lambda: resets.append(len(s.alerts)))
    s.begin_snapshot(5000)
    for k in range(0, 4000, 500):
        s.snapshot_part("alerts", [_alert(i, level=1 + i % 4) for i in range(10 + k, 10 + k + 500)])
    assert asked == [1, 1]  # asked once when the parts started to wait
    s.apply_events(_alerts(4990, 5010))  # sent after the snapshot, held until it is in
    passes = 0
    while s.drain(0.0005):
        passes += 1
    assert passes > 3  # many slices, each capped
    assert set(s.alerts) == set(range(1, 6))  # the old state until the end has come
    assert s.backlog == 21  # the events wait behind the snapshot: nothing to do until its end
    s.end_snapshot(5000)
    assert asked[-1:] == [1]
    assert s.drain(1.0) is False
    assert resets == [4000]
    assert set(s.alerts) == set(range(10, 4010)) | set(range(5001, 5011))
    assert s.seq == 5010
    plain = StateStore()
    plain.begin_snapshot(5000)
    plain.snapshot_part("alerts", [_alert(i, level=1 + i % 4) for i in range(10, 4010)])
    plain.end_snapshot(5000)
    plain.apply_events(_alerts(5001, 5010))
    assert s.open_alert_counts == plain.open_alert_counts


def test_the_collections_a_paced_snapshot_replaced_are_freed_in_later_slices() -> None:
    s = StateStore()
    s.pacer = lambda: None
    s.apply_events(_alerts(1, 3000))
    s.drain_all()
    old = s.alerts
    s.begin_snapshot(4000)
    s.snapshot_part("alerts", [_alert(i, level=2) for i in range(5000, 5100)])
    s.end_snapshot(4000)
    while s.snapshot_pending:
        s.drain(0.0)  # a spent budget still does a part per pass
    assert set(s.alerts) == set(range(5000, 5100))  # swapped in whole
    assert len(old) == 2500  # the old alerts: 500 freed in the swap's pass, the rest in the next ones
    sizes = []
    while s.drain(0.0):
        sizes.append(len(old))
    assert not old
    assert sizes == [2000, 1500, 1000, 500]  # 500 a pass when the budget is spent
    assert set(s.alerts) == set(range(5000, 5100))
    assert s.drain(1.0) is False  # nothing left to do: the pacer is not asked again


def test_a_new_snapshot_or_a_cache_replaces_one_still_being_validated() -> None:
    s = StateStore()
    s.pacer = lambda: None
    s.begin_snapshot(100)
    s.snapshot_part("alerts", [_alert(i) for i in range(1, 101)])
    s.end_snapshot(100)
    s.begin_snapshot(200)  # the link dropped and came back: a fresh snapshot
    s.snapshot_part("alerts", [_alert(i) for i in range(150, 160)])
    s.end_snapshot(200)
    s.drain_all()
    assert set(s.alerts) == set(range(150, 160))
    assert s.seq == 200
    s.begin_snapshot(300)
    s.snapshot_part("alerts", [_alert(i) for i in range(1, 101)])
    s.load({"seq": 250, "data_ts": None, "alerts": [_alert(7)]})  # a logout/login cleared it
    assert not s.snapshot_pending
    assert s.drain(1.0) is False
    assert set(s.alerts) == {7}


def test_a_snapshot_cut_off_before_its_end_does_not_hold_the_next_sessions_events() -> None:
    s = StateStore()
    s.pacer = lambda: None
    s.apply_events(_alerts(1, 10))
    s.drain_all()
    s.begin_snapshot(50)
    s.snapshot_part("alerts", [_alert(i) for i in range(20, 30)])  # and then the link dropped
    s.drop_unfinished_snapshot()  # the client, on its next connection
    s.apply_events(_alerts(11, 12))  # that session resumed from seq 10
    s.seq = 40  # a heartbeat's synced_seq
    s.drain_all()
    assert set(s.alerts) == set(range(1, 13))
    assert s.seq == 40
    s.begin_snapshot(60)
    s.snapshot_part("alerts", [_alert(i) for i in range(20, 30)])
    s.end_snapshot(60)
    s.seq = 70  # adopted once the snapshot is in, not overwritten by it
    s.drop_unfinished_snapshot()  # this one did end: still swapped in
    s.drain_all()
    assert set(s.alerts) == set(range(20, 30))
    assert s.seq == 70


def test_open_alert_counts_follow_every_change_and_match_a_scan() -> None:
    import random

    from app.alert_filter import OPEN_STATES, level_counts, open_counts_by, town_counts
    rnd = random.Random(4)
    s = StateStore()
    s.begin_snapshot(10)
    s.snapshot_part("alerts", [_alert(i, level=rnd.randint(1, 4), town=rnd.choice(["humen", "changan", None]))
                               for i in range(1, 200)])
    s.end_snapshot(10)

    def scan() -> dict[tuple[int, str, str], int]:
        out: dict[tuple[int, str, str], int] = {}
        for a in s.alerts.values():
            if a.state in OPEN_STATES:
                k = (int(a.level), a.town or "", a.domain or "")
                out[k] = out.get(k, 0) + 1
        return out
    assert s.open_alert_counts == scan()
    seq = 10
    for _ in range(2000):  # levels, towns, domains and states change; new alerts come
        seq += 1
        i = rnd.randint(1, 300)
        s.apply_events([Event(seq=seq, ts=1, kind="alert.upsert", data=dict(_alert(
            i, level=rnd.randint(1, 4), state=rnd.choice(["new", "acknowledged", "dispatched", "resolved", "closed"]),
            town=rnd.choice(["humen", "changan", "dongcheng", None])), domain=rnd.choice(["fire", "water"])))])
    assert s.open_alert_counts == scan()
    alerts = list(s.alerts.values())
    assert open_counts_by(s.open_alert_counts, "level") == level_counts(alerts)
    assert open_counts_by(s.open_alert_counts, "town", 3) == town_counts(alerts, 3)
    t = StateStore()
    t.load(s.dump())
    assert t.open_alert_counts == scan()
