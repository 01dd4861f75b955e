"""Alert rows in the store: wire form, deduplication, grouping and lifecycle transitions.

Every function here runs inside a writer transaction (a Session) and returns the NewEvents
the change produces; the caller hands them to ctx.db.write_events with the change.

Deduplication: an alert has a dedup_key naming its source (rule+device, offline+device,
platform case, CAP identifier). A source raising again while its alert is not closed updates
that alert (count+1, last value, level may rise; a resolved alert goes back to new) instead of
adding one. Grouping: group_key is "bldg:<building id>" for anything in a building, else
"area:<town>:<device type or kind>"; several open alerts sharing a group_key form one incident
candidate (counted in metrics.tick, listed in its "candidates").
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Float, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol.entities import Alert as AlertEntity
from protocol.enums import ALERT_TRANSITIONS, AlertSource, AlertState
from protocol.events import ALERT_UPSERT
from sync_service.db.models import Alert
from sync_service.eventlog import NewEvent

OPEN_STATES = (AlertState.NEW.value, AlertState.ACKNOWLEDGED.value, AlertState.DISPATCHED.value)
MAX_NOTES = 100  # oldest system notes drop off; an alert's row stays small
REPEAT_RUN = 3  # how far back among the trailing system notes a repeated note is looked for
_TIMES = re.compile(r"×(\d+)")


def group_key(building_id: int | None, town: str | None, kind: str | None) -> str:
    if building_id is not None:
        return f"bldg:{building_id}"
    return f"area:{town or 'city'}:{kind or 'other'}"


def to_wire(a: Alert) -> dict[str, Any]:
    return AlertEntity(
        id=a.id, source=a.source, level=a.level, state=a.state, domain=a.domain, town=a.town,
        title=a.title, title_en=a.title_en or "", message=a.message or "", device_id=a.device_id,
        device_type=a.device_type, building_id=a.building_id, metric=a.metric, value=a.value,
        threshold=a.threshold, lon=a.lon, lat=a.lat, rule_id=a.rule_id, group_key=a.group_key or "",
        first_ts=a.first_ts, last_ts=a.last_ts, count=a.count, acknowledged_by=a.acknowledged_by,
        acknowledged_ts=a.acknowledged_ts, assignee=a.assignee, incident_id=a.incident_id,
        escalations=a.escalations, silenced=bool(a.silenced), notes=list(a.notes or []),
        external_id=a.external_id, updated_ts=a.updated_ts, updated_by=a.updated_by,
    ).model_dump(mode="json")


def event(a: Alert) -> NewEvent:
    return NewEvent(ALERT_UPSERT, to_wire(a), domain=a.domain, town=a.town)


@dataclass
class AlertSpec:
    """What a source says when it raises (or re-raises) an alert."""

    source: AlertSource
    dedup_key: str
    level: int
    domain: str
    title: str
    title_en: str = ""
    message: str = ""
    town: str | None = None
    device_id: str | None = None
    device_type: str | None = None
    building_id: int | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    lon: float | None = None
    lat: float | None = None
    rule_id: int | None = None
    group_key: str = ""
    external_id: str | None = None
    cap_xml: str | None = None
    silenced: bool = False
    ts: float = 0.0  # when the source observed it


def find_live(s: Session, dedup_key: str, *, lock: bool = False) -> Alert | None:
    """The not-closed alert of a source, if any (at most one: uq_alerts_dedup_open). lock: FOR
    UPDATE on PostgreSQL, so a writer in another process cannot change it between this read and
    the caller's write (SQLite has one writer at a time anyway)."""
    q = select(Alert).where(Alert.dedup_key == dedup_key, Alert.state != AlertState.CLOSED.value)
    if lock:
        q = q.with_for_update()
    return s.scalars(q.order_by(Alert.id.desc()).limit(1)).first()


def add_note(a: Alert, by: str, ts: float, text: str) -> None:
    notes = list(a.notes or [])
    notes.append({"by": by, "ts": ts, "text": text})
    a.notes = notes[-MAX_NOTES:]  # a new list: SQLAlchemy sees the JSON column changed


