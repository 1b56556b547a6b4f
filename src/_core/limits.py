"""Effective charging current from every limit source (spec evse_manager.md §3, AC basic charging).

Plain numbers in, plain numbers out; no clock reads (times are handed in as ``*_ms``, float64
milliseconds of the caller's monotonic clock; ints work too, but in the compiled build an int
costs a conversion to a new float object on every call: pass the clock's floats as they are).  "Absent" optional numbers are NaN.

How the manager uses it (one tick)::

    # §3.1 step 2: an enforce_limits() message from the energy manager
    c = enforced_current_A(ac_max_current_A or nan, total_power_W or nan, nominal_voltage_V, active_phases)
    # §3.1 step 3: core set_max_current(c, valid_until)
    if setpoint_accepted(c, valid_until_ms, now_ms): max_current = abs(c); valid_until = valid_until_ms
    # §3.1 step 4: expiry, every tick
    if budget_expired(now_ms, valid_until_ms): max_current = 0.0
    # §3.2 (P9): what is published as limits.max_current and encoded into the PWM
    cable = pp_ampacity_A(pp_code, hw_max_phase_count) if socket and state != Idle else 0.0
    i_eff = effective_current_A(max_current, hw_max_A or nan, cable, local_max_A or nan)
    duty = pwm.duty_from_current(i_eff); allowed = charging_allowed(i_eff)
    # §3.4: outside PrepareCharging / Charging entry, only if rate.may_update(now_ms); then rate.mark_updated(now_ms)

``limit_current_A`` does steps 2 and P9 in one call (no expiry/acceptance).

Conventions for the optional inputs of ``effective_current_A``:
* ``hw_max_A``: NaN or negative = capabilities not received yet (no clamp); 0 clamps to 0 A.
* ``cable_A``: 0, negative or NaN = not applicable (Cable connector, Idle, PP "None"); else the PP ampacity.
  (HEAD clamps a Socket with PP "None" to 0 A in a session; the state machine never charges there
  because it waits for a known PP in WaitingForAuthentication.)
* ``local_max_A``: NaN = no local maximum; a value clamps (a negative one to 0 A).
The result is never negative (negative -> 0 A, AC without ISO 15118-20 BPT) and never NaN.
"""

ABSOLUTE_MAX_CURRENT_A = 1000.0  # CHARGER_ABSOLUTE_MAX_CURRENT: |set-point| above is rejected
MIN_CHARGE_CURRENT_A = 5.9  # charging needs strictly more (power_available())
PWM_UPDATE_INTERVAL_MS = 5000  # IEC: duty change at most every 5 s while charging / paused by EV
BUDGET_EXPIRY_MS = 1000  # now - valid_until >= 1 whole second

# ProximityPilot.ampacity codes (types/board_support_common.yaml)
PP_NONE = 0
PP_A_13 = 1
PP_A_20 = 2
PP_A_32 = 3
PP_A_63_3PH_70_1PH = 4


def enforced_current_A(ac_max_current_A, total_power_W, nominal_voltage_V, active_phases):
    """Current limit of one ``enforce_limits`` message (§3.1 step 2), AC basic (negative -> 0).

    ``ac_max_current_A`` and ``total_power_W`` are NaN when absent.  Absent A limit -> 0 A,
    even when a W limit is present (HEAD's watt-only quirk).  With a W limit,
    ``I_w = total_power_W / nominal_voltage_V / active_phases``; a limit >= 0 becomes
    min(limit, I_w), a negative one the value closer to zero.  A result < 0 is 0 A (no BPT);
    a non-positive voltage or phase count with a W limit gives 0 A (safe).
    """
    limit = ac_max_current_A
    if limit != limit:  # absent
        return 0.0
    if total_power_W == total_power_W:  # present
        if nominal_voltage_V > 0.0 and active_phases > 0:
            i_w = total_power_W / nominal_voltage_V / active_phases
            if limit >= 0.0:
                if i_w < limit:
                    limit = i_w
            elif abs(i_w) < abs(limit):
                limit = i_w
        else:
            return 0.0
    if not (limit > 0.0):  # negative (or NaN from inf/inf) -> 0
        return 0.0
    return limit


def setpoint_valid(current_A):
    """True if a set-point may be accepted: |current_A| <= 1000 A (NaN is not)."""
    return abs(current_A) <= 1000.0  # ABSOLUTE_MAX_CURRENT_A


def setpoint_accepted(current_A, valid_until_ms, now_ms):
    """Core ``set_max_current`` acceptance (§3.1 step 3): |c| <= 1000 A and valid_until > now."""
    return abs(current_A) <= 1000.0 and valid_until_ms > now_ms


def budget_expired(now_ms, valid_until_ms):
    """§3.1 step 4 / §1.6: expired when now - valid_until >= 1 whole second (truncated)."""
    return now_ms - valid_until_ms >= 1000  # BUDGET_EXPIRY_MS


