"""meter kernel: trapezoid energy integration, import/export by sign, gaps, backwards time, no drift."""
from __future__ import annotations

import math
from array import array
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsefast.errors import InvalidInput
from evsefast.meter import EnergyMeter

try:
    import numpy as np
except ImportError:  # armv7l: no numpy wheels
    np = None

NAN = math.nan
WMS = 3_600_000.0  # W*ms per Wh


def _mv(values):
    return memoryview(array("d", values))


@pytest.mark.arm
def test_constant_power_for_an_hour(kernels):
    e = kernels.meter.EnergyIntegrator(5000.0)
    for s in range(3601):
        e.feed_power(s * 1000.0, 1000.0)
    assert e.import_Wh == pytest.approx(1000.0, rel=1e-15)
    assert e.export_Wh == 0.0
    assert (e.samples, e.gaps, e.backwards, e.invalid) == (3601, 0, 0, 0)


@pytest.mark.arm
def test_trapezoid_is_exact_for_a_ramp(kernels):
    e = kernels.meter.EnergyIntegrator(60000.0)
    # 0 W -> 7200 W linearly over 1 h, sampled every 10 s: 3600 Wh
    for i in range(361):
        e.feed_power(i * 10_000.0, 20.0 * i)
    assert e.import_Wh == pytest.approx(3600.0, rel=1e-14)


@pytest.mark.arm
def test_sign_chooses_export_and_a_crossing_is_split(kernels):
    e = kernels.meter.EnergyIntegrator(60000.0)
    e.feed_power(0.0, -3600.0)
    e.feed_power(1000.0, -3600.0)  # 1 s of 3.6 kW export = 1 Wh
    assert e.export_Wh == pytest.approx(1.0) and e.import_Wh == 0.0
    e.reset()
    e.feed_power(0.0, 100.0)
    e.feed_power(1000.0, -300.0)  # crosses zero at 250 ms
    assert e.import_Wh * WMS == pytest.approx(100 * 0.5 * 250)
    assert e.export_Wh * WMS == pytest.approx(300 * 0.5 * 750)
    e.feed_power(2000.0, 300.0)  # rises through zero at 500 ms
    assert e.import_Wh * WMS == pytest.approx(100 * 0.5 * 250 + 300 * 0.5 * 500)
    assert e.export_Wh * WMS == pytest.approx(300 * 0.5 * 750 + 300 * 0.5 * 500)


@pytest.mark.arm
def test_gap_longer_than_the_limit_is_not_integrated(kernels):
    e = kernels.meter.EnergyIntegrator(5000.0)
    e.feed_power(0.0, 3600.0)
    e.feed_power(5000.0, 3600.0)  # exactly the limit: integrated (5 Wh)
    e.feed_power(10001.0, 3600.0)  # 5001 ms: a gap
    e.feed_power(11001.0, 3600.0)  # the chain restarted at 10001: 1 Wh
    assert e.import_Wh == pytest.approx(6.0)
    assert e.gaps == 1 and e.backwards == 0


@pytest.mark.arm
def test_backwards_timestamp_is_not_integrated_and_counted(kernels):
    e = kernels.meter.EnergyIntegrator(5000.0)
    e.feed_power(10_000.0, 3600.0)
    e.feed_power(11_000.0, 3600.0)  # 1 Wh
    e.feed_power(9_000.0, 3600.0)  # backwards: restarts the chain at 9000
    e.feed_power(10_000.0, 3600.0)  # 1 Wh
    e.feed_power(10_000.0, 7200.0)  # same timestamp: nothing
    assert e.import_Wh == pytest.approx(2.0)
    assert e.backwards == 1 and e.gaps == 0


@pytest.mark.arm
def test_nan_samples_are_skipped(kernels):
    e = kernels.meter.EnergyIntegrator(5000.0)
    e.feed_power(0.0, 3600.0)
    e.feed_power(500.0, NAN)
    e.feed_power(NAN, 1.0)
    e.feed_power(1000.0, 3600.0)
    assert e.import_Wh == pytest.approx(1.0)
    assert e.invalid == 2 and e.samples == 2


