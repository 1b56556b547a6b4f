"""The CP synthesiser's counter-based noise: the compiled build's C paths (src/_core/cpnoise.h: the
AVX2 batch on x86-64 CPUs with AVX2, the scalar loop elsewhere) against the plain-Python reference
(src/_core/cpnoise.py, the pure build), to the bit, on random and edge streams; and the noise's
own properties (statistics, reproducibility, independence of the block split).

Edge streams: blocks of 1 to 40 samples (shorter than a vector, around 16), runs shorter than a
vector, the buffer's last vector, clipping at both ADC rails (and tables without clipping), both
kinds and none, ramps between plateaus, a level change between fills (the table cache), the 32-bit
boundary of the sample index (a new key), uint16 and float32 output, and the fused ``drive`` loop.
"""
from __future__ import annotations

import math
import random
import statistics
from array import array

import pytest

PATHS = {0: "scalar", 1: "avx2", 2: "avx512"}


@pytest.fixture(scope="module", params=sorted(PATHS), ids=list(PATHS.values()))
def builds(request, both_builds):
    """(compiled, pure) with the compiled noise forced onto one C path (skipped if absent)."""
    c = both_builds[0]
    if c.cpsignal.noise_level(request.param) != request.param:
        c.cpsignal.noise_level(-2)
        pytest.skip(f"this CPU has no {PATHS[request.param]} noise path")
    yield both_builds
    c.cpsignal.noise_level(-2)


def _pair(builds, **kw):
    return builds[0].cpsignal.CpSynth(**kw), builds[1].cpsignal.CpSynth(**kw)


def _same_u16(builds, blocks, **kw):
    """Fill the same blocks from both builds; the samples, the clipped counts and the state agree."""
    c, p = _pair(builds, **kw)
    for n in blocks:
        bc, bp = array("H", bytes(2 * n)), array("H", bytes(2 * n))
        assert c.fill_u16(bc) == p.fill_u16(bp), (kw, n)
        assert bc == bp, (kw, n, [i for i in range(n) if bc[i] != bp[i]][:5])
    assert (c.clipped, c.samples, c.phase_us) == (p.clipped, p.samples, p.phase_us)
    return c


def _random_kwargs(rng):
    return dict(
        duty_pct=rng.choice([0.0, 100.0, 5.0, 26.67, 50.0, 96.0, rng.uniform(1, 99)]),
        high_V=rng.choice([12.0, 9.0, 6.0, 3.0, 0.0, rng.uniform(-15, 15)]),
        low_V=rng.choice([-12.0, -9.0, rng.uniform(-15, 0)]),
        sample_period_us=rng.choice([10.0, 1.0, 4.0, 50.0, rng.uniform(0.5, 60)]),
        t_us=rng.uniform(0, 5000),
        rise_us=rng.choice([0.0, 0.0, 2.0, rng.uniform(0, 30)]),
        noise_V=rng.choice([0.0, 0.05, 0.2, 1.0, 4.0]),
        noise_kind=rng.choice([0, 1, 2, 2]),
        seed=rng.randrange(2 ** 64),
        adc_bits=rng.choice([12, 12, 10, 16, 8]),
        period_us=rng.choice([1000.0, 1000.0, 980.0, 1020.0, 200.0]),
    )


@pytest.mark.arm
@pytest.mark.parametrize("case", range(60))
def test_random_streams_identical(builds, case):
    rng = random.Random(1000 + case)
    kw = _random_kwargs(rng)
    blocks = [rng.choice([1, 7, 15, 16, 17, 31, 33, 100, 1000, 1234]) for _ in range(4)]
    _same_u16(builds, blocks, **kw)


@pytest.mark.parametrize("n", [*range(1, 41), 63, 64, 65, 1000, 4097])
@pytest.mark.parametrize("kind", [1, 2])
def test_block_lengths_around_the_vector(builds, n, kind):
    # a run per ~3 samples (runs shorter than a vector) and long plateaus, each block length
    _same_u16(builds, [n, n], duty_pct=40.0, high_V=9.0, sample_period_us=37.0, noise_V=0.3,
              noise_kind=kind, seed=n, t_us=13.0)
    _same_u16(builds, [n, n], duty_pct=26.67, high_V=6.0, sample_period_us=10.0, noise_V=0.3,
              noise_kind=kind, seed=n + 1, t_us=271.0)


@pytest.mark.arm
@pytest.mark.parametrize("kind", [1, 2])
@pytest.mark.parametrize("levels", [(14.9, -14.9), (15.0, -15.0), (12.0, -12.0), (0.0, -14.99)])
def test_clipping_at_both_rails(builds, kind, levels):
    hv, lv = levels
    c = _same_u16(builds, [1000, 999, 17, 3], duty_pct=50.0, high_V=hv, low_V=lv, noise_V=0.5,
                  noise_kind=kind, seed=7)
    if hv >= 14.9:
        assert c.clipped > 0


def test_small_adc_clips_everything_alike(builds):
    _same_u16(builds, [500, 33], duty_pct=30.0, high_V=9.0, noise_V=6.0, adc_bits=4,
              volts_per_count=0.5, offset_V=-4.0, seed=2)


