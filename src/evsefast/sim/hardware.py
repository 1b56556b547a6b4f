"""EVSE-side hardware physics (control pilot, relays, PP, lock, meter) with an attached car model.

``SimHardware`` is independent of any board port: the in-process ``SimBoard`` wraps it for the
manager, and the virtual Yeti MCU wraps it behind the serial protocol.  It never reads a clock:
time moves only through ``advance(dt_ms)``.

Inputs (EVSE commands, applied at the hardware's present time)::

    hw.set_enabled(True)        # disabled hardware drives F (-12 V), as YetiSimulator's DISABLED
    hw.set_pwm_pct(26.67)       # 0 = state F, >= 100 = X1 (constant high), else 1 kHz PWM
    hw.set_allow_power_on(True) # permission to close the contactors
    hw.set_three_phases(True)   # phase switching (False = L1 only)
    hw.set_lock(True)           # connector lock
    hw.set_overcurrent_limit_A(16.0)
    hw.inject_fault("stuck_relay")    # see inject_fault for the list

Outputs: ``advance(dt_ms)`` runs the physics for ``dt_ms`` and returns the events of that
stretch, in order, as plain tuples (``advance_timed`` returns ``(t_ms, event)`` pairs)::

    ("cp", "B")                                           # classified CP state A-F, on change
    ("relay", True)                                       # contactors closed (True) / opened
    ("pp", "A_32")                                        # PP ampacity (socket connectors only;
                                                          #   "None" on unplug)
    ("lock", True)                                        # lock actuator state, on change
    ("error", "evse_board_support/DiodeFault", True)      # error raised (True) / cleared (False)
    ("meter", Powermeter)                                 # every meter_interval_ms
    ("telemetry", Telemetry)                              # every telemetry_interval_ms
    ("lost", True)                                        # the board went silent (inject_fault("lost"));
                                                          #   its fail-safe opens the contactor

Physics (after EVerest's YetiSimulator, spec wire_protocols.md §4.1, §4.3):

* CP: the car sets the high level by its resistance (A 12 V, B 9 V, C 6 V, D 3 V, E 0 V); the
  low level is -12 V through the car's diode (a diode-fault car shows ``-high``).  PWM running:
  high/low alternate at 1 kHz with the commanded duty; X1: constant high; F or disabled: constant
  -12 V.  The waveform is synthesised as ADC sample blocks (``sample_rate_Hz``, ``adc_bits``,
  ``cp_noise_V``, uniform +- volts, 0.12 V = YetiSimulator's +-1 %) and classified by the pilot kernel (``CpFrontEnd``); its decisions are the
  ``("cp", X)`` events.  A diode fault raises ``evse_board_support/DiodeFault`` (cleared in A).
* Relays close ``relay_delay_ms`` after power is allowed in C (or D with ``has_ventilation``)
  with PWM running; they open ``relay_delay_ms`` after power is forbidden, or the CP leaves
  C/D (B, A, E, F), or the board is disabled, or an RCD trips.  D without ventilation raises
  ``evse_board_support/VentilationNotAvailable`` instead of closing.
* Current flows on L1 only with relays closed and the car in C/D; on L2 and L3 too when the
  car draws on three phases and the board is switched to three phases; the neutral carries
  0.2 A in C/D.  The meter (``SimMeter``) integrates ``V x I`` with ``V = 230 - 0.5 ohm x I``;
  its counters reset on the A->B edge (``reset_meter_on_plugin``).
* PP (``connector="socket"``): the car's cable ampacity is reported on plug-in.

The attached car (see ``evsefast.sim.car.SimCar``; any object with these members works) is
ticked every ``car.tick_ms`` (250 ms) with ``car.tick(hw, t_ms)`` and read through
``car.cp_state`` ("A".."E"), ``car.diode_fault``, ``car.phases`` (1 or 3), ``car.current_A``
(what it draws when energised), ``car.rcd_mA`` and ``car.cable_A``.  The car reads the
hardware's ``duty_pct``, ``pwm_running``, ``relays_closed``, ``cp_state`` and ``power_W``.
"""
from __future__ import annotations

import random
from typing import Any, List, Optional, Set, Tuple

from ..errors import InvalidInput
from ..types.board import Telemetry
from .cp import CpFrontEnd
from .meter import SimMeter

