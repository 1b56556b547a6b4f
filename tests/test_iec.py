"""The IEC adapter (spec §1.4, §1.5): raw CP -> abstract events, contactor rules, lock, timers."""
from __future__ import annotations

import pytest

from evsefast.manager.iec import IecAdapter
from evsefast.testing import FakeBoard, ManagerHarness
from evsefast.types import PowerOnOff, PowerOnOffReason

FULL = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)
POWER_OFF = ("allow_power_on", False, "PowerOff")
POWER_ON = ("allow_power_on", True, "FullPowerCharging")


def adapter(**kw):
    board = FakeBoard()
    a = IecAdapter(board, **kw)
    a.enabled = True
    return a, board


def feed(a, raw, now=0):
    a.events.clear()
    a.feed(raw, now)
    return list(a.events)


@pytest.mark.arm
def test_abstract_events():
    a, b = adapter()
    assert feed(a, "B") == ["CarRequestedStopPower", "CarPluggedIn"]  # from Disabled
    assert feed(a, "C") == ["CarRequestedPower"]
    assert feed(a, "B") == ["CarRequestedStopPower"]
    assert feed(a, "E") == ["BCDtoEF", "BCDtoE"]
    assert feed(a, "B") == ["CarRequestedStopPower", "EFtoBCD"]
    assert feed(a, "F") == ["BCDtoEF"]
    assert feed(a, "B") == ["CarRequestedStopPower", "EFtoBCD"]
    assert feed(a, "A") == ["CarUnplugged"]
    assert feed(a, "A") == []
    assert feed(a, "F") == []
    assert feed(a, "B") == ["CarRequestedStopPower", "CarPluggedIn", "EFtoBCD"]  # F and not plugged


def test_disabled_adapter_drops_cp_events_but_tracks_relays():
    a, b = adapter()
    a.enabled = False
    assert feed(a, "B") == []
    assert feed(a, "PowerOn") == ["PowerOn"]
    assert a.relais_on and ("lock",) in b.commands


def test_disconnected_is_raw_disabled():
    a, b = adapter()
    feed(a, "B")
    b.clear()
    assert feed(a, "Disconnected") == []
    assert b.commands[0] == POWER_OFF and ("cp_state_X1",) in b.commands


def test_power_on_only_in_c_with_pwm_and_permission():
    a, b = adapter()
    feed(a, "B")
    a.allow_power_on(True, FULL, 0)
    assert POWER_ON not in b.commands  # B: only the flag
    a.set_pwm(0.266, 0)
    assert POWER_ON not in b.commands
    feed(a, "C")
    assert b.commands[-1] == POWER_ON


def test_power_on_when_pwm_starts_in_c():
    a, b = adapter()
    feed(a, "B")
    feed(a, "C")
    a.allow_power_on(True, FULL, 0)
    assert POWER_ON not in b.commands  # no PWM yet
    a.set_pwm(0.266, 0)
    assert b.commands[-1] == POWER_ON


def test_d_without_ventilation_never_powers():
    a, b = adapter(has_ventilation=False)
    feed(a, "B")
    a.set_pwm(0.266, 0)
    a.allow_power_on(True, FULL, 0)
    feed(a, "D")
    assert POWER_ON not in b.commands


def test_d_with_ventilation_is_like_c():
    a, b = adapter()
    feed(a, "B")
    a.set_pwm(0.266, 0)
    a.allow_power_on(True, FULL, 0)
    assert feed(a, "D") == ["CarRequestedPower"]  # handled exactly like C
    assert b.commands[-1] == POWER_ON


@pytest.mark.parametrize("raw", ["A", "B", "E", "F", "Disconnected"])
def test_power_off_is_first_command(raw):
    a, b = adapter()
    feed(a, "B")
    a.set_pwm(0.266, 0)
    a.allow_power_on(True, FULL, 0)
    feed(a, "C")
    b.clear()
    feed(a, raw)
    assert b.commands[0] == POWER_OFF


