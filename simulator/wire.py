"""Readings as they travel (docs/ingest.md): the JSON items of bureau batches and the payloads of
single devices, with the faults' garbage applied the way broken devices really send it.

A NaN cannot travel in JSON (orjson writes null, Python's json writes an invalid token that
would spoil the whole batch), so a NaN reading arrives as null, as real encoders send it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator import faults
from simulator.city import City
from simulator.engine import TypeBatch
from simulator.keys import device_key
from sync_service.catalog import DEVICE_TYPES_BY_CODE

YEAR_S = 365 * 86400.0


@dataclass
class WireReadings:
    """One step's readings, ready to send: bureau batches per domain, and single devices'."""

    batches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # domain -> items
    direct: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)  # domain, type, uid, payload
    count: int = 0
    garbage: int = 0


class Encoder:
    def __init__(self, city: City, secret: str) -> None:
        self.city = city
        self.secret = secret
        self._keys: dict[int, str] = {}

    def key(self, i: int) -> str:
        k = self._keys.get(i)
        if k is None:
            k = self._keys[i] = device_key(self.secret, self.city.devices.uid[i])
        return k

    def encode(self, batches: list[TypeBatch], wire_ts: Callable[[np.ndarray], np.ndarray],
               keep: list[np.ndarray] | None = None) -> WireReadings:
        """keep[j]: optional bool mask of batch j's readings to send (rate-cap thinning)."""
        out = WireReadings()
        d = self.city.devices
        for j, b in enumerate(batches):
            sel = np.arange(len(b)) if keep is None else np.flatnonzero(keep[j])
            if len(sel) == 0:
                continue
            idx = b.idx[sel]
            ts = wire_ts(b.t[sel])
            metrics = list(b.values)
            cols = [np.asarray(b.values[m])[sel].tolist() for m in metrics]
            garbage = b.garbage[sel].tolist()
            spec = DEVICE_TYPES_BY_CODE[b.code]
            items = out.batches.setdefault(b.domain, [])
            for n, (i, t) in enumerate(zip(idx.tolist(), np.round(ts, 3).tolist(), strict=True)):
                values = {m: c[n] for m, c in zip(metrics, cols, strict=True)}
                g = garbage[n]
                if g:
                    t = _spoil(g, values, t, spec)
                    out.garbage += 1
                if d.direct[i]:
                    out.direct.append((b.domain, b.code, d.uid[i], {"key": self.key(i), "ts": t, "values": values}))
                else:
                    items.append({"device": d.uid[i], "ts": t, "values": values})
                out.count += 1
        return out


def _spoil(code: int, values: dict[str, Any], ts: float, spec: Any) -> float:
    """Apply one garbage fault to a reading; returns the (possibly spoilt) timestamp."""
    m = next(iter(values))
    if code == faults.G_NAN:
        values[m] = None
    elif code == faults.G_SENTINEL:
        values[m] = -9999.0
    elif code == faults.G_RANGE:
        metric = next(x for x in spec.metrics if x.name == m)
        values[m] = metric.max * 10 + 1
    elif code == faults.G_TYPE:
        values[m] = str(values[m])
    elif code == faults.G_TS_1970:
        return 86400.0 * 3 + ts % 86400
    elif code == faults.G_TS_NEXT_YEAR:
        return ts + YEAR_S
    return ts
