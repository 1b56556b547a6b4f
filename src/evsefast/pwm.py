"""PWM duty <-> current (spec evse_manager.md §1.2): thin, validating API over ``evsefast._core.pwm``.

    duty_from_current(current_A) -> float      # fraction 0..1, EVerest's encoder; < 5.9 A -> 1.0 (X1)
    current_from_duty_pct(duty_pct) -> float   # EV side, IEC 61851-1 Annex A; 0.0 = no charging
    board_percent(duty) -> float               # value for a board's pwm_on (duty x 100)
    is_valid_board_percent(duty_pct) -> bool   # 5 %, 10-97 % or 100 %
    is_digital_communication_pct(duty_pct) -> bool  # 3-7 % (EV side)
    PWM_5_PERCENT = 0.05                       # digital communication (ISO 15118 / DIN 70121)

Inputs are checked here (a number; |current| <= 1000 A; duty fraction in [0, 1]; percent in
[0, 100]) and rejected with :class:`evsefast.errors.InvalidInput` naming the argument.  The
kernel functions (``kernels.pwm.*``) take plain floats without checks (NaN -> 1.0 / 0.0).
"""
from __future__ import annotations

from . import _impl
from .errors import InvalidInput

PWM_5_PERCENT = 0.05
DUTY_X1 = 1.0
MIN_CHARGE_CURRENT_A = 5.9
ABSOLUTE_MAX_CURRENT_A = 1000.0


def _k(kernels):
    return (kernels or _impl.ACTIVE).pwm


def _float(name, value, lo, hi):
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number in [{lo}, {hi}], got {value!r}", name)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number in [{lo}, {hi}], got {value!r}", name) from None
    if not lo <= x <= hi:  # also rejects NaN
        raise InvalidInput(f"{name} must be in [{lo}, {hi}], got {value!r}", name)
    return x


def duty_from_current(current_A, *, kernels=None) -> float:
    """Duty fraction for a maximum current (|current_A| <= 1000 A); below 5.9 A -> 1.0 (no PWM)."""
    return _k(kernels).duty_from_current(
        _float("current_A", current_A, -ABSOLUTE_MAX_CURRENT_A, ABSOLUTE_MAX_CURRENT_A))


def current_from_duty_pct(duty_pct, *, kernels=None) -> float:
    """Maximum current for a duty in percent [0, 100], EV side; 0.0 where charging is not allowed."""
    return _k(kernels).current_from_duty_pct(_float("duty_pct", duty_pct, 0.0, 100.0))


def board_percent(duty, *, kernels=None) -> float:
    """The percent value for a board's ``pwm_on`` for a duty fraction in [0, 1]."""
    return _k(kernels).board_percent(_float("duty", duty, 0.0, 1.0))


def is_digital_communication_pct(duty_pct, *, kernels=None) -> bool:
    """True for a duty of 3-7 % (nominal 5 %, ``PWM_5_PERCENT``): digital communication required."""
    return _k(kernels).is_digital_communication_pct(_float("duty_pct", duty_pct, 0.0, 100.0))


def is_valid_board_percent(duty_pct, *, kernels=None) -> bool:
    """True for 5 %, 10-97 % or 100 % (within 1e-6)."""
    return _k(kernels).is_valid_board_percent(_float("duty_pct", duty_pct, 0.0, 100.0))


__all__ = [
    "ABSOLUTE_MAX_CURRENT_A", "DUTY_X1", "MIN_CHARGE_CURRENT_A", "PWM_5_PERCENT", "board_percent",
    "current_from_duty_pct", "duty_from_current", "is_digital_communication_pct", "is_valid_board_percent",
]