@pytest.mark.arm
def test_c1_timer_6s():
    a, b = adapter()
    feed(a, "B")
    a.set_pwm(0.266, 0)
    a.allow_power_on(True, FULL, 0)
    feed(a, "C")
    b.clear()
    a.x1(1000)  # PWM off while the EV stays in C
    assert a.next_deadline() == 7000
    a.check_timers(6999)
    assert POWER_OFF not in b.commands
    a.check_timers(7000)
    assert b.commands[-1] == POWER_OFF
    assert a.next_deadline() is None


def test_c1_timer_stopped_by_b_or_pwm():
    a, b = adapter()
    feed(a, "B")
    a.set_pwm(0.266, 0)
    feed(a, "C")
    a.x1(0)
    feed(a, "B")
    assert a.next_deadline() is None
    feed(a, "C")
    a.set_pwm(0.266, 0)
    a.x1(0)
    a.set_pwm(0.266, 10)
    assert a.next_deadline() is None


def test_unlock_in_f_after_5s():
    a, b = adapter()
    feed(a, "B")
    assert b.commands[-1] == ("lock",) or ("lock",) in b.commands
    feed(a, "F", 100)
    assert a.next_deadline() == 5100
    a.check_timers(5099)
    assert ("unlock",) not in b.commands
    a.check_timers(5100)
    assert b.commands[-1] == ("unlock",)


def test_lock_held_while_relays_on():
    a, b = adapter()
    feed(a, "B")
    feed(a, "C")
    feed(a, "PowerOn")
    b.clear()
    feed(a, "A")
    assert ("unlock",) not in b.commands  # relays still closed
    feed(a, "PowerOff")
    assert b.commands[-1] == ("unlock",)


def test_no_lock_in_b_when_configured():
    a, b = adapter(lock_connector_in_state_b=False)
    feed(a, "B")
    assert ("lock",) not in b.commands
    feed(a, "C")
    assert ("lock",) in b.commands


def test_force_unlock():
    a, b = adapter()
    feed(a, "B")
    a.force_unlock()
    assert b.commands[-1] == ("unlock",)
    feed(a, "C")  # stays unlocked: force flag
    assert b.commands[-1] != ("lock",)
    feed(a, "A")
    feed(a, "B")  # A resets the force flag
    assert b.commands[-1] == ("lock",) or ("lock",) in b.commands[-3:]


def test_overcurrent_limit_only_on_change():
    a, b = adapter()
    a.set_overcurrent_limit(0.0)
    a.set_overcurrent_limit(0.0)
    a.set_overcurrent_limit(16.0)
    assert [c for c in b.commands if c[0] == "ac_set_overcurrent_limit_A"] == [
        ("ac_set_overcurrent_limit_A", 0.0), ("ac_set_overcurrent_limit_A", 16.0)]


def test_simplified_mode_a_to_c(kernels):
    """An EV plugging straight into C: CarPluggedIn, then CarRequestedPower once the PWM starts."""
    h = ManagerHarness(kernels=kernels, config={"hack_simplified_mode_limit_10A": True})
    h.cp("A")
    h.cp("C")
    assert h.mgr.state == "WaitingForAuthentication"
    h.authorize()
    assert h.mgr.state == "Charging"
    pwm = [c[1] for c in h.board.commands if c[0] == "pwm_on"]
    assert pwm[-1] == pytest.approx(100 * 10 / 60)  # capped at 10 A


def test_c1_through_the_manager(kernels):
    """The 6 s C1 rule: PWM off (EVSE pause) while the EV stays in C -> power off after 6 s."""
    h = ManagerHarness(kernels=kernels)
    h.start_charging()
    h.advance(1_000)
    h.mgr.pause_charging()
    h.mark()
    h.advance(5_999)
    assert POWER_OFF not in h.board.commands
    h.advance(1)
    assert h.board.commands == [POWER_OFF]
