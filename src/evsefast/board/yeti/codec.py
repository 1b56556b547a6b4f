"""Message codec of one side of a Yeti-family link: container member <-> framed bytes.

The host side (``Codec(profile, "host")``) encodes ``EverestToMcu`` and decodes
``McuToEverest``; the MCU side (the virtual board) does the reverse. Decoding returns
``(member, value)``: a Python scalar for scalar and enum members (enums as ints), the
protobuf sub-message otherwise.
"""
from __future__ import annotations

from typing import Any, Tuple

from google.protobuf.message import DecodeError

from ...errors import ProtocolError
from .framing import MAX_FRAME, FrameDecoder, FrameStats, decode_frame, encode_frame
from .profiles import BoardProfile, get_profile


class Codec:
    """Encode what one side sends and decode what it receives, for one board profile."""

    def __init__(self, profile="yeti", side: str = "host") -> None:
        if side not in ("host", "mcu"):
            raise ValueError(f"side must be 'host' or 'mcu', got {side!r}")
        self.profile: BoardProfile = get_profile(profile)
        host_cls, mcu_cls = self.profile.message_classes()
        self.side = side
        self.tx_class, self.rx_class = (host_cls, mcu_cls) if side == "host" else (mcu_cls, host_cls)
        self._tx_members = self.profile.host if side == "host" else self.profile.mcu
        self._from_string = self.rx_class.FromString

    def can_send(self, member: str) -> bool:
        """True if this side of this profile has the container member ``member``."""
        return member in self._tx_members

    def message(self, member: str, value: Any = None, **fields: Any):
        """Build the container message with ``member`` set to ``value`` (or to a sub-message
        with ``fields``, or to an empty sub-message)."""
        if member not in self._tx_members:
            raise ProtocolError(f"board profile {self.profile.name!r} has no {self.side}-side message "
                                f"{member!r}; it has: {', '.join(sorted(self._tx_members))}")
        msg = self.tx_class()
        if value is not None and not fields and not hasattr(value, "ListFields"):
            setattr(msg, member, value)
        else:
            sub = getattr(msg, member)
            if value is not None:
                sub.CopyFrom(value)
            for k, v in fields.items():
                setattr(sub, k, v)
            sub.SetInParent()
        return msg

    def encode_payload(self, member: str, value: Any = None, **fields: Any) -> bytes:
        """The protobuf bytes of one container message (no CRC, no COBS)."""
        return self.message(member, value, **fields).SerializeToString()

    def encode(self, member: str, value: Any = None, **fields: Any) -> bytes:
        """One wire frame (COBS + CRC + ``0x00``) carrying ``member``."""
        return encode_frame(self.message(member, value, **fields).SerializeToString())

    def decode_payload(self, payload: bytes) -> Tuple[str, Any]:
        """``(member, value)`` from protobuf bytes; ``ProtocolError`` if nothing known is in it."""
        try:
            msg = self._from_string(payload)
        except (DecodeError, ValueError, TypeError) as exc:
            raise ProtocolError(f"undecodable {self.rx_class.__name__} message: {exc}") from exc
        member = msg.WhichOneof("payload")
        if member is None:
            raise ProtocolError(f"{self.rx_class.__name__} message carries no known field")
        return member, getattr(msg, member)

    def decode(self, frame_body, max_frame: int = MAX_FRAME) -> Tuple[str, Any]:
        """``(member, value)`` from one frame body (without its ``0x00``): COBS, CRC and protobuf."""
        return self.decode_payload(decode_frame(frame_body, max_frame))

    def stream(self, stats: FrameStats = None) -> "MessageStream":
        """A stream decoder that yields ``(member, value)`` for every good frame."""
        return MessageStream(self, stats)


class MessageStream:
    """Bytes in, ``(member, value)`` out. Frames with a correct CRC but no known message
    are dropped and counted in ``stats.dropped_undecodable``; nothing raises."""

    __slots__ = ("codec", "decoder", "stats")

    def __init__(self, codec: Codec, stats: FrameStats = None) -> None:
        self.codec = codec
        self.decoder = FrameDecoder(stats=stats)
        self.stats = self.decoder.stats

    def feed(self, data) -> list:
        """Consume bytes; return the decoded messages they completed."""
        out = []
        for payload in self.decoder.feed(data):
            try:
                out.append(self.codec.decode_payload(payload))
            except ProtocolError:
                self.stats.dropped_undecodable += 1
        return out

    def reset(self) -> None:
        """Drop a partial frame."""
        self.decoder.reset()


__all__ = ["Codec", "MessageStream"]
