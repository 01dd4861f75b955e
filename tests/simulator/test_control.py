"""Runtime control of a running simulation: a rehearsal started by the service, speed changes
that keep model time and wire times continuous, bad control lines ignored."""

from __future__ import annotations

import pytest

from simulator.city import City
from simulator.cli import apply_control
from simulator.engine import Simulation
from simulator.publishers import HttpPublisher
from simulator.runner import Runner

W0 = 1_800_000_000.0


def _runner(city: City) -> Runner:
    return Runner(Simulation(city), secret="s", http=HttpPublisher("http://127.0.0.1:9"), speed=1.0,
                  model_start=W0, wall_start=W0)


def test_speed_change_keeps_model_and_wire_time_continuous(city: City) -> None:
    r = _runner(city)
    r.tick(W0 + 10)
    before = r.model_at(W0 + 10)
    r.set_speed(60.0, W0 + 10)
    assert r.model_at(W0 + 10) == pytest.approx(before)
    assert r.model_at(W0 + 11) == pytest.approx(before + 60)
    assert r.wire_ts(before + 60) == pytest.approx(W0 + 11)  # stamped when sent, never in the future


def test_scenario_started_while_running_begins_now(city: City) -> None:
    r = _runner(city)
    r.tick(W0 + 5)
    sc = r.start_scenario("fire", speed=30.0, wall=W0 + 5)
    assert r.speed == 30.0
    assert sc in r.sim.scenarios
    assert sc.t0 == pytest.approx(r.model_at(W0 + 5))


@pytest.mark.parametrize("line", [b"not json", b"[]", b'{"op":"dance"}', b'{"op":"scenario"}',
                                  b'{"op":"scenario","name":"meteor"}', b'{"op":"scenario","name":"fire","speed":"x"}'])
def test_bad_control_lines_are_ignored(city: City, line: bytes) -> None:
    r = _runner(city)
    apply_control(r, line)
    assert r.sim.scenarios == []
    assert r.speed == 1.0
