"""Time-based charger rules: the 30 s legacy wake-up (T_step_EF), paused-by-EV after it, the 20 s
stopping timeout, and deadlines that let a runner sleep exactly until the next action."""
from __future__ import annotations

import pytest

from evsefast.testing import ManagerHarness

POWER_OFF = ("allow_power_on", False, "PowerOff")


@pytest.fixture
def h(kernels):
    return ManagerHarness(kernels=kernels)


@pytest.mark.arm
def test_30s_wakeup_then_paused_ev(h):
    h.plug_in()
    h.authorize()  # PrepareCharging at t = 0, PWM on, EV stays in B
    assert h.mgr.next_deadline_ms() == 30_000
    m = h.mark()
    h.advance(29_999)
    assert h.board.commands == []
    h.advance(1)  # 30 s in B: F for 4 s
    assert h.mgr.state == "T_step_EF"
    assert h.board.commands == [("cp_state_F",)]
    h.advance(3_999)
    assert h.board.commands == [("cp_state_F",)]
    h.advance(1)  # then X1
    assert h.board.commands[-1] == ("cp_state_X1",)
    h.advance(749)
    assert h.mgr.state == "T_step_EF"
    h.advance(1)  # 4.75 s: the nominal duty again, back to PrepareCharging
    assert h.board.commands[-1] == ("pwm_on", pytest.approx(100 * 16 / 60))
    assert h.mgr.state == "PrepareCharging"
    h.advance(9_999)
    assert h.mgr.state == "PrepareCharging"
    h.advance(1)  # 10 s more in B after the wake-up
    assert h.mgr.state == "ChargingPausedEV"
    assert h.since(m) == ["ChargingPausedEV"]
    h.cp("C")  # the EV finally wants power
    assert h.mgr.state == "Charging"
    assert h.since(m) == ["ChargingPausedEV", "ChargingStarted"]


def test_wakeup_only_once_per_charging_episode(h):
    h.plug_in()
    h.authorize()
    h.advance(30_000 + 4_750 + 10_000)
    assert h.mgr.state == "ChargingPausedEV"
    h.mark()
    h.advance(60_000)
    assert ("cp_state_F",) not in h.board.commands


def test_wakeup_in_b_after_c_b_a_f_from_board_reports(h):
    """A board that reports the F it drives: the adapter's events do not disturb the wake-up."""
    h.plug_in()
    h.authorize()
    h.advance(30_000)
    h.cp("F")
    h.advance(4_000)
    h.cp("B")
    h.advance(750)
    assert h.mgr.state == "PrepareCharging"
    h.cp("C")
    assert h.mgr.state == "Charging"


def test_stopping_timeout_20s_forces_power_off(h):
    h.start_charging()
    h.cp("PowerOn")
    h.mgr.stop_transaction({"reason": "Local"})
    assert h.mgr.state == "StoppingCharging"
    h.mark()
    h.advance(19_999)
    # the EV ignores X1 and stays in C: the C1 timer powers off after 6 s
    assert h.board.commands == [POWER_OFF]
    assert h.mgr.state == "StoppingCharging"  # the board never confirmed PowerOff
    h.advance(1)
    assert h.board.commands == [POWER_OFF, POWER_OFF]
    h.cp("PowerOff")
    assert h.mgr.state == "Finished"
    assert h.event_names()[-1] == "SessionCancelled"


def test_idle_has_no_deadline(h):
    assert h.mgr.next_deadline_ms() == 3_600_000 + 1_000  # only the budget expiry
    h.limit(16.0, valid_for=0)  # rejected: valid_until must be in the future
    assert h.mgr.get("limits").max_current == 16.0


def test_tick_without_work_changes_nothing(h):
    h.start_charging()
    cmds = list(h.board.commands)
    events = h.event_names()
    for _ in range(100):
        h.mgr.tick()
    assert h.board.commands == cmds and h.event_names() == events
