"""The console's city loader against a scripted CommandSink: retries when rate limited, reports
other failures without raising, and keeps the cache when the service is unreachable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from app.commandbus import CommandResult
from citymodel.buildings import BuildingTable
from citymodel.cache import CityCache
from citymodel.generator import generate_city
from citymodel.tiles import service_tile_keys
from citymodel.wire import encode_table
from views.city3d.loader import CityLoader


class ScriptedSink:
    def __init__(self, table: BuildingTable, refuse: dict[str, list[str]] | None = None) -> None:
        keys = service_tile_keys(table)
        self.tiles = {k: table.take(np.flatnonzero(keys == k)) for k in sorted(set(keys.tolist()))}
        self.refuse = refuse or {}
        self.calls: list[dict[str, Any]] = []
        self.offline = False

    async def _answer(self, args: dict[str, Any]) -> CommandResult:
        self.calls.append(args)
        if self.offline:
            return CommandResult(ok=False, error_code="offline", error_message="not connected")
        tiles = args.get("tiles")
        if tiles is None:
            return CommandResult(ok=True, data={"tiles": {k: len(t) for k, t in self.tiles.items()},
                                                "total": sum(len(t) for t in self.tiles.values()), "version": "v1"})
        for tile in tiles:
            pending = self.refuse.get(tile)
            if pending:
                return CommandResult(ok=False, error_code=pending.pop(0), error_message="no")
        table = BuildingTable.concat([self.tiles[t] for t in tiles])
        return CommandResult(ok=True, data={"buildings": encode_table(table)})

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        return asyncio.ensure_future(self._answer(args))

    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        raise AssertionError("no commands")


async def test_rate_limited_tiles_are_retried(tmp_path: Path) -> None:
    city = generate_city(3, 1500)
    sink = ScriptedSink(city)
    first = next(iter(sink.tiles))
    sink.refuse[first] = ["rate_limited", "rate_limited"]
    loader = CityLoader(sink, CityCache(tmp_path))
    table, version, status = await loader.fetch(None)
    assert status == "fetched"
    assert version == "v1"
    assert table is not None
    np.testing.assert_array_equal(table.id, city.id)
    assert sum(1 for c in sink.calls if first in c.get("tiles", ())) == 3
    progress: list[tuple[int, int]] = []
    loader2 = CityLoader(sink, CityCache(tmp_path))
    loader2.progress = lambda d, n: progress.append((d, n))
    cached, cv = loader2.cached()
    assert cv == "v1"
    assert cached is not None
    assert len(cached) == len(city)
    sink.offline = True  # offline: the cache stays, the status says why
    none, keep, status = await loader2.fetch(cv)
    assert none is None
    assert keep == "v1"
    assert "offline" in status


async def test_a_refused_tile_fails_the_fetch_cleanly(tmp_path: Path) -> None:
    city = generate_city(3, 800)
    sink = ScriptedSink(city)
    sink.refuse[next(iter(sink.tiles))] = ["forbidden"]
    loader = CityLoader(sink, CityCache(tmp_path))
    table, version, status = await loader.fetch(None)
    assert table is None
    assert version is None
    assert "forbidden" in status
    assert loader.cached() == (None, None)  # nothing half-written
