"""Spec §2.7 scenarios (a)-(j) with the profile's event order and the key board commands.

Set-up as in the spec: AC, no HLC, Cable connector, 16 A from the energy manager, a board that does
not send PowerOn/PowerOff (so StoppingCharging passes at once).  Power loss (k) is in test_store.py.
"""
from __future__ import annotations

import pytest

from evsefast.testing import ManagerHarness, token, validation

PWM_16A = 100 * 16 / 60
POWER_OFF = ("allow_power_on", False, "PowerOff")
POWER_ON = ("allow_power_on", True, "FullPowerCharging")


@pytest.fixture
def h(kernels):
    return ManagerHarness(kernels=kernels)


def pwm_values(cmds):
    return [c[1] for c in cmds if c[0] == "pwm_on"]


@pytest.mark.arm
def test_a_plug_authorize_charge_unplug(h):
    assert h.event_names() == ["Enabled"]
    m = h.mark()
    h.plug_in()
    assert h.mgr.state == "WaitingForAuthentication"
    assert h.since(m) == ["SessionStarted", "AuthRequired"]
    assert POWER_OFF in h.board.commands
    assert pwm_values(h.board.commands) == []  # no PWM before authorization

    m = h.mark()
    h.authorize()
    assert h.mgr.state == "PrepareCharging"
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]
    assert h.since(m) == []

    m = h.mark()
    h.cp("C")
    assert h.mgr.state == "Charging"
    assert h.board.commands == [POWER_ON]
    assert h.since(m) == ["ChargingStarted"]

    h.advance(60_000)
    h.sample(1234.5)
    m = h.mark()
    h.cp("A")
    assert h.board.commands[0] == POWER_OFF
    assert ("cp_state_X1",) in h.board.commands
    assert h.mgr.state == "Idle"
    assert h.since(m) == ["SessionFinished"]
    assert h.event_names() == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted", "SessionFinished"]
    started, finished = h.mgr.session_events[1], h.mgr.session_events[-1]
    assert started.uuid and started.uuid == finished.uuid
    assert finished.session_finished.energy_Wh_import == 1234.5
    assert started.session_started.energy_Wh_import == 0.0
    assert isinstance(started.session_started.timestamp, int)
    assert h.mgr.get("selected_protocol") == "Unknown"
    # the meter saw the start-up clean-up stop "" (spec §2.7(k)), then one transaction, started and stopped
    # with the session uuid
    assert [r[0] for r in h.meter.requests] == ["stop_transaction", "start_transaction", "stop_transaction"]
    assert h.meter.requests[0][1] == ""
    assert h.meter.requests[2][1] == started.uuid


def test_a_variant_c_b_a(h):
    h.start_charging()
    m = h.mark()
    h.cp("B")
    assert h.board.commands[0] == POWER_OFF
    assert h.since(m) == ["ChargingPausedEV"]
    h.cp("A")
    assert h.event_names()[1:] == ["SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV",
                                   "SessionFinished"]


def test_a_unplug_before_authorization(h):
    h.plug_in()
    h.cp("A")
    assert h.event_names() == ["Enabled", "SessionStarted", "AuthRequired", "SessionFinished"]
    assert h.meter.requests == [("stop_transaction", "")]  # only the start-up clean-up: no transaction


def test_b_authorize_first(h):
    m = h.mark()
    h.authorize()
    assert h.mgr.state == "Idle"
    assert h.since(m) == ["SessionStarted"]
    h.mark()
    h.plug_in()
    assert h.mgr.state == "PrepareCharging"
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]  # PWM on at once
    h.cp("C")
    assert h.event_names() == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted"]


