"""The feed's filter predicate and sort keys (Qt-free): the fast forms agree with the plain ones."""

from __future__ import annotations

import itertools
import random

from app.alert_filter import COLUMNS, AlertFilter, id_of_key, sort_key
from protocol.entities import Alert

STATES = ["new", "acknowledged", "dispatched", "resolved", "closed"]


def _alerts(n: int = 300) -> list[Alert]:
    rnd = random.Random(7)
    return [Alert.model_construct(
        id=i, source="rule", level=rnd.randint(1, 4), state=rnd.choice(STATES),
        domain=rnd.choice(["fire", "water"]), town=rnd.choice(["nancheng", "humen", None]),
        title=rnd.choice(["火警", "水位", "Gas", ""]), title_en="", message="", device_id=None,
        external_id=None, count=rnd.randint(1, 5), last_ts=float(rnd.randint(0, 50)),
        assignee=rnd.choice([None, "li", "wang"]), first_ts=0.0) for i in range(1, n + 1)]


def test_predicate_gives_the_same_answers_as_matches() -> None:
    alerts = _alerts()
    filters = [AlertFilter(), AlertFilter(states=set()), AlertFilter(states={"resolved"}),
               AlertFilter(levels={4}), AlertFilter(towns={"humen"}, text="火")]
    for f in filters:
        pred = f.predicate()
        assert [pred(a) for a in alerts] == [f.matches(a) for a in alerts], f
    assert sum(AlertFilter(states={"resolved"}).predicate()(a) for a in alerts) > 0


def test_sort_keys_order_by_the_column_then_id_and_end_with_the_id() -> None:
    alerts = _alerts()
    plain = {"level": lambda a: (a.level, a.last_ts), "count": lambda a: (a.count,),
             "last_ts": lambda a: (a.last_ts,), "town": lambda a: (a.town or "",),
             "assignee": lambda a: (a.assignee or "",), "title": lambda a: (a.title,),
             "domain": lambda a: (a.domain,)}
    for column, descending in itertools.product(COLUMNS, (False, True)):
        key = sort_key(column, descending)
        assert all(id_of_key(key(a)) == a.id for a in alerts)
        ordered = sorted(alerts, key=key)
        if column in plain:
            # by the column (reversed when descending), ties by id in the same direction
            expect = sorted(alerts, key=lambda a: (plain[column](a), a.id), reverse=descending)
            assert [a.id for a in ordered] == [a.id for a in expect], (column, descending)
        else:  # state: lifecycle order, then the higher level first
            asc = sorted(alerts, key=lambda a: (STATES.index(a.state), -a.level, a.id))
            assert [a.id for a in ordered] == [a.id for a in (asc[::-1] if descending else asc)]
