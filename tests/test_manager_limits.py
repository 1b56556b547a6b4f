"""Current limiting through the manager (spec §3): the §3.3 table, the 5 s PWM rule, budget expiry,
PP cable rules, 1/3-phase switching, soft over-current and the local maximum."""
from __future__ import annotations

import msgspec
import pytest

from evsefast.errors import CommandRejected
from evsefast.testing import DEFAULT_CAPABILITIES, CheckingBoard, ManagerHarness, enforced_limits
from evsefast.types import Ampacity, Current, ProximityPilot

POWER_ON = ("allow_power_on", True, "FullPowerCharging")


def harness(kernels, *, limit_A=None, **caps):
    capabilities = msgspec.structs.replace(DEFAULT_CAPABILITIES, **caps)
    return ManagerHarness(kernels=kernels, board=CheckingBoard(capabilities, kernels=kernels), limit_A=limit_A)


def pwm_values(cmds):
    return [c[1] for c in cmds if c[0] == "pwm_on"]


def pp(h, code):
    h.board.listener.on_ac_pp_ampacity(ProximityPilot(ampacity=Ampacity(code)))
    h.mgr.tick()


TABLE = [
    # (caps, pp, enforce kwargs, expected I_eff, expected pwm percent or None, charging)
    (dict(max_current_A_import=32.0), None, dict(amps=16.0), 16.0, 26.666667, True),
    (dict(max_current_A_import=32.0), None, dict(amps=32.0, watts=11040.0), 16.0, 26.666667, True),
    (dict(max_current_A_import=32.0, max_phase_count_import=1, min_phase_count_import=1), None,
     dict(amps=32.0, watts=11040.0), 32.0, 53.333333, True),
    (dict(), None, dict(amps=32.0, watts=7360.0), 10.666667, 17.777778, True),
    (dict(), None, dict(amps=None, watts=11040.0), 0.0, None, False),
    (dict(connector_type="IEC62196Type2Socket"), "A_20", dict(amps=32.0), 20.0, 33.333333, True),
    (dict(connector_type="IEC62196Type2Socket"), "A_13", dict(amps=10.0), 10.0, 16.666667, True),
    (dict(connector_type="IEC62196Type2Socket", max_current_A_import=80.0, max_phase_count_import=3), "A_63_3ph_70_1ph",
     dict(amps=80.0), 63.0, 89.2, True),
    (dict(connector_type="IEC62196Type2Socket", max_current_A_import=80.0, max_phase_count_import=1,
          min_phase_count_import=1), "A_63_3ph_70_1ph", dict(amps=80.0), 70.0, 92.0, True),
    (dict(max_current_A_import=32.0), None, dict(amps=40.0), 32.0, 53.333333, True),
    (dict(), None, dict(amps=5.9), 5.9, 10.0, False),
    (dict(), None, dict(amps=6.0), 6.0, 10.0, True),
    (dict(), None, dict(amps=-10.0), 0.0, None, False),
]


@pytest.mark.parametrize("caps,pp_code,enforce,i_eff,pwm,charging", TABLE)
def test_limits_table_3_3(kernels, caps, pp_code, enforce, i_eff, pwm, charging):
    h = harness(kernels, **caps)
    enforce = dict(enforce)
    amps = enforce.pop("amps")
    h.limit(amps, **enforce)
    if pp_code is not None:
        pp(h, pp_code)
    h.plug_in()
    h.authorize()
    h.cp("C")
    assert h.mgr.get("limits").max_current == pytest.approx(i_eff, abs=1e-4)
    got = pwm_values(h.board.commands)
    if pwm is None:
        assert got == []
    else:
        assert got[-1] == pytest.approx(pwm, abs=1e-4)
    assert (h.mgr.state == "Charging") is charging
    assert (POWER_ON in h.board.commands) is charging


@pytest.mark.arm
def test_enforce_1500A_is_rejected_and_keeps_the_old_limit(kernels):
    h = ManagerHarness(kernels=kernels)
    h.limit(1500.0)
    assert h.mgr.get("limits").max_current == 16.0
    assert h.mgr.get("enforced_limits").limits_root_side.ac_max_current_A.value == 1500.0


