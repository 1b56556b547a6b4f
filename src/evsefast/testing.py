"""Test doubles for users' own tests: a recording board, a fake power meter, a manual clock.

Use them to test OCPP clients or energy managers against the real kernel without
hardware (``ManagerHarness`` wires them to an ``EvseManager`` and drives scenarios)::

    from evsefast.testing import FakeBoard, FakePowerMeter, ManualClock
    board = FakeBoard()
    board.emit_cp("B")            # the car plugs in
    assert board.commands[-1] == ("allow_power_on", False)
"""
from __future__ import annotations

import threading
from typing import Any, Callable, List, Optional, Tuple

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


#: one immutable event per kind, built once (a board reports the same few events over and over)
_BSP_EVENTS = {k.value: BspEvent(event=k) for k in BspEventKind}


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
        self.commands.append(("allow_power_on", value.allow_power_on, value.reason._value_))

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
        listener = self._listener
        assert listener is not None, "attach a listener first"
        listener.on_bsp_event(_BSP_EVENTS.get(kind) or BspEvent(event=BspEventKind(kind)))

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


# ---------------------------------------------------------------------------------------------------
# Driving an EvseManager (scenario tests, benchmarks, users' integration tests)
# ---------------------------------------------------------------------------------------------------

def token(value: str = "TOKEN1", id_type: str = "ISO14443", authorization_type: str = "RFID") -> dict:
    """A ``ProvidedIdToken`` as a plain dict (accepted by ``authorize_response``)."""
    return {"id_token": {"value": value, "type": id_type}, "authorization_type": authorization_type}


def validation(status: str = "Accepted", reservation_id: Optional[int] = None, tariff: Optional[str] = None) -> dict:
    """A ``ValidationResult`` as a plain dict."""
    v: dict = {"authorization_status": status, "tariff_messages": [] if tariff is None else [{"content": tariff}]}
    if reservation_id is not None:
        v["reservation_id"] = reservation_id
    return v


def enforced_limits(amps: Optional[float] = 16.0, *, watts: Optional[float] = None, phases: Optional[int] = None,
                    valid_for: int = 3600, uuid: str = "evse_manager") -> dict:
    """An ``EnforcedLimits`` as a plain dict (``enforce_limits``); None leaves a field out."""
    root: dict = {}
    if amps is not None:
        root["ac_max_current_A"] = {"value": amps, "source": "test"}
    if watts is not None:
        root["total_power_W"] = {"value": watts, "source": "test"}
    if phases is not None:
        root["ac_max_phase_count"] = {"value": phases, "source": "test"}
    return {"uuid": uuid, "valid_for": valid_for, "limits_root_side": root, "schedule": []}


