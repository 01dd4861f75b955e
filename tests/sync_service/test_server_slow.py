"""A slow consumer is cut off (1013) without stalling anyone, then resumes; heartbeats flow and a
half-open connection is dropped within 10 s."""

from __future__ import annotations

import asyncio
import base64
import time

from sqlalchemy.orm import Session

from protocol.events import SYSTEM_NOTICE
from sync_service.eventlog import NewEvent
from tests.sync_service.server_helpers import Client, service

PAD = "数据" * 1400  # ~8 kB per event: TCP buffers fill quickly


def _fat(n: int, start: int):  # noqa: ANN202
    def fn(s: Session) -> tuple[None, list[NewEvent]]:
        return None, [NewEvent(SYSTEM_NOTICE, {"level": "info", "text": PAD, "text_en": "", "i": i})
                      for i in range(start, start + n)]
    return fn


async def test_slow_consumer_cut_off_other_client_unaffected_then_resumes(sqlite_url: str) -> None:
    async with service(sqlite_url, send_queue_max=300) as svc:
        # max_queue=1: the slow client's library stops reading the socket after one frame
        async with Client.open(svc.url, max_queue=1) as slow, Client.open(svc.url) as fast:
            total = 0
            t0 = time.monotonic()
            for _k in range(40):
                await svc.ctx.db.write_events(_fat(100, total))
                total += 100
                await fast.wait_seq(total)  # the fast client keeps up, batch by batch
            fast_s = time.monotonic() - t0
            assert fast.seqs() == list(range(1, total + 1))
            assert svc.server.slow_disconnects == 1
            # the slow client, once it reads, finds what was sent before the cut and then 1013
            code = await slow.closed_code(30)
            assert code == 1013
            got = slow.seqs()
            assert got == list(range(1, len(got) + 1))  # in order, no gap, no duplicate
            assert len(got) < total
        # it comes back and resumes from its last seq: nothing lost, nothing twice
        async with Client.open(svc.url, last_seq=got[-1]) as again:
            assert again.welcome["mode"] == "resume"
            await again.wait_seq(total)
            assert got + again.seqs() == list(range(1, total + 1))
        print(f"fast client received {total} events in {fast_s:.2f} s while the slow one stalled")


async def test_a_client_that_stalls_then_reads_gets_everything_in_order(sqlite_url: str) -> None:
    """While its socket keeps up, frames go straight from the hub's flush to the socket; once its
    write buffer backs up they queue behind it; either way in order, nothing lost."""
    async with service(sqlite_url) as svc, Client.open(svc.url, max_queue=1) as c:
        total = 0
        for _k in range(3):  # it keeps up
            await svc.ctx.db.write_events(_fat(10, total))
            total += 10
            await c.wait_seq(total)
        sess = next(iter(svc.server.sessions))
        direct = sess.direct_frames
        assert direct >= 3
        queued = False
        for _k in range(400):  # it stops reading (max_queue=1: nor does its library): TCP fills up
            await svc.ctx.db.write_events(_fat(20, total))
            total += 20
            await asyncio.sleep(0)  # the hub's flush
            if sess._queue:
                queued = True
                break
        assert queued, "frames queue once the socket's buffer is full"
        assert sess.ws.transport.get_write_buffer_size() > 0
        await c.wait_seq(total, 30)
        assert c.seqs() == list(range(1, total + 1))
        assert svc.server.slow_disconnects == 0


async def test_heartbeats_carry_head_seq(sqlite_url: str) -> None:
    async with service(sqlite_url, heartbeat_s=0.3) as svc, Client.open(svc.url) as c:
        assert c.welcome["heartbeat_s"] == 0.3
        hb1 = await c.until(lambda f: f["type"] == "heartbeat", 3)
        r = await c.command("focus.set", {"incident_id": None})
        hb2 = await c.until(lambda f: f["type"] == "heartbeat" and f["head_seq"] >= r["seq"], 3)
        assert hb2["t"] > hb1["t"]


async def _poll(cond, limit_s: float) -> None:  # noqa: ANN001
    """Wait until cond() holds (the server offers no event for a session's end)."""
    deadline = time.monotonic() + limit_s
    while not cond() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def _raw_handshake(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket handshake by hand; afterwards the 'client' never reads or answers a ping."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = base64.b64encode(b"duty:ioc-demo-2024").decode()
    key = base64.b64encode(b"0123456789abcdef").decode()
    writer.write((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: Basic {auth}\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    assert b"101" in status
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


async def test_half_open_connection_dropped_within_10_s(sqlite_url: str) -> None:
    async with service(sqlite_url, heartbeat_s=5.0) as svc:
        _reader, writer = await _raw_handshake(svc.ws_port)
        t0 = time.monotonic()
        await _poll(lambda: bool(svc.server.sessions), 5)
        await _poll(lambda: not svc.server.sessions, 15)
        took = time.monotonic() - t0
        writer.close()
        print(f"half-open connection dropped after {took:.1f} s (heartbeat 5 s)")
        assert not svc.server.sessions
        assert took <= 10.0
