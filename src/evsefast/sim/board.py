"""``SimBoard``: the simulated hardware behind the ``BoardSupport`` and ``PowerMeter`` ports.

The manager talks to it exactly as to a real board: commands go down to ``SimHardware``, the
hardware's events come up through the attached ``BoardListener``.  The board is driven by the
simulation loop: ``advance(dt_ms)`` runs the physics, moves the ``ManualClock`` to each event's
time, hands the event to the listener and calls ``on_event`` (the runner ticks the manager
there), so the manager sees every event at the simulated time it happened.  Nothing here reads
a real clock.

Observers (``board.observers``, e.g. the safety checker) see every command as
``command(t_ms, name, *args)`` and every hardware event as ``event(t_ms, ev)``.

A lost board (``hardware.inject_fault("lost")``) drops commands and reports nothing; after
``link_timeout_ms`` (5 s, the Yeti host's keep-alive timeout) the board raises
``evse_board_support/CommunicationFault``, as a real driver's link supervision would.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from ..board.port import BoardSupport, PowerMeter
from ..clock import ManualClock
from ..types.board import (
    Ampacity,
    BoardConnectorType,
    BoardError,
    BspEvent,
    BspEventKind,
    HardwareCapabilities,
    PowerOnOff,
    ProximityPilot,
    Severity,
)
from .hardware import SimHardware

COMM_FAULT = "evse_board_support/CommunicationFault"

ERROR_MESSAGES = {
    "evse_board_support/DiodeFault": "CP diode check failed (negative level missing)",
    "evse_board_support/VentilationNotAvailable": "car requests ventilation (state D), none fitted",
    "evse_board_support/MREC2GroundFailure": "RCD tripped",
    "evse_board_support/MREC4OverCurrentFailure": "hardware over-current",
    "evse_board_support/MREC17EVSEContactorFault": "contactor did not close",
    "evse_board_support/MREC14PilotFault": "no valid CP level",
    "ac_rcd/DC": "residual DC current above 5 mA",
    COMM_FAULT: "board link lost (no keep-alive for 5 s)",
}


def capabilities_for(hw: SimHardware, max_current_A: float = 32.0, max_phases: int = 3) -> HardwareCapabilities:
    """YetiSimulator's published capabilities (6-32 A import, 1-3 phases, phase switching)."""
    return HardwareCapabilities(
        max_current_A_import=float(max_current_A),
        min_current_A_import=6.0,
        max_phase_count_import=int(max_phases),
        min_phase_count_import=1,
        max_current_A_export=16.0,
        min_current_A_export=0.0,
        max_phase_count_export=int(max_phases),
        min_phase_count_export=1,
        supports_changing_phases_during_charging=True,
        supports_cp_state_E=False,
        connector_type=(BoardConnectorType.IEC62196Type2Socket if hw.connector == "socket"
                        else BoardConnectorType.IEC62196Type2Cable),
    )


