"""Yeti-family serial boards: COBS + JAMCRC framing, per-board protobuf field profiles, driver, virtual MCU.

* ``YetiBoard(port, baudrate=115200, profile="yeti")`` — the ``BoardSupport`` driver (pyserial).
* ``VirtualYetiMcu`` — the MCU side on a pseudo-terminal with the simulator behind it.
* ``Codec``, ``FrameDecoder``, ``encode_frame``/``decode_frame`` — the link layer.
* ``PROFILES`` — field numberings of Yeti, TIDA-010939 and the AdKit, as data.
"""
from .codec import Codec, MessageStream
from .driver import YetiBoard
from .framing import FrameDecoder, FrameStats, decode_frame, encode_frame, jamcrc
from .profiles import PROFILES, BoardProfile, get_profile
from .virtual import VirtualYetiMcu

__all__ = [
    "BoardProfile", "Codec", "FrameDecoder", "FrameStats", "MessageStream", "PROFILES", "VirtualYetiMcu",
    "YetiBoard", "decode_frame", "encode_frame", "get_profile", "jamcrc",
]
