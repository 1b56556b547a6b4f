"""Lifecycle of the manager: cmds before ready, starting disabled, close() and the context manager."""
from __future__ import annotations

import pytest

from evsefast.errors import EvseError, ManagerClosed, NotReady
from evsefast.manager import EvseManager
from evsefast.testing import FakeBoard, FakePowerMeter, ManagerHarness, ManualClock, enforced_limits, token, validation

DISABLE_CSMS = {"enable_source": "CSMS", "enable_state": "Disable", "enable_priority": 5}
STOP = {"reason": "Remote"}

#: every cmd except enable_disable and external_ready_to_start_charging, with valid arguments
GUARDED = {
    "get_evse": (),
    "authorize_response": (token("RFID1"), validation("Accepted")),
    "withdraw_authorization": (),
    "reserve": (7,),
    "cancel_reservation": (),
    "pause_charging": (),
    "resume_charging": (),
    "stop_transaction": (STOP,),
    "force_unlock": (1,),
    "set_plug_and_charge_configuration": ({"pnc_enabled": True},),
    "update_allowed_energy_transfer_modes": (["AC_three_phase_core"],),
    "enforce_limits": (enforced_limits(16.0),),
    "set_local_max_current": (10.0,),
    "switch_three_phases_while_charging": (True,),
}


def _snapshot(h):
    return (list(h.mgr.session_events), list(h.board.commands), h.mgr.state, [list(r) for r in h.meter.requests])


@pytest.mark.parametrize("cmd", sorted(GUARDED))
def test_cmds_before_start_raise_not_ready_and_change_nothing(kernels, cmd):
    h = ManagerHarness(kernels=kernels, start=False, limit_A=None)
    before = _snapshot(h)
    with pytest.raises(NotReady) as info:
        getattr(h.mgr, cmd)(*GUARDED[cmd])
    assert isinstance(info.value, EvseError)
    assert str(info.value).startswith(f"{cmd}: ") and "start()" in str(info.value)
    assert _snapshot(h) == before
    # and nothing surfaces later either: start-up is as if the cmd never came
    h.mgr.start()
    h.sample()
    assert h.event_names() == ["Enabled"]


@pytest.mark.parametrize("cmd", ["reserve", "authorize_response", "enforce_limits"])
def test_cmds_while_start_up_waits_for_the_meter_raise_not_ready(kernels, cmd):
    h = ManagerHarness(kernels=kernels, start=False, limit_A=None)
    h.mgr.start()
    assert not h.mgr.ready
    with pytest.raises(NotReady, match="first power-meter value"):
        getattr(h.mgr, cmd)(*GUARDED[cmd])
    h.sample()
    assert h.mgr.ready
    assert h.event_names() == ["Enabled"]  # no SessionStarted, no ReservationStart


def test_reserve_and_authorize_before_start_do_not_start_a_session(kernels):
    h = ManagerHarness(kernels=kernels, start=False, limit_A=None)
    for cmd in ("reserve", "authorize_response"):
        with pytest.raises(NotReady):
            getattr(h.mgr, cmd)(*GUARDED[cmd])
    h.mgr.start()
    h.sample()
    h.plug_in()
    assert h.event_names() == ["Enabled", "SessionStarted", "AuthRequired"]


def test_enable_disable_before_start_is_applied_and_start_up_says_disabled(kernels):
    h = ManagerHarness(kernels=kernels, start=False, limit_A=None)
    assert h.mgr.enable_disable(0, DISABLE_CSMS) is False
    assert h.event_names() == []
    h.mgr.start()
    h.sample()
    assert h.mgr.ready
    assert h.event_names() == ["Disabled"]
    assert h.mgr.state == "Disabled"
    assert ("enable", False) in h.board.commands
    active = h.mgr.enable_source
    assert (active.enable_source.value, active.enable_state.value, active.enable_priority) == ("CSMS", "Disable", 5)
    assert [s.enable_source.value for s in h.mgr.enable_sources] == ["CSMS", "Unspecified"]
    h.plug_in()
    assert "SessionStarted" not in h.event_names()  # disabled: no session


def test_enable_source_without_entries_is_unspecified_unassigned():
    mgr = EvseManager({}, board=FakeBoard(), clock=ManualClock())
    active = mgr.enable_source
    assert (active.enable_source.value, active.enable_state.value, active.enable_priority) == (
        "Unspecified", "Unassigned", 10000)


@pytest.mark.parametrize("cmd", sorted(GUARDED) + ["enable_disable", "external_ready_to_start_charging"])
def test_cmds_after_close_raise_closed_and_change_nothing(kernels, cmd):
    h = ManagerHarness(kernels=kernels)
    h.plug_in()
    h.mgr.close()
    before = _snapshot(h)
    args = {"enable_disable": (0, DISABLE_CSMS), "external_ready_to_start_charging": ()}.get(cmd, GUARDED.get(cmd))
    with pytest.raises(ManagerClosed) as info:
        getattr(h.mgr, cmd)(*args)
    assert isinstance(info.value, EvseError) and str(info.value).startswith(f"{cmd}: ")
    h.board.emit("C")  # late board input is ignored too
    h.clock.advance_ms(60_000)
    h.mgr.tick()
    assert _snapshot(h) == before


def test_close_goes_to_the_safe_state_and_is_idempotent(kernels):
    h = ManagerHarness(kernels=kernels)
    h.start_charging()
    h.mark()
    h.mgr.close()
    assert h.board.commands[0] == ("allow_power_on", False, "PowerOff")
    assert ("cp_state_X1",) in h.board.commands
    assert h.mgr.closed and not h.mgr.ready
    n = len(h.board.commands)
    h.mgr.close()
    assert len(h.board.commands) == n
    with pytest.raises(ManagerClosed):
        h.mgr.start()


def test_context_manager_closes(kernels, tmp_path):
    meter = FakePowerMeter()
    with EvseManager({}, board=FakeBoard(), powermeters=[meter], clock=ManualClock(), kernels=kernels,
                     store=str(tmp_path / "s.db")) as mgr:
        mgr.start()
        meter.publish(0.0)
        mgr.tick()
        assert mgr.ready
    assert mgr.closed
    with pytest.raises(ManagerClosed):
        mgr.pause_charging()


def test_close_of_a_disabled_manager_keeps_the_pilot_at_f(kernels):
    h = ManagerHarness(kernels=kernels)
    h.mgr.enable_disable(0, DISABLE_CSMS)
    assert ("cp_state_F",) in h.board.commands
    h.mark()
    h.mgr.close()
    assert h.board.commands == [("allow_power_on", False, "PowerOff")]  # no X1 over the F
