from __future__ import annotations

import random
from bisect import bisect_left

import pytest

from app import sorted_rows
from app.sorted_rows import SortedRows


@pytest.mark.parametrize("load", [2, 4, 512])
def test_random_changes_match_a_sorted_list(load: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sorted_rows, "LOAD", load)  # tiny blocks: splits and merges all the time
    rnd = random.Random(load)
    ref = sorted(rnd.sample(range(100_000), 3000))
    rows = SortedRows(ref)
    for step in range(4000):
        if ref and rnd.random() < 0.5:
            k = rnd.choice(ref)
            ref.remove(k)
            rows.remove(k)
        else:
            k = rnd.randrange(-1000, 101_000)
            if k in ref:
                continue
            ref.insert(bisect_left(ref, k), k)
            rows.add(k)
        if step % 97 == 0:
            assert list(rows) == ref
        probe = rnd.randrange(-2000, 102_000)
        assert rows.rank(probe) == bisect_left(ref, probe)
        assert (probe in rows) == (probe in ref)
        if ref:
            i = rnd.randrange(len(ref))
            assert rows[i] == ref[i]
    assert len(rows) == len(ref)
    assert list(rows) == ref


def test_tuple_keys_empty_rows_and_errors() -> None:
    rows = SortedRows()
    assert len(rows) == 0
    assert rows.rank((1, 2)) == 0
    with pytest.raises(KeyError):
        rows.remove((1, 2))
    with pytest.raises(IndexError):
        rows[0]
    rows.add((-4, -1.0, -7))
    rows.add((-1, -5.0, -9))
    rows.add((-4, -3.0, -8))
    assert list(rows) == [(-4, -3.0, -8), (-4, -1.0, -7), (-1, -5.0, -9)]
    assert rows.rank((-4, -1.0, -7)) == 1
    rows.remove((-4, -3.0, -8))
    with pytest.raises(KeyError):
        rows.remove((-4, -3.0, -8))
    assert rows[0] == (-4, -1.0, -7)