@pytest.mark.parametrize("rise_us", [1.0, 5.0, 25.0, 400.0])
def test_ramps_between_plateaus(builds, rise_us):
    _same_u16(builds, [1000, 250, 16], duty_pct=26.67, high_V=9.0, rise_us=rise_us,
              sample_period_us=1.0, noise_V=0.1, seed=3)


@pytest.mark.arm
def test_level_changes_between_fills_use_fresh_tables(builds):
    c, p = _pair(builds, duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=4)
    for hv, lv, duty, nv in [(9.0, -12.0, 26.67, 0.1), (6.0, -12.0, 26.67, 0.1), (6.0, -9.0, 50.0, 0.1),
                             (6.0, -9.0, 100.0, 0.1), (3.0, -12.0, 0.0, 0.1), (9.0, -12.0, 10.0, 0.3),
                             (9.0, -12.0, 10.0, 0.0), (9.0, -12.0, 10.0, 0.3)]:
        for s in (c, p):
            s.set_levels(hv, lv)
            s.set_duty(duty)
            s.set_noise(nv, 2)
        bc, bp = array("H", bytes(2000)), array("H", bytes(2000))
        assert c.fill_u16(bc) == p.fill_u16(bp)
        assert bc == bp, (hv, lv, duty, nv)


@pytest.mark.arm
@pytest.mark.parametrize("kind", [1, 2])
def test_index_crosses_32_bits(builds, kind):
    c, p = _pair(builds, duty_pct=26.67, high_V=9.0, noise_V=0.2, noise_kind=kind)
    for s in (c, p):
        s.set_seed(99, index=2 ** 32 - 517)
    for n in (500, 1000, 40):
        bc, bp = array("H", bytes(2 * n)), array("H", bytes(2 * n))
        c.fill_u16(bc)
        p.fill_u16(bp)
        assert bc == bp
    with pytest.raises(ValueError, match="index"):
        c.set_seed(1, index=-1)


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_float32_identical(builds, kind):
    c, p = _pair(builds, duty_pct=26.67, high_V=9.0, noise_V=0.2, noise_kind=kind, rise_us=3.0,
                 sample_period_us=1.0, seed=5)
    for n in (1000, 17, 1):
        bc, bp = array("f", bytes(4 * n)), array("f", bytes(4 * n))
        assert c.fill_f32(bc) == p.fill_f32(bp) == n
        assert bc == bp


def test_drive_identical(builds):
    from evsefast import pilot as api

    results = []
    for ns in builds:
        s = ns.cpsignal.CpSynth(duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=6)
        clf = api.PilotClassifier(kernels=ns)
        buf = array("H", bytes(2000))
        first = s.drive(clf, buf, 20, 0.0, 10.0)
        s.set_levels(6.0, -12.0)
        second = s.drive(clf, buf, 40, first * 10.0, 10.0)
        results.append((first, second, bytes(buf), s.samples))
    assert results[0] == results[1]
    assert results[0][1] > 0  # B -> C seen


def test_noise_statistics_follow_the_docstring(kernels):
    """Gaussian-ish: mean 0, sigma noise_V, bounded at 3.45 sigma; uniform: inside (-noise_V,
    noise_V) with sigma noise_V / sqrt(3); float32 samples of a constant level."""
    n = 40000
    for kind, sd, bound in ((2, 0.5, 0.5 * 510 / math.sqrt(21845)), (1, 0.5 / math.sqrt(3), 0.5)):
        s = kernels.cpsignal.CpSynth(duty_pct=100.0, high_V=0.0, noise_V=0.5, noise_kind=kind, seed=8)
        buf = array("f", bytes(4 * n))
        s.fill_f32(buf)
        assert abs(statistics.fmean(buf)) < 4 * sd / math.sqrt(n)
        assert statistics.pstdev(buf) == pytest.approx(sd, rel=0.02)
        assert max(abs(v) for v in buf) <= bound + 1e-6


def test_noise_depends_on_the_index_only(kernels):
    """The same seed gives the same stream however it is split into blocks, and another seed
    another stream; ``set_seed`` restarts it."""
    kw = dict(duty_pct=100.0, high_V=9.0, noise_V=0.3, seed=9)
    whole = array("H", bytes(2000))
    kernels.cpsignal.CpSynth(**kw).fill_u16(whole)
    s = kernels.cpsignal.CpSynth(**kw)
    parts = []
    for n in (1, 15, 16, 17, 451, 500):
        b = array("H", bytes(2 * n))
        s.fill_u16(b)
        parts.extend(b)
    assert parts == list(whole)
    other = array("H", bytes(2000))
    kernels.cpsignal.CpSynth(**{**kw, "seed": 10}).fill_u16(other)
    assert other != whole
    s.set_seed(9)
    again = array("H", bytes(2000))
    s.fill_u16(again)
    assert again == whole


def test_noise_level_hook(kernels):
    level = kernels.cpsignal.noise_level()
    if kernels.cpsignal.CpSynth.__module__.endswith("cpsignal") and level == -1:
        return  # the pure build: no C path
    assert level in (0, 1, 2)
    assert kernels.cpsignal.noise_level(0) == 0
    assert kernels.cpsignal.noise_level(-2) == level