def test_free_service_starts_the_meter_transaction_with_the_freeservice_token(kernels):
    """Spec §4: with disable_authentication the manager authorizes itself with {FREESERVICE, Local}."""
    h = ManagerHarness(kernels=kernels, config={"disable_authentication": True})
    h.plug_in()
    starts = [r[1] for r in h.meter.requests if r[0] == "start_transaction"]
    assert len(starts) == 1
    req = starts[0]
    assert req.identification_data == "FREESERVICE"
    assert req.identification_type.value == "LOCAL"
    assert req.identification_status.value == "ASSIGNED"
    assert req.transaction_id == h.mgr.session_events[-1].uuid


def test_b_authorize_first_with_reservation(h):
    assert h.mgr.reserve(3) is True
    h.authorize()
    h.plug_in()
    h.cp("C")
    names = h.event_names()
    assert names == ["Enabled", "ReservationStart", "SessionStarted", "ReservationEnd", "AuthRequired",
                     "ChargingStarted"]
    end = h.mgr.session_events[3].reservation_end
    assert (end.reason.value, end.reservation_id) == ("UsedToStartCharging", 3)
    assert h.mgr.session_events[2].session_started.reservation_id == 3


def test_b_withdraw_when_never_plugged(h):
    h.authorize()
    m = h.mark()
    h.mgr.withdraw_authorization()
    assert h.since(m) == ["SessionFinished"]
    h.plug_in()  # a new session
    assert h.since(m) == ["SessionFinished", "SessionStarted", "AuthRequired"]


@pytest.mark.arm
def test_c_ev_pauses_and_resumes(h):
    h.start_charging()
    h.advance(10_000)
    m = h.mark()
    h.cp("B")
    assert h.board.commands[0] == POWER_OFF
    assert h.mgr.state == "ChargingPausedEV"
    # StoppingCharging switched PWM off; 10 s since the last PWM update -> back on at once
    assert ("cp_state_X1",) in h.board.commands
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]
    h.mark()
    h.cp("C")
    assert h.mgr.state == "Charging"
    assert h.board.commands == [POWER_ON]
    assert h.since(m) == ["ChargingPausedEV", "ChargingResumed"]


def test_c_pwm_back_only_after_5s(h):
    h.start_charging()  # PWM set at t=0
    h.advance(2_000)
    h.mark()
    h.cp("B")
    assert pwm_values(h.board.commands) == []
    h.advance(2_999)
    assert pwm_values(h.board.commands) == []
    h.advance(1)
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]


def test_c_ev_comes_back_while_pwm_off(h):
    h.start_charging()
    h.advance(1_000)
    h.cp("B")
    h.mark()
    h.cp("C")  # PrepareCharging sets the PWM immediately, then Charging powers on
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]
    assert h.board.commands[-1] == POWER_ON
    assert h.mgr.state == "Charging"


@pytest.mark.arm
def test_d_pause_and_resume_by_evse(h):
    assert h.mgr.pause_charging() is False
    assert h.mgr.resume_charging() is False
    h.start_charging()
    m = h.mark()
    assert h.mgr.pause_charging() is True
    assert h.mgr.state == "ChargingPausedEVSE"
    assert ("cp_state_X1",) in h.board.commands
    assert POWER_OFF not in h.board.commands  # EV still in C: power off by the C1 timer or the EV
    assert h.since(m) == ["ChargingPausedEVSE"]
    assert h.mgr.pause_charging() is True  # already paused: still true
    h.mark()
    assert h.mgr.resume_charging() is True
    assert h.mgr.state == "Charging"
    assert pwm_values(h.board.commands) == [pytest.approx(PWM_16A)]
    assert h.board.commands[-1] == POWER_ON
    assert h.since(m) == ["ChargingPausedEVSE", "ChargingResumed"]


def test_d_no_energy_while_paused_gives_second_event(h):
    h.start_charging()
    h.mgr.pause_charging()
    m = h.mark()
    h.limit(0.0)
    assert h.since(m) == ["ChargingPausedEVSE"]
    assert h.mgr.state == "ChargingPausedEVSE"
    assert h.mgr._core.paused_reasons == ("NoEnergy", "UserPause")
    h.limit(16.0)  # the set changes back to [UserPause]: published again
    assert h.since(m) == ["ChargingPausedEVSE", "ChargingPausedEVSE"]


