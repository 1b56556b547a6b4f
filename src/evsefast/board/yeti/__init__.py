"""Yeti-family serial boards: COBS + JAMCRC framing, per-board protobuf field profiles, driver.

* ``YetiBoard(port, baudrate=115200, profile="yeti")`` — the ``BoardSupport`` driver (pyserial).
* ``Codec``, ``FrameDecoder``, ``encode_frame``/``decode_frame`` — the link layer.
* ``PROFILES`` — field numberings of Yeti, TIDA-010939 and the AdKit, as data.

A charger on a real board::

    from evsefast.board.yeti import YetiBoard
    from evsefast.manager import EvseManager
    from evsefast.runner import Runner

    board = YetiBoard("/dev/serial/by-id/usb-...-if00", 115200)   # or profile="tida010939"
    mgr = EvseManager(config, board=board)   # the board's power meter samples reach the manager
    Runner(mgr).start()                      # opens the port, resets the MCU, waits for its caps

The same without hardware: the virtual MCU is simulation and lives beside the simulator
(drivers never import ``evsefast.sim``): ``from evsefast.sim.virtual_yeti import VirtualYetiMcu``, then
``with VirtualYetiMcu(car="default") as mcu: YetiBoard(mcu.port_path)``,
or ``evsefast virtual-board`` in one terminal and ``evsefast simulate --board yeti --port PATH``
in another (give both the same ``--speed``).
"""
from .codec import Codec, MessageStream
from .driver import YetiBoard
from .framing import FrameDecoder, FrameStats, decode_frame, encode_frame, jamcrc
from .profiles import PROFILES, BoardProfile, get_profile

__all__ = [
    "BoardProfile", "Codec", "FrameDecoder", "FrameStats", "MessageStream", "PROFILES",
    "YetiBoard", "decode_frame", "encode_frame", "get_profile", "jamcrc",
]
