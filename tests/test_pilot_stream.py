"""Debounced streaming classification, decisions and their evidence; the fused synth+classify loop."""
from array import array

import pytest

from evsefast import pilot as api

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
