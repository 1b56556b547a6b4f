"""The IEC 61851-1 adapter: raw CP states from the board -> abstract events for the charger (spec §1.4).

It also owns the board commands that touch the pilot and the contactors (PWM, X1, F,
``allow_power_on``) and the connector lock (§1.5), so the contactor rules live in one place:

* the board is told ``allow_power_on(true)`` only here, and only in C (or D with ventilation)
  with the PWM running and the core's permission (§1.4, "only in C2/D2");
* on A, B-after-C/D, E, F and Disabled the power-off is the *first* board command sent (HEAD
  sends X1 or a lock first in some branches; IEC Table A.6 wants power off within 100 ms, so
  evsefast puts it first);
* the lock follows ``relais_on or (should_be_locked and not force_unlocked)`` and is sent on change.

Time is handed in (``now`` in ms); the two timers (C1 6 s, unlock-in-F 5 s) are deadlines that
``check_timers`` fires and ``next_deadline`` reports.
"""
from __future__ import annotations

from typing import List, Optional

from ..types.board import PowerOnOff, PowerOnOffReason

# abstract events (EM/IECStateMachine.hpp:41-51)
CAR_PLUGGED_IN = "CarPluggedIn"
CAR_REQUESTED_POWER = "CarRequestedPower"
POWER_ON = "PowerOn"
POWER_OFF = "PowerOff"
CAR_REQUESTED_STOP_POWER = "CarRequestedStopPower"
CAR_UNPLUGGED = "CarUnplugged"
EF_TO_BCD = "EFtoBCD"
BCD_TO_EF = "BCDtoEF"
BCD_TO_E = "BCDtoE"

DISABLED = "Disabled"  # raw state for a board "Disconnected" event and the initial state

C1_TIMEOUT_MS = 6000  # EM/IECStateMachine.hpp:152: EV stayed in C after PWM off -> power off
UNLOCK_IN_F_MS = 5000  # EM/IECStateMachine.hpp:153
SIMPLIFIED_10A_DUTY = 10.0 / 0.6 / 100.0  # EM/IECStateMachine.hpp:121

_POWER_OFF = PowerOnOff(allow_power_on=False, reason=PowerOnOffReason.PowerOff)
#: the raw CP states a board reports (anything else reads as "Disabled")
CP_LETTERS = frozenset(("A", "B", "C", "D", "E", "F"))
_BCD = ("B", "C", "D")


