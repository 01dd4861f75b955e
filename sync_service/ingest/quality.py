"""Data-quality counters and refusal bookkeeping, in memory, flushed in aggregate.

- dq counts per (domain, reason): totals since the store began (dq_counts table, loaded at
  start), plus the deltas not yet written; metrics.py emits them as dq.counts events.
- refusals (credential problems, unknown devices): counted per (door, reason, domain) with a
  few sample device ids, written as ONE audit row per group per interval, never one per
  reading (a misconfigured gateway sending 5,000 readings/s must not flood the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from protocol.enums import DQReason
from sync_service.db.models import AuditEntry, DataQualityCount

AUDITED = frozenset({DQReason.AUTH_MISSING, DQReason.AUTH_INVALID, DQReason.AUTH_REVOKED,
                     DQReason.AUTH_DOMAIN, DQReason.UNKNOWN_DEVICE})
SAMPLES = 5


@dataclass
class _Refusal:
    count: int = 0
    samples: list[str] = field(default_factory=list)
    first_ts: float = 0.0
    last_ts: float = 0.0


class QualityCounters:
    def __init__(self) -> None:
        self.totals: dict[tuple[str, str], int] = {}
        self._delta: dict[tuple[str, str], int] = {}
        self._refusals: dict[tuple[str, str, str], _Refusal] = {}
        self.version = 0  # bumps on every change; metrics emits dq.counts only when it moved

    def load(self, s: Session) -> None:
        for row in s.scalars(select(DataQualityCount)):
            self.totals[(row.domain, row.reason)] = int(row.count)

    def count(self, domain: str, reason: str, n: int = 1) -> None:
        key = (domain, reason)
        self.totals[key] = self.totals.get(key, 0) + n
        self._delta[key] = self._delta.get(key, 0) + n
        self.version += 1

    def refused(self, door: str, reason: str, domain: str, uid: object, now: float, n: int = 1) -> None:
        if reason not in AUDITED:
            return
        r = self._refusals.get((door, reason, domain))
        if r is None:
            r = self._refusals[(door, reason, domain)] = _Refusal(first_ts=now)
        r.count += n
        r.last_ts = now
        if len(r.samples) < SAMPLES and isinstance(uid, str):
            sample = uid[:64]
            if sample not in r.samples:
                r.samples.append(sample)

    def snapshot(self) -> dict[str, Any]:
        """The dq.counts event data: {"total": {reason: n}, "by_domain": {domain: {reason: n}}}."""
        total: dict[str, int] = {}
        by_domain: dict[str, dict[str, int]] = {}
        for (domain, reason), n in self.totals.items():
            total[reason] = total.get(reason, 0) + n
            by_domain.setdefault(domain, {})[reason] = n
        return {"total": total, "by_domain": by_domain}

    def take(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str, str], _Refusal]]:
        """Hand the unsaved deltas and refusals to a writer (and forget them here)."""
        delta, self._delta = self._delta, {}
        refusals, self._refusals = self._refusals, {}
        return delta, refusals

    def give_back(self, delta: dict[tuple[str, str], int]) -> None:
        """A flush failed: keep the deltas for the next one (totals already include them)."""
        for k, n in delta.items():
            self._delta[k] = self._delta.get(k, 0) + n


def write(s: Session, delta: dict[tuple[str, str], int], refusals: dict[tuple[str, str, str], _Refusal],
          now: float) -> None:
    """Add the deltas to dq_counts (upsert) and write one audit row per refusal group."""
    if delta:
        rows = [{"domain": d, "reason": r, "count": n, "last_ts": now} for (d, r), n in delta.items()]
        dialect = s.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DataQualityCount)
        s.execute(ins.on_conflict_do_update(
            index_elements=["domain", "reason"],
            set_={"count": DataQualityCount.count + ins.excluded.count, "last_ts": ins.excluded.last_ts}), rows)
    for (door, reason, domain), r in refusals.items():
        s.add(AuditEntry(ts=now, actor="ingest", action="ingest.refused", target=f"{door}:{domain or '-'}",
                         detail={"reason": reason, "count": r.count, "samples": r.samples,
                                 "first_ts": r.first_ts, "last_ts": r.last_ts}, ok=False))
