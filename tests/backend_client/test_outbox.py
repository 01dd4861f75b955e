from __future__ import annotations

from pathlib import Path

from backend_client import localdb
from backend_client.outbox import Outbox


def test_outbox_persists_in_order_across_reopen(tmp_path: Path) -> None:
    path = localdb.db_path("ws://127.0.0.1:1", "duty1", tmp_path)
    ob = Outbox(path)
    ob.add("id-aaaaaaaa-1", "alert.ack", {"alert_id": 3, "note": "现场确认"})
    ob.add("id-aaaaaaaa-2", "alert.dispatch", {"alert_id": 3})
    ob.add("id-aaaaaaaa-3", "focus.set", {"incident_id": None})
    ob.close()  # the console quits (or crashes) while offline

    again = Outbox(path)
    items = again.pending()
    assert [i.id for i in items] == ["id-aaaaaaaa-1", "id-aaaaaaaa-2", "id-aaaaaaaa-3"]
    assert items[0].args == {"alert_id": 3, "note": "现场确认"}
    assert items[2].args == {"incident_id": None}
    assert again.remove("id-aaaaaaaa-2")
    assert not again.remove("id-aaaaaaaa-2")
    assert [i.id for i in again.pending()] == ["id-aaaaaaaa-1", "id-aaaaaaaa-3"]
    again.close()


def test_same_id_is_kept_once_and_attempts_counted(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite")
    ob.add("same-id-0001", "alert.ack", {"alert_id": 1})
    ob.add("same-id-0001", "alert.ack", {"alert_id": 1})
    assert len(ob) == 1
    ob.mark_sent("same-id-0001")
    ob.mark_sent("same-id-0001")
    assert ob.pending()[0].attempts == 2
    assert ob.contains("same-id-0001")
    ob.close()


def test_one_database_per_url_and_user(tmp_path: Path) -> None:
    a = localdb.db_path("ws://a:1", "u1", tmp_path)
    assert a == localdb.db_path("ws://a:1", "u1", tmp_path)
    assert a != localdb.db_path("ws://a:1", "u2", tmp_path)
    assert a != localdb.db_path("ws://b:1", "u1", tmp_path)
