"""rule.upsert / rule.delete (admin): alert rules are data. Each change is a rule.upsert or
rule.deleted event; the rule engine applies it when the commit lands (Loader listener), and
other service processes pick it up on their periodic refresh.

Checks: the device type exists and has the metric; threshold levels are 1-4 and ordered with
the direction (above: a higher level needs a higher value; below: a lower value).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol.commands import RuleDelete, RuleUpsert
from protocol.entities import AlertRule as AlertRuleEntity
from protocol.enums import ErrorCode
from protocol.events import RULE_DELETED, RULE_UPSERT
from sync_service.commands.common import locked
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.db.models import AlertRule, DeviceType
from sync_service.eventlog import NewEvent


def to_wire(r: AlertRule) -> dict[str, Any]:
    return AlertRuleEntity(
        id=r.id, device_type=r.device_type, metric=r.metric, direction=r.direction,
        thresholds={int(k): float(v) for k, v in (r.thresholds or {}).items()}, hysteresis=r.hysteresis,
        min_duration_s=r.min_duration_s, rate_per_min=r.rate_per_min, rate_level=r.rate_level,
        offline_periods=r.offline_periods, offline_level=r.offline_level, enabled=r.enabled,
        title_zh=r.title_zh, title_en=r.title_en, updated_ts=r.updated_ts).model_dump(mode="json")


def check_thresholds(direction: str, thresholds: dict[int, float]) -> None:
    if any(not 1 <= lv <= 4 for lv in thresholds):
        raise CommandFailed(ErrorCode.BAD_ARGS, "threshold levels are 1 (blue) to 4 (red)")
    values = [thresholds[lv] for lv in sorted(thresholds)]
    ordered = all(a < b for a, b in zip(values, values[1:], strict=False)) if direction == "above" \
        else all(a > b for a, b in zip(values, values[1:], strict=False))
    if not ordered:
        raise CommandFailed(ErrorCode.BAD_ARGS, f"thresholds must be strictly {'increasing' if direction == 'above' else 'decreasing'} with the level")


@command("rule.upsert")
def rule_upsert(s: Session, ctx: CommandContext, args: RuleUpsert) -> tuple[dict[str, Any], list[NewEvent]]:
    dt = s.get(DeviceType, args.device_type)
    if dt is None:
        ctx.not_found("device type", args.device_type)
    if args.metric not in {str(m.get("name")) for m in dt.metrics or [] if isinstance(m, dict)}:
        ctx.not_found(f"metric of {args.device_type}", args.metric)
    check_thresholds(args.direction, args.thresholds)
    if not args.thresholds and args.rate_per_min is None and args.offline_periods is None:
        raise CommandFailed(ErrorCode.BAD_ARGS, "a rule needs thresholds, a rate or offline periods")
    if args.id is not None:
        r = locked(s, AlertRule, args.id)
        if r is None:
            ctx.not_found("rule", args.id)
    else:
        r = AlertRule()
        s.add(r)
    r.device_type, r.metric, r.direction = args.device_type, args.metric, args.direction
    r.thresholds = {str(k): v for k, v in sorted(args.thresholds.items())}
    r.hysteresis, r.min_duration_s = args.hysteresis, args.min_duration_s
    r.rate_per_min, r.rate_level = args.rate_per_min, int(args.rate_level)
    r.offline_periods, r.offline_level = args.offline_periods, int(args.offline_level)
    r.enabled, r.title_zh, r.title_en, r.updated_ts = args.enabled, args.title_zh, args.title_en, ctx.now
    s.flush()
    return {"rule_id": r.id}, [NewEvent(RULE_UPSERT, to_wire(r))]


@command("rule.delete")
def rule_delete(s: Session, ctx: CommandContext, args: RuleDelete) -> tuple[dict[str, Any], list[NewEvent]]:
    r = locked(s, AlertRule, args.id)
    if r is None:
        ctx.not_found("rule", args.id)
    s.delete(r)
    return {"rule_id": args.id}, [NewEvent(RULE_DELETED, {"id": args.id})]

