"""Debounced streaming classification, decisions and their evidence; the fused synth+classify loop."""
from array import array

import pytest

from evsefast import pilot as api
from evsefast.errors import InvalidInput

BLOCK_MS = 10.0  # 1000 samples at 10 us


class Car:
    """A synthesiser plus a block buffer; ``run`` feeds blocks until a time and records changes."""

    def __init__(self, kernels, clf, **kw):
        self.synth = api.cp_synth(kernels=kernels, **kw)
        self.clf = clf
        self.buf = array("H", bytes(2000))
        self.t_ms = 0.0
        self.changes = []

    def run(self, until_ms, high_V=None, duty_pct=None):
        if high_V is not None:
            self.synth.set_levels(high_V, -12.0)
        if duty_pct is not None:
            self.synth.set_duty(duty_pct)
        while self.t_ms < until_ms:
            self.synth.fill_u16(self.buf)
            self.t_ms += BLOCK_MS
            if self.clf.feed_u16(self.buf, self.t_ms):
                self.changes.append((self.t_ms, self.clf.state))


@pytest.mark.arm
def test_fast_path_c_to_b_and_slow_path_b_to_c(kernels):
    clf = api.PilotClassifier(kernels=kernels, debounce_fast_ms=20.0, debounce_slow_ms=250.0)
    car = Car(kernels, clf, duty_pct=26.67, high_V=9.0)
    car.run(100.0)
    # first B block at t=10: decided once it held 20 ms (fast: B removes power)
    assert car.changes == [(30.0, "B")]
    d = clf.decision()
    assert d.state == "B" and d.previous_state == "unknown" and d.held_ms == 20.0 and d.since_ms == 10.0
    assert d.pwm and d.high_V == pytest.approx(9.0, abs=0.01) and abs(d.duty_pct - 26.67) <= 1.0

    car.run(600.0, high_V=6.0)  # S2 closes at t=100: first C block ends at 110
    assert car.changes[1] == (360.0, "C")  # slow path: 110 + 250
    d = clf.decision()
    assert d.previous_state == "B" and d.held_ms == 250.0 and d.since_ms == 110.0
    assert d.high_V == pytest.approx(6.0, abs=0.01)

    car.run(700.0, high_V=9.0)  # S2 opens at t=600: first B block ends at 610
    assert car.changes[2] == (630.0, "B")  # fast path: 610 + 20
    d = clf.decision()
    assert d.state == "B" and d.previous_state == "C" and d.held_ms == 20.0


@pytest.mark.arm
@pytest.mark.parametrize("to_state,level,duty", [("A", 12.0, 26.67), ("E", 0.0, 100.0), ("F", 9.0, 0.0)])
def test_every_power_removing_change_is_fast(kernels, to_state, level, duty):
    clf = api.PilotClassifier(kernels=kernels, debounce_fast_ms=30.0, debounce_slow_ms=500.0)
    car = Car(kernels, clf, duty_pct=26.67, high_V=6.0)
    car.run(1000.0)
    assert car.changes == [(510.0, "C")]
    car.run(1100.0, high_V=level, duty_pct=duty)
    assert car.changes[1] == (1040.0, to_state)


@pytest.mark.arm
def test_short_blip_is_debounced(kernels):
    clf = api.PilotClassifier(kernels=kernels, debounce_fast_ms=20.0, debounce_slow_ms=250.0)
    car = Car(kernels, clf, duty_pct=26.67, high_V=9.0)
    car.run(100.0)
    car.run(300.0, high_V=6.0)  # C for 200 ms < 250 ms
    car.run(400.0, high_V=9.0)
    car.run(410.0, high_V=12.0)  # A for one block (held 0 ms < 20 ms)
    car.run(500.0, high_V=9.0)
    assert [s for _, s in car.changes] == ["B"]
    assert clf.kernel.blocks == 50