def test_enforce_for_another_module_is_ignored(kernels):
    h = ManagerHarness(kernels=kernels)
    h.limit(10.0, uuid="someone_else")
    assert h.mgr.get("limits").max_current == 16.0


def test_limits_var_shape(kernels):
    h = ManagerHarness(kernels=kernels)
    lim = h.mgr.get("limits")
    assert lim.uuid == "evse_manager" and lim.nr_of_phases_available == 3


def test_every_limits_publication_before_an_energy_manager_answers_says_0_A(kernels):
    """Spec §5.2: the initial limits object has max_current 0; an energy manager never sees 6 A first."""
    h = ManagerHarness(kernels=kernels, start=False, limit_A=None)
    seen = []
    h.mgr.subscribe("limits", lambda lim: seen.append(lim.max_current))
    h.mgr.start()  # the board publishes its capabilities (32 A) at start
    h.sample()
    assert seen and seen[0] == 0.0
    assert set(seen) == {0.0}
    h.mgr.enforce_limits(enforced_limits(16.0))
    assert seen[-1] == 16.0


@pytest.mark.arm
def test_pwm_5s_rule_while_charging(kernels):
    h = ManagerHarness(kernels=kernels)
    h.start_charging()  # pwm_on at t = 0
    h.advance(1_000)
    h.mark()
    h.limit(10.0)
    assert h.mgr.get("limits").max_current == 10.0
    assert pwm_values(h.board.commands) == []
    h.advance(3_999)  # t = 4999
    assert pwm_values(h.board.commands) == []
    h.advance(1)  # t = 5000: first tick after the 5 s mark
    assert pwm_values(h.board.commands) == [pytest.approx(100 * 10 / 60)]
    h.advance(1_000)
    h.limit(20.0)
    h.advance(3_999)
    assert len(pwm_values(h.board.commands)) == 1
    h.advance(1)
    assert pwm_values(h.board.commands)[-1] == pytest.approx(100 * 20 / 60)


def test_pwm_immediate_in_prepare_charging(kernels):
    h = ManagerHarness(kernels=kernels)
    h.plug_in()
    h.authorize()
    h.mark()
    h.limit(10.0)
    assert pwm_values(h.board.commands) == [pytest.approx(100 * 10 / 60)]


@pytest.mark.arm
def test_budget_expiry_whole_second(kernels):
    h = ManagerHarness(kernels=kernels, limit_A=None)
    h.limit(16.0, valid_for=10)  # valid until t = 10 s
    h.start_charging()
    m = h.mark()
    h.advance(10_999)
    assert h.mgr.get("limits").max_current == 16.0
    assert h.mgr.state == "Charging"
    h.advance(1)  # now - valid_until = 1 s
    assert h.mgr.get("limits").max_current == 0.0
    assert h.mgr.state == "ChargingPausedEVSE"
    assert h.since(m) == ["ChargingPausedEVSE"]
    assert h.mgr._core.paused_reasons == ("NoEnergy",)
    h.limit(16.0)  # the energy manager answers again
    assert h.mgr.state == "Charging"
    assert h.since(m) == ["ChargingPausedEVSE", "ChargingResumed"]


def test_startup_limit_is_zero_for_120s(kernels):
    h = ManagerHarness(kernels=kernels, limit_A=None)
    assert h.mgr.get("limits").max_current == 0.0
    assert ("ac_set_overcurrent_limit_A", 0.0) in h.board.commands
    h.plug_in()
    h.authorize()
    h.cp("C")
    assert h.mgr.state == "PrepareCharging"
    assert pwm_values(h.board.commands) == []


def test_pp_unknown_waits_in_wait_for_auth(kernels):
    h = harness(kernels, limit_A=16.0, connector_type="IEC62196Type2Socket")
    h.plug_in()
    h.authorize()
    assert h.mgr.state == "WaitingForAuthentication"
    assert pwm_values(h.board.commands) == []
    pp(h, "A_32")
    assert h.mgr.state == "PrepareCharging"
    assert pwm_values(h.board.commands) == [pytest.approx(100 * 16 / 60)]