class SimBoard(BoardSupport, PowerMeter):
    """A ``BoardSupport`` + ``PowerMeter`` over ``SimHardware``; see the module docstring.

    ``SimBoard(hardware=None, *, car=None, clock=None, kernels=None, max_current_A=32.0,
    max_phases=3, link_timeout_ms=5000.0, **hardware_options)``: without ``hardware`` a
    ``SimHardware(car, kernels=kernels, **hardware_options)`` is made; without ``clock`` a
    ``ManualClock`` at 0.
    """

    def __init__(self, hardware: Optional[SimHardware] = None, *, car: Any = None,
                 clock: Optional[ManualClock] = None, kernels=None, max_current_A: float = 32.0,
                 max_phases: int = 3, link_timeout_ms: float = 5000.0, **hardware_options: Any) -> None:
        BoardSupport.__init__(self)
        self.hardware = hardware if hardware is not None else SimHardware(car, kernels=kernels,
                                                                          **hardware_options)
        self.clock = clock if clock is not None else ManualClock(self.hardware.t_ms)
        self.capabilities = capabilities_for(self.hardware, max_current_A, max_phases)
        self.max_phases = int(max_phases)
        self.link_timeout_ms = float(link_timeout_ms)
        self.observers: List[Any] = []
        self.on_event: Optional[Callable[[float, tuple], None]] = None
        self._lost_since: Optional[float] = None
        self._comm_fault = False
        self.started = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Publish capabilities and the available phases, as a board does after start."""
        self.started = True
        lst = self.listener
        if lst is not None:
            lst.on_capabilities(self.capabilities)
            lst.on_ac_nr_of_phases_available(self.max_phases)
            if self.hardware.connector == "socket":
                lst.on_ac_pp_ampacity(ProximityPilot(ampacity=Ampacity(self.hardware.pp)))

    # -- commands --------------------------------------------------------------------------------
    def _cmd(self, name: str, *args: Any) -> bool:
        t = self.hardware.t_ms
        for obs in self.observers:
            obs.command(t, name, *args)
        return not self.hardware.lost

    def enable(self, value: bool) -> None:
        """Enable or disable the board (disabled: CP F; the PWM command is kept)."""
        if self._cmd("enable", bool(value)):
            self.hardware.set_enabled(bool(value))

    def pwm_on(self, value: float) -> None:
        """1 kHz PWM at ``value`` percent."""
        if self._cmd("pwm_on", float(value)):
            self.hardware.set_pwm_pct(float(value))

    def cp_state_X1(self) -> None:
        """Constant +12 V (no PWM)."""
        if self._cmd("cp_state_X1"):
            self.hardware.set_pwm_pct(100.0)

    def cp_state_F(self) -> None:
        """Constant -12 V."""
        if self._cmd("cp_state_F"):
            self.hardware.set_pwm_pct(0.0)

    def allow_power_on(self, value: PowerOnOff) -> None:
        """Allow or forbid closing the contactors."""
        if self._cmd("allow_power_on", bool(value.allow_power_on)):
            self.hardware.set_allow_power_on(bool(value.allow_power_on))

    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """Switch between one and three phases."""
        if self._cmd("ac_switch_three_phases_while_charging", bool(value)):
            self.hardware.set_three_phases(bool(value))

    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """The hardware over-current limit."""
        if self._cmd("ac_set_overcurrent_limit_A", float(value)):
            self.hardware.set_overcurrent_limit_A(float(value))

    def lock(self) -> None:
        """Lock the connector."""
        if self._cmd("lock"):
            self.hardware.set_lock(True)

    def unlock(self) -> None:
        """Unlock the connector."""
        if self._cmd("unlock"):
            self.hardware.set_lock(False)

    # -- the simulation loop ---------------------------------------------------------------------
    def advance(self, dt_ms: float) -> List[tuple]:
        """Run the hardware ``dt_ms`` and deliver its events at their times; returns them as
        ``(t_ms, event)`` pairs.  The hardware stops at each event, so commands the listener sends
        in reaction act from the event's time on.  The clock ends at the hardware's new time."""
        hw = self.hardware
        end = hw.t_ms + dt_ms
        events: List[tuple] = []
        while True:
            # stop at each event so that the manager's reaction reaches the hardware in time
            chunk = hw.advance_timed(max(0.0, end - hw.t_ms), stop_on_event=True)
            for t_ms, ev in chunk:
                if t_ms > self.clock.monotonic_ms():
                    self.clock.set_ms(t_ms)
                self.dispatch(t_ms, ev)
            events.extend(chunk)
            if hw.t_ms >= end:
                break
        if self.hardware.lost:
            self._watch_link()
        elif self._lost_since is not None:
            self._lost_since = None
        end = self.hardware.t_ms
        if end > self.clock.monotonic_ms():
            self.clock.set_ms(end)
        return events

    def advance_to(self, t_ms: float) -> List[tuple]:
        """Advance until the hardware time reaches ``t_ms``."""
        return self.advance(max(0.0, t_ms - self.hardware.t_ms))

    def _watch_link(self) -> None:
        t = self.hardware.t_ms
        if self._lost_since is None:
            lost_at = self.hardware.lost_at_ms
            self._lost_since = t if lost_at is None else lost_at
        if not self._comm_fault and t - self._lost_since >= self.link_timeout_ms:
            self._comm_fault = True
            at = self._lost_since + self.link_timeout_ms
            if at > self.clock.monotonic_ms():
                self.clock.set_ms(at)
            self.dispatch(at, ("error", COMM_FAULT, True))

    def dispatch(self, t_ms: float, ev: tuple) -> None:
        """Hand one hardware event to the observers, the listener and ``on_event``."""
        for obs in self.observers:
            obs.event(t_ms, ev)
        lst = self.listener
        if lst is not None:
            kind = ev[0]
            if kind == "cp":
                lst.on_bsp_event(BspEvent(event=BspEventKind(ev[1])))
            elif kind == "relay":
                lst.on_bsp_event(BspEvent(event=BspEventKind.PowerOn if ev[1] else BspEventKind.PowerOff))
            elif kind == "meter":
                lst.on_powermeter(ev[1])
            elif kind == "telemetry":
                lst.on_telemetry(ev[1])
            elif kind == "pp":
                lst.on_ac_pp_ampacity(ProximityPilot(ampacity=Ampacity(ev[1])))
            elif kind == "error":
                if ev[2]:
                    lst.on_error_raised(BoardError(type=ev[1], message=ERROR_MESSAGES.get(ev[1], ev[1]),
                                                   severity=Severity.High))
                else:
                    lst.on_error_cleared(ev[1], "")
        if self.on_event is not None:
            self.on_event(t_ms, ev)


__all__ = ["COMM_FAULT", "SimBoard", "capabilities_for"]