Event = Tuple[Any, ...]
TimedEvent = Tuple[float, Event]

CAR_LEVELS_V = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0, "E": 0.0}
PP_AMPACITY = {0: "None", 13: "A_13", 20: "A_20", 32: "A_32", 63: "A_63_3ph_70_1ph", 70: "A_63_3ph_70_1ph"}

#: fault name -> EVerest error type raised while the fault is injected
FAULT_ERRORS = {
    "rcd": "evse_board_support/MREC2GroundFailure",
    "over_current": "evse_board_support/MREC4OverCurrentFailure",
    "contactor_fault": "evse_board_support/MREC17EVSEContactorFault",
    "diode_fault": None,  # a shorted diode on the wire: detected by the pilot classifier
    "stuck_relay": None,  # a welded contactor: no error, it just does not move
    "lost": None,  # the board goes silent
}
RCD_TRIP_MA = 5.0
RCD_CAR_ERROR = "ac_rcd/DC"
DIODE_ERROR = "evse_board_support/DiodeFault"
VENTILATION_ERROR = "evse_board_support/VentilationNotAvailable"
PILOT_FAULT_ERROR = "evse_board_support/MREC14PilotFault"


def ampacity_name(cable_A: float) -> str:
    """The PP ampacity enum value for a cable rating in A (13, 20, 32, 63/70; else "None")."""
    best = "None"
    for amps, name in sorted(PP_AMPACITY.items()):
        if cable_A >= amps > 0:
            best = name
    return best


