"""Current limiting (spec evse_manager.md §3): thin, validating API over ``evsefast._core.limits``.

The kernel (``_impl.ACTIVE.limits`` or a build passed as ``kernels=``) has the same function names
and takes plain floats / ints without checks; see its module docstring for the pipeline and the
"unknown"/"not applicable" conventions (NaN = absent).  This module normalises input (``None``
-> NaN, PP enum names -> codes, ints for times) and raises :class:`evsefast.errors.InvalidInput`
naming the argument and the allowed range, identically for both builds.

    enforced_current_A(ac_max_current_A, total_power_W, nominal_voltage_V, active_phases) -> float
    effective_current_A(enforced_A, hw_max_A=None, cable_A=0.0, local_max_A=None) -> float
    limit_current_A(ac_max_current_A, total_power_W, nominal_voltage_V, active_phases,
                    hw_max_A=None, cable_A=0.0, local_max_A=None) -> float
    setpoint_valid(current_A) -> bool            # |A| <= 1000
    setpoint_accepted(current_A, valid_until_ms, now_ms) -> bool
    budget_expired(now_ms, valid_until_ms) -> bool   # now - valid_until >= 1 whole second
    pp_ampacity_A(ampacity, hw_max_phases) -> float  # "None"/"A_13"/.../"A_63_3ph_70_1ph" or code
    charging_allowed(effective_A) -> bool         # > 5.9 A
    pwm_rate_limiter(interval_ms=5000) -> PwmRateLimiter
    soft_over_current(tolerance_pct=10.0, noise_A=0.5, timeout_ms=7000) -> SoftOverCurrent
"""
from __future__ import annotations

import math

from . import _impl
from .errors import InvalidInput

NAN = math.nan
ABSOLUTE_MAX_CURRENT_A = 1000.0
MIN_CHARGE_CURRENT_A = 5.9
PWM_UPDATE_INTERVAL_MS = 5000

PP_CODES = {"None": 0, "A_13": 1, "A_20": 2, "A_32": 3, "A_63_3ph_70_1ph": 4}


def _k(kernels):
    return (kernels or _impl.ACTIVE).limits


def _opt_float(name, value, lo=-math.inf, hi=math.inf):
    """None/NaN -> NaN; else a finite-or-inf float within [lo, hi]."""
    if value is None:
        return NAN
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number or None, got {value!r}", name) from None
    if x != x:
        return NAN
    if not lo <= x <= hi:
        raise InvalidInput(f"{name} must be in [{lo}, {hi}], got {x!r}", name)
    return x


def _float(name, value, lo=-math.inf, hi=math.inf):
    x = _opt_float(name, value, lo, hi)
    if x != x:
        raise InvalidInput(f"{name} must be a number in [{lo}, {hi}], got {value!r}", name)
    return x


def _int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidInput(f"{name} must be an integer in [{lo}, {hi}], got {value!r}", name)
    if value != int(value) or not lo <= value <= hi:
        raise InvalidInput(f"{name} must be an integer in [{lo}, {hi}], got {value!r}", name)
    return int(value)


