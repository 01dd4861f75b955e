"""The dispatcher's bookkeeping, with a transport that records frames instead of a socket.
(The same paths against the real service are in test_integration_*.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from app.commandbus import CommandResult
from backend_client.dispatch import CommandDispatcher
from backend_client.outbox import Outbox
from backend_client.transport import TransportError
from protocol.frames import Command, Error, Query, Result
from tests.backend_client.helpers import wait_for


class RecordingTransport:
    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.broken = False

    async def send(self, frame: Any) -> None:
        if self.broken:
            raise TransportError("gone")
        self.frames.append(frame)

    def commands(self) -> list[Command]:
        return [f for f in self.frames if isinstance(f, Command)]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _ack(i: int) -> dict[str, Any]:
    return {"alert_id": i}


async def test_offline_commands_are_queued_then_sent_in_order_with_same_ids(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"), window=2)
    finished: list[tuple[str, CommandResult]] = []
    d.command_finished.connect(lambda cid, r: finished.append((cid, r)))
    ids = []
    for i in range(5):
        cid, fut = d.submit("alert.ack", _ack(i))
        assert fut.done()
        assert fut.result() == CommandResult(ok=True, queued=True)
        ids.append(cid)
    t = RecordingTransport()
    d.attach(t)  # type: ignore[arg-type]
    await _settle()
    assert [c.id for c in t.commands()] == ids[:2]  # window of 2 in flight
    for cid in ids:
        await _settle()
        d.on_result(Result(id=cid, ok=True, data={"alert_id": 0}, seq=1))
    await _settle()
    assert [c.id for c in t.commands()] == ids
    assert [c.args["alert_id"] for c in t.commands()] == [0, 1, 2, 3, 4]
    assert [f[0] for f in finished] == ids
    assert len(d.outbox) == 0


async def test_connection_lost_mid_flight_resends_same_id_once_answered(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"))
    t1 = RecordingTransport()
    d.attach(t1)  # type: ignore[arg-type]
    cid, fut = d.submit("alert.ack", _ack(7))
    await _settle()
    assert [c.id for c in t1.commands()] == [cid]
    d.detach()  # dropped before the answer: the UI hears "queued", the outbox keeps it
    assert fut.result().queued
    t2 = RecordingTransport()
    d.attach(t2)  # type: ignore[arg-type]
    await _settle()
    assert [c.id for c in t2.commands()] == [cid]
    got: list[CommandResult] = []
    d.command_finished.connect(lambda _cid, r: got.append(r))
    d.on_result(Result(id=cid, ok=True, duplicate=True, seq=5))
    d.on_result(Result(id=cid, ok=True, duplicate=True, seq=5))  # a second answer is ignored
    assert len(got) == 1
    assert got[0].duplicate
    assert d.outbox.pending() == []
    assert Outbox(tmp_path / "o.sqlite").pending() == []


async def test_online_command_future_carries_the_typed_refusal(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"))
    t = RecordingTransport()
    d.attach(t)  # type: ignore[arg-type]
    cid, fut = d.submit("alert.ack", _ack(1))
    await _settle()
    d.on_result(Result(id=cid or "", ok=False, error={"code": "conflict", "message": "already closed"}))
    res = await fut
    assert not res.ok
    assert res.error_code == "conflict"
    assert res.error_message == "already closed"
    assert len(d.outbox) == 0  # a refusal is final: not retried


async def test_rate_limited_command_pauses_then_resends_in_order(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"), retry_after_s=0.6, window=4)
    t = RecordingTransport()
    d.attach(t)  # type: ignore[arg-type]
    cid, fut = d.submit("alert.ack", _ack(1))
    cid2, _ = d.submit("alert.ack", _ack(2))
    await _settle()
    d.on_error(Error(code="rate_limited", message="slow down", ref=cid))
    cid3, _ = d.submit("alert.ack", _ack(3))
    await asyncio.sleep(0.1)
    assert [c.id for c in t.commands()] == [cid, cid2]  # held: nothing sent while paused
    await wait_for(lambda: len(t.commands()) == 4, what="resend after the pause")
    assert [c.id for c in t.commands()] == [cid, cid2, cid, cid3]  # the refused one first, same id
    assert not fut.done()
    assert d.retried == 1
    d.on_result(Result(id=cid or "", ok=True))
    assert (await fut).ok


async def test_backlog_is_paced_below_the_service_rate(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"), window=1000, send_rate_per_s=100.0)
    for i in range(150):
        d.submit("alert.ack", _ack(i))
    t = RecordingTransport()
    t0 = time.monotonic()
    d.attach(t)  # type: ignore[arg-type]
    await asyncio.sleep(0.3)
    elapsed = time.monotonic() - t0
    # a second of credit (100) then 100/s: never the whole backlog at once
    assert 100 <= len(t.commands()) <= 100 + 100 * elapsed + 2


async def test_bad_args_and_forbidden_fail_fast_without_queueing(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"))
    cid, fut = d.submit("alert.ack", {"alert_id": "seven"})
    assert cid is None
    assert fut.result().error_code == "bad_args"
    cid, fut = d.submit("no.such", {})
    assert fut.result().error_code == "unknown_command"
    cid, fut = d.submit("user.create", {"username": "x", "password": "12345678", "role": "admin"},
                        permissions=frozenset({"alert.ack"}))
    assert fut.result().error_code == "forbidden"
    assert len(d.outbox) == 0


async def test_queries_fail_fast_offline_and_resolve_online(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"), query_timeout_s=0.05)
    res = await d.query("devices.list", {})
    assert not res.ok
    assert res.error_code == "offline"
    t = RecordingTransport()
    d.attach(t)  # type: ignore[arg-type]
    fut = d.query("devices.list", {"limit": 5})
    await _settle()
    q = [f for f in t.frames if isinstance(f, Query)][0]
    d.on_result(Result(id=q.id, ok=True, data={"items": []}))
    assert (await fut).data == {"items": []}
    late = await d.query("devices.list", {})  # never answered
    assert late.error_code == "timeout"
    pending = d.query("devices.list", {})
    d.detach()
    assert (await pending).error_code == "offline"
    assert len(d.outbox) == 0  # queries never enter the outbox


async def test_send_failure_leaves_command_for_next_connection(tmp_path: Path) -> None:
    d = CommandDispatcher(Outbox(tmp_path / "o.sqlite"))
    t = RecordingTransport()
    t.broken = True
    d.attach(t)  # type: ignore[arg-type]
    cid, _ = d.submit("alert.ack", _ack(1))
    await _settle()
    d.detach()
    assert [i.id for i in d.outbox.pending()] == [cid]
