"""A bureau console's resume while other bureaus fill the log: the client adopts the service's
`synced_seq` (heartbeat/pong), so it resumes from near the head, not from its last own event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.store import Connection, StateStore
from backend_client.client import ConsoleClient
from backend_client.feeder import StoreFeeder
from protocol.events import SYSTEM_NOTICE
from protocol.frames import Heartbeat, SnapshotBegin, SnapshotEnd
from sync_service.eventlog import NewEvent
from tests.backend_client.helpers import FAST, free_port, wait_for
from tests.backend_client.service import PASSWORD, running_service


def _notices(domain: str, n: int, tag: str) -> Any:
    def fn(_s: Session) -> tuple[None, list[NewEvent]]:
        return None, [NewEvent(SYSTEM_NOTICE, {"level": "info", "text": f"{tag}{i}"}, domain=domain) for i in range(n)]
    return fn


def test_feeder_adopts_synced_seq_only_forward_and_never_mid_snapshot() -> None:
    s = StateStore()
    f = StoreFeeder(s)
    f.on_synced(40)
    assert (s.seq, f.seq_adopted) == (40, 1)
    f.on_synced(30)  # an older frame never moves it back
    assert s.seq == 40
    f.on_snapshot_begin(SnapshotBegin(seq=50))
    f.on_synced(90)  # mid-snapshot: the store is about to be replaced at 50
    f.on_snapshot_end(SnapshotEnd(seq=50))
    assert (s.seq, f.seq_adopted) == (50, 1)


async def test_bureau_console_resumes_across_other_bureaus_traffic(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    store = StateStore()
    client = ConsoleClient(f"ws://127.0.0.1:{port}", store, timings=FAST, local_dir=str(tmp_path))
    notices: list[dict[str, Any]] = []
    store.notice.connect(notices.append)
    try:
        async with running_service(sqlite_url, ws_port=port, heartbeat_s=0.3, replay_window=300) as svc:
            client.login("bureau_water", PASSWORD)
            await wait_for(lambda: store.connection == Connection.ONLINE)
            own = store.seq
            for i in range(5):  # 1,000 fire events: three replay windows
                await svc.ctx.db.write_events(_notices("fire", 200, f"fire{i}-"))
            head = svc.hub.last_seq
            await wait_for(lambda: store.seq == head, what="the seq adopted from a heartbeat")
            assert client.feeder.seq_adopted >= 1
            assert not [n for n in notices if str(n.get("text", "")).startswith("fire")]
        await wait_for(lambda: store.connection != Connection.ONLINE, what="offline after stop")
        assert head - own >= 1000
        # the service comes back; more fire traffic happened, and one water notice
        async with running_service(sqlite_url, ws_port=port, heartbeat_s=0.3, replay_window=300) as svc:
            await svc.ctx.db.write_events(_notices("fire", 200, "later-"))
            await svc.ctx.db.write_events(_notices("water", 1, "water-"))
            await wait_for(lambda: any(n.get("text") == "water-0" for n in notices), what="the water notice")
            assert store.snapshot_reloads == 0  # resumed, though its last own event is 5 windows old
            assert client.feeder.snapshots == 1  # only the first login's
            assert not [n for n in notices if str(n.get("text", "")).startswith(("fire", "later"))]
    finally:
        await client.stop()
        client.close()


def test_heartbeat_without_synced_seq_still_decodes() -> None:
    """Older services send no synced_seq: the field is optional."""
    from protocol.frames import decode_server_frame

    hb = decode_server_frame(b'{"v": 1, "type": "heartbeat", "head_seq": 7, "t": 1.0}')
    assert isinstance(hb, Heartbeat)
    assert hb.synced_seq is None