@pytest.mark.arm
def test_empty_blocks_are_no_evidence(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    assert clf.feed_u16(array("H"), 10.0) == 0
    assert clf.state == "unknown" and clf.kernel.blocks == 0


@pytest.mark.arm
def test_reject_unstable_keeps_the_last_state(kernels):
    clf = api.PilotClassifier(kernels=kernels, reject_unstable=True)
    car = Car(kernels, clf, duty_pct=26.67, high_V=9.0)
    car.run(100.0)
    car.synth.set_noise(1.0, 2)
    car.run(300.0, high_V=12.0)  # noisy A: every block unstable
    assert [s for _, s in car.changes] == ["B"]
    car.synth.set_noise(0.0, 0)
    car.run(400.0)
    assert [s for _, s in car.changes] == ["B", "A"]


@pytest.mark.arm
def test_float32_stream(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    s = api.cp_synth(kernels=kernels, duty_pct=53.3, high_V=6.0)
    buf = array("f", bytes(4000))
    changed = []
    for k in range(1, 40):
        s.fill_f32(buf)
        if clf.feed_f32(buf, k * BLOCK_MS):
            changed.append((k * BLOCK_MS, clf.state))
    assert changed == [(260.0, "C")]


@pytest.mark.arm
def test_decision_before_any_change(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    d = clf.decision()
    assert d.state == "unknown" and d.previous_state == "unknown" and d.held_ms == 0.0


@pytest.mark.arm
def test_reset(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    car = Car(kernels, clf, duty_pct=26.67, high_V=9.0)
    car.run(100.0)
    clf.reset()
    assert clf.state == "unknown" and clf.kernel.blocks == 0 and clf.kernel.changes == 0


@pytest.mark.arm
def test_drive_stops_at_the_change(kernels):
    clf = api.PilotClassifier(kernels=kernels, debounce_fast_ms=20.0, debounce_slow_ms=250.0)
    synth = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=9)
    buf = array("H", bytes(2000))
    k = synth.drive(clf.kernel, buf, 1000, 10.0, BLOCK_MS)
    assert k == 3 and clf.state == "B"  # blocks at t=10, 20, 30: held 20 ms at t=30
    assert synth.drive(clf.kernel, buf, 50, 40.0, BLOCK_MS) == 0  # no change: all 50 consumed
    assert clf.kernel.blocks == 53 and synth.samples == 53000
    synth.set_levels(6.0, -12.0)
    k = synth.drive(clf.kernel, buf, 1000, 540.0, BLOCK_MS)
    assert k == 26 and clf.state == "C"  # first C block at 540, decided at 790 = block 26


@pytest.mark.arm
def test_drive_matches_block_by_block(kernels):
    def run(fused):
        clf = api.PilotClassifier(kernels=kernels)
        synth = api.cp_synth(kernels=kernels, duty_pct=10.0, high_V=6.0, noise_V=0.2, seed=4, rise_us=3.0)
        buf = array("H", bytes(1600))
        if fused:
            synth.drive(clf.kernel, buf, 20, 8.0, 8.0)
        else:
            for k in range(20):
                synth.fill_u16(buf)
                clf.kernel.feed_u16(buf, 8.0 + k * 8.0)
                if clf.kernel.changes:
                    break
        return clf.decision(), bytes(buf), synth.rng

    assert run(True) == run(False)


@pytest.mark.arm
def test_diode_fault_duration_is_tracked(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    car = Car(kernels, clf, duty_pct=26.67, high_V=9.0)
    car.run(100.0)
    assert clf.diode_fault_held_ms == 0.0 and not clf.kernel.diode_fault_active
    car.synth.set_levels(9.0, -9.0)  # the car's diode shorts at t=100
    car.run(200.0)
    assert clf.state == "B" and clf.block.diode_fault
    assert clf.kernel.diode_fault_since_ms == 110.0 and clf.diode_fault_held_ms == 90.0
    car.run(210.0, high_V=9.0)  # set_levels(9, -12): healthy again
    assert clf.diode_fault_held_ms == 0.0 and not clf.kernel.diode_fault_active


# ---- issue 14: decide by consequence, hysteresis ------------------------------------------------
def blocks(kernels, *levels, duty=26.67, low=-12.0, noise=0.0):
    """One 10 ms uint16 block per level (PWM at ``duty``; duty 100: constant level)."""
    out = []
    for k, hv in enumerate(levels):
        s = api.cp_synth(kernels=kernels, duty_pct=duty, high_V=hv, low_V=low, noise_V=noise, seed=k + 1,
                         t_us=137.0 * k)
        buf = array("H", bytes(2000))
        s.fill_u16(buf)
        out.append(buf)
    return out


def feed_all(clf, bufs, t0):
    """Feed blocks at t0, t0 + 10, ...; the (t_ms, state) of each change."""
    changes = []
    for k, buf in enumerate(bufs):
        t = t0 + 10.0 * k
        if clf.feed_u16(buf, t):
            changes.append((t, clf.state))
    return changes


def in_c(kernels, **cfg):
    cfg = dict(dict(debounce_fast_ms=20.0, debounce_slow_ms=250.0), **cfg)
    clf = api.PilotClassifier(kernels=kernels, **cfg)
    assert feed_all(clf, blocks(kernels, *[6.0] * 26), 10.0) == [(260.0, "C")]
    return clf


@pytest.mark.arm
def test_leaving_c_on_any_mix_of_non_power_blocks(kernels):
    """No single state persists (A, invalid, B, A, B), yet every block says "remove power": C is left
    after debounce_fast_ms, to the state seen most (A and B twice: the latest, B), with a B block as
    evidence."""
    clf = in_c(kernels, debounce_fast_ms=40.0)
    changes = feed_all(clf, blocks(kernels, 12.0, 7.5, 9.0, 12.0, 9.0, 9.0), 300.0)
    assert changes == [(340.0, "B")]
    d = clf.decision()
    assert d.previous_state == "C" and d.since_ms == 300.0 and d.held_ms == 40.0
    assert d.block_state == "B" and d.high_V == pytest.approx(9.0, abs=0.02)


@pytest.mark.arm
def test_leaving_c_on_invalid_levels_only_reports_invalid(kernels):
    clf = in_c(kernels)
    assert feed_all(clf, blocks(kernels, 7.5, 10.5, 7.5), 300.0) == [(320.0, "invalid")]


@pytest.mark.arm
def test_a_c_block_ends_the_run(kernels):
    """C blocks in between are evidence the car still asks for power: the run restarts."""
    clf = in_c(kernels)
    assert feed_all(clf, blocks(kernels, 9.0, 9.0, 6.0, 9.0, 7.5, 6.0, 9.0), 300.0) == []
    assert clf.state == "C"


@pytest.mark.arm
def test_entering_c_still_needs_c_to_persist(kernels):
    clf = api.PilotClassifier(kernels=kernels, debounce_fast_ms=20.0, debounce_slow_ms=250.0)
    levels = [9.0] * 3 + [6.0] * 20 + [9.0] + [6.0] * 26
    changes = feed_all(clf, blocks(kernels, *levels), 10.0)
    # B at 30; C from t=40 interrupted at t=240 by one B block: the hold restarts at 250
    assert changes == [(30.0, "B"), (500.0, "C")]


@pytest.mark.arm
def test_hysteresis_keeps_the_state_at_a_band_corner(kernels):
    """B read at 7.8 V (IEC's B band starts at 8 V): within 0.4 V of B, so still B; without hysteresis
    it is an invalid level."""
    for h, expect in ((0.4, []), (0.0, [(120.0, "invalid")])):
        clf = api.PilotClassifier(kernels=kernels, hysteresis_V=h)
        assert feed_all(clf, blocks(kernels, 9.0, 9.0, 9.0), 10.0) == [(30.0, "B")]
        assert feed_all(clf, blocks(kernels, 7.8, 7.8, 7.8, 7.8), 100.0) == expect


@pytest.mark.arm
def test_hysteresis_joins_corner_blocks_to_the_next_state(kernels):
    """From A, blocks alternate between 7.9 V (invalid, near B) and 8.1 V (B): B holds from the first
    of them; 7.5 V (not near any band) would restart the hold."""
    clf = api.PilotClassifier(kernels=kernels)
    assert feed_all(clf, blocks(kernels, 12.0, 12.0, 12.0), 10.0) == [(30.0, "A")]
    assert feed_all(clf, blocks(kernels, 7.9, 8.1, 7.9, 8.1), 100.0) == [(120.0, "B")]
    assert clf.decision().since_ms == 100.0
    clf = api.PilotClassifier(kernels=kernels)
    feed_all(clf, blocks(kernels, 12.0, 12.0, 12.0), 10.0)
    assert feed_all(clf, blocks(kernels, 7.5, 8.1, 8.1, 8.1), 100.0) == [(130.0, "B")]


@pytest.mark.arm
def test_reject_unstable_still_leaves_c(kernels):
    """Unstable blocks are no evidence with reject_unstable, except that C/D is left on them."""
    clf = in_c(kernels, reject_unstable=True)
    bufs = blocks(kernels, 9.0, 9.0, 9.0, noise=1.0)
    assert feed_all(clf, bufs, 300.0) == [(320.0, "B")]
    assert clf.block.unstable


@pytest.mark.arm
def test_diode_fault_has_hysteresis(kernels):
    """-13.2 V (divider drift) is outside the -13..-11 V band but within 0.4 V of it: no fault;
    -9 V (shorted diode) starts one, which then holds until the low level is back inside the band."""
    clf = api.PilotClassifier(kernels=kernels)
    feed_all(clf, blocks(kernels, 9.0, 9.0, 9.0, low=-13.2), 10.0)
    assert clf.state == "B" and clf.block.diode_fault and not clf.kernel.diode_fault_active
    feed_all(clf, blocks(kernels, 9.0, 9.0, low=-9.0), 40.0)
    assert clf.kernel.diode_fault_active and clf.diode_fault_held_ms == 10.0
    feed_all(clf, blocks(kernels, 9.0, low=-13.2), 60.0)
    assert clf.kernel.diode_fault_active and clf.diode_fault_held_ms == 20.0
    feed_all(clf, blocks(kernels, 9.0, low=-12.0), 70.0)
    assert not clf.kernel.diode_fault_active and clf.diode_fault_held_ms == 0.0


@pytest.mark.arm
@pytest.mark.parametrize("block_len", [1, 7, 100, 250, 1000])
def test_feed_many_matches_block_by_block(kernels, block_len):
    """One call over many small blocks = one feed_u16 per block (same times, same stop)."""
    synth = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=12)
    stream = array("H", bytes(2 * 60_000))
    synth.fill_u16(stream)
    synth.set_levels(6.0, -12.0)
    tail = array("H", bytes(2 * 60_000))
    synth.fill_u16(tail)
    stream.extend(tail)
    stream.extend(array("H", [2000] * (block_len // 2)))  # a partial block at the end: left out
    block_ms = block_len * 0.01
    many = api.PilotClassifier(kernels=kernels)
    one = api.PilotClassifier(kernels=kernels)
    n_blocks = len(stream) // block_len
    results, pos = [], 0
    while pos < n_blocks:
        k = many.feed_many(memoryview(stream)[pos * block_len:], block_len, 5.0 + pos * block_ms, block_ms)
        results.append((pos + k if k else 0, many.state))
        if not k:
            break
        pos += k
    expected = []
    for b in range(n_blocks):
        if one.feed_u16(stream[b * block_len:(b + 1) * block_len], 5.0 + b * block_ms):
            expected.append((b + 1, one.state))
    expected.append((0, one.state))
    assert results == expected
    if block_len >= 100:  # (1 or 7 samples never hold a PWM period: no decision)
        assert [s for _, s in results] == ["B", "C", "C"]
    assert many.kernel.blocks == one.kernel.blocks == n_blocks
    assert many.decision() == one.decision()


def test_feed_many_validates(kernels):
    clf = api.PilotClassifier(kernels=kernels)
    buf = array("H", [2000] * 10)
    with pytest.raises(InvalidInput, match=r"block_len must be an integer in \[1, 1073741824\], got 0"):
        clf.feed_many(buf, 0, 0.0, 1.0)
    with pytest.raises(InvalidInput, match="block_len must be an integer"):
        clf.feed_many(buf, 2.0, 0.0, 1.0)
    with pytest.raises(InvalidInput, match=r"block_ms must be in \[0, 1e9\] milliseconds"):
        clf.feed_many(buf, 2, 0.0, -1.0)
    with pytest.raises(InvalidInput, match="t_ms must be a finite number"):
        clf.feed_many(buf, 2, float("nan"), 1.0)
    with pytest.raises(InvalidInput, match="samples"):
        clf.feed_many(["x"], 2, 0.0, 1.0)
    assert clf.feed_many(buf, 11, 0.0, 1.0) == 0 and clf.kernel.blocks == 0  # no whole block
    assert clf.feed_many([2000] * 4, 2, 0.0, 1.0) == 0 and clf.kernel.blocks == 2  # a list is converted


def test_the_streaming_kernel_shares_the_state_codes(kernels):
    """pilotstream.py (the streaming classifier) keeps its own copies of pilot.py's state codes."""
    p = kernels.pilot
    assert p.PilotClassifier is kernels.pilotstream.PilotClassifier
    for state in (p.STATE_A, p.STATE_B, p.STATE_E, p.STATE_F, p.STATE_INVALID):
        assert p.removes_power(state)
    assert not p.removes_power(p.STATE_C) and not p.removes_power(p.STATE_D)
    clf = p.PilotClassifier(p.PilotConfig())
    assert clf.state == p.STATE_UNKNOWN
