"""The meter's vector pass (src/_core/meterfast.h, compiled build) against the plain-Python loop
(src/_core/meter.py, pure build): the same sums, compensations and counters to the bit, on random
and edge blocks, on every pass this CPU has (``path``: AVX2, the baseline build's, none).

Edge blocks: NaN times and powers inside a stretch, gaps, backward and equal timestamps, +0.0 and
-0.0 powers and times, sign changes (import / export / crossings), infinities, blocks of 0 to 9
samples and around the 256-sample chunks, chains continued across blocks, and the three-phase
V x I form with NaN phases.
"""
from __future__ import annotations

import math
import random
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NAN = float("nan")
INF = float("inf")
PATHS = {1: "avx2", 0: "baseline", -3: "none"}
STATE = ("imp_sum", "imp_c", "exp_sum", "exp_c", "has_last", "last_t_ms", "last_power_W", "samples",
         "gaps", "backwards", "invalid")


@pytest.fixture(scope="module", params=sorted(PATHS), ids=[PATHS[k] for k in sorted(PATHS)])
def builds(request, both_builds):
    """(compiled, pure) with the compiled pass forced onto one path (skipped if absent)."""
    c = both_builds[0]
    want = -1 if request.param == -3 else request.param
    if c.meter.fast_level(request.param) != want:
        c.meter.fast_level(-2)
        pytest.skip(f"this CPU has no {PATHS[request.param]} pass")
    yield both_builds
    c.meter.fast_level(-2)


def _bits(x):
    return x.hex() if isinstance(x, float) and x == x else repr(x)


def _state(e):
    return tuple(_bits(getattr(e, k)) for k in STATE)


def _feed_both(builds, blocks, max_gap=1000.0, vi=False):
    """Feed the same blocks to both builds; their states agree to the bit after every block."""
    c, p = (ns.meter.EnergyIntegrator(max_gap) for ns in builds)
    for cols in blocks:
        bufs = [array("d", col) for col in cols]
        if vi:
            assert c.feed_vi_block(*bufs) == p.feed_vi_block(*bufs)
        else:
            assert c.feed_power_block(*bufs) == p.feed_power_block(*bufs)
        assert _state(c) == _state(p)
    return c


def _series(rng, n, t0=0.0, kind="plain"):
    t, w = [], []
    x = t0
    for _ in range(n):
        x += rng.choice([100.0, 100.0, 250.0, 0.5, rng.uniform(0, 900)])
        t.append(x)
        if kind == "plain":
            w.append(7000.0 + 3000.0 * math.sin(x * 1e-3))
        elif kind == "export":
            w.append(-2000.0 - 1000.0 * math.sin(x * 1e-3))
        else:
            w.append(rng.uniform(-5000, 5000))
    return t, w


@pytest.mark.parametrize("kind", ["plain", "export", "mixed"])
@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 7, 8, 9, 255, 256, 257, 260, 511, 1000, 3001])
def test_plain_series_identical(builds, kind, n):
    rng = random.Random(n)
    t, w = _series(rng, n, kind=kind)
    c = _feed_both(builds, [(t, w)])
    if kind == "plain" and n > 1:
        assert c.import_Wh > 0.0 and c.export_Wh == 0.0
    # the same stream split into blocks of every awkward length, continued across blocks
    cuts = [0, 1, 5, 6, 263, 300, n]
    blocks = [(t[a:b], w[a:b]) for a, b in zip(cuts, cuts[1:]) if a < b]
    _feed_both(builds, blocks)


SPECIALS = [NAN, 0.0, -0.0, INF, -INF, 1e300, -1e300, 5e-324]


@pytest.mark.arm
@pytest.mark.parametrize("seed", range(40))
def test_specials_inside_stretches(builds, seed):
    """Specials dropped into long plain runs: the pass declines or agrees with the loop."""
    rng = random.Random(seed)
    t, w = _series(rng, 1100, kind=rng.choice(["plain", "export"]))
    for _ in range(rng.randrange(1, 6)):
        k = rng.randrange(len(t))
        col = rng.choice([t, w])
        if col is t and rng.random() < 0.5:  # a backward step or a gap instead of a special
            t[k] += rng.choice([-300.0, 5000.0])
        else:
            col[k] = rng.choice(SPECIALS)
    _feed_both(builds, [(t[:700], w[:700]), (t[700:], w[700:])], max_gap=rng.choice([1000.0, 0.0, INF]))


