"""A sorted list of unique keys kept in blocks: insert, remove, rank and index in ~O(log n + block).

The alert feed keeps up to 100k rows sorted. In one flat list every insert or removal moves on
average half the list (memmove of ~400 KB at 100k rows), and a burst changes hundreds of rows
per refresh tick. Here the keys live in blocks of at most 2 * LOAD; a change touches one block,
and the position of a key is the block's offset (prefix counts, rebuilt lazily when a block's
size changed) plus a bisect inside the block. Same idea as sortedcontainers.SortedList, kept
to what the feed needs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

LOAD = 512  # a block is split past 2 * LOAD keys and merged with a neighbour below LOAD // 4


class SortedRows:
    def __init__(self, keys: Iterable[Any] = ()) -> None:
        """`keys` must be sorted and unique (as the feed's rebuild makes them)."""
        flat = list(keys)
        self._blocks: list[list[Any]] = [flat[i:i + LOAD] for i in range(0, len(flat), LOAD)]
        self._maxes: list[Any] = [b[-1] for b in self._blocks]
        self._len = len(flat)
        self._offsets: list[int] | None = None  # start position of each block, None when stale

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Any]:
        for b in self._blocks:
            yield from b

    def __contains__(self, key: Any) -> bool:
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return False
        b = self._blocks[i]
        j = bisect_left(b, key)
        return j < len(b) and b[j] == key

    def _starts(self) -> list[int]:
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(b) for b in self._blocks)][:-1] if self._blocks else []
        return self._offsets

    def add(self, key: Any) -> None:
        maxes, blocks = self._maxes, self._blocks
        if not blocks:
            blocks.append([key])
            maxes.append(key)
        else:
            i = bisect_left(maxes, key)
            if i == len(maxes):  # past the last key: goes at the end of the last block
                i -= 1
                blocks[i].append(key)
                maxes[i] = key
            else:
                insort(blocks[i], key)
            if len(blocks[i]) > 2 * LOAD:
                b = blocks[i]
                blocks[i:i + 1] = [b[:LOAD], b[LOAD:]]
                maxes[i:i + 1] = [b[LOAD - 1], b[-1]]
        self._len += 1
        self._offsets = None

    def remove(self, key: Any) -> None:
        """Remove a key that is present (KeyError otherwise)."""
        maxes, blocks = self._maxes, self._blocks
        i = bisect_left(maxes, key)
        if i == len(maxes):
            raise KeyError(key)
        b = blocks[i]
        j = bisect_left(b, key)
        if j == len(b) or b[j] != key:
            raise KeyError(key)
        del b[j]
        self._len -= 1
        self._offsets = None
        if not b:
            del blocks[i]
            del maxes[i]
            return
        maxes[i] = b[-1]
        if len(b) < LOAD // 4 and len(blocks) > 1:  # keep blocks from thinning out
            k = i - 1 if i > 0 else i
            merged = blocks[k] + blocks[k + 1]
            blocks[k:k + 2] = [merged]
            maxes[k:k + 2] = [merged[-1]]

    def rank(self, key: Any) -> int:
        """Position of `key` if present, else where it would go (bisect_left over all keys)."""
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return self._len
        return self._starts()[i] + bisect_left(self._blocks[i], key)

    def __getitem__(self, pos: int) -> Any:
        if not 0 <= pos < self._len:
            raise IndexError(pos)
        starts = self._starts()
        i = bisect_right(starts, pos) - 1
        return self._blocks[i][pos - starts[i]]
