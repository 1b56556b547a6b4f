"""Safety invariants, checked continuously while a simulation runs.

``SafetyChecker`` observes a ``SimBoard`` (every command the manager sends, every hardware event)
and the ``SimHardware`` state.  It records the first breach of each invariant as a
``Violation(t_ms, rule, message)``; ``check(t_ms)`` raises ``evsefast.errors.SafetyViolation`` for
the first one (the message says which rule and when).

Rules:

``contactor``  The contactor closes only in C (or D with ventilation) with PWM running and power
               allowed.  While it is closed, power must stay allowed and the CP must stay C/D (each
               with a grace of ``relay_delay_ms`` + ``grace_ms`` for the contactor to drop out), and the
               PWM must run (grace: the IEC C1 timer, 6.5 s, plus the same).
``power_off``  When the CP leaves C/D for B, A, E or F while power is allowed, the manager commands
               ``allow_power_on(false)`` within ``power_off_ms`` (100 ms, IEC 61851-1 Table A.6
               seq. 8.1) and allows power on again before that never.
``duty``       Every ``pwm_on`` duty is one an EVSE may signal: 5 %, 10-97 % or 100 %
               (``kernels.pwm.is_valid_board_percent``).
``energy``     The meter's imported energy never decreases within a session (it may restart at
               zero only on the A->B plug-in edge).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

from .. import _impl
from ..errors import SafetyViolation

C1_TIMEOUT_MS = 6500.0


class Violation(NamedTuple):
    """One broken invariant."""

    t_ms: float
    rule: str
    message: str

    def __str__(self) -> str:
        return f"safety invariant '{self.rule}' broken at t={self.t_ms / 1000.0:.3f} s: {self.message}"


class SafetyChecker:
    """Observer of a ``SimBoard`` (``board.observers.append(checker)``); see the module docstring."""

    def __init__(self, hardware, *, kernels=None, power_off_ms: float = 100.0, grace_ms: float = 150.0) -> None:
        self.hw = hardware
        self._valid_pct = (kernels or _impl.ACTIVE).pwm.is_valid_board_percent
        self.power_off_ms = float(power_off_ms)
        self.grace_ms = float(grace_ms)
        self.violations: List[Violation] = []
        self._rules_broken = set()
        self.allowed = False
        self._disallowed_at: Optional[float] = 0.0
        self._cp = ""
        self._cp_left_at: Optional[float] = None
        self._pwm_stopped_at: Optional[float] = 0.0
        self._power_off_due: Optional[float] = None
        self._power_off_cause = ""
        self._last_import: Optional[float] = None
        self._plugged_edge = False
        self.commands = 0
        self.events = 0

    # -- observer hooks --------------------------------------------------------------------------
    def command(self, t_ms: float, name: str, *args) -> None:
        """A board command from the manager."""
        self.commands += 1
        if name == "pwm_on":
            pct = args[0]
            if not self._valid_pct(pct):
                self._violate(t_ms, "duty", f"pwm_on({pct!r}) is not a valid duty (5 %, 10-97 % or 100 %)")
        if name == "allow_power_on":
            value = bool(args[0])
            if value and self._power_off_due is not None:
                self._violate(t_ms, "power_off",
                              f"allow_power_on(true) before the power-off required by {self._power_off_cause}")
            if not value:
                self._power_off_due = None
                if self.allowed:
                    self._disallowed_at = t_ms
            self.allowed = value
        pwm_before = self.hw.pwm_running
        if name in ("pwm_on", "cp_state_X1", "cp_state_F", "enable"):
            # the hardware applies it right after this hook: track the PWM edge
            pct = args[0] if name == "pwm_on" else (100.0 if name == "cp_state_X1" else 0.0)
            running = 0.0 < pct < 100.0 if name != "enable" else (bool(args[0]) and 0.0 < self.hw.pwm_pct < 100.0)
            if pwm_before and not running:
                self._pwm_stopped_at = t_ms
            elif running:
                self._pwm_stopped_at = None

    def event(self, t_ms: float, ev: tuple) -> None:
        """A hardware event."""
        self.events += 1
        kind = ev[0]
        if kind == "cp":
            prev, new = self._cp, ev[1]
            self._cp = new
            if prev in ("C", "D") and new not in ("C", "D"):
                self._cp_left_at = t_ms
                if self.allowed:
                    self._power_off_due = t_ms + self.power_off_ms
                    self._power_off_cause = f"CP {prev}->{new} at t={t_ms / 1000.0:.3f} s"
            elif new in ("C", "D"):
                self._cp_left_at = None
            if prev == "A" and new == "B":
                self._plugged_edge = True
        elif kind == "relay" and ev[1]:
            hw = self.hw
            cp_ok = self._cp == "C" or (self._cp == "D" and hw.has_ventilation)
            if not (cp_ok and hw.pwm_running and self.allowed):
                self._violate(t_ms, "contactor",
                              f"contactor closed in state {self._cp or '?'} with PWM "
                              f"{'running' if hw.pwm_running else 'off'} and power "
                              f"{'allowed' if self.allowed else 'not allowed'}")
        elif kind == "meter":
            total = ev[1].energy_Wh_import.total
            if self._last_import is not None and total < self._last_import - 1e-9 and not self._plugged_edge:
                self._violate(t_ms, "energy", f"imported energy went down from {self._last_import} Wh to {total} Wh "
                                              "within a session")
            self._last_import = total
            self._plugged_edge = False

    # -- periodic check --------------------------------------------------------------------------
    def check(self, t_ms: float, raise_: bool = True) -> Optional[Violation]:
        """Check the time-based rules at ``t_ms``; raise (or return) the first violation."""
        hw = self.hw
        if self._power_off_due is not None and t_ms > self._power_off_due:
            self._violate(self._power_off_due, "power_off",
                          f"no allow_power_on(false) within {self.power_off_ms:.0f} ms of {self._power_off_cause}")
            self._power_off_due = None
        if hw.relays_closed:
            grace = hw.relay_delay_ms + self.grace_ms
            if not self.allowed and self._disallowed_at is not None and t_ms - self._disallowed_at > grace:
                self._violate(t_ms, "contactor", "contactor still closed "
                              f"{(t_ms - self._disallowed_at) / 1000.0:.3f} s after power was forbidden")
            if self._cp_left_at is not None and t_ms - self._cp_left_at > grace:
                self._violate(t_ms, "contactor", f"contactor still closed in state {self._cp} "
                              f"{(t_ms - self._cp_left_at) / 1000.0:.3f} s after the CP left C/D")
            if self._pwm_stopped_at is not None and t_ms - self._pwm_stopped_at > C1_TIMEOUT_MS + grace:
                self._violate(t_ms, "contactor", "contactor still closed "
                              f"{(t_ms - self._pwm_stopped_at) / 1000.0:.3f} s after the PWM stopped")
        if self.violations and raise_:
            raise SafetyViolation(str(self.violations[0]))
        return self.violations[0] if self.violations else None

    def _violate(self, t_ms: float, rule: str, message: str) -> None:
        key = (rule, message.split(" ")[0])
        if key in self._rules_broken:
            return
        self._rules_broken.add(key)
        self.violations.append(Violation(t_ms, rule, message))

    @property
    def ok(self) -> bool:
        """True while no invariant was broken."""
        return not self.violations


__all__ = ["SafetyChecker", "Violation"]
