"""Applies the service's frames to the state store, in order, exactly once.

Exactly once rests on the store: it ignores any event at or below its applied sequence, so a
replay that overlaps what we already have is harmless. Events that arrive while a snapshot is
being received are held back and applied after the snapshot is swapped in (otherwise they
would land in the collections the snapshot is about to replace and be lost).
"""

from __future__ import annotations

import logging
import time

from app.store import SessionInfo, StateStore
from protocol.frames import Event, Events, SnapshotBegin, SnapshotEnd, SnapshotPart, Welcome

log = logging.getLogger(__name__)


class StoreFeeder:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.in_snapshot = False
        self._held: list[Event] = []
        self.events_applied = 0
        self.events_skipped = 0  # already applied (replay overlap): counted, never re-applied
        self.snapshots = 0
        self.seq_adopted = 0  # times a heartbeat/pong moved the applied seq past our last event

    def start_session(self) -> None:
        """A new connection: forget any half-received snapshot of the previous one."""
        self.in_snapshot = False
        self._held.clear()

    def on_welcome(self, w: Welcome, asked_resume: bool) -> None:
        self.store.set_session(SessionInfo(
            user=w.user, display_name=w.display_name, role=w.role, domains=w.domains,
            permissions=frozenset(w.permissions), server_id=w.server_id,
        ))
        if asked_resume and w.mode == "snapshot":
            # we asked to resume but the gap could not be replayed: a full reload, counted so
            # it is visible (the reliability tests and the status bar read it), never silent
            self.store.snapshot_reloads += 1
            log.info("resume refused (%s): reloading a snapshot", w.reason or "no reason given")

    def on_snapshot_begin(self, f: SnapshotBegin) -> None:
        self.in_snapshot = True
        self._held.clear()
        self.store.begin_snapshot(f.seq)

    def on_snapshot_part(self, f: SnapshotPart) -> None:
        self.store.snapshot_part(f.collection, f.items)

    def on_snapshot_end(self, f: SnapshotEnd) -> None:
        self.store.end_snapshot(f.seq)
        self.in_snapshot = False
        self.snapshots += 1
        if self._held:
            held, self._held = self._held, []
            self._apply(held)

    def on_events(self, f: Events) -> None:
        if self.in_snapshot:
            self._held.extend(f.items)
            return
        self._apply(f.items)

    def on_synced(self, seq: int) -> None:
        """The service says every event we may see up to `seq` has reached us (heartbeat or
        pong `synced_seq`): the store is at `seq` though its last event may be far older, e.g.
        a bureau console while other bureaus are busy. Resuming from there, a reconnect replays
        only what came after, not the whole city's traffic since our last event."""
        if self.in_snapshot or seq <= self.store.seq:
            return
        self.store.seq = seq
        self.store.data_ts = time.time()  # confirmed current as of now
        self.seq_adopted += 1

    def _apply(self, items: list[Event]) -> None:
        n = self.store.apply_events(items)
        self.events_applied += n
        self.events_skipped += len(items) - n
