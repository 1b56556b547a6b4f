"""Pilot benches: one 1000-sample uint16 block classified (compiled / pure / numpy reference), and
CP synthesis + classification as the simulator runs it.

Budgets: benches/budgets/pilot.toml (block <= 1.5 us median compiled; >= 80x pure, >= 5x numpy).
The block: 10 ms of a 26.67 % (16 A) PWM in state B at 10 us sampling, 0.1 V gaussian noise,
12-bit ADC; the kernel's hot path is ``PilotClassifier.feed_u16`` (two passes + debounce step).
"""
from __future__ import annotations

from array import array

import pytest

from evsefast import _impl

BUILDS = ("compiled", "pure")
N = 1000
BLOCK_MS = 10.0


def _block(ns):
    s = ns.cpsignal.CpSynth(duty_pct=26.67, high_V=9.0, low_V=-12.0, sample_period_us=10.0, noise_V=0.1,
                            seed=12345, t_us=271.0)
    buf = array("H", bytes(2 * N))
    s.fill_u16(buf)
    return buf


def _ns(build):
    if build == "compiled" and _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    return _impl.build(build)


class NumpyPilot:
    """The kernel's block algorithm, vectorised with numpy (bench reference only; numpy is never a
    run-time dependency)."""

    def __init__(self, volts_per_count=30.0 / 4095.0, offset_V=-15.0, max_count=4095,
                 plateau_window_V=1.5, pwm_min_swing_V=4.0, min_plateau_samples=2):
        import numpy
        self.np = numpy
        self.vpc, self.off, self.maxc = volts_per_count, offset_V, max_count
        self.w = int(plateau_window_V / volts_per_count)
        self.swing_c = pwm_min_swing_V / volts_per_count
        self.mps = min_plateau_samples

    def classify(self, samples):
        np = self.np
        a = samples[samples <= self.maxc].astype(np.int64)
        if a.size == 0:
            return None
        mn, mx = int(a.min()), int(a.max())
        if mx - mn < self.swing_c:
            return (False, a.mean() * self.vpc + self.off, a.mean() * self.vpc + self.off, 100.0)
        above = 2 * a > mn + mx
        top = a[above]
        top = top[top >= mx - self.w]
        bot = a[~above]
        bot = bot[bot <= mn + self.w]
        duty = above.sum() * 100.0 / a.size
        hi = top.mean() * self.vpc + self.off
        lo = bot.mean() * self.vpc + self.off
        return (top.size >= self.mps and bot.size >= self.mps, hi, lo, duty, top.std() * self.vpc,
                bot.std() * self.vpc)


@pytest.mark.benchmark(group="pilot_block")
@pytest.mark.parametrize("build", BUILDS + ("numpy",))
def test_pilot_block(benchmark, build):
    if build == "numpy":
        _numpy_block(benchmark)
        return
    ns = _ns(build)
    buf = _block(ns)
    clf = ns.pilot.PilotClassifier(ns.pilot.PilotConfig())
    benchmark(clf.feed_u16, buf, BLOCK_MS)
    b = clf.block
    assert b.state == ns.pilot.STATE_B and b.pwm and abs(b.duty_pct - 26.67) <= 1.0


def _numpy_block(benchmark):
    numpy = pytest.importorskip("numpy")
    ref = NumpyPilot()
    a = numpy.frombuffer(_block(_impl.pure()), dtype=numpy.uint16)
    pwm, hi, lo, duty, *_ = benchmark(ref.classify, a)
    assert pwm and abs(hi - 9.0) < 0.05 and abs(lo + 12.0) < 0.05 and abs(duty - 26.67) <= 1.0
    # the same numbers as the kernel
    ns = _impl.pure()
    b = ns.pilot.PilotBlock()
    ns.pilot.block_u16(b, _block(ns), ns.pilot.PilotConfig())
    assert abs(b.high_V - hi) < 1e-9 and abs(b.low_V - lo) < 1e-9 and b.duty_pct == duty


@pytest.mark.benchmark(group="pilot_synth")
@pytest.mark.parametrize("build", BUILDS)
def test_pilot_synth_block(benchmark, build):
    """Synthesise one 1000-sample block (10 ms) with gaussian noise."""
    ns = _ns(build)
    s = ns.cpsignal.CpSynth(duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=1)
    buf = array("H", bytes(2 * N))
    benchmark(s.fill_u16, buf)


@pytest.mark.benchmark(group="pilot_synth_classify")
@pytest.mark.parametrize("build", BUILDS)
def test_pilot_synth_classify(benchmark, build):
    """Fused: synthesise + classify 100 blocks of 1000 samples (1 s of pilot, 1000 PWM periods)
    in one ``drive`` call; extra_info holds the cost per block and the projected wall time of a
    30-minute full-fidelity session (180,000 blocks)."""
    ns = _ns(build)
    n_blocks = 100 if build == "compiled" else 2
    s = ns.cpsignal.CpSynth(duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=1)
    clf = ns.pilot.PilotClassifier(ns.pilot.PilotConfig())
    buf = array("H", bytes(2 * N))
    s.drive(clf, buf, 10, BLOCK_MS, BLOCK_MS)  # settle into B: no change from here on
    assert clf.state == ns.pilot.STATE_B
    t = [100.0]

    def run():
        k = s.drive(clf, buf, n_blocks, t[0], BLOCK_MS)
        t[0] += n_blocks * BLOCK_MS
        return k

    assert benchmark(run) == 0
    if benchmark.stats is not None:
        per_block_us = benchmark.stats.stats.median * 1e6 / n_blocks
        benchmark.extra_info["per_block_us"] = per_block_us
        benchmark.extra_info["session_30min_s"] = per_block_us * 180_000 / 1e6
