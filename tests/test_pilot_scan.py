"""The C twin of the pilot passes (src/_core/pilotscan.h, run by the compiled build) against their
plain-Python reference (src/_core/pilotscan.py, run by the pure build): identical integers on
random and edge blocks, and identical block results.

Edge blocks: empty, one to five samples, flat, a one-sample glitch, alternating samples, rejected
samples at the ends, every sample rejected, settle longer than the block, windows reaching below 0
or above the ADC range, lengths around the vector widths, and blocks longer than 65,535 samples
(the duty weights leave 16-bit lanes).  Every test runs on each C path this CPU has (``path``:
scalar, SSE2, AVX2, AVX-512BW on x86-64; scalar and NEON on aarch64).
"""
from __future__ import annotations

from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsefast import pilot as api


PATHS = {0: "scalar", 1: "neon", 2: "sse2", 3: "avx2", 4: "avx512"}


@pytest.fixture(scope="module", params=sorted(PATHS), ids=list(PATHS.values()))
def both_builds(request, both_builds):
    """(compiled, pure) with the compiled passes forced onto one C path (skipped if absent)."""
    c = both_builds[0]
    if c.pilot.scan_level(request.param) != request.param:
        c.pilot.scan_level(-2)
        pytest.skip(f"this CPU has no {PATHS[request.param]} path")
    yield both_builds
    c.pilot.scan_level(-2)


def test_the_best_path_is_used_by_default():
    import platform

    from evsefast import _impl
    if _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    level = _impl.compiled().pilot.scan_level()
    assert _impl.pure().pilot.scan_level() == -1
    if platform.machine() in ("x86_64", "AMD64"):
        assert level in (2, 3, 4)
    elif platform.machine() in ("aarch64", "arm64"):
        assert level == 1


def scan(ns, samples, *args):
    return ns.pilot.scan_u16(ns.pilot.PilotBlock(), array("H", samples), *args)


def same_scan(both, samples, *args):
    c, p = both
    got_c = scan(c, samples, *args)
    got_p = scan(p, samples, *args)
    assert got_c == got_p, (args, len(samples))
    return got_p


def same_block(both, samples, **cfg):
    c, p = both
    buf = array("H", samples)
    a = api.classify_block_u16(buf, config=cfg or None, kernels=c).as_dict()
    b = api.classify_block_u16(buf, config=cfg or None, kernels=p).as_dict()
    assert a == b
    return b


# (shift, maxc, midc, settle, tlo, tw, blo, bw)
DEFAULT_ARGS = (6, 4095, 2048, 2, 3000, 400, 300, 400)

EDGE_BLOCKS = {
    "empty": [],
    "one": [2048],
    "two": [0, 4095],
    "five": [10, 4000, 4001, 20, 4095],
    "flat": [3000] * 100,
    "glitch": [3000] * 50 + [100] + [3000] * 49,
    "alternating": [300, 3200] * 50,
    "rejected_ends": [5000] + [3000, 300] * 40 + [65535],
    "all_rejected": [4096] * 33,
    "pwm": ([3200] * 27 + [300] * 73) * 10,
}


@pytest.mark.arm
@pytest.mark.parametrize("name", list(EDGE_BLOCKS))
@pytest.mark.parametrize("settle", [0, 1, 2, 5, 200])
def test_edge_blocks(both_builds, name, settle):
    shift, maxc, midc, _, tlo, tw, blo, bw = DEFAULT_ARGS
    same_scan(both_builds, EDGE_BLOCKS[name], shift, maxc, midc, settle, tlo, tw, blo, bw)
    same_scan(both_builds, EDGE_BLOCKS[name], shift, maxc, -1, 0, tlo, tw, 0, -1)  # one plateau
    same_block(both_builds, EDGE_BLOCKS[name], settle_samples=min(settle, 16))


@pytest.mark.arm
@pytest.mark.parametrize("n", [15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257, 1000, 1023])
def test_lengths_around_vector_widths(both_builds, n):
    block = [(300 if (i * 7919) % 100 < 73 else 3200) + (i * 31) % 17 for i in range(n)]
    same_scan(both_builds, block, *DEFAULT_ARGS)
    same_block(both_builds, block)