class CheckingBoard(FakeBoard):
    """A FakeBoard that checks the manager's safety invariants on every command and CP event.

    * ``allow_power_on(true)`` only in C (or D with ``ventilation``), PWM running, and -- if a
      ``manager`` is attached -- with an authorized, active transaction;
    * every ``pwm_on`` duty is a valid IEC value (``kernels.pwm.is_valid_board_percent``);
    * when B, A, E or F is reported while the contactors may be closed, the first command
      after it is ``allow_power_on(false)``.

    A violation raises :class:`evsefast.errors.SafetyViolation` at once and is kept in ``violations``.
    """

    def __init__(self, capabilities: Optional[HardwareCapabilities] = DEFAULT_CAPABILITIES, *, kernels=None,
                 ventilation: bool = True) -> None:
        super().__init__(capabilities)
        from . import _impl
        self._valid_pct = (kernels or _impl.ACTIVE).pwm.is_valid_board_percent
        self.ventilation = ventilation
        self.manager = None
        self.cp = "A"
        self.pwm_running = False
        self.power_on = False
        self.violations: List[str] = []
        self._expect_off_at: Optional[int] = None

    def _violate(self, text: str) -> None:
        from .errors import SafetyViolation
        self.violations.append(text)
        raise SafetyViolation(text)

    def _command(self, cmd: Command) -> None:
        if self._expect_off_at is not None and len(self.commands) == self._expect_off_at:
            self._expect_off_at = None
            if cmd[:2] != ("allow_power_on", False):
                self._violate(f"after CP {self.cp} under power the first command was {cmd}, not power off")
        self.commands.append(cmd)

    def pwm_on(self, value: float) -> None:
        """Check the duty, then record."""
        if not self._valid_pct(float(value)):
            self._violate(f"invalid PWM duty {value} %")
        self.pwm_running = 0.0 < value < 100.0
        self._command(("pwm_on", float(value)))

    def cp_state_X1(self) -> None:
        """Record; the PWM stops."""
        self.pwm_running = False
        self._command(("cp_state_X1",))

    def cp_state_F(self) -> None:
        """Record; the PWM stops."""
        self.pwm_running = False
        self._command(("cp_state_F",))

    def allow_power_on(self, value: PowerOnOff) -> None:
        """Check the power-on conditions, then record."""
        if value.allow_power_on:
            if not (self.cp == "C" or (self.cp == "D" and self.ventilation)):
                self._violate(f"allow_power_on(true) in CP state {self.cp}")
            if not self.pwm_running:
                self._violate("allow_power_on(true) without PWM")
            core = getattr(self.manager, "_core", None)
            if core is not None and not (core.authorized and core.transaction_active):
                self._violate("allow_power_on(true) without an authorized transaction")
        self.power_on = bool(value.allow_power_on)
        self._command(("allow_power_on", value.allow_power_on, value.reason.value))

    def enable(self, value: bool) -> None:
        """Record."""
        self.enabled = bool(value)
        self._command(("enable", bool(value)))

    def lock(self) -> None:
        """Record."""
        self._command(("lock",))

    def ac_switch_three_phases_while_charging(self, value: bool) -> None:
        """Record."""
        self._command(("ac_switch_three_phases_while_charging", bool(value)))

    def ac_set_overcurrent_limit_A(self, value: float) -> None:
        """Record."""
        self._command(("ac_set_overcurrent_limit_A", float(value)))

    def unlock(self) -> None:
        """Record."""
        self._command(("unlock",))

    def emit(self, kind: str) -> None:
        """Report a BSP event; remember that power-off must come first if power may be on."""
        if kind in ("A", "B", "C", "D", "E", "F"):
            if kind in ("A", "B", "E", "F") and self.power_on and self.cp in ("C", "D") and self.enabled:
                self._expect_off_at = len(self.commands)
            self.cp = kind
        super().emit(kind)

    emit_cp = emit