def times(text: str) -> int:
    """How many occurrences a repeatable note counts ("×N" in it, else one)."""
    m = _TIMES.search(text)
    return int(m.group(1)) if m else 1


def add_repeated_note(a: Alert, by: str, ts: float, kind: str, text: Callable[[int], str], n: int = 1) -> None:
    """A note that a flapping source repeats (back to normal, raised again): if one of the same
    kind (its text starts with `kind`) is among the last REPEAT_RUN notes, all by `by` (nobody
    wrote in between), it is replaced by one at the end counting both. `text(n)` words it for n
    occurrences. A flapping alarm adds to a count instead of pushing people's notes out."""
    notes = list(a.notes or [])
    for i in range(len(notes) - 1, max(-1, len(notes) - 1 - REPEAT_RUN), -1):
        note = notes[i]
        if note.get("by") != by:
            break
        if str(note.get("text", "")).startswith(kind):
            n += times(str(note["text"]))
            del notes[i]
            break
    notes.append({"by": by, "ts": ts, "text": text(n)})
    a.notes = notes[-MAX_NOTES:]


def raised_again(n: int) -> str:
    return "再次触发 / raised again" if n == 1 else f"再次触发 ×{n} / raised again ×{n}"


def _new_values(spec: AlertSpec, now: float, by: str, more: int, first_ts: float | None) -> dict[str, Any]:
    return dict(source=spec.source.value, level=spec.level, state=AlertState.NEW.value, domain=spec.domain,
                town=spec.town, title=spec.title[:200], title_en=spec.title_en[:200], message=spec.message,
                device_id=spec.device_id, device_type=spec.device_type, building_id=spec.building_id,
                metric=spec.metric, value=spec.value, threshold=spec.threshold, lon=spec.lon, lat=spec.lat,
                rule_id=spec.rule_id, dedup_key=spec.dedup_key, group_key=spec.group_key,
                first_ts=first_ts or spec.ts or now, last_ts=spec.ts or now, count=1 + more, escalations=0,
                silenced=spec.silenced, notes=[], external_id=spec.external_id, cap_xml=spec.cap_xml,
                acknowledged_by=None, acknowledged_ts=None, assignee=None, incident_id=None,
                updated_ts=now, updated_by=by)


def raise_alert(s: Session, spec: AlertSpec, now: float, *, by: str = "system",
                reraise: bool = True) -> tuple[Alert, bool]:
    """Create the alert, or update the source's live one. Returns (alert, created).
    reraise=False updates in place without counting a new occurrence (a level rise).
    Another process creating the same source's alert at the same moment: the insert meets
    uq_alerts_dedup_open (PostgreSQL waits for the other transaction to commit), the savepoint
    is rolled back and the alert the other one created is updated instead."""
    a = find_live(s, spec.dedup_key, lock=True)
    if a is None:
        a = Alert(**_new_values(spec, now, by, 0, None))
        try:
            with s.begin_nested():
                s.add(a)
                s.flush()
            return a, True
        except IntegrityError:
            a = find_live(s, spec.dedup_key, lock=True)
            if a is None:
                raise
    update_alert(a, spec, now, by=by, reraise=reraise)
    return a, False


def update_alert(a: Any, spec: AlertSpec, now: float, *, by: str = "system", reraise: bool = True,
                 more: int = 0, first_ts: float | None = None) -> None:
    """The source raises again while its alert `a` (an Alert or an AlertRow) is not closed.
    Several raises folded into one (the alert manager): `more` occurrences counted after the
    first, `first_ts` when the first was observed (spec.ts: the newest)."""
    if a.state == AlertState.RESOLVED.value:
        # Re-fired after resolve: back to new (ALERT_TRANSITIONS allows it), to be acknowledged
        # again; escalation starts over.
        a.state = AlertState.NEW.value
        a.acknowledged_by = None
        a.acknowledged_ts = None
        a.escalations = 0
        a.first_ts = first_ts or spec.ts or now
        a.level = spec.level
        a.silenced = spec.silenced
        add_repeated_note(a, by, now, "再次触发", raised_again)
    else:
        a.level = max(a.level, spec.level)
        a.silenced = spec.silenced  # a re-raise after a silence ended is announced again
    a.count = (a.count or 1) + int(reraise) + more
    a.last_ts = max(a.last_ts, spec.ts or now)
    a.value = spec.value if spec.value is not None else a.value
    a.threshold = spec.threshold if spec.threshold is not None else a.threshold
    a.message = spec.message or a.message
    if spec.title:
        a.title, a.title_en = spec.title[:200], spec.title_en[:200] or a.title_en
    if spec.cap_xml is not None:
        a.cap_xml = spec.cap_xml
    if spec.external_id is not None:
        a.external_id = spec.external_id
    a.updated_ts = now
    a.updated_by = by


