"""Pilot block classification on synthesised CP waveforms, both builds.

Calibration in these tests: 12-bit ADC over -15..+15 V (volts_per_count = 30/4095 = 7.3 mV).
Blocks are 1000 samples at 10 us = 10 whole PWM periods unless stated.

Duty tolerance: sampling without synchronisation at period Ts counts each high phase to within one
sample, and with Ts dividing the 1000 us period every period makes the same error, so a block of
whole periods measures duty within 100 * Ts / 1000 us = 1 % (10 us) / 0.1 % (1 us); edges are
symmetric about the mid level, so a finite rise time adds no bias.
"""
from array import array

import pytest

from evsefast import pilot as api

VPC = 30.0 / 4095.0
STATE_LEVELS = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0, "E": 0.0}
DUTIES = (5.0, 10.0, 26.67, 53.3, 89.2, 97.0)


def synth(kernels, n=1000, **kw):
    s = api.cp_synth(kernels=kernels, **kw)
    buf = array("H", bytes(2 * n))
    s.fill_u16(buf)
    return buf


def classify(kernels, buf, **cfg):
    return api.classify_block_u16(buf, config=cfg or None, kernels=kernels)


def duty_tol(sample_period_us):
    return 100.0 * sample_period_us / 1000.0 + 1e-9


@pytest.mark.arm
@pytest.mark.parametrize("state", list(STATE_LEVELS))
@pytest.mark.parametrize("duty", DUTIES)
def test_clean_pwm_every_state_and_duty(kernels, state, duty):
    hv = STATE_LEVELS[state]
    buf = synth(kernels, duty_pct=duty, high_V=hv, t_us=123.0)
    b = classify(kernels, buf)
    assert api.STATE_NAMES[b.state] == state
    assert b.pwm and not b.diode_fault and not b.unstable
    assert abs(b.duty_pct - duty) <= duty_tol(10.0)
    assert b.high_V == pytest.approx(hv, abs=VPC)
    assert b.low_V == pytest.approx(-12.0, abs=VPC)
    assert b.n_rejected == 0 and b.n_valid == 1000


@pytest.mark.parametrize("state", list(STATE_LEVELS))
@pytest.mark.parametrize("duty", DUTIES)
@pytest.mark.parametrize("kind", [1, 2])
def test_noisy_pwm_with_edges(kernels, state, duty, kind):
    # 1 us sampling, 2 us edges, 0.25 V noise (sigma / half-width): levels within 0.1 V
    hv = STATE_LEVELS[state]
    buf = synth(kernels, n=4000, duty_pct=duty, high_V=hv, sample_period_us=1.0, rise_us=2.0,
                noise_V=0.25, noise_kind=kind, seed=7, t_us=417.3)
    b = classify(kernels, buf)
    assert api.STATE_NAMES[b.state] == state
    assert b.pwm and not b.diode_fault and not b.unstable
    # noise near the mid level is 3.5 sigma below a plateau: it cannot flip a sample's side
    assert abs(b.duty_pct - duty) <= duty_tol(1.0) + 0.1
    assert b.high_V == pytest.approx(hv, abs=0.1)
    assert b.low_V == pytest.approx(-12.0, abs=0.1)
    assert 0.0 < b.sigma_high_V < 0.35


@pytest.mark.arm
@pytest.mark.parametrize("state", list(STATE_LEVELS))
def test_constant_levels_x1(kernels, state):
    hv = STATE_LEVELS[state]
    b = classify(kernels, synth(kernels, duty_pct=100.0, high_V=hv))
    assert api.STATE_NAMES[b.state] == state
    assert not b.pwm and b.duty_pct == 100.0
    assert b.high_V == b.low_V == pytest.approx(hv, abs=VPC)


@pytest.mark.arm
def test_all_low_is_state_f(kernels):
    b = classify(kernels, synth(kernels, duty_pct=0.0, high_V=9.0, low_V=-12.0))
    assert api.STATE_NAMES[b.state] == "F"
    assert not b.pwm and b.duty_pct == 0.0
    assert b.low_V == pytest.approx(-12.0, abs=VPC)


@pytest.mark.arm
@pytest.mark.parametrize("level", [7.5, 10.5, 4.5, 1.5, -5.0, 14.9])
def test_levels_between_bands_are_invalid(kernels, level):
    for duty in (100.0, 26.67):
        b = classify(kernels, synth(kernels, duty_pct=duty, high_V=level))
        assert api.STATE_NAMES[b.state] == "invalid", (level, duty)


@pytest.mark.arm
def test_constant_below_f_band_is_invalid(kernels):
    b = classify(kernels, synth(kernels, duty_pct=0.0, low_V=-14.5))
    assert api.STATE_NAMES[b.state] == "invalid"
    assert b.duty_pct == 0.0


@pytest.mark.arm
def test_empty_block(kernels):
    b = classify(kernels, array("H"))
    assert api.STATE_NAMES[b.state] == "invalid"
    assert b.n_samples == 0 and b.n_valid == 0 and b.n_rejected == 0
    f = api.classify_block_f32(array("f"), kernels=kernels)
    assert api.STATE_NAMES[f.state] == "invalid" and f.n_samples == 0


