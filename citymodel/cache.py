"""The console's local binary cache of the city: one uncompressed .npz per city source.

The second time the console opens the city it reads ~200 MB of raw arrays (1.7 M buildings)
instead of asking the service for every tile: numpy reads them at disk speed, no parsing.
Writes go to a temporary file renamed into place, so a crash never leaves half a cache; a cache
that cannot be read (truncated, other format version) is treated as missing, never as an error.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from citymodel.buildings import COLUMNS, BuildingTable

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


class CityCache:
    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def path(self, key: str) -> Path:
        return self.dir / f"city-{_SAFE.sub('_', key)}.npz"

    def save(self, key: str, table: BuildingTable, meta: dict[str, Any] | None = None) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        tmp = target.with_suffix(".tmp.npz")
        arrays = {name: getattr(table, name) for name in COLUMNS}
        arrays["fp_offsets"] = table.fp_offsets
        arrays["fp_xy"] = table.fp_xy
        if table.address is not None:
            arrays["address"] = np.asarray(table.address, dtype=str)
        info = {"format": FORMAT_VERSION, "key": key, "n": len(table), **(meta or {})}
        arrays["meta"] = np.frombuffer(json.dumps(info).encode(), dtype=np.uint8)
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    def meta(self, key: str) -> dict[str, Any] | None:
        try:
            with np.load(self.path(key)) as z:
                return json.loads(z["meta"].tobytes())
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None

    def load(self, key: str) -> BuildingTable | None:
        """The cached table, or None when there is no usable cache for key."""
        p = self.path(key)
        if not p.exists():
            return None
        try:
            with np.load(p) as z:
                info = json.loads(z["meta"].tobytes())
                if info.get("format") != FORMAT_VERSION:
                    log.info("city cache %s has format %s; ignoring it", p, info.get("format"))
                    return None
                cols = {name: z[name] for name in COLUMNS}
                addr = z["address"].astype(object) if "address" in z.files else None
                return BuildingTable(**cols, fp_offsets=z["fp_offsets"], fp_xy=z["fp_xy"], address=addr)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            log.warning("city cache %s unreadable (%s); it will be rebuilt", p, exc)
            return None

    def drop(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def prune(self, keep: str) -> list[Path]:
        """Delete every cached city but keep's (each is ~166 MB at 1.7 M buildings; a console
        only ever opens the newest), and temporary files a crash left behind. Returns what went."""
        kept = self.path(keep)
        gone = []
        for p in sorted(self.dir.glob("city-*.npz")):
            if p != kept:
                try:
                    p.unlink()
                    gone.append(p)
                except OSError as exc:  # in use elsewhere (Windows) or read-only: next time
                    log.info("could not delete old city cache %s: %s", p, exc)
        return gone
