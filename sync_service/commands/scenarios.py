"""scenario.start: begin a rehearsal story (typhoon, fire, ...) in the running simulated city.

Only where the service runs the simulator (--simulate); everywhere else it is refused with
CONFLICT. Every console learns of it through a system.notice event; the alerts follow from the
story's readings through the ordinary ingest doors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from protocol import events as ek
from protocol.commands import ScenarioStart
from protocol.enums import ErrorCode
from sync_service.commands.registry import CommandContext, CommandFailed, command
from sync_service.eventlog import NewEvent


@command("scenario.start")
def scenario_start(s: Session, ctx: CommandContext, args: ScenarioStart) -> tuple[dict[str, Any], list[NewEvent]]:
    from simulator.scenarios import SCENARIOS  # the simulator package ships with the service

    cls = SCENARIOS.get(args.name)
    if cls is None:
        raise CommandFailed(ErrorCode.NOT_FOUND, f"unknown scenario {args.name!r}; known: {', '.join(SCENARIOS)}")
    sim = ctx.services.get("simulator")
    if sim is None or not sim.running:
        ctx.conflict("no simulated city is running on this service (start it with --simulate)")
    scenario = cls()
    try:
        sim.start_scenario(args.name, args.speed)
    except (OSError, RuntimeError) as exc:
        ctx.conflict(f"the simulator did not take the scenario: {exc}")
    notice = {
        "level": "warning",
        "text": f"演练开始：{scenario.title_zh}（{args.speed:g} 倍速），发起人 {ctx.actor.username}",
        "text_en": f"Rehearsal started: {scenario.title_en} ({args.speed:g}x), by {ctx.actor.username}",
        "scenario": args.name,
    }
    return {"scenario": args.name, "speed": args.speed}, [NewEvent(ek.SYSTEM_NOTICE, notice)]