def pp_ampacity_A(code, hw_max_phases):
    """Cable ampacity of a PP code (PP_*): None 0, 13, 20, 32, and 70 A if the hardware's
    max phase count is 1 else 63 A for A_63_3ph_70_1ph.  Unknown codes give 0 A."""
    if code == 1:  # PP_A_13
        return 13.0
    if code == 2:  # PP_A_20
        return 20.0
    if code == 3:  # PP_A_32
        return 32.0
    if code == 4:  # PP_A_63_3PH_70_1PH
        if hw_max_phases == 1:
            return 70.0
        return 63.0
    return 0.0


def effective_current_A(enforced_A, hw_max_A, cable_A, local_max_A):
    """I_eff (§3.2, P9) = min(enforced, hw max if known, cable ampacity if applicable, local max).

    See the module docstring for the "unknown"/"not applicable" conventions.  Never negative or NaN.
    """
    r = enforced_A
    if r != r:
        return 0.0
    if hw_max_A >= 0.0 and hw_max_A < r:
        r = hw_max_A
    if cable_A > 0.0 and cable_A < r:
        r = cable_A
    if local_max_A < r:  # False for NaN
        r = local_max_A
    if r > 0.0:
        return r
    return 0.0


def limit_current_A(ac_max_current_A, total_power_W, nominal_voltage_V, active_phases,
                    hw_max_A, cable_A, local_max_A):
    """``effective_current_A(enforced_current_A(...), hw_max_A, cable_A, local_max_A)`` in one call."""
    return effective_current_A(
        enforced_current_A(ac_max_current_A, total_power_W, nominal_voltage_V, active_phases),
        hw_max_A, cable_A, local_max_A)


def charging_allowed(effective_A):
    """AC ``power_available()``: the effective current is strictly above 5.9 A."""
    return effective_A > 5.9  # MIN_CHARGE_CURRENT_A


def soft_over_current_limit_A(signalled_A, tolerance_pct, noise_A):
    """(signalled + noise) x (1 + tolerance/100); 16 A with defaults -> 18.15 A."""
    return (signalled_A + noise_A) * (1.0 + tolerance_pct / 100.0)


class PwmRateLimiter:
    """The 5 s PWM rule (§3.4): a duty change outside PrepareCharging / Charging entry may be
    applied only when ``interval_ms`` (5000) have elapsed since the last ``pwm_on``.

    ``mark_updated(now_ms)`` after every ``pwm_on`` (not after X1 / F); ``may_update(now_ms)``
    is True before the first update and once ``now_ms - last_update_ms >= interval_ms``.
    """

    def __init__(self, interval_ms=5000):
        self.interval_ms = interval_ms
        self.last_update_ms = 0.0
        self.has_update = False

    def may_update(self, now_ms):
        if not self.has_update:
            return True
        return now_ms - self.last_update_ms >= self.interval_ms

    def mark_updated(self, now_ms):
        self.last_update_ms = now_ms
        self.has_update = True

    def reset(self):
        self.last_update_ms = 0.0
        self.has_update = False


class SoftOverCurrent:
    """Soft over-current detector (§3.6), for Charging and ChargingPausedEV.

    ``feed(now_ms, signalled_A, L1_A, L2_A, L3_A)``: if any |Lx| exceeds
    (signalled_A + noise_A) x (1 + tolerance_pct/100), a timer starts at the first such sample;
    a sample within the limit stops it; once the condition has lasted >= ``timeout_ms``
    the detector trips (MREC4OverCurrentFailure) and stays tripped until ``reset()`` (entering
    Idle, or leaving Charging/ChargingPausedEV).  A sample with any NaN phase is ignored
    (HEAD uses meter currents only when all three phases are present).  Returns ``tripped``.
    """

    def __init__(self, tolerance_pct=10.0, noise_A=0.5, timeout_ms=7000):
        self.tolerance_pct = tolerance_pct
        self.noise_A = noise_A
        self.timeout_ms = timeout_ms
        self.active = False
        self.since_ms = 0.0
        self.tripped = False

    def limit_A(self, signalled_A):
        return (signalled_A + self.noise_A) * (1.0 + self.tolerance_pct / 100.0)

    def feed(self, now_ms, signalled_A, L1_A, L2_A, L3_A):
        if L1_A != L1_A or L2_A != L2_A or L3_A != L3_A:
            return self.tripped
        limit = (signalled_A + self.noise_A) * (1.0 + self.tolerance_pct / 100.0)
        if abs(L1_A) > limit or abs(L2_A) > limit or abs(L3_A) > limit:
            if not self.active:
                self.active = True
                self.since_ms = now_ms
            if now_ms - self.since_ms >= self.timeout_ms:
                self.tripped = True
        else:
            self.active = False
        return self.tripped

    def reset(self):
        self.active = False
        self.since_ms = 0.0
        self.tripped = False