@pytest.mark.arm
def test_feed_vi_three_phases(kernels):
    e = kernels.meter.EnergyIntegrator(5000.0)
    e.feed_vi(0.0, 230.0, 16.0, 230.0, 16.0, 230.0, 16.0)
    e.feed_vi(1000.0, 230.0, 16.0, 230.0, 16.0, 230.0, 16.0)
    assert e.import_Wh * WMS == pytest.approx(11040.0 * 1000)
    e.reset()
    e.feed_vi(0.0, 230.0, -10.0, NAN, NAN, 230.0, NAN)  # absent phases count 0 W
    e.feed_vi(1000.0, 230.0, -10.0, NAN, 5.0, 230.0, NAN)
    assert e.export_Wh * WMS == pytest.approx(2300.0 * 1000) and e.import_Wh == 0.0


@pytest.mark.arm
def test_blocks_equal_single_samples(kernels):
    t = [0.0, 1000.0, 2500.0, 2000.0, 3000.0, 20000.0, 21000.0, 21500.0, NAN, 22000.0]
    p = [500.0, -200.0, 800.0, 100.0, 0.0, 50.0, -50.0, NAN, 10.0, 3.0]
    single = kernels.meter.EnergyIntegrator(5000.0)
    for ti, pi in zip(t, p):
        single.feed_power(ti, pi)
    block = kernels.meter.EnergyIntegrator(5000.0)
    assert block.feed_power_block(_mv(t[:4]), _mv(p[:4])) == 4
    assert block.feed_power_block(_mv(t[4:]), _mv(p[4:])) == 6
    for name in ("samples", "gaps", "backwards", "invalid"):
        assert getattr(block, name) == getattr(single, name), name
    # blocks sum short runs naively before compensating: equal up to rounding
    assert block.import_Wh == pytest.approx(single.import_Wh, rel=1e-14)
    assert block.export_Wh == pytest.approx(single.export_Wh, rel=1e-14)
    assert (single.gaps, single.backwards, single.invalid) == (1, 1, 2)
    vi = kernels.meter.EnergyIntegrator(5000.0)
    ones = _mv([1.0] * len(t))
    zeros = _mv([0.0] * len(t))
    assert vi.feed_vi_block(_mv(t), _mv(p), ones, zeros, zeros, zeros, zeros) == len(t)
    ref = kernels.meter.EnergyIntegrator(5000.0)  # V x I with a NaN phase counts 0 W
    ref.feed_power_block(_mv(t), _mv([0.0 if x != x else x for x in p]))
    assert vi.import_Wh == pytest.approx(ref.import_Wh, rel=1e-15)
    assert vi.export_Wh == pytest.approx(ref.export_Wh, rel=1e-15)


def _power_profile(n):
    """Positive power, 7 kW +- 3 kW, never exactly representable sums."""
    if np is not None:
        i = np.arange(n, dtype=np.float64)
        return array("d", (7000.123 + 3000.0 * np.sin(i * 1e-3)).tobytes())
    return array("d", (7000.123 + 3000.0 * math.sin(k * 1e-3) for k in range(n)))


def _times(n, dt):
    if np is not None:
        return array("d", (np.arange(n, dtype=np.float64) * dt).tobytes())
    return array("d", (k * dt for k in range(n)))


@pytest.mark.arm
def test_no_drift_small(kernels):
    _no_drift(kernels, 20_000)


def test_no_drift_10_million_samples(kernels):
    """Over 10^7 samples the total stays within 1e-9 relative of the exact value (pure build: 10^5)."""
    _no_drift(kernels, 10_000_000 if kernels.compiled else 100_000)


def _no_drift(kernels, n):
    dt = 100.0
    p = _power_profile(n)
    t = _times(n, dt)
    for sign in (1.0, -1.0):
        q = p if sign > 0 else array("d", (-x for x in p)) if n <= 100_000 else _negated(p)
        e = kernels.meter.EnergyIntegrator(1000.0)
        assert e.feed_power_block(memoryview(t), memoryview(q)) == n
        # exact trapezoid sum: dt/2 * (2 * sum(p) - p[0] - p[-1]); fsum is correctly rounded
        s = 2 * Fraction(math.fsum(p)) - Fraction(p[0]) - Fraction(p[-1])
        exact_Wh = float(Fraction(dt) / 2 * s / Fraction(3_600_000))
        got = e.import_Wh if sign > 0 else e.export_Wh
        other = e.export_Wh if sign > 0 else e.import_Wh
        assert other == 0.0
        rel = abs(got - exact_Wh) / exact_Wh
        assert rel <= 1e-9, rel  # the requirement
        assert rel <= 1e-13, rel  # what compensated summation gives


def _negated(p):
    if np is not None:
        return array("d", (-np.frombuffer(p, dtype=np.float64)).tobytes())
    return array("d", (-x for x in p))


