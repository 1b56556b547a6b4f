"""Board and power-meter input: the thread-safe ``BoardListener`` side of the manager.

Board threads only append to a deque (atomic in CPython) and wake the runner; the manager drains
the deque in arrival order under its lock (``EvseManager.tick``).  Nothing here blocks the caller.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Optional, Tuple

from ..board.port import BoardListener
from ..types.board import BoardError, BspEvent, HardwareCapabilities, ProximityPilot, Telemetry
from ..types.powermeter import Powermeter

BSP = 0
CAPS = 1
PP = 2
PHASES = 3
TELEMETRY = 4
STOP = 5
ERROR_RAISED = 6
ERROR_CLEARED = 7
METER = 8
METER_KEY = 9

Item = Tuple[int, Any]


class Inbox(BoardListener):
    """Queues every board/meter report; ``wake`` (set by a runner) is called after each one."""

    def __init__(self) -> None:
        self.queue: Deque[Item] = deque()
        self.wake: Optional[Callable[[], None]] = None

    def _put(self, kind: int, payload: Any) -> None:
        self.queue.append((kind, payload))
        wake = self.wake
        if wake is not None:
            wake()

    def on_bsp_event(self, event: BspEvent) -> None:
        """Queue a CP state / contactor feedback event."""
        self.queue.append((BSP, event))  # _put, inline: the most frequent report
        wake = self.wake
        if wake is not None:
            wake()

    def on_capabilities(self, capabilities: HardwareCapabilities) -> None:
        """Queue the hardware capabilities."""
        self._put(CAPS, capabilities)

    def on_ac_pp_ampacity(self, pp: ProximityPilot) -> None:
        """Queue the PP cable ampacity."""
        self._put(PP, pp)

    def on_ac_nr_of_phases_available(self, phases: int) -> None:
        """Queue the available phase count."""
        self._put(PHASES, phases)

    def on_telemetry(self, telemetry: Telemetry) -> None:
        """Queue board telemetry."""
        self._put(TELEMETRY, telemetry)

    def on_request_stop_transaction(self, request) -> None:
        """Queue a stop request from the board."""
        self._put(STOP, request)

    def on_error_raised(self, error: BoardError) -> None:
        """Queue a raised board error."""
        self._put(ERROR_RAISED, error)

    def on_error_cleared(self, error_type: str, sub_type: str = "") -> None:
        """Queue a cleared board error."""
        self._put(ERROR_CLEARED, (error_type, sub_type))

    def on_powermeter(self, sample: Powermeter) -> None:
        """Queue a power-meter sample."""
        self._put(METER, sample)

    def on_powermeter_public_key_ocmf(self, key: str) -> None:
        """Queue the power meter's OCMF public key (republished as ``powermeter_public_key_ocmf``)."""
        self._put(METER_KEY, key)