class IecAdapter:
    """Translates board CP events into abstract events and drives PWM, contactors and lock.

    ``events`` collects the abstract events produced; the charger drains it in order (HEAD queues
    them and never re-enters the core synchronously, ``EM/EvseManager.cpp:1143``).
    """

    def __init__(self, board, *, has_ventilation: bool = True, lock_connector_in_state_b: bool = True,
                 hack_simplified_mode_limit_10A: bool = False) -> None:
        self.board = board
        self.has_ventilation = has_ventilation
        self.lock_in_b = lock_connector_in_state_b
        self.simplified_limit = hack_simplified_mode_limit_10A
        self.events: List[str] = []
        self.enabled = False
        self.last_cp = DISABLED
        self.car_plugged_in = False
        self.pwm_running = False
        self.last_pwm_running = False
        self.power_on_allowed = False
        self.last_power_on_allowed = False
        self.power_reason = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)
        self.simplified = False
        self.relais_on = False
        self.should_be_locked = False
        self.force_unlocked = False
        self.locked = False
        self.c1_deadline: Optional[int] = None
        self.c1_expired = False
        self.f_unlock_deadline: Optional[int] = None
        self.last_overcurrent_A = -1.0
        #: True while the board has been told allow_power_on(true) and no power-off since
        self.power_commanded = False

    # -- inputs from the board ---------------------------------------------------------------
    def feed(self, raw: str, now: int) -> None:
        """Process one board event (``A``..``F``, ``Disconnected``, ``PowerOn``, ``PowerOff``)."""
        if raw == POWER_ON or raw == POWER_OFF:
            # contactor feedback is tracked even while disabled: the lock must never open under load
            self.relais_on = raw == POWER_ON
            self.events.append(raw)
            self._check_lock()
            return
        if not self.enabled:
            return  # EM/IECStateMachine.cpp:82-89: dropped while disabled
        if raw not in CP_LETTERS:
            raw = DISABLED
        self.evaluate(raw, now)

    def check_timers(self, now: int) -> bool:
        """Fire the C1 and unlock-in-F timers that are due at ``now``; True if one fired."""
        fired = False
        if self.c1_deadline is not None and now >= self.c1_deadline:
            self.c1_deadline = None
            self.c1_expired = True
            self.evaluate(None, now)
            fired = True
        if self.f_unlock_deadline is not None and now >= self.f_unlock_deadline:
            self.f_unlock_deadline = None
            fired = True
            if self.last_cp == "F":
                self.should_be_locked = False
                self._check_lock()
        return fired

    def next_deadline(self) -> Optional[int]:
        """The earliest pending timer deadline in ms, or None."""
        a, b = self.c1_deadline, self.f_unlock_deadline
        if a is None:
            return b
        if b is None or a < b:
            return a
        return b

    # -- commands from the charger -------------------------------------------------------------
    def set_pwm(self, duty: float, now: int) -> None:
        """PWM with ``duty`` (fraction); 0 < duty < 1 runs the oscillator, else it is "no PWM"."""
        self.pwm_running = 0.0 < duty < 1.0
        if self.simplified and self.simplified_limit and duty > SIMPLIFIED_10A_DUTY and duty < 1.0:
            duty = SIMPLIFIED_10A_DUTY
        self.board.pwm_on(duty * 100.0)
        self.evaluate(None, now)

    def x1(self, now: int) -> None:
        """PWM off: constant +12 V."""
        self.pwm_running = False
        self.board.cp_state_X1()
        self.evaluate(None, now)

    def f(self, now: int) -> None:
        """State F: constant -12 V (EVSE not available)."""
        self.pwm_running = False
        self.board.cp_state_F()
        self.evaluate(None, now)

    def allow_power_on(self, value: bool, reason: PowerOnOff, now: int) -> None:
        """The core's permission: false is forwarded at once, true only in C2/D2 (§1.4)."""
        if not value:
            # forwarded at once; a re-evaluation of the unchanged CP state could only switch on, never off,
            # so only the bookkeeping of _evaluate is needed
            self._power_off()
            self.last_power_on_allowed = False
            self._check_lock()
            return
        self.power_reason = reason
        self.power_on_allowed = True
        self.evaluate(None, now)

    def revoke_power_on(self) -> None:
        """Withdraw the core's permission without a board command (evsefast: on leaving Charging).

        The contactors stay as they are (HEAD opens them through the EV's C->B, the C1 timer or
        the shutdown actions), but a later PWM restart cannot close them before Charging again.
        """
        self.power_on_allowed = False
        self.last_power_on_allowed = False

    def force_unlock(self) -> None:
        """Unlock now if the relays are off; in B/C keep it unlocked (EM/IECStateMachine.cpp:490-509)."""
        if not self.relais_on:
            self.board.unlock()
            self.locked = False
        if self.last_cp == "B" or self.last_cp == "C":
            self.force_unlocked = True
        self._check_lock()

    def set_overcurrent_limit(self, amps: float) -> None:
        """Forward the hardware over-current limit, only when it changes (initial last = -1)."""
        if amps != self.last_overcurrent_A:
            self.last_overcurrent_A = amps
            self.board.ac_set_overcurrent_limit_A(amps)

    def safe_state(self) -> None:
        """Internal error: power off and CP F without any evaluation (nothing may raise here)."""
        self._power_off()
        self.pwm_running = False
        self.board.cp_state_F()

    def shutdown(self) -> None:
        """Orderly close: power off and, if the PWM runs, PWM off (X1), without any evaluation. A pilot
        already at X1 or F (e.g. disabled) stays as it is."""
        self._power_off()
        if self.pwm_running:
            self.pwm_running = False
            self.board.cp_state_X1()

    # -- internals ---------------------------------------------------------------------------
    def _power_off(self) -> None:
        self.power_on_allowed = False
        self.power_commanded = False
        self.board.allow_power_on(_POWER_OFF)

    def _power_on(self) -> None:
        self.power_commanded = True
        self.board.allow_power_on(self.power_reason)

    def evaluate(self, raw: Optional[str], now: int) -> None:
        """One run of EM/IECStateMachine.cpp:149-314; ``raw`` None = re-evaluate the last state.

        ``feed`` with the checks; the manager calls this directly for a CP letter (``CP_LETTERS``) while
        the adapter is ``enabled`` (the hot path of every CP event)."""
        prev = self.last_cp
        cp = prev if raw is None else raw
        ev = self.events
        if cp == "C" or (cp == "D" and self.has_ventilation):
            self.should_be_locked = True
            if prev == "A" or prev == DISABLED or (prev == "F" and not self.car_plugged_in):
                ev.append(CAR_PLUGGED_IN)
                self.car_plugged_in = True
                self.simplified = True
            elif prev == "B":
                ev.append(CAR_REQUESTED_POWER)
            pwm_went_on = self.pwm_running and not self.last_pwm_running
            if not self.pwm_running and self.last_pwm_running:
                self.c1_deadline = now + C1_TIMEOUT_MS
                self.c1_expired = False
            if pwm_went_on:
                self.c1_deadline = None
                self.c1_expired = False
            if self.c1_expired:
                # EV did not go to B within 6 s after PWM off: switch off under load
                self.c1_expired = False
                self._power_off()
            if self.pwm_running:
                if self.power_on_allowed and (pwm_went_on or not self.last_power_on_allowed or prev == "B"):
                    self._power_on()
                if pwm_went_on and self.simplified:
                    ev.append(CAR_REQUESTED_POWER)
        elif cp == "B":
            if prev != "A" and prev != "B":
                self._power_off()  # IEC Table A.6 seq. 8.1: within 100 ms
                self.c1_deadline = None
                self.c1_expired = False
                ev.append(CAR_REQUESTED_STOP_POWER)
            self.should_be_locked = self.lock_in_b
            if prev == "A" or prev == DISABLED or (prev == "F" and not self.car_plugged_in):
                ev.append(CAR_PLUGGED_IN)
                self.car_plugged_in = True
                self.simplified = False
            if prev == "E" or prev == "F":
                ev.append(EF_TO_BCD)
        elif cp == "D":  # without ventilation: never power
            if prev != "D" or self.power_commanded:
                self._power_off()
            self.c1_deadline = None
            self.c1_expired = False
            self.should_be_locked = True
        elif cp == "A":
            if prev != "A":
                self._power_off()
                self.pwm_running = False
                self.board.cp_state_X1()
                self.simplified = False
                self.car_plugged_in = False
                self.c1_deadline = None
                self.c1_expired = False
                self.should_be_locked = False
                self.force_unlocked = False
                if prev != DISABLED:
                    ev.append(CAR_UNPLUGGED)
        elif cp == "E":
            self.should_be_locked = False
            self.force_unlocked = False
            if prev != "E":
                self._power_off()
                self.c1_deadline = None
                self.c1_expired = False
                self.pwm_running = False
                self.board.cp_state_X1()
                if prev in _BCD:
                    ev.append(BCD_TO_EF)
                    ev.append(BCD_TO_E)
        elif cp == "F":
            self.c1_deadline = None
            self.c1_expired = False
            if prev != "F" or self.power_commanded:
                self._power_off()
            if prev != "F":
                self.f_unlock_deadline = now + UNLOCK_IN_F_MS
                self.pwm_running = False
                if prev in _BCD:
                    ev.append(BCD_TO_EF)
        else:  # Disabled
            if prev != DISABLED:
                self._power_off()
                self.pwm_running = False
                self.board.cp_state_X1()
                self.simplified = False
                self.c1_deadline = None
                self.c1_expired = False
                self.should_be_locked = False
                self.force_unlocked = False
        if cp != "F":
            self.f_unlock_deadline = None
        self.last_cp = cp
        self.last_pwm_running = self.pwm_running
        self.last_power_on_allowed = self.power_on_allowed
        self._check_lock()

    def _check_lock(self) -> None:
        want = self.relais_on or (self.should_be_locked and not self.force_unlocked)
        if want != self.locked:
            self.locked = want
            if want:
                self.board.lock()
            else:
                self.board.unlock()
