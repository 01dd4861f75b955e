from __future__ import annotations

import orjson
import pytest

from protocol.commands import COMMANDS, PERMISSIONS, QUERIES, may_send, parse_args
from protocol.enums import ErrorCode, Role
from protocol.frames import (
    MAX_FRAME_BYTES,
    Command,
    Event,
    Events,
    Hello,
    ProtocolError,
    decode_client_frame,
    decode_server_frame,
    encode_frame,
)


def test_hello_roundtrip() -> None:
    raw = encode_frame(Hello(client="t", last_seq=42))
    f = decode_client_frame(raw)
    assert isinstance(f, Hello)
    assert f.last_seq == 42


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", ErrorCode.BAD_FRAME),
        (b"[1,2]", ErrorCode.BAD_FRAME),
        (b'{"v":1}', ErrorCode.BAD_FRAME),
        (b'{"type":"launch_missiles"}', ErrorCode.UNKNOWN_TYPE),
        (b'{"type":"hello","last_seq":"yesterday"}', ErrorCode.BAD_FRAME),
        (b'{"type":"hello","last_seq":-1}', ErrorCode.BAD_FRAME),
        (b'{"v":2,"type":"hello"}', ErrorCode.UNSUPPORTED_VERSION),
        (b'{"type":"command","id":"short","name":"alert.ack"}', ErrorCode.BAD_FRAME),
    ],
)
def test_bad_frames_are_typed_errors(raw: bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as ei:
        decode_client_frame(raw)
    assert ei.value.code == code


def test_oversize_frame_refused_before_parsing() -> None:
    raw = b'{"type":"ping","pad":"' + b"x" * MAX_FRAME_BYTES + b'"}'
    with pytest.raises(ProtocolError) as ei:
        decode_client_frame(raw)
    assert ei.value.code == ErrorCode.TOO_LARGE


def test_error_carries_command_id_as_ref() -> None:
    raw = orjson.dumps({"type": "command", "id": "abcdefgh-1", "name": 5})
    with pytest.raises(ProtocolError) as ei:
        decode_client_frame(raw)
    assert ei.value.ref == "abcdefgh-1"


def test_server_events_roundtrip() -> None:
    frame = Events(items=[Event(seq=3, ts=1.5, kind="alert.upsert", domain="fire", data={"id": 1})])
    back = decode_server_frame(encode_frame(frame))
    assert back.items[0].seq == 3
    assert back.items[0].domain == "fire"


def test_command_args_validated() -> None:
    cmd = decode_client_frame(orjson.dumps({"type": "command", "id": "12345678", "name": "alert.ack",
                                            "args": {"alert_id": 7}}))
    assert isinstance(cmd, Command)
    assert parse_args(COMMANDS, cmd.name, cmd.args, cmd.id).alert_id == 7
    with pytest.raises(ProtocolError) as ei:
        parse_args(COMMANDS, "alert.ack", {"alert_id": 7, "extra": 1}, None)
    assert ei.value.code == ErrorCode.BAD_ARGS
    with pytest.raises(ProtocolError) as ei:
        parse_args(COMMANDS, "alert.nuke", {}, None)
    assert ei.value.code == ErrorCode.UNKNOWN_COMMAND
    with pytest.raises(ProtocolError) as ei:
        parse_args(QUERIES, "nope", {}, None)
    assert ei.value.code == ErrorCode.UNKNOWN_QUERY


def test_permissions() -> None:
    assert may_send(Role.LEADER, "task.decide")
    assert not may_send(Role.OPERATOR, "task.decide")
    assert not may_send(Role.BUREAU_OPERATOR, "user.create")
    assert PERMISSIONS[Role.ADMIN] == frozenset(COMMANDS)