def _time(name, value):
    """A time in ms (int or float, finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number of milliseconds, got {value!r}", name)
    return float(value)


def enforced_current_A(ac_max_current_A, total_power_W, nominal_voltage_V=230.0, active_phases=3, *,
                       kernels=None):
    """§3.1 step 2 (AC basic): A limit (None -> 0 A), min'd with the W limit at nominal voltage x phases.

    Negative results are 0 A.  Set-point range checks (|A| <= 1000) are ``setpoint_valid``'s job.
    """
    return _k(kernels).enforced_current_A(
        _opt_float("ac_max_current_A", ac_max_current_A),
        _opt_float("total_power_W", total_power_W),
        _float("nominal_voltage_V", nominal_voltage_V, 1.0, 100000.0),
        _int("active_phases", active_phases, 1, 3),
    )


def effective_current_A(enforced_A, hw_max_A=None, cable_A=0.0, local_max_A=None, *, kernels=None):
    """I_eff = min(enforced, hw max (None = capabilities unknown), cable (0 = n/a), local max (None))."""
    return _k(kernels).effective_current_A(
        _float("enforced_A", enforced_A, 0.0, ABSOLUTE_MAX_CURRENT_A),
        _opt_float("hw_max_A", hw_max_A, 0.0),
        _float("cable_A", cable_A, 0.0, ABSOLUTE_MAX_CURRENT_A),
        _opt_float("local_max_A", local_max_A, 0.0),
    )


def limit_current_A(ac_max_current_A, total_power_W, nominal_voltage_V=230.0, active_phases=3,
                    hw_max_A=None, cable_A=0.0, local_max_A=None, *, kernels=None):
    """``effective_current_A(enforced_current_A(...), ...)`` in one kernel call."""
    return _k(kernels).limit_current_A(
        _opt_float("ac_max_current_A", ac_max_current_A),
        _opt_float("total_power_W", total_power_W),
        _float("nominal_voltage_V", nominal_voltage_V, 1.0, 100000.0),
        _int("active_phases", active_phases, 1, 3),
        _opt_float("hw_max_A", hw_max_A, 0.0),
        _float("cable_A", cable_A, 0.0, ABSOLUTE_MAX_CURRENT_A),
        _opt_float("local_max_A", local_max_A, 0.0),
    )


def setpoint_valid(current_A, *, kernels=None):
    """True if |current_A| <= 1000 A (a larger or NaN set-point is rejected, the old one kept)."""
    return _k(kernels).setpoint_valid(_opt_float("current_A", current_A))


def setpoint_accepted(current_A, valid_until_ms, now_ms, *, kernels=None):
    """Core set_max_current acceptance: |current_A| <= 1000 and valid_until_ms > now_ms."""
    return _k(kernels).setpoint_accepted(
        _opt_float("current_A", current_A),
        _time("valid_until_ms", valid_until_ms),
        _time("now_ms", now_ms),
    )


def budget_expired(now_ms, valid_until_ms, *, kernels=None):
    """True when now_ms - valid_until_ms >= 1000 (whole seconds, §1.6): the limit falls back to 0 A."""
    return _k(kernels).budget_expired(
        _time("now_ms", now_ms), _time("valid_until_ms", valid_until_ms))


def pp_ampacity_A(ampacity, hw_max_phases, *, kernels=None):
    """Cable ampacity for a ProximityPilot ampacity ("None", "A_13", "A_20", "A_32", "A_63_3ph_70_1ph"
    or its code 0-4): 0, 13, 20, 32, and 70 A if ``hw_max_phases`` == 1 else 63 A."""
    if isinstance(ampacity, str) or ampacity is None:
        key = "None" if ampacity is None else ampacity
        if key not in PP_CODES:
            raise InvalidInput(f"ampacity must be one of {sorted(PP_CODES)}, got {ampacity!r}", "ampacity")
        code = PP_CODES[key]
    else:
        code = _int("ampacity", ampacity, 0, 4)
    return _k(kernels).pp_ampacity_A(code, _int("hw_max_phases", hw_max_phases, 1, 3))


def charging_allowed(effective_A, *, kernels=None):
    """AC power_available(): effective current > 5.9 A."""
    return _k(kernels).charging_allowed(_float("effective_A", effective_A))


def pwm_rate_limiter(interval_ms=PWM_UPDATE_INTERVAL_MS, *, kernels=None):
    """A ``PwmRateLimiter``: ``may_update(now_ms)``, ``mark_updated(now_ms)``, ``reset()``."""
    return _k(kernels).PwmRateLimiter(_int("interval_ms", interval_ms, 0, 3_600_000))


def soft_over_current(tolerance_pct=10.0, noise_A=0.5, timeout_ms=7000, *, kernels=None):
    """A ``SoftOverCurrent`` detector: ``feed(now_ms, signalled_A, L1_A, L2_A, L3_A) -> tripped``,
    ``reset()``, attributes ``tripped``, ``active``, ``since_ms``; ``limit_A(signalled_A)``."""
    return _k(kernels).SoftOverCurrent(
        _float("tolerance_pct", tolerance_pct, 0.0, 1000.0),
        _float("noise_A", noise_A, 0.0, 100.0),
        _int("timeout_ms", timeout_ms, 0, 3_600_000),
    )


__all__ = [
    "ABSOLUTE_MAX_CURRENT_A", "MIN_CHARGE_CURRENT_A", "PP_CODES", "PWM_UPDATE_INTERVAL_MS",
    "budget_expired", "charging_allowed", "effective_current_A", "enforced_current_A",
    "limit_current_A", "pp_ampacity_A", "pwm_rate_limiter", "setpoint_accepted", "setpoint_valid",
    "soft_over_current",
]