def test_d_reason_set_changes_are_published(h):
    h.start_charging()
    h.mgr.pause_charging()
    core = h.mgr._core
    assert core.paused_reasons == ("UserPause",)
    h.limit(0.0)
    assert core.paused_reasons == ("NoEnergy", "UserPause")
    h.mgr.resume_charging()
    assert core.paused_reasons == ("NoEnergy",)
    assert h.event_names()[-3:] == ["ChargingPausedEVSE", "ChargingPausedEVSE", "ChargingPausedEVSE"]


@pytest.mark.arm
def test_e_stop_transaction_then_unplug(h):
    assert h.mgr.stop_transaction({"reason": "Remote"}) is False
    assert h.event_names() == ["Enabled"]
    h.start_charging()
    h.sample(500.0)
    m = h.mark()
    assert h.mgr.stop_transaction({"reason": "Remote"}) is True
    assert h.mgr.state == "Finished"
    assert h.since(m) == ["SessionCancelled"]
    cancelled = h.mgr.session_events[-1].session_cancelled
    assert cancelled.reason.value == "Remote"
    assert cancelled.energy_Wh_import == 500.0
    assert ("cp_state_X1",) in h.board.commands
    assert POWER_OFF in h.board.commands
    # plugged: B/C and a new authorization do nothing
    h.cp("B")
    h.cp("C")
    h.authorize()
    assert h.mgr.state == "Finished"
    assert h.since(m) == ["SessionCancelled"]
    h.cp("A")
    assert h.since(m) == ["SessionCancelled", "SessionFinished"]
    assert h.mgr.state == "Idle"


def test_e_non_seed_reason_maps_to_other(h):
    h.start_charging()
    h.mgr.stop_transaction({"reason": "EnergyLimitReached"})
    assert h.mgr.session_events[-1].session_cancelled.reason.value == "Other"


def test_e_board_request_stop_transaction(h):
    from evsefast.types import StopTransactionRequest, StopTransactionReason
    h.start_charging()
    h.board.listener.on_request_stop_transaction(StopTransactionRequest(reason=StopTransactionReason.EmergencyStop))
    h.mgr.tick()
    assert h.event_names()[-1] == "SessionCancelled"
    assert h.mgr.session_events[-1].session_cancelled.reason.value == "EmergencyStop"


def test_f_reservation_consumed(h):
    assert h.mgr.reserve(5) is True
    h.plug_in()
    h.authorize()
    h.cp("C")
    assert h.event_names() == ["Enabled", "ReservationStart", "SessionStarted", "AuthRequired", "ReservationEnd",
                               "ChargingStarted"]
    ev = h.mgr.session_events
    assert ev[1].reservation_start.reservation_id == 5 and ev[1].reservation_start.id_tag == ""
    assert ev[1].uuid == ""
    assert ev[2].session_started.reservation_id == 5
    assert (ev[4].reservation_end.reason.value, ev[4].reservation_end.reservation_id) == ("UsedToStartCharging", 5)
    assert ev[4].uuid == ""


def test_f_reservation_mismatch(h):
    h.mgr.reserve(5)
    h.plug_in()
    m = h.mark()
    h.mgr.authorize_response(token(), validation(reservation_id=7))
    assert h.since(m) == ["ReservationAuthtokenMismatch"]
    assert h.mgr.session_events[-1].uuid == h.mgr.session_events[-3].uuid  # current session uuid
    assert h.mgr.state == "WaitingForAuthentication"
    assert pwm_values(h.board.commands) == []
    # matching id authorizes and consumes
    h.mgr.authorize_response(token(), validation(reservation_id=5))
    assert h.since(m) == ["ReservationAuthtokenMismatch", "ReservationEnd"]
    assert h.mgr.state == "PrepareCharging"


