"""Event kinds. Each event is protocol.frames.Event; `data` per kind:

- "<entity>.upsert": the entity's full form (protocol.entities), keyed by its id/code.
- "rule.deleted": {"id": int};  "silence.upsert" covers cancel (cancelled=true).
- "focus.set": protocol.entities.Focus.
- "devices.stats": {"items": [DeviceStat...], "ts"} - full table of device health counts.
- "metrics.tick": {"ts", "city": {name: value}, "towns": {code: {name: value}}} - headline
  indicators, every few seconds; "city" includes readings_per_s, devices_online_pct, aqi, ...
- "dq.counts": {"ts", "total": {reason: n}, "by_domain": {domain: {reason: n}}}.
- "surroundings.result": the answer of the surroundings command, so every hall sees it.
- "system.notice": {"level": "info"|"warning", "text", "text_en"}.
"""

from __future__ import annotations

ALERT_UPSERT = "alert.upsert"
INCIDENT_UPSERT = "incident.upsert"
TASK_UPSERT = "task.upsert"
RESOURCE_UPSERT = "resource.upsert"
SILENCE_UPSERT = "silence.upsert"
RULE_UPSERT = "rule.upsert"
RULE_DELETED = "rule.deleted"
FOCUS_SET = "focus.set"
DEVICES_STATS = "devices.stats"
METRICS_TICK = "metrics.tick"
DQ_COUNTS = "dq.counts"
SURROUNDINGS_RESULT = "surroundings.result"
SYSTEM_NOTICE = "system.notice"

# Snapshot collections (SnapshotPart.collection) and the event kinds that update them.
SNAPSHOT_COLLECTIONS = (
    "towns", "domains", "device_types", "rules", "alerts", "incidents", "tasks", "resources",
    "silences", "devices_stats", "metrics", "dq", "focus",
)
