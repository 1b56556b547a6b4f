"""The Yeti link layer (wire_protocols.md §3.1): payload + CRC-32/JAMCRC (4 bytes, little
endian), COBS-encoded, each frame ended by one ``0x00``.

``encode_frame``/``decode_frame`` handle one frame; ``FrameDecoder`` splits a byte
stream, resynchronises on every ``0x00`` and drops (and counts in ``FrameStats``)
oversized, corrupt and CRC-failing frames, so only frames with a correct CRC leave it.
It never raises on bad input and never waits: it only holds the bytes of an
unfinished frame until the next ``feed``.
"""
from __future__ import annotations

import binascii
from typing import List, Optional

from cobs import cobs

from ...errors import CrcError, FramingError

#: Largest decoded frame (payload + 4 CRC bytes) a receiver accepts, as the Yeti host does.
MAX_FRAME = 2048
_CRC_RESIDUE = 0xFFFFFFFF  # binascii.crc32 over payload+JAMCRC(LE): JAMCRC of it is 0


def max_encoded_len(max_frame: int = MAX_FRAME) -> int:
    """Longest COBS encoding (without the delimiter) of a ``max_frame``-byte frame."""
    return max_frame + max_frame // 254 + 1


def jamcrc(data) -> int:
    """CRC-32/JAMCRC of ``data``: reflected 0xEDB88320, init 0xFFFFFFFF, no final XOR."""
    return binascii.crc32(data) ^ 0xFFFFFFFF


def encode_frame(payload: bytes) -> bytes:
    """Frame ``payload`` for the wire: COBS(payload + JAMCRC LE) + ``b"\\x00"``."""
    crc = binascii.crc32(payload) ^ 0xFFFFFFFF
    return cobs.encode(payload + crc.to_bytes(4, "little")) + b"\x00"


def decode_frame(body, max_frame: int = MAX_FRAME) -> bytes:
    """Decode one frame ``body`` (the bytes before its ``0x00``) and return the payload.

    Raises ``FramingError`` for bad COBS, a frame longer than ``max_frame`` or shorter
    than its CRC, and ``CrcError`` when the CRC does not match.
    """
    if len(body) > max_encoded_len(max_frame):
        raise FramingError(f"frame of {len(body)} encoded bytes exceeds the {max_frame}-byte limit")
    try:
        raw = cobs.decode(body)
    except cobs.DecodeError as exc:
        raise FramingError(f"invalid COBS frame: {exc}") from exc
    if len(raw) < 4:
        raise FramingError(f"truncated frame: {len(raw)} bytes, shorter than its 4-byte CRC")
    if len(raw) > max_frame:
        raise FramingError(f"frame of {len(raw)} bytes exceeds the {max_frame}-byte limit")
    if binascii.crc32(raw) != _CRC_RESIDUE:
        raise CrcError(f"CRC mismatch: got {raw[-4:].hex()}, computed "
                       f"{jamcrc(raw[:-4]).to_bytes(4, 'little').hex()}")
    return raw[:-4]


class FrameStats:
    """Link counters. ``dropped`` is the sum of every kind of dropped frame."""

    __slots__ = ("frames", "bytes", "dropped_oversized", "dropped_framing", "dropped_crc",
                 "dropped_undecodable")

    def __init__(self) -> None:
        self.frames = 0               #: frames with a correct CRC
        self.bytes = 0                #: bytes fed
        self.dropped_oversized = 0    #: longer than the frame limit
        self.dropped_framing = 0      #: bad COBS or shorter than the CRC
        self.dropped_crc = 0          #: CRC mismatch
        self.dropped_undecodable = 0  #: CRC fine, but no known protobuf message in it

    @property
    def dropped(self) -> int:
        """All dropped frames."""
        return self.dropped_oversized + self.dropped_framing + self.dropped_crc + self.dropped_undecodable

    def as_dict(self) -> dict:
        """The counters as a plain dict (with ``dropped``)."""
        d = {k: getattr(self, k) for k in self.__slots__}
        d["dropped"] = self.dropped
        return d

    def __repr__(self) -> str:
        return "FrameStats(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"


class FrameDecoder:
    """Stream decoder: ``feed(bytes)`` returns the payloads of the frames completed by it.

    An empty frame (two ``0x00`` in a row, as senders use to resync) is skipped silently.
    A frame growing past the limit is discarded up to the next ``0x00`` and counted once.
    """

    __slots__ = ("stats", "_buf", "_overflow", "_max_frame", "_max_enc")

    def __init__(self, max_frame: int = MAX_FRAME, stats: Optional[FrameStats] = None) -> None:
        self.stats = stats if stats is not None else FrameStats()
        self._buf = bytearray()
        self._overflow = False
        self._max_frame = max_frame
        self._max_enc = max_encoded_len(max_frame)

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect)."""
        self._buf.clear()
        self._overflow = False

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held back."""
        return len(self._buf)

    def feed(self, data) -> List[bytes]:
        """Consume ``data`` and return the payloads of the good frames it completed."""
        data = bytes(data)
        stats = self.stats
        stats.bytes += len(data)
        out: List[bytes] = []
        start = 0
        while True:
            end = data.find(0, start)
            if end < 0:
                if not self._overflow:
                    if len(self._buf) + len(data) - start > self._max_enc:
                        self._overflow = True
                        self._buf.clear()
                    else:
                        self._buf += data[start:]
                return out
            if self._buf:
                body = bytes(self._buf) + data[start:end]
                self._buf.clear()
            else:
                body = data[start:end]
            start = end + 1
            if self._overflow:
                self._overflow = False
                stats.dropped_oversized += 1
                continue
            if not body:
                continue
            payload = self._decode(body)
            if payload is not None:
                out.append(payload)

    def _decode(self, body: bytes) -> Optional[bytes]:
        stats = self.stats
        if len(body) > self._max_enc:
            stats.dropped_oversized += 1
            return None
        try:
            raw = cobs.decode(body)
        except cobs.DecodeError:
            stats.dropped_framing += 1
            return None
        if len(raw) < 4:
            stats.dropped_framing += 1
            return None
        if len(raw) > self._max_frame:
            stats.dropped_oversized += 1
            return None
        if binascii.crc32(raw) != _CRC_RESIDUE:
            stats.dropped_crc += 1
            return None
        stats.frames += 1
        return raw[:-4]


__all__ = ["FrameDecoder", "FrameStats", "MAX_FRAME", "decode_frame", "encode_frame", "jamcrc",
           "max_encoded_len"]