def test_pp_cable_limit_only_in_a_session(kernels):
    h = harness(kernels, limit_A=32.0, connector_type="IEC62196Type2Socket")
    pp(h, "A_13")
    assert h.mgr.get("limits").max_current == 32.0  # Idle: no cable limit
    h.plug_in()
    assert h.mgr.get("limits").max_current == 13.0


def test_phase_switch_while_charging(kernels):
    h = ManagerHarness(kernels=kernels)
    h.start_charging()
    m = h.mark()
    h.limit(16.0, phases=1)
    assert h.mgr.state == "SwitchPhases"
    assert h.board.commands[0] == ("cp_state_X1",)
    h.advance(9_999)
    assert ("ac_switch_three_phases_while_charging", False) not in h.board.commands
    h.advance(1)
    assert ("ac_switch_three_phases_while_charging", False) in h.board.commands
    assert h.mgr.state == "Charging"
    assert h.mgr.get("limits").nr_of_phases_available == 1
    assert h.since(m) == ["ChargingResumed"]


def test_phase_switch_outside_charging_is_immediate(kernels):
    h = ManagerHarness(kernels=kernels)
    assert h.mgr.switch_three_phases_while_charging(False).value == "Success"
    assert h.board.commands[-1] == ("ac_switch_three_phases_while_charging", False) or \
        ("ac_switch_three_phases_while_charging", False) in h.board.commands
    assert h.mgr.get("limits").nr_of_phases_available == 1


def test_phase_switch_not_supported(kernels):
    h = harness(kernels, limit_A=16.0, supports_changing_phases_during_charging=False)
    assert h.mgr.switch_three_phases_while_charging(True).value == "Error_NotSupported"
    h.limit(16.0, phases=1)  # logged and ignored
    assert h.mgr.get("limits").nr_of_phases_available == 3


def test_phases_available_from_board(kernels):
    h = ManagerHarness(kernels=kernels)
    h.board.listener.on_ac_nr_of_phases_available(2)
    h.board.listener.on_ac_nr_of_phases_available(7)  # out of range: ignored
    h.mgr.tick()
    assert h.mgr.get("limits").nr_of_phases_available == 2


def _over(h, amps):
    h.sample(current_A=Current(L1=amps, L2=amps, L3=amps))


@pytest.mark.arm
def test_soft_over_current(kernels):
    h = ManagerHarness(kernels=kernels)
    h.start_charging()  # 16 A signalled: limit (16 + 0.5) x 1.1 = 18.15 A
    m = h.mark()
    _over(h, 18.1)
    h.advance(8_000)
    assert h.mgr.state == "Charging"
    _over(h, 18.2)  # over: the timer starts
    h.advance(3_000)
    _over(h, 18.0)  # within: reset
    _over(h, 18.2)
    h.advance(6_999)
    assert h.mgr.state == "Charging"
    h.advance(1)
    assert h.since(m) == ["Error", "ChargingPausedEVSE"]
    assert h.mgr.session_events[-2].error.value == "OverCurrent"
    assert any(e.type == "evse_manager/MREC4OverCurrentFailure" for e in h.mgr.active_errors)
    h.cp("A")  # Idle clears the module's own errors
    assert not h.mgr.active_errors


def test_soft_over_current_needs_three_phases(kernels):
    h = ManagerHarness(kernels=kernels)
    h.start_charging()
    h.sample(current_A=Current(L1=40.0))
    h.advance(20_000)
    assert h.mgr.state == "Charging"


def test_set_local_max_current(kernels):
    h = ManagerHarness(kernels=kernels, limit_A=32.0)
    assert h.mgr.set_local_max_current(10.0).value == "Success"
    assert h.mgr.get("limits").max_current == 10.0
    assert h.mgr.set_local_max_current(2000.0).value == "Error_OutOfRange"
    for bad in (-1.0, float("nan"), "x", True):
        with pytest.raises(CommandRejected) as ei:
            h.mgr.set_local_max_current(bad)
        assert ei.value.field.startswith("max_current")
    assert h.mgr.get("limits").max_current == 10.0