# ---- many alerts per statement (the alert manager) ---------------------------------------------
#
# The manager writes hundreds of alerts per transaction on the store's writer thread while the
# event loop keeps a core busy. Through the ORM each row is a statement or a fetch step, each
# releasing Python's GIL and waiting up to a switch interval (5 ms) to get it back from the
# busy loop: ~5 s for 500 alerts under an ingest flood against ~0.1 s idle. So alerts are
# loaded and saved as plain AlertRows, on SQLite as ONE statement each (JSON in, JSON out, as
# the readings writer does); elsewhere with Core executemany (the driver batches it).

_TABLE: Any = Alert.__table__
_COLS: tuple[str, ...] = tuple(c.name for c in _TABLE.columns)
_DATA_COLS = tuple(c for c in _COLS if c != "id")
_BOOL_COLS = frozenset(c.name for c in _TABLE.columns if isinstance(c.type, Boolean))
_JSON_COLS = frozenset(c.name for c in _TABLE.columns if isinstance(c.type, JSON))
_FLOAT_COLS = frozenset(c.name for c in _TABLE.columns if isinstance(c.type, Float))


class AlertRow:
    """An alerts row as a plain object: update_alert, add_repeated_note, transition and to_wire
    work on it as on an Alert."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def values(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _COLS}


def new_row(spec: AlertSpec, now: float, *, by: str = "system", more: int = 0,
            first_ts: float | None = None) -> AlertRow:
    """A new alert for save_rows to insert (its id is given then)."""
    return AlertRow({"id": None, **_new_values(spec, now, by, more, first_ts)})


_JSON1: dict[int, bool] = {}  # id(engine) -> SQLite has JSON1


def _bulk_json(s: Session) -> bool:
    """SQLite with UPDATE ... FROM (3.33) and JSON1 (built in since 3.38, compiled in by most
    distributions before): one statement per batch. Else Core executemany."""
    bind = s.get_bind()
    if bind.dialect.name != "sqlite" or sqlite3.sqlite_version_info < (3, 33):
        return False
    key = id(getattr(bind, "engine", bind))
    if key not in _JSON1:
        try:
            s.execute(text("SELECT json_extract('[1]', '$[0]')")).scalar()
            _JSON1[key] = True
        except Exception:
            _JSON1[key] = False
    return _JSON1[key]


def _sel_json(col: str) -> str:
    if col in _JSON_COLS:
        return f"json({col})"
    if col in _FLOAT_COLS:  # SQLite's JSON writes 15 digits; times and values need all 17
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE printf('%!.17g', {col}) END"
    return col


def _load_sql() -> str:
    cols = ", ".join(_sel_json(c) for c in _COLS)
    return (f"SELECT json_group_array(json_array({cols})) FROM (SELECT * FROM alerts "
            "WHERE dedup_key IN (SELECT value FROM json_each(:keys)) AND state != 'closed' ORDER BY id)")


def _extract(i: int) -> str:
    return f"json_extract(u.value, '$[{i}]')"


_LOAD = text(_load_sql())
_UPDATE = text(f"UPDATE {_TABLE.name} SET " + ", ".join(f"{c} = {_extract(i + 1)}" for i, c in enumerate(_DATA_COLS))
               + f" FROM json_each(:rows) AS u WHERE {_TABLE.name}.id = {_extract(0)}")
# A source whose live alert another process created meanwhile: the row is not inserted (the
# caller merges into that alert instead). The conflict target names the partial unique index.
_LIVE_SQL = "state != 'closed'"
_INSERT = text(f"INSERT INTO {_TABLE.name} ({', '.join(_DATA_COLS)}) SELECT "
               + ", ".join(_extract(i) for i in range(len(_DATA_COLS)))
               + f" FROM json_each(:rows) AS u WHERE true ORDER BY u.key "
               f"ON CONFLICT (dedup_key) WHERE {_LIVE_SQL} DO NOTHING")
_NEW_IDS = text("SELECT json_group_array(json_array(id, dedup_key)) FROM alerts WHERE id > :after")
_CORE_UPDATE = (update(_TABLE).where(_TABLE.c.id == bindparam("b_id"))
                .values({c: bindparam(f"b_{c}") for c in _DATA_COLS}))


def load_live(s: Session, keys: Iterable[str], *, lock: bool = False) -> dict[str, AlertRow]:
    """The not-closed alert of each source that has one, as AlertRows. lock: FOR UPDATE on
    PostgreSQL, in id order (so two writers locking overlapping sets cannot deadlock)."""
    keys = list(keys)
    out: dict[str, AlertRow] = {}
    if not keys:
        return out
    if _bulk_json(s):
        raw = s.execute(_LOAD, {"keys": orjson.dumps(keys).decode()}).scalar()
        for vals in orjson.loads(raw or "[]"):
            row = dict(zip(_COLS, vals, strict=True))
            for c in _BOOL_COLS:
                row[c] = bool(row[c]) if row[c] is not None else None
            for c in _FLOAT_COLS:
                row[c] = float(row[c]) if row[c] is not None else None
            out[row["dedup_key"]] = AlertRow(row)
        return out
    for i in range(0, len(keys), 500):
        q = (select(_TABLE).where(_TABLE.c.dedup_key.in_(keys[i:i + 500]), _TABLE.c.state != AlertState.CLOSED.value)
             .order_by(_TABLE.c.id))
        for m in s.execute(q.with_for_update() if lock else q).mappings():
            out[m["dedup_key"]] = AlertRow(dict(m))
    return out


def save_rows(s: Session, created: list[AlertRow], updated: list[AlertRow]) -> list[AlertRow]:
    """Insert `created` (giving them their ids) and write every column of `updated`. Returns the
    created rows NOT inserted because their source has a live alert by now (another process's,
    committed after the caller loaded): their id stays None; the caller merges them into it."""
    if _bulk_json(s):
        if updated:
            s.execute(_UPDATE, {"rows": orjson.dumps([[a.id] + [getattr(a, c) for c in _DATA_COLS]
                                                      for a in updated]).decode()})
        if not created:
            return []
        after = s.execute(text("SELECT coalesce(max(id), 0) FROM alerts")).scalar()
        s.execute(_INSERT, {"rows": orjson.dumps([[getattr(a, c) for c in _DATA_COLS]
                                                  for a in created]).decode()})
        ids = {k: i for i, k in orjson.loads(s.execute(_NEW_IDS, {"after": after}).scalar() or "[]")}
    else:
        if updated:
            s.execute(_CORE_UPDATE, [{f"b_{c}": getattr(a, c) for c in _COLS} for a in updated])
        if not created:
            return []
        ins = (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(_TABLE)
        ins = ins.on_conflict_do_nothing(index_elements=["dedup_key"], index_where=text(_LIVE_SQL))
        ids = dict(s.execute(ins.returning(_TABLE.c.dedup_key, _TABLE.c.id),
                             [{c: getattr(a, c) for c in _DATA_COLS} for a in created]).all())
    missed = []
    for a in created:  # one new alert per source per call: the key names the row
        a.id = ids.get(a.dedup_key)
        if a.id is None:
            missed.append(a)
    return missed


def can_transition(a: Alert, to: AlertState) -> bool:
    return to in ALERT_TRANSITIONS.get(AlertState(a.state), frozenset())


def transition(a: Alert, to: AlertState, by: str, now: float) -> None:
    """Caller checked can_transition. Records who and when."""
    a.state = to.value
    if to == AlertState.ACKNOWLEDGED:
        a.acknowledged_by = by
        a.acknowledged_ts = now
    elif to == AlertState.NEW:
        a.acknowledged_by = None
        a.acknowledged_ts = None
        a.escalations = 0
    a.updated_ts = now
    a.updated_by = by
