"""PWM duty <-> current (IEC 61851-1 Annex A, EVerest encoder semantics).

Duty values are fractions (0..1) unless the name says ``_pct``.  The encoder is
EVerest's ``ampere_to_duty_cycle`` (spec evse_manager.md §1.2): no rounding, the
51-52.5 A gap of the norm clamped to 51 A, 80-80.1 A mapped to 97 %.
"""

PWM_5_PERCENT = 0.05  # digital communication (ISO 15118 / DIN 70121) duty
DUTY_X1 = 1.0  # "invalid" current: no PWM, constant +12 V
MIN_CHARGE_CURRENT_A = 5.9  # charging needs strictly more than this
ABSOLUTE_MAX_CURRENT_A = 1000.0  # set-points above are rejected


def duty_from_current(current_A):
    """Duty fraction for a maximum current, exactly as EVerest's encoder.

    Below 5.9 A (and NaN) the result is 1.0, which means "no PWM" (X1).
    """
    if not (current_A >= 5.9):  # also catches NaN
        return 1.0
    if current_A <= 6.1:
        return 0.10
    if current_A < 52.5:
        if current_A > 51.0:
            current_A = 51.0
        return current_A / 0.6 / 100.0
    if current_A <= 80.0:
        return (current_A / 2.5 + 64.0) / 100.0
    if current_A <= 80.1:
        return 0.97
    return 1.0


def current_from_duty_pct(duty_pct):
    """Maximum current an EV may draw for a PWM duty in percent (EV side, Annex A).

    Returns 0.0 where the duty allows no charging: below 8 %, the 3-7 %
    digital-communication band, above 97 %, and NaN.
    """
    if not (duty_pct >= 8.0):
        return 0.0
    if duty_pct < 10.0:
        return 6.0
    if duty_pct <= 85.0:
        return duty_pct * 0.6
    if duty_pct <= 96.0:
        return (duty_pct - 64.0) * 2.5
    if duty_pct <= 97.0:
        return 80.0
    return 0.0


def is_digital_communication_pct(duty_pct):
    """True for a duty of 3-7 % (nominal 5 %): digital communication (ISO 15118 / DIN 70121) required."""
    return duty_pct >= 3.0 and duty_pct <= 7.0


def board_percent(duty):
    """The percent value sent to a board's ``pwm_on`` for a duty fraction."""
    return duty * 100.0


def is_valid_board_percent(duty_pct):
    """True if a ``pwm_on`` value is one an EVSE may signal.

    5 % (digital communication), 10-97 % (a current of 6-80 A) or 100 % (X1).
    A tolerance of 1e-6 absorbs float rounding of ``duty * 100``.
    """
    eps = 1e-6
    if abs(duty_pct - 5.0) <= eps or abs(duty_pct - 100.0) <= eps:
        return True
    return duty_pct >= 10.0 - eps and duty_pct <= 97.0 + eps
