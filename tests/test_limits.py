"""limits kernel: spec evse_manager.md §3 (pipeline, P9, examples, 5 s rule, phases, soft over-current), §1.6."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsefast import limits
from evsefast.errors import InvalidInput

NAN = math.nan
A13, A20, A32, A63 = 1, 2, 3, 4


def _scenario(k, *, enforce, hw=NAN, power_W=NAN, phases=3, pp=None, hw_phases=3):
    """§3.1 step 2 + §3.2 (P9): returns (I_eff, duty)."""
    enforced = k.limits.enforced_current_A(enforce, power_W, 230.0, phases)
    cable = k.limits.pp_ampacity_A(pp, hw_phases) if pp is not None else 0.0  # Socket, in a session
    i_eff = k.limits.effective_current_A(enforced, hw, cable, NAN)
    assert i_eff == k.limits.limit_current_A(enforce, power_W, 230.0, phases, hw, cable, NAN)
    return i_eff, k.pwm.duty_from_current(i_eff)


# §3.3, row by row: (id, scenario kwargs, I_eff, duty)
EXAMPLES = [
    ("hw32-enforce16", dict(hw=32.0, enforce=16.0), 16.0, 0.266667),
    ("hw32-enforce32-11040W-3ph", dict(hw=32.0, enforce=32.0, power_W=11040.0, phases=3), 16.0, 0.266667),
    ("hw32-enforce32-11040W-1ph", dict(hw=32.0, enforce=32.0, power_W=11040.0, phases=1), 32.0, 0.533333),
    ("enforce32-7360W-3ph", dict(enforce=32.0, power_W=7360.0, phases=3), 10.6667, 0.177778),
    ("11040W-only", dict(enforce=NAN, power_W=11040.0), 0.0, 1.0),
    ("socket-A20-enforce32", dict(enforce=32.0, pp=A20), 20.0, 0.333333),
    ("socket-A13-enforce10", dict(enforce=10.0, pp=A13), 10.0, 0.166667),
    ("socket-A63-3ph-hw80-enforce80", dict(hw=80.0, enforce=80.0, pp=A63, hw_phases=3), 63.0, 0.892),
    ("socket-A63-1ph-hw80-enforce80", dict(hw=80.0, enforce=80.0, pp=A63, hw_phases=1), 70.0, 0.92),
    ("hw32-enforce40", dict(hw=32.0, enforce=40.0), 32.0, 0.533333),
    ("enforce5.9", dict(enforce=5.9), 5.9, 0.10),
    ("enforce6", dict(enforce=6.0), 6.0, 0.10),
    ("enforce-10", dict(enforce=-10.0), 0.0, 1.0),
]


@pytest.mark.arm
@pytest.mark.parametrize(("kw", "i_eff", "duty"), [e[1:] for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_examples_table(kernels, kw, i_eff, duty):
    got_i, got_duty = _scenario(kernels, **kw)
    assert got_i == pytest.approx(i_eff, abs=1e-4)
    assert got_duty == pytest.approx(duty, abs=1e-4)


@pytest.mark.arm
def test_charging_threshold_is_strictly_above_5_9(kernels):
    k = kernels.limits
    assert not k.charging_allowed(_scenario(kernels, enforce=5.9)[0])
    assert k.charging_allowed(_scenario(kernels, enforce=6.0)[0])
    assert not k.charging_allowed(0.0)


@pytest.mark.arm
def test_1500A_is_rejected_and_the_previous_limit_kept(kernels):
    k = kernels.limits
    now, until = 10_000, 70_000
    max_current = 16.0
    for c in (1500.0, -1500.0, NAN):
        if k.setpoint_accepted(c, until, now):
            max_current = abs(c)
    assert max_current == 16.0
    assert k.setpoint_accepted(1000.0, until, now) and k.setpoint_accepted(-1000.0, until, now)
    assert k.setpoint_valid(1000.0) and not k.setpoint_valid(1000.001) and not k.setpoint_valid(NAN)
    # valid_until must lie in the future
    assert not k.setpoint_accepted(16.0, now, now) and k.setpoint_accepted(16.0, now + 1, now)


@pytest.mark.arm
def test_hw_and_local_maximum_and_unknown_values(kernels):
    k = kernels.limits
    assert k.effective_current_A(40.0, NAN, 0.0, NAN) == 40.0  # capabilities not yet received
    assert k.effective_current_A(40.0, -1.0, 0.0, NAN) == 40.0  # negative = unknown
    assert k.effective_current_A(40.0, 0.0, 0.0, NAN) == 0.0  # hw reports 0 A
    assert k.effective_current_A(40.0, 32.0, 0.0, 25.0) == 25.0  # local maximum
    assert k.effective_current_A(40.0, 32.0, 0.0, -3.0) == 0.0  # never negative
    assert k.effective_current_A(NAN, 32.0, 20.0, NAN) == 0.0  # never NaN
    assert k.effective_current_A(16.0, 32.0, 20.0, NAN) == 16.0  # cable above the limit
    assert k.enforced_current_A(32.0, NAN, 230.0, 3) == 32.0
    assert k.enforced_current_A(NAN, NAN, 230.0, 3) == 0.0  # absent A limit -> 0 A
    assert k.enforced_current_A(32.0, -1000.0, 230.0, 3) == 0.0  # negative W (no BPT)
    assert k.enforced_current_A(32.0, 11040.0, 0.0, 3) == 0.0  # nonsense voltage -> safe 0 A
    assert k.enforced_current_A(32.0, 11040.0, 230.0, 0) == 0.0


@pytest.mark.arm
@pytest.mark.parametrize(
    ("code", "phases", "amps"),
    [(0, 3, 0.0), (0, 1, 0.0), (A13, 3, 13.0), (A20, 3, 20.0), (A32, 1, 32.0), (A63, 3, 63.0),
     (A63, 2, 63.0), (A63, 1, 70.0), (99, 1, 0.0)],
)
def test_pp_ampacity_63_70_rule(kernels, code, phases, amps):
    assert kernels.limits.pp_ampacity_A(code, phases) == amps


@pytest.mark.arm
def test_budget_expiry_whole_seconds(kernels):
    k = kernels.limits
    until = 100_000
    assert not k.budget_expired(until - 5000, until)
    assert not k.budget_expired(until, until)
    assert not k.budget_expired(until + 999, until)  # 0.999 s truncates to 0 whole seconds
    assert k.budget_expired(until + 1000, until)
    assert k.budget_expired(until + 123_456, until)


@pytest.mark.arm
def test_five_second_pwm_rule(kernels):
    r = kernels.limits.PwmRateLimiter(5000)
    assert r.may_update(0)  # nothing signalled yet
    r.mark_updated(1_000)
    assert not r.may_update(1_100)
    assert not r.may_update(5_999)
    assert r.may_update(6_000)  # >= 5000 ms since the last pwm_on
    # a pending change is applied at the first 100 ms tick after the 5 s mark
    ticks = [t for t in range(1_000, 20_000, 100) if r.may_update(t)]
    assert ticks[0] == 6_000
    r.mark_updated(6_000)
    assert not r.may_update(10_999) and r.may_update(11_000)
    r.reset()
    assert r.may_update(0)
    assert kernels.limits.PwmRateLimiter().interval_ms == 5000


def _run_over_current(soc, samples, signalled=16.0):
    """samples: (t_ms, amps on L1); returns the first t_ms at which the detector tripped, or None."""
    for t, amps in samples:
        if soc.feed(t, signalled, amps, 10.0, 10.0):
            return t
    return None


@pytest.mark.arm
def test_soft_over_current_limit_is_18_15_for_16A(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    assert soc.limit_A(16.0) == pytest.approx(18.15)
    assert kernels.limits.soft_over_current_limit_A(16.0, 10.0, 0.5) == pytest.approx(18.15)


@pytest.mark.arm
def test_soft_over_current_just_below_never_trips(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    assert _run_over_current(soc, [(t, 18.15) for t in range(0, 60_000, 100)]) is None
    assert not soc.tripped and not soc.active


@pytest.mark.arm
def test_soft_over_current_just_above_trips_after_7_s(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    samples = [(t, 18.16) for t in range(1_000, 20_000, 100)]
    assert _run_over_current(soc, samples) == 8_000  # timer started at 1000 ms
    assert soc.tripped
    # latched until reset (entering Idle)
    assert soc.feed(8_100, 16.0, 1.0, 1.0, 1.0)
    soc.reset()
    assert not soc.tripped and not soc.feed(8_200, 16.0, 1.0, 1.0, 1.0)


@pytest.mark.arm
def test_soft_over_current_any_phase_and_negative_currents(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    soc.feed(0, 16.0, 1.0, 1.0, -18.2)
    assert soc.active and not soc.feed(6_999, 16.0, 1.0, 18.2, 1.0)
    assert soc.feed(7_000, 16.0, 18.2, 1.0, 1.0)


@pytest.mark.arm
def test_soft_over_current_reset_by_an_in_limit_sample(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    samples = [(t, 18.16) for t in range(0, 6_900, 100)] + [(6_900, 18.15)]
    samples += [(t, 18.16) for t in range(7_000, 30_000, 100)]
    assert _run_over_current(soc, samples) == 14_000


@pytest.mark.arm
def test_soft_over_current_ignores_incomplete_samples(kernels):
    soc = kernels.limits.SoftOverCurrent(10.0, 0.5, 7000)
    soc.feed(0, 16.0, 30.0, 30.0, 30.0)
    assert not soc.feed(3_000, 16.0, 1.0, NAN, 1.0)  # NaN phase: no information, timer keeps running
    assert soc.active
    assert soc.feed(7_000, 16.0, 30.0, 30.0, 30.0)


@pytest.mark.arm
def test_soft_over_current_uses_configuration(kernels):
    soc = kernels.limits.SoftOverCurrent(0.0, 0.0, 6000)
    assert soc.limit_A(16.0) == 16.0
    assert _run_over_current(soc, [(t, 16.01) for t in range(0, 10_000, 100)]) == 6_000


# ---- thin API: normalisation and errors, identical for both builds --------------------------------

@pytest.mark.parametrize("build", ["compiled", "pure"])
def test_thin_api(both_builds, build):
    k = dict(zip(("compiled", "pure"), both_builds))[build]
    assert limits.enforced_current_A(None, 11040, kernels=k) == 0.0
    assert limits.enforced_current_A(32, 11040, 230, 3, kernels=k) == pytest.approx(16.0)
    assert limits.limit_current_A(80, None, hw_max_A=80, cable_A=limits.pp_ampacity_A(
        "A_63_3ph_70_1ph", 1, kernels=k), kernels=k) == 70.0
    assert limits.pp_ampacity_A(None, 3, kernels=k) == 0.0
    assert limits.pp_ampacity_A("A_32", 3, kernels=k) == 32.0
    assert limits.effective_current_A(16, kernels=k) == 16.0
    assert limits.budget_expired(2000, 1000, kernels=k) and not limits.budget_expired(1999, 1000, kernels=k)
    assert limits.budget_expired(2000.5, 1000.5, kernels=k) and not limits.budget_expired(1999.9, 1000.0, kernels=k)
    assert not limits.setpoint_valid(1500, kernels=k) and limits.setpoint_valid(-1000, kernels=k)
    assert limits.setpoint_accepted(16, 2000, 1000, kernels=k)
    assert limits.charging_allowed(6, kernels=k)
    r = limits.pwm_rate_limiter(kernels=k)
    assert r.may_update(0)
    soc = limits.soft_over_current(kernels=k)
    assert soc.limit_A(16.0) == pytest.approx(18.15)
    errors = [
        (lambda: limits.enforced_current_A(32, None, 230, 4, kernels=k), r"active_phases must be an integer in \[1, 3\]"),
        (lambda: limits.enforced_current_A(32, None, 0, 3, kernels=k), r"nominal_voltage_V must be in \[1.0, 100000.0\]"),
        (lambda: limits.enforced_current_A("x", None, kernels=k), r"ac_max_current_A must be a number"),
        (lambda: limits.effective_current_A(-1, kernels=k), r"enforced_A must be in \[0.0, 1000.0\]"),
        (lambda: limits.effective_current_A(16, cable_A=-1, kernels=k), r"cable_A must be in \[0.0, 1000.0\]"),
        (lambda: limits.effective_current_A(16, hw_max_A=-5, kernels=k), r"hw_max_A must be in \[0.0, inf\]"),
        (lambda: limits.pp_ampacity_A("A_99", 3, kernels=k), r"ampacity must be one of"),
        (lambda: limits.pp_ampacity_A("A_13", 0, kernels=k), r"hw_max_phases must be an integer in \[1, 3\]"),
        (lambda: limits.budget_expired(math.inf, 0, kernels=k), r"now_ms must be a finite number of milliseconds"),
        (lambda: limits.setpoint_accepted(16, "1", 0, kernels=k), r"valid_until_ms must be a finite number"),
        (lambda: limits.soft_over_current(timeout_ms=-1, kernels=k), r"timeout_ms must be an integer in \[0, 3600000\]"),
        (lambda: limits.soft_over_current(tolerance_pct=math.nan, kernels=k), r"tolerance_pct must be a number"),
        (lambda: limits.pwm_rate_limiter("5s", kernels=k), r"interval_ms must be an integer"),
    ]
    for call, message in errors:
        with pytest.raises(InvalidInput, match=message):
            call()


# ---- differential: compiled vs pure ------------------------------------------------------------

amps = st.floats(min_value=-2000, max_value=2000) | st.just(NAN) | st.floats(allow_nan=True)
opt_amps = st.floats(min_value=-100, max_value=2000) | st.just(NAN)
power = st.floats(min_value=-1e6, max_value=1e6) | st.just(NAN)
times = st.integers(min_value=-(2**52), max_value=2**52) | st.floats(-1e12, 1e12)


def _same(a, b):
    return (a != a and b != b) or a == pytest.approx(b, rel=1e-12, abs=1e-300)


@given(amps, power, st.floats(min_value=-10, max_value=1000), st.integers(-1, 4), opt_amps, opt_amps, opt_amps)
def test_limits_differential(both_builds, a, w, v, ph, hw, cable, local):
    c, p = both_builds[0].limits, both_builds[1].limits
    assert _same(c.enforced_current_A(a, w, v, ph), p.enforced_current_A(a, w, v, ph))
    assert _same(c.effective_current_A(a, hw, cable, local), p.effective_current_A(a, hw, cable, local))
    got = c.limit_current_A(a, w, v, ph, hw, cable, local)
    assert _same(got, p.limit_current_A(a, w, v, ph, hw, cable, local))
    assert got >= 0.0 and got == got
    assert c.setpoint_valid(a) == p.setpoint_valid(a)
    assert c.charging_allowed(a) == p.charging_allowed(a)
    assert c.pp_ampacity_A(ph, ph) == p.pp_ampacity_A(ph, ph)
    assert _same(c.soft_over_current_limit_A(a, v, cable), p.soft_over_current_limit_A(a, v, cable))


@given(times, times, amps)
def test_time_rules_differential(both_builds, now, until, a):
    c, p = both_builds[0].limits, both_builds[1].limits
    assert c.budget_expired(now, until) == p.budget_expired(now, until)
    assert c.setpoint_accepted(a, until, now) == p.setpoint_accepted(a, until, now)


events = st.lists(
    st.tuples(st.integers(0, 2000), st.floats(0, 80), st.floats(-40, 40), st.floats(-40, 40),
              st.floats(-40, 40) | st.just(NAN), st.sampled_from(["feed", "mark", "reset"])),
    max_size=60,
)


@given(events, st.floats(0, 50), st.floats(0, 2), st.integers(0, 10_000), st.integers(0, 10_000))
def test_stateful_differential(both_builds, evs, tol, noise, timeout, interval):
    c, p = both_builds[0].limits, both_builds[1].limits
    sc, sp = c.SoftOverCurrent(tol, noise, timeout), p.SoftOverCurrent(tol, noise, timeout)
    rc, rp = c.PwmRateLimiter(interval), p.PwmRateLimiter(interval)
    t = 0
    for dt, sig, l1, l2, l3, op in evs:
        t += dt
        if op == "feed":
            assert sc.feed(t, sig, l1, l2, l3) == sp.feed(t, sig, l1, l2, l3)
        elif op == "mark":
            rc.mark_updated(t)
            rp.mark_updated(t)
        else:
            sc.reset()
            sp.reset()
            rc.reset()
            rp.reset()
        assert rc.may_update(t) == rp.may_update(t)
        assert (sc.tripped, sc.active, sc.since_ms) == (sp.tripped, sp.active, sp.since_ms)


@pytest.mark.arm
def test_constants_are_visible_from_both_builds(kernels):
    k = kernels.limits
    assert (k.PP_NONE, k.PP_A_13, k.PP_A_20, k.PP_A_32, k.PP_A_63_3PH_70_1PH) == (0, 1, 2, 3, 4)
    assert (k.ABSOLUTE_MAX_CURRENT_A, k.MIN_CHARGE_CURRENT_A) == (1000.0, 5.9)
    assert (k.PWM_UPDATE_INTERVAL_MS, k.BUDGET_EXPIRY_MS) == (5000, 1000)
    assert kernels.pwm.PWM_5_PERCENT == 0.05 and kernels.meter.WMS_PER_WH == 3_600_000.0


@pytest.mark.arm
def test_compiled_kernels_are_typed_by_their_pxd():
    """The .pxd must reach the compiler: without it the "compiled" build is untyped Python in C
    (cdef classes become ordinary classes, every call goes through Python objects)."""
    from evsefast import _impl

    if _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    c = _impl.compiled()
    for module, names in ((c.pwm, ["duty_from_current"]), (c.limits, ["effective_current_A"])):
        capi = getattr(module, "__pyx_capi__", {})
        missing = [n for n in names if n not in capi]
        assert not missing, (
            f"{module.__name__} was compiled without its .pxd (no C API for {missing}): Cython looks the "
            "pxd up by the qualified module name evsefast._core.<name>, see setup.py")
    for cls in (c.limits.PwmRateLimiter, c.limits.SoftOverCurrent, c.meter.EnergyIntegrator):
        assert "__dict__" not in cls.__dict__, f"{cls.__qualname__} is not a cdef class (its .pxd was not used)"


@pytest.mark.arm
def test_times_may_be_int_or_float_ms(kernels):
    """The manager's clock gives float ms: both builds take ints and floats alike."""
    k = kernels.limits
    r = k.PwmRateLimiter(5000)
    r.mark_updated(1000.5)
    assert not r.may_update(6000) and r.may_update(6000.5) and r.may_update(7000)
    soc = k.SoftOverCurrent(10.0, 0.5, 7000)
    soc.feed(0.25, 16.0, 20.0, 0.0, 0.0)
    assert not soc.feed(7000, 16.0, 20.0, 0.0, 0.0) and soc.feed(7000.25, 16.0, 20.0, 0.0, 0.0)
    assert k.budget_expired(1999.5, 999.5) and not k.budget_expired(1999.4, 999.5)
    assert k.setpoint_accepted(16.0, 100.5, 100)