@pytest.mark.arm
def test_zero_powers_and_times(builds):
    t = [float(k) for k in range(600)]
    for w in ([0.0] * 600, [-0.0] * 600, [0.0, -0.0] * 300, [-1.0, 0.0, -0.0, -2.0] * 150,
              [1.0, -0.0, 0.0, 2.0] * 150):
        _feed_both(builds, [(t, w)])
    tz = [-0.0, 0.0] * 300  # dt = +-0
    _feed_both(builds, [(tz, [5.0] * 600)])


@pytest.mark.arm
def test_vi_with_nan_phases(builds):
    rng = random.Random(5)
    n = 1030
    t = [k * 100.0 for k in range(n)]
    cols = [[230.0 + rng.uniform(-5, 5) for _ in range(n)] if j % 2 == 0 else
            [rng.uniform(10, 16) for _ in range(n)] for j in range(6)]
    _feed_both(builds, [[t, *cols]], vi=True)
    for j, k in ((1, 7), (3, 300), (4, 301), (5, 1029)):
        cols[j][k] = NAN
    cols[0][500] = INF  # inf x finite: an infinite power
    _feed_both(builds, [[t, *cols]], vi=True)
    neg = [[-x for x in cols[1]], [-x for x in cols[3]], [-x for x in cols[5]]]
    _feed_both(builds, [[t, cols[0], neg[0], cols[2], neg[1], cols[4], neg[2]]], vi=True)


finite = st.floats(-1e4, 1e4)
maybe = finite | st.sampled_from(SPECIALS)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, 1500) | st.sampled_from([NAN, 0.0, -0.0]), maybe),
                max_size=300),
       st.sampled_from([1000.0, 0.0, 50.0, INF]), st.integers(0, 300))
def test_random_blocks_identical(builds, steps, max_gap, cut):
    t, w, x = [], [], 0.0
    for dt, p in steps:
        x = x + dt if dt == dt else NAN
        t.append(x)
        w.append(p)
        if x != x:
            x = 0.0
    _feed_both(builds, [(t[:cut], w[:cut]), (t[cut:], w[cut:])], max_gap=max_gap)


def test_accuracy_bound_with_the_pass(kernels):
    """The lanes do not cost accuracy: a 10^6-sample ramp (exact trapezoid sum known) stays within
    1e-13 relative (the 10^7-sample bound is tests/test_meter.py's)."""
    n = 1_000_000 if kernels.compiled else 20_000
    t = array("d", (k * 100.0 for k in range(n)))
    w = array("d", (1000.0 + 0.001 * k for k in range(n)))
    e = kernels.meter.EnergyIntegrator(1000.0)
    e.feed_power_block(t, w)
    from fractions import Fraction
    exact = sum(Fraction(w[k - 1]) + Fraction(w[k]) for k in range(1, n)) * 50 / 3_600_000
    assert abs(e.import_Wh - float(exact)) / float(exact) <= 1e-13


def test_kernel_buffer_errors(kernels):
    e = kernels.meter.EnergyIntegrator(1000.0)
    with pytest.raises(TypeError, match="t_ms must be a buffer"):
        e.feed_power_block([1.0], array("d", [1.0]))
    with pytest.raises(ValueError, match="power_W must be a C-contiguous 1-D buffer of format 'd'"):
        e.feed_power_block(array("d", [1.0]), array("f", [1.0]))
    with pytest.raises(ValueError, match="I3 must be"):
        e.feed_vi_block(*[array("d", [1.0])] * 6, array("i", [1]))
    assert e.feed_power_block(array("d", [1.0, 2.0]), array("d", [5.0])) == 1  # the shorter length
    assert e.samples == 1
