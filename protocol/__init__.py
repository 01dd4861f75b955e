"""IOC Console wire protocol (sans-I/O): frames, entities, event kinds, commands, errors.

Imported by both the sync service and the console; imports neither. See docs/protocol.md.
"""

from protocol.frames import (
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    ProtocolError,
    decode_frame,
    encode_frame,
)

__all__ = ["MAX_FRAME_BYTES", "PROTOCOL_VERSION", "ProtocolError", "decode_frame", "encode_frame"]
