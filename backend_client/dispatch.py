"""Commands and queries on their way to the service, and their answers on the way back.

Every command goes through the persisted outbox, online or not, and a single pump per
connection sends the outbox in order with a bounded window of commands in flight. A result
removes the command from the outbox; a lost connection leaves it there, to be sent again with
the same id after the next Welcome. The service applies an id once, so "sent twice" never
means "applied twice".

Futures: a command sent while online resolves with the service's answer. A command queued
offline (or whose connection dropped before the answer) resolves at once with
CommandResult(ok=True, queued=True); its final answer arrives later through the
`command_finished(id, CommandResult)` signal, which fires for every answered command.
Queries are not queued: offline they fail fast with error_code "offline".
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from app.commandbus import CommandResult
from app.signals import Signal
from backend_client.outbox import Outbox
from backend_client.transport import Transport, TransportError
from protocol.commands import COMMANDS, QUERIES, parse_args
from protocol.enums import ErrorCode
from protocol.frames import Command, Error, ProtocolError, Query, Result

log = logging.getLogger(__name__)

OFFLINE = "offline"
TIMEOUT = "timeout"
# refusals that say "not now" rather than "no": the command stays in the outbox
_RETRYABLE = {str(ErrorCode.RATE_LIMITED), str(ErrorCode.NOT_READY)}


def _result_of(r: Result) -> CommandResult:
    err = r.error or {}
    return CommandResult(ok=r.ok, data=r.data, error_code=err.get("code") if not r.ok else None,
                         error_message=err.get("message") if not r.ok else None,
                         duplicate=r.duplicate)


class CommandDispatcher:
    def __init__(self, outbox: Outbox, *, window: int = 16, query_timeout_s: float = 30.0,
                 retry_after_s: float = 1.0, send_rate_per_s: float = 40.0) -> None:
        self.outbox = outbox
        self.window = window
        self.query_timeout_s = query_timeout_s
        self.retry_after_s = retry_after_s
        # the service refuses frames over its per-connection rate (50/s by default): a long
        # backlog flushed after an outage is paced below it rather than bounced off it
        self.send_rate_per_s = send_rate_per_s
        self._paused_until = 0.0
        self.command_finished = Signal("command_finished")
        self._cmd_futures: dict[str, asyncio.Future[CommandResult]] = {}
        self._query_futures: dict[str, asyncio.Future[CommandResult]] = {}
        self._in_flight: set[str] = set()
        self._transport: Transport | None = None
        self._wake = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self.sent = 0  # command frames sent, retries included
        self.answered = 0
        self.retried = 0  # "not now" refusals (rate_limited, not_ready) sent again later

    @property
    def online(self) -> bool:
        return self._transport is not None

    def attached_to(self, transport: Transport) -> bool:
        return self._transport is transport

    # ---- the outside: CommandSink ---------------------------------------------------------
    def submit(self, name: str, args: dict[str, Any], permissions: frozenset[str] | None = None,
               ) -> tuple[str | None, asyncio.Future[CommandResult]]:
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        try:
            # validate here: a command that can never succeed must not wait in the outbox
            parse_args(COMMANDS, name, args, None)
        except ProtocolError as exc:
            fut.set_result(CommandResult(ok=False, error_code=str(exc.code), error_message=exc.message))
            return None, fut
        if permissions and name not in permissions:
            fut.set_result(CommandResult(ok=False, error_code=str(ErrorCode.FORBIDDEN),
                                         error_message=f"your role may not send {name}"))
            return None, fut
        cid = str(uuid.uuid4())
        self.outbox.add(cid, name, args)  # persisted before anything is sent
        if self.online:
            self._cmd_futures[cid] = fut
            self._wake.set()
        else:
            fut.set_result(CommandResult(ok=True, queued=True))
        return cid, fut

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[CommandResult] = loop.create_future()
        try:
            parse_args(QUERIES, name, args, None)
        except ProtocolError as exc:
            fut.set_result(CommandResult(ok=False, error_code=str(exc.code), error_message=exc.message))
            return fut
        t = self._transport
        if t is None:
            fut.set_result(CommandResult(ok=False, error_code=OFFLINE, error_message="not connected"))
            return fut
        qid = "q-" + uuid.uuid4().hex
        self._query_futures[qid] = fut
        loop.call_later(self.query_timeout_s, self._resolve_query, qid,
                        CommandResult(ok=False, error_code=TIMEOUT, error_message="no answer in time"))
        task = loop.create_task(self._send_query(t, Query(id=qid, name=name, args=args)))
        task.add_done_callback(_log_task_error)
        return fut

    async def _send_query(self, t: Transport, q: Query) -> None:
        try:
            await t.send(q)
        except TransportError:
            self._resolve_query(q.id, CommandResult(ok=False, error_code=OFFLINE,
                                                    error_message="connection lost"))

    # ---- connection lifecycle ---------------------------------------------------------------
    def attach(self, transport: Transport) -> None:
        """After Welcome: start sending the outbox (oldest first) on this connection."""
        self._transport = transport
        self._in_flight.clear()
        self._wake.set()
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(transport))
        self._pump_task.add_done_callback(_log_task_error)

    def detach(self) -> None:
        """The connection is gone: in-flight commands stay in the outbox for the next one."""
        self._transport = None
        self._in_flight.clear()
        if self._pump_task is not None:
            self._pump_task.cancel()
            self._pump_task = None
        for fut in self._cmd_futures.values():
            if not fut.done():
                fut.set_result(CommandResult(ok=True, queued=True))
        self._cmd_futures.clear()
        for qid in list(self._query_futures):
            self._resolve_query(qid, CommandResult(ok=False, error_code=OFFLINE,
                                                   error_message="connection lost"))

    async def _pump(self, t: Transport) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.send_rate_per_s if self.send_rate_per_s > 0 else 0.0
        next_send = loop.time() - 1.0  # start with a second of burst credit
        while self._transport is t:
            self._wake.clear()
            if loop.time() < self._paused_until:  # the service said "slow down"
                await asyncio.sleep(self._paused_until - loop.time())
                continue
            # in-flight commands are the oldest rows, so this many rows hold every candidate
            for item in self.outbox.pending(limit=len(self._in_flight) + self.window):
                if len(self._in_flight) >= self.window:
                    break
                if item.id in self._in_flight:
                    continue
                if interval and loop.time() < next_send:
                    await asyncio.sleep(next_send - loop.time())
                    if self._transport is not t or loop.time() < self._paused_until:
                        break
                next_send = max(next_send + interval, loop.time() - 1.0)  # ~1 s of burst credit
                self._in_flight.add(item.id)
                self.outbox.mark_sent(item.id)
                try:
                    await t.send(Command(id=item.id, name=item.name, args=item.args))
                except TransportError:
                    return  # the reader notices the loss and detaches us
                self.sent += 1
            await self._wake.wait()

    # ---- answers ----------------------------------------------------------------------------
    def on_result(self, r: Result) -> None:
        if r.id in self._query_futures:
            self._resolve_query(r.id, _result_of(r))
            return
        self._finish_command(r.id, _result_of(r))

    def on_error(self, e: Error) -> bool:
        """An error frame about one of our frames; False if it names none of ours."""
        if e.ref is None:
            return False
        res = CommandResult(ok=False, error_code=e.code, error_message=e.message)
        if e.ref in self._query_futures:
            self._resolve_query(e.ref, res)
            return True
        if e.ref in self._in_flight or self.outbox.contains(e.ref):
            self._finish_command(e.ref, res)
            return True
        return False

    def _finish_command(self, cid: str, res: CommandResult) -> None:
        self._in_flight.discard(cid)
        if not res.ok and res.error_code in _RETRYABLE:
            # keep it in the outbox and hold the pump for a while; then it goes again, same id,
            # still in order (it is the oldest row)
            loop = asyncio.get_running_loop()
            self._paused_until = loop.time() + self.retry_after_s
            self.retried += 1
            self._wake.set()
            return
        if not self.outbox.remove(cid) and cid not in self._cmd_futures:
            return  # an answer to a command already answered (a replayed duplicate)
        self.answered += 1
        fut = self._cmd_futures.pop(cid, None)
        if fut is not None and not fut.done():
            fut.set_result(res)
        self.command_finished.emit(cid, res)
        self._wake.set()

    def _resolve_query(self, qid: str, res: CommandResult) -> None:
        fut = self._query_futures.pop(qid, None)
        if fut is not None and not fut.done():
            fut.set_result(res)


def _log_task_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("client task failed", exc_info=task.exception())