@pytest.mark.arm
def test_long_blocks_leave_16_bit_lanes(both_builds):
    """100,000 samples: duty weights above 32,767 and their sums past 32 bits."""
    block = [(3200 if i % 100 < 27 else 300) + i % 7 for i in range(100_000)]
    hist, acc = same_scan(both_builds, block, 6, 4095, 1750, 2, 2900, 600, 0, 700)
    assert acc[8] > 2 ** 31 and sum(hist) == 100_000
    same_block(both_builds, block)


@pytest.mark.arm
@pytest.mark.parametrize("tlo,tw,blo,bw", [(-500, 1000, -100, 50), (4000, 70000, 0, 70000), (0, 0, 4095, 0),
                                           (65000, 535, -65535, 65535)])
def test_windows_at_the_limits(both_builds, tlo, tw, blo, bw):
    block = [(i * 2654435761) % 4200 for i in range(500)]
    same_scan(both_builds, block, 6, 4095, 2048, 2, tlo, tw, blo, bw)


hint_st = st.sampled_from([0xFFFF, 0, 1, 5, 6, 30, 50, 62, 63, 64, 200])

args_st = st.tuples(
    st.integers(0, 10),  # shift
    st.sampled_from([255, 1023, 4095, 65535]),  # maxc
    st.integers(-1, 65535),  # midc
    st.integers(0, 6),  # settle
    st.integers(-1000, 66000), st.integers(-1, 40000),  # tlo, tw
    st.integers(-1000, 66000), st.integers(-1, 40000),  # blo, bw
)


@given(samples=st.lists(st.integers(0, 65535), max_size=300), args=args_st, h1=hint_st, h2=hint_st)
def test_random_blocks_and_parameters(both_builds, samples, args, h1, h2):
    """Random samples and pass parameters; random histogram hints (the C reference-bin path)."""
    shift, maxc = args[0], args[1]
    if (maxc >> shift) >= 64:  # the kernel keeps the histogram to 64 bins (shift = adc_bits - 6)
        shift = max(0, maxc.bit_length() - 6)
    same_scan(both_builds, samples, shift, maxc, *args[2:], h1, h2)


@given(level=st.integers(0, 63), spread=st.integers(0, 40), n=st.integers(0, 3000),
       seed=st.integers(0, 2 ** 32), h1=hint_st, h2=hint_st, rails=st.booleans())
def test_histogram_hints_never_change_the_counts(both_builds, level, spread, n, seed, h1, h2, rails):
    """Plateau-like blocks (most samples in a few bins, the reference path's case), right and wrong
    hints, with and without samples above the 12-bit range."""
    import random
    rnd = random.Random(seed)
    block = [min(65535, max(0, level * 64 + rnd.randint(-spread, spread) * 8)) for _ in range(n)]
    if rails and n:
        for _ in range(3):
            block[rnd.randrange(n)] = rnd.choice([0, 4095, 4096, 65535])
    same_scan(both_builds, block, 6, 4095, 2048, 2, 3000, 400, 300, 400, h1, h2)


@given(hist=st.lists(st.integers(0, 3000), min_size=65, max_size=65), nbins=st.sampled_from([2, 8, 33, 64]),
       dist=st.integers(2, 70))
def test_modes_agree(both_builds, hist, nbins, dist):
    c, p = both_builds
    assert c.pilot.modes_of(c.pilot.PilotBlock(), hist, nbins, dist) == \
        p.pilot.modes_of(p.pilot.PilotBlock(), hist, nbins, dist)


@given(duty=st.floats(1.0, 99.0), hv=st.floats(-14.0, 14.0), lv=st.floats(-14.0, 14.0),
       noise=st.floats(0.0, 1.0), n=st.integers(0, 2500), seed=st.integers(0, 2 ** 32),
       spikes=st.lists(st.tuples(st.integers(0, 2499), st.integers(0, 4200)), max_size=8),
       settle=st.integers(0, 4), outliers=st.integers(0, 10))
def test_random_pwm_blocks(both_builds, duty, hv, lv, noise, n, seed, spikes, settle, outliers):
    """Waveform-like blocks with spikes (some above the 12-bit range): the whole block result."""
    s = api.cp_synth(kernels=both_builds[1], duty_pct=duty, high_V=hv, low_V=lv, noise_V=noise, seed=seed)
    buf = array("H", bytes(2 * n))
    s.fill_u16(buf)
    for i, v in spikes:
        if i < n:
            buf[i] = v
    same_block(both_builds, list(buf), settle_samples=settle, max_outliers=outliers)
