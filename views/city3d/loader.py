"""Getting the city to the console: local cache first, then the service tile by tile.

1. The newest local cache (citymodel.cache) opens the city at once, online or offline.
2. buildings.get with no arguments returns the manifest and the data version. When the cache is
   of that version, done; otherwise every 1 km tile is fetched, several tiles per query up to
   BATCH_BUILDINGS buildings, following the service's pages (a few queries in flight at a
   time); the table is assembled, written to the cache, and handed over.
Only the CommandSink is used: the view never touches the network or the database itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from app.commandbus import CommandSink
from citymodel.buildings import BuildingTable
from citymodel.cache import CityCache
from citymodel.wire import decode_table

log = logging.getLogger(__name__)

IN_FLIGHT = 4  # tile queries in flight at once
RETRIES = 12  # a rate-limited or busy tile query is retried with backoff (the service allows
# ~50 frames/s per connection)
BATCH_BUILDINGS = 4000  # tiles are asked for together up to this many buildings (the full city
# is ~2,500 tiles but ~450 answers); the service pages an answer that would be too big anyway
BATCH_TILES = 500  # the most tiles one query may name
RETRY_CODES = {"rate_limited", "busy", "timeout"}


def cache_dir() -> Path:
    """IOC_CITY_CACHE_DIR, else the user's cache directory."""
    env = os.environ.get("IOC_CITY_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir("ioc-console", appauthor=False)) / "city"


class CityLoader:
    def __init__(self, commands: CommandSink, cache: CityCache | None = None) -> None:
        self.commands = commands
        self.cache = cache or CityCache(cache_dir())
        self.latest_file = self.cache.dir / "latest.json"
        self.progress: Callable[[int, int], None] | None = None  # (tiles done, tiles total)

    def cached(self) -> tuple[BuildingTable | None, str | None]:
        """The newest cached city and its version (or None, None)."""
        try:
            version = json.loads(self.latest_file.read_text())["version"]
        except (OSError, ValueError, KeyError, TypeError):
            return None, None
        table = self.cache.load(version)
        return (table, version) if table is not None else (None, None)

    async def fetch(self, have_version: str | None) -> tuple[BuildingTable | None, str | None, str]:
        """Ask the service. Returns (table or None when the cache is current, version, status)
        where status is "current", "fetched", "empty" or an error text."""
        res = await self.commands.query("buildings.get", {})
        if not res.ok or res.data is None:
            return None, have_version, f"{res.error_code}: {res.error_message}"
        version = str(res.data.get("version", ""))
        tiles = sorted(res.data.get("tiles", {}))
        if not tiles:
            return None, have_version, "empty"
        if version == have_version:
            return None, version, "current"
        parts: list[BuildingTable] = []
        sem = asyncio.Semaphore(IN_FLIGHT)
        done = 0

        async def page(args: dict[str, Any]) -> dict[str, Any]:
            for attempt in range(RETRIES):
                r = await self.commands.query("buildings.get", args)
                if r.ok or str(r.error_code) not in RETRY_CODES:
                    break
                await asyncio.sleep(min(2.0, 0.25 * 2 ** attempt))
            if not r.ok or r.data is None:
                raise RuntimeError(f"tiles {args['tiles'][:3]}: {r.error_code}: {r.error_message}")
            return r.data

        async def one(batch: list[str]) -> None:
            nonlocal done
            args: dict[str, Any] = {"tiles": batch}
            async with sem:
                while True:  # more than one answer holds comes in pages, after the last id
                    data = await page(args)
                    parts.append(decode_table(data["buildings"]))
                    after = data.get("next_after_id") if data.get("truncated") else None
                    if after is None:
                        break
                    args = {"tiles": batch, "after_id": after}
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(tiles))

        batches = batch_tiles(res.data["tiles"])
        try:
            await asyncio.gather(*(one(b) for b in batches))
        except (RuntimeError, ValueError) as exc:
            return None, have_version, str(exc)
        table = BuildingTable.concat(parts)
        table = table.take(table.id.argsort(kind="stable"))
        self.save(table, version)
        return table, version, "fetched"

    def save(self, table: BuildingTable, version: str) -> None:
        try:
            self.cache.save(version, table, {"version": version})
            self.latest_file.write_text(json.dumps({"version": version}))
        except OSError as exc:  # a full disk must not stop the view; next time it refetches
            log.warning("could not write the city cache: %s", exc)
            return
        for p in self.cache.prune(keep=version):
            log.info("deleted the old city cache %s", p.name)


def batch_tiles(counts: dict[str, int]) -> list[list[str]]:
    """Tiles in name order, grouped up to BATCH_BUILDINGS buildings (a denser tile alone)."""
    batches: list[list[str]] = []
    cur: list[str] = []
    n = 0
    for tile in sorted(counts):
        c = int(counts[tile])
        if cur and (n + c > BATCH_BUILDINGS or len(cur) >= BATCH_TILES):
            batches.append(cur)
            cur, n = [], 0
        cur.append(tile)
        n += c
    if cur:
        batches.append(cur)
    return batches


def summarize(table: BuildingTable | None) -> dict[str, Any]:
    return {"buildings": 0 if table is None else len(table)}
