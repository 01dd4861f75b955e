from __future__ import annotations

from typing import Any

from app.store import StateStore
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