class SimHardware:
    """EVSE hardware + meter physics with an attached car; see the module docstring."""

    def __init__(
        self,
        car: Any = None,
        *,
        kernels=None,
        seed: int = 0,
        cp_noise_V: float = 0.12,
        meter_noise: float = 0.01,
        sample_rate_Hz: int = 100_000,
        adc_bits: int = 12,
        relay_delay_ms: float = 100.0,
        meter_interval_ms: float = 1000.0,
        telemetry_interval_ms: float = 1000.0,
        connector: str = "cable",
        has_ventilation: bool = False,
        reset_meter_on_plugin: bool = True,
        round_Wh: bool = True,
        wall_start_s: float = 1_767_225_600.0,
    ) -> None:
        if connector not in ("cable", "socket"):
            raise InvalidInput(f"connector must be 'cable' or 'socket', got {connector!r}", "connector")
        if relay_delay_ms < 0:
            raise InvalidInput(f"relay_delay_ms must be >= 0, got {relay_delay_ms!r}", "relay_delay_ms")
        for name, value in (("meter_interval_ms", meter_interval_ms),
                            ("telemetry_interval_ms", telemetry_interval_ms)):
            if not value > 0:
                raise InvalidInput(f"{name} must be > 0, got {value!r}", name)
        self.seed = int(seed)
        self._rng = random.Random(self.seed)
        self.cp = CpFrontEnd(kernels=kernels, sample_rate_Hz=sample_rate_Hz, adc_bits=adc_bits,
                             noise_V=cp_noise_V, seed=self.seed)
        self.meter = SimMeter(kernels=kernels, noise=meter_noise, rng=random.Random(self.seed + 1),
                              round_Wh=round_Wh)
        self.relay_delay_ms = float(relay_delay_ms)
        self.meter_interval_ms = float(meter_interval_ms)
        self.telemetry_interval_ms = float(telemetry_interval_ms)
        self.connector = connector
        self.has_ventilation = bool(has_ventilation)
        self.reset_meter_on_plugin = bool(reset_meter_on_plugin)
        self.wall_start_s = float(wall_start_s)

        self.t_ms = 0.0
        # EVSE commands
        self.enabled = False
        self.pwm_pct = 100.0  # X1 until told otherwise
        self.allow_power = False
        self.three_phases = True
        self.locked = False
        self.overcurrent_limit_A = 0.0
        # physical state
        self.relays_closed = False
        self._relay_target = False
        self._relay_switch_at: Optional[float] = None
        self.cp_state = ""  # classified
        self.pp = "None"
        self.faults: Set[str] = set()
        self.active_errors: Set[str] = set()
        self.lost = False
        self.lost_at_ms: Optional[float] = None
        self._rcd_tripped = False
        self._events: List[TimedEvent] = []
        self.car = None
        self._next_car_tick = 0.0
        self._next_meter = self.meter_interval_ms
        self._next_telemetry = self.telemetry_interval_ms
        if car is not None:
            self.attach_car(car)
        self._update_wave()

    # -- car ---------------------------------------------------------------------------------------
    def attach_car(self, car: Any) -> None:
        """Attach a car model; it is ticked from the present time on."""
        self.car = car
        self._next_car_tick = self.t_ms
        self._update_wave()

    def detach_car(self) -> None:
        """Remove the car (the CP shows A)."""
        self.car = None
        self._update_wave()
        self._update_current()

    # -- commands ----------------------------------------------------------------------------------
    def set_enabled(self, value: bool) -> None:
        """Enable (True) or disable (False, the CP shows F) the hardware."""
        self.enabled = bool(value)
        self._update_wave()
        self._evaluate_relays()

    def set_pwm_pct(self, pct: float) -> None:
        """Set the CP output: 0 = F, >= 100 = X1, otherwise 1 kHz PWM at ``pct`` percent."""
        pct = float(pct)
        if not (pct == pct) or pct < 0:
            raise InvalidInput(f"pct must be a number >= 0, got {pct!r}", "pct")
        self.pwm_pct = min(pct, 100.0)
        self._update_wave()
        self._evaluate_relays()

    def set_allow_power_on(self, value: bool) -> None:
        """Allow (True) or forbid (False) closing the contactors."""
        self.allow_power = bool(value)
        self._evaluate_relays()

    def set_three_phases(self, value: bool) -> None:
        """Switch to three phases (True) or L1 only (False)."""
        self.three_phases = bool(value)
        self._update_current()

    def set_lock(self, value: bool) -> None:
        """Drive the connector lock; reports ``("lock", value)`` on change."""
        value = bool(value)
        if value != self.locked:
            self.locked = value
            self._emit(("lock", value))

    def set_overcurrent_limit_A(self, value: float) -> None:
        """The hardware over-current limit (recorded; the trip itself is an injected fault)."""
        self.overcurrent_limit_A = float(value)

    def inject_fault(self, kind: str, active: bool = True) -> None:
        """Inject (``active=True``) or remove a fault.

        ``kind`` is one of ``"rcd"`` (RCD trips: relays open, MREC2GroundFailure), ``"over_current"``
        (MREC4OverCurrentFailure), ``"contactor_fault"`` (the contactor fails to close:
        MREC17EVSEContactorFault when it should), ``"diode_fault"`` (the car's diode is shorted),
        ``"stuck_relay"`` (welded: the contactor stays as it is), ``"lost"`` (the board goes silent),
        or any EVerest error type containing ``/`` (raised as is, e.g.
        ``"evse_board_support/MREC6UnderVoltage"``).
        """
        if kind not in FAULT_ERRORS and "/" not in kind:
            allowed = ", ".join(sorted(FAULT_ERRORS))
            raise InvalidInput(f"fault kind must be one of {allowed} or an error type 'iface/Name', got {kind!r}",
                               "kind")
        if active:
            if kind in self.faults:
                return
            self.faults.add(kind)
        else:
            if kind not in self.faults:
                return
            self.faults.discard(kind)
        if "/" in kind:
            self._set_error(kind, active)
        elif kind == "lost":
            if active:
                self._emit(("lost", True))
                self.lost_at_ms = self.t_ms
            self.lost = active
            self._evaluate_relays()  # the MCU's fail-safe: no host, no contactor
        elif kind == "rcd":
            self._set_error(FAULT_ERRORS[kind], active)
            self._rcd_tripped = active
            self._evaluate_relays()
        elif kind in ("over_current",):
            self._set_error(FAULT_ERRORS[kind], active)
        elif kind == "diode_fault":
            self._update_wave()
        elif kind == "contactor_fault":
            if not active:
                self._set_error(FAULT_ERRORS[kind], False)
            self._evaluate_relays()
        elif kind == "stuck_relay" and not active:
            self._evaluate_relays()

    # -- views for the car and for adapters ---------------------------------------------------------
    @property
    def pwm_running(self) -> bool:
        """True while a 1 kHz PWM is on the wire (enabled, 0 < duty < 100)."""
        return self.enabled and 0.0 < self.pwm_pct < 100.0

    @property
    def duty_pct(self) -> float:
        """The duty the car measures: 0 in F/disabled, 100 in X1, else the PWM duty."""
        if not self.enabled:
            return 0.0
        return self.pwm_pct

    @property
    def currents_A(self) -> Tuple[float, float, float]:
        """The present current per phase in A."""
        return self.meter.currents_A

    @property
    def power_W(self) -> float:
        """The present total power in W."""
        return self.meter.total_power_W

    @property
    def wall_s(self) -> float:
        """Wall-clock seconds of the hardware's present time."""
        return self.wall_start_s + self.t_ms / 1000.0

    # -- time ----------------------------------------------------------------------------------------
    def advance(self, dt_ms: float) -> List[Event]:
        """Run the physics for ``dt_ms`` milliseconds; return the events in order."""
        return [ev for _, ev in self.advance_timed(dt_ms)]

    def advance_timed(self, dt_ms: float, stop_on_event: bool = False) -> List[TimedEvent]:
        """Like ``advance`` but each event comes with its time: ``(t_ms, event)``.

        With ``stop_on_event`` the physics stop right after the first stretch that produced an
        event (``t_ms`` tells where), so a caller can react at the time the event happened.
        """
        if not dt_ms >= 0:
            raise InvalidInput(f"dt_ms must be >= 0, got {dt_ms!r}", "dt_ms")
        end = self.t_ms + dt_ms
        car = self.car
        cp = self.cp
        while True:
            t = self.t_ms
            nxt = end
            if car is not None and self._next_car_tick < nxt:
                nxt = self._next_car_tick
            if self._next_meter < nxt:
                nxt = self._next_meter
            if self._next_telemetry < nxt:
                nxt = self._next_telemetry
            if self._relay_switch_at is not None and self._relay_switch_at < nxt:
                nxt = self._relay_switch_at
            if nxt > t or cp._pending:
                cp_t0 = cp.t_ms
                changes = cp.run(nxt - t, stop_on_event)
                if stop_on_event and changes:
                    nxt = t + (cp.t_ms - cp_t0)
                for offset, state, diode in changes:
                    self._on_cp(t + offset, state, diode)
                # a relay switch scheduled by a CP change inside the stretch
                while self._relay_switch_at is not None and self._relay_switch_at <= nxt:
                    self._switch_relay(self._relay_switch_at)
                self.meter.advance(nxt)
                self.t_ms = nxt
            if self._relay_switch_at is not None and self._relay_switch_at <= nxt:
                self._switch_relay(nxt)
            if car is not None and self._next_car_tick <= nxt:
                self._next_car_tick = nxt + car.tick_ms
                car.tick(self, nxt)
                self._after_car_tick()
            if self._next_meter <= nxt:
                self._next_meter = nxt + self.meter_interval_ms
                self.meter.renoise()
                self._emit(("meter", self.meter.sample(self.wall_s)))
            if self._next_telemetry <= nxt:
                self._next_telemetry = nxt + self.telemetry_interval_ms
                self._emit(("telemetry", self.telemetry()))
            if nxt >= end or (stop_on_event and self._events):
                break
        events = self._events
        self._events = []
        if self.lost:
            return []
        return events

    def telemetry(self) -> Telemetry:
        """The board telemetry now."""
        return Telemetry(
            evse_temperature_C=round(25.0 + 0.001 * abs(self.power_W), 3),
            fan_rpm=0.0,
            supply_voltage_12V=12.0,
            supply_voltage_minus_12V=-12.0,
            relais_on=self.relays_closed,
        )

    # -- internals -----------------------------------------------------------------------------------
    def _emit(self, event: Event, t_ms: Optional[float] = None) -> None:
        self._events.append((self.t_ms if t_ms is None else t_ms, event))

    def _set_error(self, error_type: str, raised: bool, t_ms: Optional[float] = None) -> None:
        if raised and error_type not in self.active_errors:
            self.active_errors.add(error_type)
            self._emit(("error", error_type, True), t_ms)
        elif not raised and error_type in self.active_errors:
            self.active_errors.discard(error_type)
            self._emit(("error", error_type, False), t_ms)

    def _car_state(self) -> str:
        car = self.car
        return "A" if car is None else car.cp_state

    def _update_wave(self) -> None:
        car_state = self._car_state()
        high = CAR_LEVELS_V.get(car_state, 12.0)
        diode = "diode_fault" in self.faults or (self.car is not None and self.car.diode_fault)
        if car_state == "E":
            self.cp.set_wave(0.0, 0.0, 100.0)
        elif not self.enabled or self.pwm_pct <= 0.0:
            self.cp.set_wave(-12.0, -12.0, 0.0)
        elif self.pwm_pct >= 100.0:
            self.cp.set_wave(high, high, 100.0)
        else:
            low = -high if diode else -12.0
            self.cp.set_wave(high, low, self.pwm_pct)

    def _after_car_tick(self) -> None:
        car = self.car
        self._update_wave()
        # residual current measured by the RCM
        self._set_error(RCD_CAR_ERROR, car.rcd_mA > RCD_TRIP_MA)
        self._rcd_tripped = "rcd" in self.faults or RCD_CAR_ERROR in self.active_errors
        plugged = car.cp_state != "A"
        if self.connector == "socket":
            pp = ampacity_name(car.cable_A) if plugged else "None"
            if pp != self.pp:
                self.pp = pp
                self._emit(("pp", pp))
        self._evaluate_relays()
        self._update_current()

    def _on_cp(self, t_ms: float, state: str, diode: bool) -> None:
        if diode:
            self._set_error(DIODE_ERROR, True, t_ms)
        if state == "invalid":  # no valid CP level held for the debounce time
            self._set_error(PILOT_FAULT_ERROR, True, t_ms)
            return
        self._set_error(PILOT_FAULT_ERROR, False, t_ms)
        previous = self.cp_state
        if state == previous:
            return
        self.cp_state = state
        self._emit(("cp", state), t_ms)
        if state == "A":
            self._set_error(DIODE_ERROR, False, t_ms)
            self._set_error(VENTILATION_ERROR, False, t_ms)
        if previous == "A" and state == "B" and self.reset_meter_on_plugin:
            self.meter.reset(t_ms)
        self._evaluate_relays(t_ms)

    def _relay_should_close(self) -> bool:
        st = self.cp_state
        if not (self.enabled and self.allow_power and not self._rcd_tripped and not self.lost):
            return False
        if self.relays_closed:
            return st == "C" or (st == "D" and self.has_ventilation)
        if not self.pwm_running:
            return False
        if st == "D" and not self.has_ventilation:
            return False
        return st in ("C", "D")

    def _evaluate_relays(self, t_ms: Optional[float] = None) -> None:
        t = self.t_ms if t_ms is None else t_ms
        if (self.cp_state == "D" and not self.has_ventilation and self.allow_power and self.pwm_running):
            self._set_error(VENTILATION_ERROR, True, t)
        target = self._relay_should_close()
        if target == self._relay_target:
            return
        self._relay_target = target
        if target == self.relays_closed:
            self._relay_switch_at = None  # the change was taken back before the contactor moved
        else:
            self._relay_switch_at = t + self.relay_delay_ms

    def _switch_relay(self, t_ms: float) -> None:
        self._relay_switch_at = None
        target = self._relay_target
        if "stuck_relay" in self.faults:
            return
        if target and "contactor_fault" in self.faults:
            self._set_error(FAULT_ERRORS["contactor_fault"], True, t_ms)
            return
        if target == self.relays_closed:
            return
        self.meter.advance(t_ms)
        self.relays_closed = target
        self._emit(("relay", target), t_ms)
        self._update_current(t_ms)

    def _update_current(self, t_ms: Optional[float] = None) -> None:
        t = self.t_ms if t_ms is None else t_ms
        car = self.car
        i1 = i2 = i3 = neutral = 0.0
        if car is not None and car.cp_state in ("C", "D"):
            neutral = 0.2
            if self.relays_closed:
                i = float(car.current_A)
                i1 = i
                if car.phases > 1 and self.three_phases:
                    i2 = i3 = i
        self.meter.set_currents(t, i1, i2, i3, neutral)


__all__ = ["CAR_LEVELS_V", "FAULT_ERRORS", "SimHardware", "ampacity_name"]