# ---- thin API -----------------------------------------------------------------------------------

@pytest.mark.parametrize("build", ["compiled", "pure"])
def test_thin_api(both_builds, build):
    k = dict(zip(("compiled", "pure"), both_builds))[build]
    m = EnergyMeter(max_gap_ms=5000, kernels=k)
    m.feed_power(0, 3600)
    m.feed_power(1000, 3600)
    m.feed_vi(2000, 230, 15.652173913043478)  # phases 2 and 3 absent
    assert m.import_Wh == pytest.approx(2.0)
    assert m.feed_power_block([3000, 4000], [3600, 3600]) == 2  # lists
    assert m.feed_power_block(array("d", [5000]), array("f", [3600])) == 1  # float32 converted
    if np is not None:
        assert m.feed_power_block(np.array([6000.0, 7000.0]), np.array([3600, 3600])) == 2
        assert m.feed_power_block(np.arange(16.0)[::2] * 0 + 8000, np.full(8, 3600.0)) == 8  # strided
    assert m.import_Wh == pytest.approx(8.0)
    assert m.feed_vi_block([9000], [230], [1], [230], [1], [230], [1]) == 1
    assert (m.gaps, m.backwards, m.invalid, m.max_gap_ms) == (0, 0, 0, 5000.0)
    with pytest.raises(InvalidInput, match=r"power_W must have the length of t_ms \(2\), got 1"):
        m.feed_power_block([1, 2], [1])
    with pytest.raises(InvalidInput, match=r"I3 must have the length of t_ms"):
        m.feed_vi_block([1], [1], [1], [1], [1], [1], [])
    with pytest.raises(InvalidInput, match=r"t_ms must be a float64 buffer or a sequence of numbers"):
        m.feed_power_block(["a"], [1])
    with pytest.raises(InvalidInput, match=r"t_ms must be one-dimensional"):
        m.feed_power_block(memoryview(bytes(16)).cast("B", (2, 8)), [1, 2])
    with pytest.raises(InvalidInput, match=r"power_W must be a number"):
        m.feed_power(1, "x")
    with pytest.raises(InvalidInput, match=r"max_gap_ms must be in \[0, 86400000\]"):
        EnergyMeter(max_gap_ms=-1, kernels=k)
    m.reset()
    assert m.import_Wh == 0.0 and m.samples == 0


# ---- differential: compiled vs pure --------------------------------------------------------------

samples = st.lists(
    st.tuples(st.floats(-2000, 8000) | st.just(NAN), st.floats(-1e5, 1e5) | st.just(NAN)), max_size=80)


def _close(a, b):
    return a == pytest.approx(b, rel=1e-12, abs=1e-15)


@given(samples, st.floats(0, 6000))
def test_meter_differential(both_builds, steps, max_gap):
    c, p = (k.meter.EnergyIntegrator(max_gap) for k in both_builds)
    cb, pb = (k.meter.EnergyIntegrator(max_gap) for k in both_builds)
    t = 0.0
    ts, ps = [], []
    for dt, w in steps:
        t = t + dt if dt == dt else NAN
        c.feed_power(t, w)
        p.feed_power(t, w)
        ts.append(t)
        ps.append(w)
        if t != t:
            t = 0.0
    cb.feed_power_block(_mv(ts), _mv(ps))
    pb.feed_power_block(_mv(ts), _mv(ps))
    for a, b in ((c, p), (cb, pb), (c, cb)):
        assert _close(a.import_Wh, b.import_Wh) and _close(a.export_Wh, b.export_Wh)
        assert (a.samples, a.gaps, a.backwards, a.invalid) == (b.samples, b.gaps, b.backwards, b.invalid)
        assert a.import_Wh >= 0.0 and a.export_Wh >= 0.0


@given(st.lists(st.tuples(*[st.floats(-500, 500) | st.just(NAN)] * 6), min_size=1, max_size=30))
def test_meter_vi_differential(both_builds, rows):
    c, p = (k.meter.EnergyIntegrator(1e9) for k in both_builds)
    cols = [_mv([r[j] for r in rows]) for j in range(6)]
    tt = _mv([i * 1000.0 for i in range(len(rows))])
    c.feed_vi_block(tt, *cols)
    for i, r in enumerate(rows):
        p.feed_vi(i * 1000.0, *r)
    assert _close(c.import_Wh, p.import_Wh) and _close(c.export_Wh, p.export_Wh)