def test_f_cancel_reservation(h):
    h.mgr.reserve(5)
    m = h.mark()
    h.mgr.cancel_reservation()
    assert h.since(m) == ["ReservationEnd"]
    end = h.mgr.session_events[-1].reservation_end
    assert (end.reason.value, end.reservation_id) == ("Cancelled", 5)
    h.mgr.cancel_reservation()
    assert h.since(m) == ["ReservationEnd"]


def test_i_withdraw_authorization(h):
    h.mgr.withdraw_authorization()  # no session: nothing
    h.plug_in()
    m = h.mark()
    h.mgr.withdraw_authorization()  # unauthorized: nothing visible, session stays open
    assert h.since(m) == []
    h.authorize()
    h.cp("C")
    h.mgr.withdraw_authorization()  # charging: no effect (profile: nothing published)
    assert h.mgr.state == "Charging"
    assert h.since(m) == ["ChargingStarted"]


def test_j_replug(h):
    """P13: a board emitting the legacy replug events; the session and transaction continue."""
    h.start_charging()
    m = h.mark()
    h.cp("EvseReplugStarted")
    assert h.mgr.state == "Replug"
    assert h.board.commands[0] == POWER_OFF
    h.cp("EvseReplugFinished")
    assert h.since(m) == ["ReplugStarted", "ReplugFinished", "ChargingResumed"]
    assert h.mgr.state == "Charging"  # authorized transaction, EV in C: straight on
    assert len({e.uuid for e in h.mgr.session_events[1:]}) == 1  # no new session
    assert h.meter.requests[1:] == [("start_transaction", h.meter.requests[1][1])]  # after the start-up stop ""


def test_j_replug_outside_a_session_is_ignored(h):
    m = h.mark()
    h.cp("EvseReplugStarted")
    h.cp("EvseReplugFinished")
    assert h.since(m) == [] and h.mgr.state == "Idle"


def test_full_profile_with_power_feedback(kernels):
    """A board that confirms PowerOn/PowerOff: StoppingCharging waits for the contactors."""
    h = ManagerHarness(kernels=kernels)
    h.start_charging()
    h.cp("PowerOn")
    h.mgr.pause_charging()
    assert h.mgr.state == "StoppingCharging"  # contactors still closed
    h.cp("B")  # EV stops drawing: power off first
    assert h.board.commands[-1] != POWER_ON
    h.cp("PowerOff")
    assert h.mgr.state == "ChargingPausedEVSE"
    assert h.event_names()[-1] == "ChargingPausedEVSE"


def test_disable_authentication_charges_without_authorize(kernels):
    h = ManagerHarness(kernels=kernels, config={"disable_authentication": True})
    h.plug_in()
    assert h.mgr.state == "PrepareCharging"
    h.cp("C")
    assert h.event_names() == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted"]


@pytest.mark.parametrize("cp", ["E", "F"])
def test_e_or_f_while_charging(h, cp):
    h.start_charging()
    m = h.mark()
    h.cp(cp)
    assert h.board.commands[0] == POWER_OFF
    assert h.mgr.state == "Charging" or h.mgr.state in ("ChargingPausedEV", "ChargingPausedEVSE")
    h.cp("A")
    assert h.since(m)[-1] == "SessionFinished"


def test_e_while_charging_leaves_charging(h):
    h.start_charging()
    h.cp("E")  # BCDtoE: the EV can no longer draw power
    assert h.mgr.state == "ChargingPausedEV"


def test_d_with_ventilation_charges(h):
    h.plug_in()
    h.authorize()
    h.cp("D")
    assert h.mgr.state == "Charging"
    assert h.board.commands[-1] == POWER_ON


def test_d_without_ventilation_never_powers(kernels):
    h = ManagerHarness(kernels=kernels, config={"has_ventilation": False})
    h.board.ventilation = False
    h.plug_in()
    h.authorize()
    h.cp("D")
    assert POWER_ON not in h.board.commands
    assert h.mgr.state == "PrepareCharging"
