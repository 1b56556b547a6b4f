"""The pilot classifier on realistic CP lines (issue 14), both builds.

Streams come from tests/cpline.py: RC edges with the diode knee, ringing, divider drift, mains hum,
ADC noise, spikes, bursts, contact bounce, CP-PE shorts, F, D, diode faults, PWM 980-1020 Hz at
8-96 %, 12-bit ADC at 100 kS/s, 10 ms blocks, debounce 20 ms / 250 ms.  Targets (issue 14): no
false and no missed transitions; every change that removes power decided within debounce_fast_ms
+ 2 blocks and within IEC 61851-1's 100 ms (Seq. 8.1), C/D within debounce_slow_ms + 2 blocks;
duty within the documented per-block resolution and <= 0.5 points on average over a steady
stretch; no false diode faults, real ones confirmed within debounce_fast_ms + 2 blocks.

The first three tests are the defects the issue reports (each failed on the classifier before it).
"""
from __future__ import annotations

import pytest

np = pytest.importorskip("numpy", reason="the realistic CP generator needs numpy (tests extra; no armv7l wheels)")

import cpline as cp  # noqa: E402
import cpscore  # noqa: E402

from evsefast import pilot as api  # noqa: E402

FAST_MS = 20.0
SLOW_MS = 250.0


def classifier(kernels, **cfg):
    return api.PilotClassifier(kernels=kernels, debounce_fast_ms=FAST_MS, debounce_slow_ms=SLOW_MS, **cfg)


def run(kernels, line, segments, seed, **cfg):
    stream = cp.render(line, segments, seed)
    r = cpscore.feed(stream, classifier(kernels, **cfg), FAST_MS)
    return stream, r, cpscore.score(stream, r, FAST_MS, SLOW_MS)


# ---- the three defects of issue 14 ----------------------------------------------------------------
@pytest.mark.parametrize("hum_hz", [50.0, 60.0])
@pytest.mark.parametrize("car_V", [8.36, 8.30])
def test_leaves_c_when_b_sits_at_the_band_corner(kernels, hum_hz, car_V):
    """Defect 1: B at the bottom of J1772's range read through a -3 % divider with 200 mV of hum
    gives blocks that alternate between B and invalid: the car opened S2, so power must go."""
    line = cp.Line(gain=0.97, hum_V=0.2, hum_hz=hum_hz, noise_V=0.03)
    segs = [cp.Segment(400.0, "B", 26.67, car_V), cp.Segment(700.0, "C", 26.67),
            cp.Segment(600.0, "B", 26.67, car_V)]
    _, r, sc = run(kernels, line, segs, seed=5)
    assert not sc.missed and not sc.false_transitions, sc.problems()
    (t_b, _, lat), = [x for x in sc.latencies if x[0] == 1100.0]
    assert lat <= FAST_MS + 2 * line.block_ms and lat <= 100.0


@pytest.mark.parametrize("rail", [0, 4095])
def test_single_sample_spikes_do_not_move_the_plateaus(kernels, rail):
    """Defect 2: one full-scale sample per block (EMI, contactor arcing) must not become the plateau
    anchor: every block still reads PWM, state B, its duty and no diode fault."""
    synth = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.05, seed=3, t_us=137.0)
    from array import array
    buf = array("H", bytes(2000))
    for k in range(40):
        synth.fill_u16(buf)
        ref = api.classify_block_u16(buf, kernels=kernels)
        buf[(k * 379 + 11) % 1000] = rail
        b = api.classify_block_u16(buf, kernels=kernels)
        assert b.pwm and api.STATE_NAMES[b.state] == "B" and not b.diode_fault, b
        assert abs(b.duty_pct - 26.67) <= 1.0 + 0.1
        assert b.high_V == pytest.approx(ref.high_V, abs=0.01) and b.low_V == pytest.approx(ref.low_V, abs=0.01)


@pytest.mark.parametrize("ring", [0.08, 0.14, 0.20])
def test_ringing_after_edges_is_not_a_plateau(kernels, ring):
    """Defect 3: overshoot and ringing after each edge (up to 20 % of the swing) with slow edges must
    not become the anchor: B stays B, C is reached, C -> B within IEC's 100 ms, no diode faults."""
    line = cp.Line(tau_fast_us=2.0, tau_slow_us=4.0, ring_frac=ring, ring_hz=60e3, ring_tau_us=10.0,
                   noise_V=0.03)
    segs = [cp.Segment(400.0, "B", 26.67), cp.Segment(700.0, "C", 53.3), cp.Segment(400.0, "B", 10.0),
            cp.Segment(600.0, "C", 90.0), cp.Segment(300.0, "B", 90.0)]
    _, r, sc = run(kernels, line, segs, seed=7)
    assert sc.problems() == {}, sc.problems()
    assert not r.diode_confirmed.any()


