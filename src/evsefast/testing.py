"""Test doubles for users' own tests: a recording board, a fake power meter, a manual clock.

Use them to test OCPP clients or energy managers against the real kernel without
hardware::

    from evsefast.testing import FakeBoard, FakePowerMeter, ManualClock
    board = FakeBoard()
    board.emit_cp("B")            # the car plugs in
    assert board.commands[-1] == ("allow_power_on", False)
"""
from __future__ import annotations

import threading
from typing import Any, List, Optional, Tuple

from .board.port import BoardListener, BoardSupport, PowerMeter
from .clock import Clock, ManualClock
from .types.board import (
    BoardError,
    BspEvent,
    BspEventKind,
    HardwareCapabilities,
    PowerOnOff,
    ProximityPilot,
    Telemetry,
)
from .types.powermeter import (
    Energy,
    Powermeter,
    TransactionReq,
    TransactionRequestStatus,
    TransactionStartResponse,
    TransactionStopResponse,
)

Command = Tuple[Any, ...]

DEFAULT_CAPABILITIES = HardwareCapabilities(
    max_current_A_import=32.0,
    min_current_A_import=6.0,
    max_phase_count_import=3,
    min_phase_count_import=1,
    max_current_A_export=0.0,
    min_current_A_export=0.0,
    max_phase_count_export=1,
    min_phase_count_export=1,
    supports_changing_phases_during_charging=True,
    supports_cp_state_E=False,
    connector_type="IEC62196Type2Cable",
)


class RecordingListener(BoardListener):
    """A BoardListener that records every call as ``(method_name, argument...)``."""

    def __init__(self) -> None:
        self.calls: List[Command] = []
        self._lock = threading.Lock()

    def _record(self, *call: Any) -> None:
        with self._lock:
            self.calls.append(call)

    def on_bsp_event(self, event: BspEvent) -> None:
        """Record a BSP event."""
        self._record("on_bsp_event", event)

    def on_capabilities(self, capabilities: HardwareCapabilities) -> None:
        """Record capabilities."""
        self._record("on_capabilities", capabilities)

    def on_ac_pp_ampacity(self, pp: ProximityPilot) -> None:
        """Record a PP ampacity."""
        self._record("on_ac_pp_ampacity", pp)

    def on_ac_nr_of_phases_available(self, phases: int) -> None:
        """Record the available phase count."""
        self._record("on_ac_nr_of_phases_available", phases)

    def on_telemetry(self, telemetry: Telemetry) -> None:
        """Record telemetry."""
        self._record("on_telemetry", telemetry)

    def on_request_stop_transaction(self, request) -> None:
        """Record a stop request."""
        self._record("on_request_stop_transaction", request)

    def on_error_raised(self, error: BoardError) -> None:
        """Record a raised error."""
        self._record("on_error_raised", error)

    def on_error_cleared(self, error_type: str, sub_type: str = "") -> None:
        """Record a cleared error."""
        self._record("on_error_cleared", error_type, sub_type)

    def on_powermeter(self, sample: Powermeter) -> None:
        """Record a power-meter sample."""
        self._record("on_powermeter", sample)

    def events(self) -> List[str]:
        """The BSP event names received so far, e.g. ``["B", "C", "PowerOn"]``."""
        return [c[1].event.value for c in self.calls if c[0] == "on_bsp_event"]


