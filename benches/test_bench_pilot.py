"""Pilot benches: one 1000-sample uint16 block classified (compiled / pure / numpy reference), and
CP synthesis + classification as the simulator runs it.

Budgets: benches/budgets/pilot.toml (block <= 1.5 us median compiled; >= 80x pure, >= 5x numpy).
The block: 10 ms of a 26.67 % (16 A) PWM in state B at 10 us sampling, 0.1 V gaussian noise,
12-bit ADC; the kernel's hot path is ``PilotClassifier.feed_u16`` (histogram and sums passes +
debounce step).
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
    """The kernel's block algorithm (histogram modes, settled plateau windows, triangular duty
    weights), vectorised with numpy (bench reference only; numpy is never a run-time dependency).
    PWM blocks without rejected samples, the bench's case."""

    def __init__(self, volts_per_count=30.0 / 4095.0, offset_V=-15.0, adc_bits=12,
                 plateau_window_V=1.5, pwm_min_swing_V=4.0, settle=2):
        import numpy
        self.np = numpy
        self.vpc, self.off = volts_per_count, offset_V
        self.shift = max(0, adc_bits - 6)
        self.w = int(plateau_window_V / volts_per_count)
        bin_V = volts_per_count * (1 << self.shift)
        self.dist = max(2, int(numpy.ceil(pwm_min_swing_V / bin_V - 1e-12)))
        self.settle = settle

    def classify(self, samples):
        np = self.np
        n = samples.size
        hist = np.bincount(samples >> self.shift, minlength=64)
        pairs = hist[:-1] + hist[1:]
        m1 = int(np.argmax(pairs))
        b = np.arange(pairs.size)
        m2 = int(np.argmax(np.where((b <= m1 - self.dist) | (b >= m1 + self.dist), pairs, -1)))
        ct, cb = (max(m1, m2) + 1) << self.shift, (min(m1, m2) + 1) << self.shift
        midc = (ct + cb) >> 1
        a = samples.astype(np.int64)
        high = a > midc
        settled_hi, settled_lo = high.copy(), ~high
        for k in range(1, self.settle + 1):  # the k-th predecessor on the same side (inside the block)
            settled_hi[k:] &= high[:-k]
            settled_lo[k:] &= ~high[:-k]
        top = a[settled_hi & (np.abs(a - ct) <= self.w)] * self.vpc + self.off
        bot = a[settled_lo & (np.abs(a - cb) <= self.w)] * self.vpc + self.off
        i = np.arange(n)
        weight = np.minimum(i + 1, n - i)
        duty = weight[high].sum() * 100.0 / weight.sum()
        return top.size >= 2 and bot.size >= 2, top.mean(), bot.mean(), duty, top.std(), bot.std()


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
    assert abs(b.high_V - hi) < 1e-9 and abs(b.low_V - lo) < 1e-9 and abs(b.duty_pct - duty) < 1e-9


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