# ---- the scorer on seeded realistic sessions ------------------------------------------------------
_STREAMS: dict = {}


def session(seed, mode, **over):
    """A seeded random session (16 segments, ~10 s) on a line of ``mode``; rendered once per run."""
    key = (seed, mode, tuple(sorted(over.items())))
    if key not in _STREAMS:
        r = cp.Rand(seed, 2)
        corners = ""
        if mode == "corners":
            corners = "low" if seed % 2 else "high"
            g = 0.97 if corners == "low" else 1.03
            gen = 11.4 if corners == "low" else 12.6
            over = dict(dict(gain=g, hum_V=0.2, gen_high_V=gen, gen_low_V=-gen), **over)
        elif mode == "spikes":
            over = dict(dict(spikes_per_s=10.0, bursts_per_s=2.0), **over)
        elif mode == "ringing":
            over = dict(dict(ring_frac=0.2, tau_fast_us=9.0, tau_slow_us=9.0), **over)
        line = cp.realistic_line(r, **over)
        _STREAMS[key] = cp.render(line, cp.random_segments(r, 16, corners=corners), seed)
    return _STREAMS[key]


def check(sc: cpscore.Score, stream: cp.Stream):
    assert sc.problems() == {}, sc.problems()
    changes = cpscore.truth_changes(stream)
    assert len(sc.latencies) == len(changes) >= 10
    assert sc.duty_max_mean_error <= 0.5


@pytest.mark.parametrize("mode,seed", [("realistic", s) for s in range(4)] + [("corners", 1), ("corners", 2)]
                         + [("spikes", 3), ("spikes", 4)] + [("ringing", 5), ("ringing", 6)])
def test_realistic_sessions_meet_the_targets(kernels, mode, seed):
    """Every impairment at once at a random strength (mode "realistic"), or one pushed to the issue's
    limit: band corners (J1772 extremes, +-3 % drift, 200 mV hum), 10 spikes/s + 2 bursts/s, 20 %
    ringing with 20 us (10-90 %) RC edges."""
    stream = session(seed, mode)
    r = cpscore.feed(stream, classifier(kernels), FAST_MS)
    sc = cpscore.score(stream, r, FAST_MS, SLOW_MS)
    check(sc, stream)
    # power removal is decided within IEC 61851-1's 100 ms, always
    assert all(lat <= 100.0 for _, s, lat in sc.latencies if s not in cp.POWER_STATES)


@pytest.mark.parametrize("block_n,sample_us", [(2000, 10.0), (2000, 5.0), (500, 20.0)])
def test_other_block_sizes_and_rates(kernels, block_n, sample_us):
    """20 ms blocks at 100 kS/s and 200 kS/s, 10 ms blocks at 50 kS/s (the slow debounce counts in
    whole blocks: 250 ms is 260 ms with 20 ms blocks)."""
    stream = session(7, "realistic", block_n=block_n, sample_us=sample_us, bounce_ms=0.0)
    r = cpscore.feed(stream, classifier(kernels), FAST_MS)
    check(cpscore.score(stream, r, FAST_MS, SLOW_MS), stream)


@pytest.mark.parametrize("hz", [980.0, 1000.0, 1020.0])
def test_ideal_waveforms_stay_perfect(kernels, hz):
    """Ideal square waves (no noise, ideal edges, nominal levels): every state, duties 8..96 %, X1,
    F, diode faults: decisions at the earliest block, duty within the sampling resolution."""
    line = cp.Line(pwm_hz=hz)
    segs = [cp.Segment(300, "A"), cp.Segment(300, "B"), cp.Segment(400, "B", 8.0), cp.Segment(600, "C", 8.0),
            cp.Segment(400, "C", 96.0), cp.Segment(300, "B", 53.3), cp.Segment(400, "D", 26.67),
            cp.Segment(300, "C", 26.67, diode_fault=True), cp.Segment(300, "F"), cp.Segment(300, "E"),
            cp.Segment(300, "A", 90.0), cp.Segment(300, "B", 96.0, diode_fault=True)]
    stream = cp.render(line, segs, 1)
    r = cpscore.feed(stream, classifier(kernels), FAST_MS)
    sc = cpscore.score(stream, r, FAST_MS, SLOW_MS)
    assert sc.problems() == {}, sc.problems()
    for t, state, lat in sc.latencies:  # the first whole block of the new state, + the debounce
        first = (int(t // line.block_ms) + 1) * line.block_ms
        if first - t < 1e-9:
            first = t
        need = SLOW_MS if state in cp.POWER_STATES else FAST_MS
        assert lat <= first - t + line.block_ms + need + 1e-9, (t, state, lat)
    assert len(sc.diode_latencies) == 2