@pytest.mark.arm
def test_out_of_range_samples_are_counted_and_rejected(kernels):
    buf = synth(kernels, duty_pct=26.67, high_V=9.0)
    for i in (0, 17, 333, 999):
        buf[i] = 4096 + i  # above the 12-bit range
    b = classify(kernels, buf)
    assert b.n_rejected == 4 and b.n_valid == 996
    assert api.STATE_NAMES[b.state] == "B"
    assert b.high_V == pytest.approx(9.0, abs=VPC)
    assert abs(b.duty_pct - 26.67) <= duty_tol(10.0) + 0.2


@pytest.mark.arm
def test_all_samples_out_of_range(kernels):
    b = classify(kernels, array("H", [65535] * 100))
    assert api.STATE_NAMES[b.state] == "invalid"
    assert b.n_rejected == 100 and b.n_valid == 0


@pytest.mark.arm
def test_16_bit_adc_has_no_out_of_range(kernels):
    b = api.classify_block_u16(array("H", [65535] * 10), volts_per_count=24.0 / 65535, offset_V=-12.0,
                               adc_bits=16, kernels=kernels)
    assert b.n_rejected == 0 and api.STATE_NAMES[b.state] == "A"


@pytest.mark.arm
@pytest.mark.parametrize("hv,lv", [(9.0, -9.0), (6.0, -6.0), (9.0, -2.0), (12.0, -10.0)])
def test_diode_fault(kernels, hv, lv):
    b = classify(kernels, synth(kernels, duty_pct=26.67, high_V=hv, low_V=lv))
    assert b.pwm and b.diode_fault
    assert b.low_V == pytest.approx(lv, abs=VPC)


@pytest.mark.arm
def test_no_diode_fault_without_pwm(kernels):
    b = classify(kernels, synth(kernels, duty_pct=100.0, high_V=9.0, low_V=-9.0))
    assert not b.pwm and not b.diode_fault


@pytest.mark.arm
def test_unstable_on_heavy_noise(kernels):
    b = classify(kernels, synth(kernels, duty_pct=26.67, high_V=9.0, noise_V=0.9, noise_kind=2, seed=3))
    assert b.unstable


@pytest.mark.arm
def test_unstable_when_level_changes_inside_block(kernels):
    first = synth(kernels, n=500, duty_pct=26.67, high_V=9.0)
    second = synth(kernels, n=500, duty_pct=26.67, high_V=6.0, t_us=5000.0)
    b = classify(kernels, first + second)
    assert b.unstable and b.mid_pct > 10.0


@pytest.mark.arm
def test_single_glitch_is_unstable_not_pwm(kernels):
    buf = synth(kernels, duty_pct=100.0, high_V=9.0)
    buf[500] = 2048  # one sample at 0 V
    b = classify(kernels, buf)
    assert not b.pwm and not b.diode_fault and b.unstable
    assert api.STATE_NAMES[b.state] == "B"
    assert b.high_V == pytest.approx(9.0, abs=VPC)


@pytest.mark.arm
def test_unstable_sigma_threshold_is_configurable(kernels):
    buf = synth(kernels, duty_pct=100.0, high_V=9.0, noise_V=0.2, noise_kind=1, seed=5)
    assert not classify(kernels, buf).unstable
    assert classify(kernels, buf, unstable_sigma_V=0.05).unstable


@pytest.mark.arm
def test_bands_are_configurable(kernels):
    buf = synth(kernels, duty_pct=26.67, high_V=9.7)
    assert api.STATE_NAMES[classify(kernels, buf).state] == "B"
    assert api.STATE_NAMES[classify(kernels, buf, b_min_V=8.36, b_max_V=9.56).state] == "invalid"


@pytest.mark.arm
@pytest.mark.parametrize("duty", DUTIES)
def test_float32_volts_input(kernels, duty):
    s = api.cp_synth(kernels=kernels, duty_pct=duty, high_V=6.0, noise_V=0.05, seed=11)
    buf = array("f", bytes(4000))
    s.fill_f32(buf)
    b = api.classify_block_f32(buf, kernels=kernels)
    assert api.STATE_NAMES[b.state] == "C" and b.pwm
    assert abs(b.duty_pct - duty) <= duty_tol(10.0)
    assert b.high_V == pytest.approx(6.0, abs=0.02)
    assert b.low_V == pytest.approx(-12.0, abs=0.02)


@pytest.mark.arm
def test_float32_out_of_range_and_nan_rejected(kernels):
    s = api.cp_synth(kernels=kernels, duty_pct=53.3, high_V=9.0)
    buf = array("f", bytes(4000))
    s.fill_f32(buf)
    buf[3] = float("nan")
    buf[4] = 100.0
    buf[5] = -float("inf")
    b = api.classify_block_f32(buf, kernels=kernels)
    assert b.n_rejected == 3 and api.STATE_NAMES[b.state] == "B"
    b = api.classify_block_f32(array("f", [float("nan")] * 8), kernels=kernels)
    assert b.n_rejected == 8 and api.STATE_NAMES[b.state] == "invalid"


@pytest.mark.arm
def test_5_percent_at_coarse_sampling(kernels):
    # 50 us sampling: one sample per 50 us high phase; 20 periods give 20 high samples
    buf = synth(kernels, n=400, duty_pct=5.0, high_V=9.0, sample_period_us=50.0, t_us=10.0)
    b = classify(kernels, buf)
    assert b.pwm and api.STATE_NAMES[b.state] == "B"
    assert abs(b.duty_pct - 5.0) <= duty_tol(50.0)
