"""pwm kernel: spec evse_manager.md §1.2 (EVerest encoder, Annex A decoder, board percent)."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsefast import pwm
from evsefast.errors import InvalidInput

# every worked value of §1.2: amps -> duty fraction
WORKED = [
    (0.0, 1.0), (5.0, 1.0), (5.9, 0.10), (6.0, 0.10), (6.1, 0.10), (6.2, 0.103333), (10.0, 0.166667),
    (13.0, 0.216667), (16.0, 0.266667), (20.0, 0.333333), (25.0, 0.416667), (32.0, 0.533333),
    (40.0, 0.666667), (51.0, 0.85), (52.0, 0.85), (52.5, 0.85), (63.0, 0.892), (70.0, 0.92),
    (80.0, 0.96), (80.05, 0.97), (80.1, 0.97), (81.0, 1.0),
]


@pytest.mark.arm
@pytest.mark.parametrize(("amps", "duty"), WORKED, ids=[f"{a}A" for a, _ in WORKED])
def test_worked_values(kernels, amps, duty):
    assert kernels.pwm.duty_from_current(amps) == pytest.approx(duty, abs=1e-4)


@pytest.mark.arm
@pytest.mark.parametrize(
    ("amps", "duty"),
    [
        (5.8999, 1.0), (5.9, 0.10), (6.1, 0.10), (6.1001, 6.1001 / 60.0),  # 5.9 / 6.1 A edges
        (51.0, 0.85), (51.0001, 0.85), (52.4999, 0.85), (52.5, 0.85), (52.5001, (52.5001 / 2.5 + 64) / 100),
        (80.0, 0.96), (80.0001, 0.97), (80.1, 0.97), (80.1001, 1.0),  # 80 / 80.1 A edges
        (-10.0, 1.0), (1000.0, 1.0), (math.nan, 1.0), (math.inf, 1.0), (-math.inf, 1.0),
    ],
)
def test_encoder_edges(kernels, amps, duty):
    assert kernels.pwm.duty_from_current(amps) == pytest.approx(duty, abs=1e-9)


@pytest.mark.arm
def test_16A_sends_26_6667_percent_to_the_board(kernels):
    duty = kernels.pwm.duty_from_current(16.0)
    assert kernels.pwm.board_percent(duty) == pytest.approx(26.6667, abs=1e-4)
    assert kernels.pwm.is_valid_board_percent(kernels.pwm.board_percent(duty))


@pytest.mark.arm
def test_five_percent_digital_communication(kernels):
    k = kernels.pwm
    assert k.PWM_5_PERCENT == 0.05
    assert k.board_percent(k.PWM_5_PERCENT) == pytest.approx(5.0)
    assert k.is_valid_board_percent(k.board_percent(k.PWM_5_PERCENT))
    assert k.is_digital_communication_pct(5.0)
    assert k.is_digital_communication_pct(3.0) and k.is_digital_communication_pct(7.0)
    assert not k.is_digital_communication_pct(2.99) and not k.is_digital_communication_pct(7.01)
    assert k.current_from_duty_pct(5.0) == 0.0  # no PWM charging on 5 %


@pytest.mark.arm
@pytest.mark.parametrize(
    ("pct", "valid"),
    [(5.0, True), (100.0, True), (10.0, True), (97.0, True), (26.666666666666668, True),
     (0.0, False), (4.0, False), (9.99, False), (97.01, False), (99.0, False)],
)
def test_valid_board_percent(kernels, pct, valid):
    assert kernels.pwm.is_valid_board_percent(pct) is valid


# IEC 61851-1 Annex A, EV side
ANNEX_A = [
    (0.0, 0.0), (2.9, 0.0), (5.0, 0.0), (7.9, 0.0), (8.0, 6.0), (9.9, 6.0), (10.0, 6.0), (25.0, 15.0),
    (50.0, 30.0), (85.0, 51.0), (90.0, 65.0), (96.0, 80.0), (96.5, 80.0), (97.0, 80.0), (97.1, 0.0),
    (100.0, 0.0), (math.nan, 0.0),
]


@pytest.mark.arm
@pytest.mark.parametrize(("pct", "amps"), ANNEX_A)
def test_annex_a_current_from_duty(kernels, pct, amps):
    assert kernels.pwm.current_from_duty_pct(pct) == pytest.approx(amps, abs=1e-9)


@pytest.mark.arm
@pytest.mark.parametrize("amps", [6.2, 10.0, 16.0, 32.0, 51.0, 53.0, 63.0, 70.0, 80.0])
def test_round_trip_through_the_ev_side(kernels, amps):
    duty = kernels.pwm.duty_from_current(amps)
    assert kernels.pwm.current_from_duty_pct(duty * 100.0) == pytest.approx(amps, abs=1e-9)


@pytest.mark.parametrize("build", ["compiled", "pure"])
def test_thin_api_rejects_with_argument_name(both_builds, build):
    ks = dict(zip(("compiled", "pure"), both_builds))[build]
    assert pwm.duty_from_current(16, kernels=ks) == pytest.approx(0.266667, abs=1e-4)
    for bad in (1000.5, -2000, math.nan, "x", None, True):
        with pytest.raises(InvalidInput, match=r"current_A must be .*\[-1000.0, 1000.0\]"):
            pwm.duty_from_current(bad, kernels=ks)
    with pytest.raises(InvalidInput, match=r"duty must be in \[0.0, 1.0\]"):
        pwm.board_percent(1.5, kernels=ks)
    with pytest.raises(InvalidInput, match=r"duty_pct"):
        pwm.current_from_duty_pct(101, kernels=ks)
    with pytest.raises(InvalidInput, match=r"duty_pct"):
        pwm.is_valid_board_percent(-1, kernels=ks)


floats = st.floats(allow_nan=True, allow_infinity=True)


@given(floats)
def test_duty_differential(both_builds, x):
    c, p = both_builds
    assert c.pwm.duty_from_current(x) == pytest.approx(p.pwm.duty_from_current(x), rel=1e-12)
    assert c.pwm.current_from_duty_pct(x) == pytest.approx(p.pwm.current_from_duty_pct(x), rel=1e-12)
    assert c.pwm.is_valid_board_percent(x) == p.pwm.is_valid_board_percent(x)
    assert c.pwm.is_digital_communication_pct(x) == p.pwm.is_digital_communication_pct(x)
    y = c.pwm.board_percent(x)
    assert (y != y and x != x) or y == pytest.approx(p.pwm.board_percent(x), rel=1e-12)


@given(st.floats(min_value=0.0, max_value=1000.0))
def test_duty_is_a_fraction_and_monotone_in_the_pwm_range(both_builds, amps):
    for k in both_builds:
        d = k.pwm.duty_from_current(amps)
        assert 0.0 < d <= 1.0
        if 5.9 <= amps <= 80.1:
            assert 0.10 <= d <= 0.97
            assert k.pwm.duty_from_current(min(amps + 0.01, 80.1)) >= d