class FakeBoard(BoardSupport):
    """A board that records every command and lets a test emit board events.

    ``commands`` holds tuples such as ``("pwm_on", 26.666)``, ``("cp_state_X1",)``,
    ``("allow_power_on", True, "FullPowerCharging")``, ``("lock",)``.
    """

    def __init__(self, capabilities: Optional[HardwareCapabilities] = DEFAULT_CAPABILITIES) -> None:
        super().__init__()
        self.commands: List[Command] = []
        self.capabilities = capabilities
        self.enabled = False

    def start(self) -> None:
        """Publish the capabilities once, as a real board does after start."""
        if self.capabilities is not None and self.listener is not None:
            self.listener.on_capabilities(self.capabilities)

    def clear(self) -> None:
        """Forget the recorded commands."""
        self.commands.clear()

    # commands
    def enable(self, value: bool) -> None:
        """Record ``enable``."""
        self.enabled = bool(value)
        self.commands.append(("enable", bool(value)))

    def pwm_on(self, value: float) -> None:
        """Record ``pwm_on`` (duty in percent)."""
        self.commands.append(("pwm_on", float(value)))

    def cp_state_X1(self) -> None:
        """Record ``cp_state_X1``."""
        self.commands.append(("cp_state_X1",))

    def cp_state_F(self) -> None:
        """Record ``cp_state_F``."""
        self.commands.append(("cp_state_F",))

    def cp_state_E(self) -> None:
        """Record ``cp_state_E``."""
        self.commands.append(("cp_state_E",))

    def allow_power_on(self, value: PowerOnOff) -> None:
        """Record ``allow_power_on`` as ``("allow_power_on", bool, reason)``."""
        self.commands.append(("allow_power_on", value.allow_power_on, value.reason.value))

    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """Record a phase switch."""
        self.commands.append(("ac_switch_three_phases_while_charging", bool(value)))

    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """Record the over-current limit."""
        self.commands.append(("ac_set_overcurrent_limit_A", float(value)))

    def lock(self) -> None:
        """Record ``lock``."""
        self.commands.append(("lock",))

    def unlock(self) -> None:
        """Record ``unlock``."""
        self.commands.append(("unlock",))

    # events a test can emit
    def emit(self, kind: str) -> None:
        """Report a BSP event by name: ``"A"`` .. ``"F"``, ``"PowerOn"``, ``"PowerOff"``."""
        assert self.listener is not None, "attach a listener first"
        self.listener.on_bsp_event(BspEvent(event=BspEventKind(kind)))

    emit_cp = emit

    def names(self) -> List[str]:
        """The command names in order, e.g. ``["enable", "cp_state_X1", "pwm_on"]``."""
        return [c[0] for c in self.commands]


class FakePowerMeter(PowerMeter):
    """A power meter whose readings a test sets; it records transaction requests."""

    def __init__(
        self,
        start_status: TransactionRequestStatus = TransactionRequestStatus.OK,
        stop_status: TransactionRequestStatus = TransactionRequestStatus.OK,
    ) -> None:
        super().__init__()
        self.start_status = start_status
        self.stop_status = stop_status
        self.requests: List[Command] = []

    def publish(self, energy_Wh_import: float, *, energy_Wh_export: Optional[float] = None,
                timestamp: str = "2026-01-01T00:00:00Z", current_A=None, power_W=None) -> Powermeter:
        """Send one sample to the attached listener and return it."""
        sample = Powermeter(
            timestamp=timestamp,
            energy_Wh_import=Energy(total=float(energy_Wh_import)),
            energy_Wh_export=None if energy_Wh_export is None else Energy(total=float(energy_Wh_export)),
            current_A=current_A,
            power_W=power_W,
        )
        if self.listener is not None:
            self.listener.on_powermeter(sample)
        return sample

    def start_transaction(self, request: TransactionReq) -> TransactionStartResponse:
        """Record the request and answer with ``start_status``."""
        self.requests.append(("start_transaction", request))
        return TransactionStartResponse(status=self.start_status)

    def stop_transaction(self, transaction_id: str) -> TransactionStopResponse:
        """Record the request and answer with ``stop_status``."""
        self.requests.append(("stop_transaction", transaction_id))
        return TransactionStopResponse(status=self.stop_status)


__all__ = [
    "Clock", "DEFAULT_CAPABILITIES", "FakeBoard", "FakePowerMeter", "ManualClock", "RecordingListener",
]