class ManagerHarness:
    """An EvseManager wired to a board, a power meter and a manual clock, with scenario helpers.

    ::

        h = ManagerHarness()              # started, ready, 16 A enforced
        h.plug_in(); h.authorize(); h.cp("C")
        assert h.mgr.state == "Charging"
        h.advance(60_000)                 # fires every timer at its deadline
        assert h.event_names()[-1] == "ChargingStarted"
    """

    def __init__(self, config=None, *, kernels=None, store=None, board: Optional[FakeBoard] = None,
                 meter: Optional[FakePowerMeter] = None, limit_A: Optional[float] = 16.0, energy_Wh: float = 0.0,
                 start: bool = True, clock: Optional[ManualClock] = None) -> None:
        from .manager import EvseManager
        self.clock = clock if clock is not None else ManualClock()
        self.board = board if board is not None else CheckingBoard(kernels=kernels)
        self.meter = meter if meter is not None else FakePowerMeter()
        self.energy_Wh = energy_Wh
        self.mgr = EvseManager(config, board=self.board, powermeters=[self.meter], store=store, clock=self.clock,
                               kernels=kernels)
        if isinstance(self.board, CheckingBoard):
            self.board.manager = self.mgr
        if start:
            self.mgr.start()
            self.sample()
            if limit_A is not None:
                self.mgr.enforce_limits(enforced_limits(limit_A))

    def check(self) -> None:
        """Raise ``SafetyViolation`` if a ``CheckingBoard`` recorded one (the manager itself turns an
        exception from a board command into its safe state, so violations are also kept in a list)."""
        violations = getattr(self.board, "violations", None)
        if violations:
            from .errors import SafetyViolation
            raise SafetyViolation("; ".join(violations))

    # inputs
    def cp(self, state: str) -> None:
        """The board reports a CP state (or PowerOn/PowerOff); processed at once."""
        self.board.emit(state)
        self.mgr.tick()
        self.check()

    def sample(self, energy_Wh: Optional[float] = None, **kw) -> None:
        """A power-meter sample (default: the harness's running energy), processed at once."""
        if energy_Wh is not None:
            self.energy_Wh = energy_Wh
        self.meter.publish(self.energy_Wh, **kw)
        self.mgr.tick()
        self.check()

    def plug_in(self) -> None:
        """The EV plugs in (A -> B)."""
        self.cp("B")

    def authorize(self, token_value: str = "TOKEN1", status: str = "Accepted",
                  reservation_id: Optional[int] = None) -> None:
        """``authorize_response`` with a simple RFID token."""
        self.mgr.authorize_response(token(token_value), validation(status, reservation_id))
        self.check()

    def limit(self, amps: Optional[float] = 16.0, **kw) -> None:
        """``enforce_limits`` addressed to this manager."""
        self.mgr.enforce_limits(enforced_limits(amps, **kw))
        self.check()

    def start_charging(self) -> None:
        """Plug in, authorize, EV to C: the manager is then in Charging."""
        self.plug_in()
        self.authorize()
        self.cp("C")

    def advance(self, ms: float) -> None:
        """Move the clock forward by ``ms``, ticking at every deadline on the way and at the end."""
        target = self.clock.monotonic_ms() + ms
        while True:
            d = self.mgr.next_deadline_ms()
            if d is None or d > target:
                break
            if d > self.clock.monotonic_ms():
                self.clock.set_ms(d)
            self.mgr.tick()
            nxt = self.mgr.next_deadline_ms()
            if nxt is not None and nxt <= self.clock.monotonic_ms():
                raise AssertionError(f"deadline {nxt} ms was not consumed at {self.clock.monotonic_ms()} ms")
        self.clock.set_ms(target)
        self.mgr.tick()
        self.check()

    # outputs
    def event_names(self) -> List[str]:
        """The session event names published so far."""
        return [e.event.value for e in self.mgr.session_events]

    def mark(self) -> int:
        """A position in the event history and board commands (for ``since``)."""
        self.board.clear()
        return len(self.mgr.session_events)

    def since(self, mark: int) -> List[str]:
        """The event names published after ``mark``."""
        return self.event_names()[mark:]


def cp_flip_driver(kernels=None) -> Callable[[], None]:
    """A manager in Charging; each call of the returned function flips the EV C<->B and ticks.

    The "CP event in -> board command out" path for benchmarks and the instruction-count script:
    every call queues one CP event, processes it and sends at least one board command.
    """
    h = ManagerHarness(kernels=kernels, board=FakeBoard())
    h.start_charging()
    board, mgr, clock = h.board, h.mgr, h.clock
    emit = board.emit
    tick = mgr.tick
    commands = board.commands
    state = ["C"]

    def flip() -> None:
        nxt = "B" if state[0] == "C" else "C"
        state[0] = nxt
        clock.advance_ms(1)
        emit(nxt)
        tick()
        if len(commands) > 4096:
            del commands[:]
    return flip


__all__ = [
    "CheckingBoard", "Clock", "DEFAULT_CAPABILITIES", "FakeBoard", "FakePowerMeter", "ManagerHarness", "ManualClock",
    "RecordingListener", "cp_flip_driver", "enforced_limits", "token", "validation",
]
