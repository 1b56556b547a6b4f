"""enable_disable priorities (§2.7(g), P3, P8), errors (§2.7(h), §2.6.3, P6) and reservations (§2.6.4)."""
from __future__ import annotations

import pytest

from evsefast.manager.enable import EnableTable
from evsefast.manager.errors import ErrorState, inoperative_description, seed_error
from evsefast.testing import ManagerHarness
from evsefast.types import BoardError, Severity

POWER_OFF = ("allow_power_on", False, "PowerOff")


@pytest.fixture
def h(kernels):
    return ManagerHarness(kernels=kernels)


def src(source, state, priority):
    return {"enable_source": source, "enable_state": state, "enable_priority": priority}


# -- the table ---------------------------------------------------------------------------------------
def test_table_rules():
    t = EnableTable()
    assert t.winner() == ("Unspecified", "Unassigned", 10000) and t.enabled()
    t.set("Unspecified", "Enable", 10000)
    t.set("LocalAPI", "Disable", 100)
    assert t.winner() == ("LocalAPI", "Disable", 100)
    t.set("CSMS", "Enable", 50)  # numerically lower = higher priority
    assert t.enabled()
    t.set("MobileApp", "Disable", 50)  # equal priority: disable wins ties
    assert not t.enabled()
    t.set("MobileApp", "Enable", 50)  # replaces its own entry; equal-priority Enable does not replace
    assert t.winner() == ("CSMS", "Enable", 50)
    t.set("CSMS", "Unassigned", 50)  # ignored in the evaluation
    assert t.winner() == ("MobileApp", "Enable", 50)
    assert [e[0] for e in t.entries] == ["Unspecified", "LocalAPI", "CSMS", "MobileApp"]


def test_table_equal_priority_enable_after_disable_does_not_win():
    t = EnableTable()
    t.set("LocalAPI", "Disable", 5)
    t.set("CSMS", "Enable", 5)
    assert not t.enabled()


# -- through the manager ---------------------------------------------------------------------------------
@pytest.mark.arm
def test_g_disable_and_enable(h):
    m = h.mark()
    assert h.mgr.enable_disable(0, src("LocalAPI", "Disable", 100)) is False
    assert h.mgr.state == "Disabled"
    assert ("cp_state_F",) in h.board.commands
    assert h.board.commands[-1] == ("enable", False)
    assert h.since(m) == ["Disabled"]
    # P3: a second disable publishes nothing
    assert h.mgr.enable_disable(0, src("LocalAPI", "Disable", 100)) is False
    assert h.since(m) == ["Disabled"]
    # board events are dropped while disabled
    h.plug_in()
    assert h.mgr.state == "Disabled"
    # a higher priority enable wins
    assert h.mgr.enable_disable(0, src("CSMS", "Enable", 10)) is True
    assert h.mgr.state == "Idle"
    assert h.since(m) == ["Disabled", "Enabled"]
    assert h.board.commands[-1] == ("enable", True) or ("enable", True) in h.board.commands
    # a lower priority disable loses (returns the evaluated result)
    assert h.mgr.enable_disable(0, src("MobileApp", "Disable", 500)) is True
    assert h.since(m) == ["Disabled", "Enabled"]
    # the CSMS entry becomes Unassigned: LocalAPI's disable decides again
    assert h.mgr.enable_disable(0, src("CSMS", "Unassigned", 10)) is False
    assert h.since(m) == ["Disabled", "Enabled", "Disabled"]


def test_g_p8_connector_disable_not_undone_by_connector_0(h):
    assert h.mgr.enable_disable(1, src("LocalAPI", "Disable", 100)) is False
    assert h.mgr.state == "Disabled"
    # the same source enables for connector 0: evaluated enabled, but connector_enabled stays false
    assert h.mgr.enable_disable(0, src("LocalAPI", "Enable", 100)) is True
    assert h.mgr.state == "Disabled"
    assert h.mgr.enable_disable(1, src("LocalAPI", "Enable", 100)) is True
    assert h.mgr.state == "Idle"


def test_g_p8_disabled_result_never_leaves_disabled(h):
    h.mgr.enable_disable(0, src("LocalAPI", "Disable", 100))
    h.mgr.enable_disable(1, src("MobileApp", "Disable", 200))
    assert h.mgr.state == "Disabled"


def test_g_disable_during_session(h):
    h.start_charging()
    m = h.mark()
    assert h.mgr.enable_disable(0, src("CSMS", "Disable", 0)) is False
    assert h.mgr.state == "Disabled"
    assert h.board.commands[0] == POWER_OFF
    assert ("cp_state_F",) in h.board.commands
    assert h.since(m) == ["Disabled"]
    assert h.mgr.session_events[-1].uuid  # inside a session: the session uuid (P11)
    h.mgr.enable_disable(0, src("CSMS", "Enable", 0))
    # Idle's entry closes the authorized, abandoned session
    assert h.since(m) == ["Disabled", "Enabled", "SessionFinished"]


def test_g_disable_cancels_reservation(h):
    h.mgr.reserve(9)
    m = h.mark()
    h.mgr.enable_disable(0, src("LocalAPI", "Disable", 1))
    assert h.since(m) == ["Disabled", "ReservationEnd"]
    assert h.mgr.reserve(10) is False


# -- errors ----------------------------------------------------------------------------------------------
def err(name, severity=Severity.High, sub=""):
    return BoardError(type=name, sub_type=sub, severity=severity)


def raise_(h, name, **kw):
    h.board.listener.on_error_raised(err(name, **kw))
    h.mgr.tick()


def clear(h, name, sub=""):
    h.board.listener.on_error_cleared(name, sub)
    h.mgr.tick()


@pytest.mark.arm
def test_h_error_during_charging_then_cleared(h):
    h.start_charging()
    m = h.mark()
    raise_(h, "evse_board_support/MREC4OverCurrentFailure")
    assert h.board.commands[0] in (("cp_state_X1",), POWER_OFF)
    assert POWER_OFF in h.board.commands
    assert h.mgr.state == "ChargingPausedEVSE"
    assert h.mgr._core.paused_reasons == ("Error",)
    assert h.since(m) == ["Error", "ChargingPausedEVSE"]
    assert h.mgr.session_events[-2].error.value == "OverCurrent"
    inop = [e for e in h.mgr.active_errors if e.type == "evse_manager/Inoperative"][0]
    assert inop.message == "evse_board_support/MREC4OverCurrentFailure"
    assert inop.description == "MREC4OverCurrentFailure" and inop.vendor_id == "EVerest"
    h.mark()
    clear(h, "evse_board_support/MREC4OverCurrentFailure")
    assert h.mgr.state == "Charging"  # EV still in C
    assert h.since(m) == ["Error", "ChargingPausedEVSE", "ChargingResumed"]
    assert any(c[0] == "pwm_on" for c in h.board.commands)


def test_h_error_in_idle_drives_f_and_refuses_reservations(h):
    m = h.mark()
    raise_(h, "evse_board_support/DiodeFault", severity=Severity.Medium)
    assert h.since(m) == ["Error"]
    assert h.mgr.session_events[-1].error.value == "CarDiodeFault"
    assert h.mgr.session_events[-1].uuid == ""
    assert ("cp_state_F",) in h.board.commands
    assert h.mgr.reserve(1) is False
    h.mark()
    clear(h, "evse_board_support/DiodeFault")
    assert h.board.commands == [("cp_state_X1",)]
    assert h.mgr.reserve(1) is True


def test_h_error_cancels_reservation(h):
    h.mgr.reserve(4)
    m = h.mark()
    raise_(h, "ac_rcd/DC")
    assert h.since(m) == ["Error", "ReservationEnd"]
    assert h.mgr.session_events[-2].error.value == "RCD"


def test_h_error_while_waiting_for_auth_finishes(h):
    h.plug_in()
    raise_(h, "evse_board_support/MREC14PilotFault")
    assert h.mgr.state == "Finished"
    clear(h, "evse_board_support/MREC14PilotFault")
    h.authorize()
    assert h.mgr.state == "Finished"  # no charging until unplug / replug
    h.cp("A")
    h.plug_in()
    h.authorize()
    assert h.mgr.state == "PrepareCharging"


def test_permanent_fault(h):
    m = h.mark()
    raise_(h, "evse_board_support/PermanentFault")
    assert h.since(m) == ["PermanentFault"]


@pytest.mark.parametrize("name", ["evse_board_support/MREC3HighTemperature",
                                  "evse_board_support/MREC18CableOverTempDerate",
                                  "evse_board_support/VendorWarning"])
def test_ignored_errors(h, name):
    h.start_charging()
    m = h.mark()
    raise_(h, name)
    assert h.since(m) == [] and h.mgr.state == "Charging"


def test_second_cause_does_not_republish(h):
    m = h.mark()
    raise_(h, "evse_board_support/MREC2GroundFailure")
    raise_(h, "evse_board_support/MREC17EVSEContactorFault")
    clear(h, "evse_board_support/MREC2GroundFailure")
    assert h.since(m) == ["Error"]
    assert h.mgr._errors.shutdown != 0
    clear(h, "evse_board_support/MREC17EVSEContactorFault")
    assert h.mgr._errors.shutdown == 0
    raise_(h, "evse_board_support/MREC17EVSEContactorFault")
    assert h.since(m) == ["Error", "Error"]
    assert h.mgr.session_events[-1].error.value == "Relais"


def test_powermeter_start_failure(kernels):
    from evsefast.testing import FakePowerMeter
    from evsefast.types import TransactionRequestStatus
    h = ManagerHarness(kernels=kernels, meter=FakePowerMeter(start_status=TransactionRequestStatus.UNEXPECTED_ERROR))
    h.plug_in()
    m = h.mark()
    h.authorize()
    assert h.since(m) == ["Error"]
    assert h.mgr.session_events[-1].error.value == "Internal"
    assert h.mgr.state == "Finished"
    h.cp("A")  # Idle clears PowermeterTransactionStartFailed
    assert h.mgr._errors.shutdown == 0


def test_seed_error_mapping():
    assert seed_error("evse_board_support/MREC10InvalidVehicleMode") == "Car"
    assert seed_error("evse_manager/MREC4OverCurrentFailure") == "OverCurrent"
    assert seed_error("evse_board_support/VentilationNotAvailable") == "VentilationNotAvailable"
    assert seed_error("slac/Something") == "SLAC"
    assert seed_error("ISO15118_charger/X") == "HLC"
    assert seed_error("evse_board_support/BrownOut") == "Internal"


def test_inoperative_description_rules():
    from evsefast.manager.errors import ActiveError
    e = ActiveError("evse_board_support/DiodeFault", "sub", "High", "", "", "")
    assert inoperative_description(e) == "DiodeFault/sub"
    assert inoperative_description(ActiveError("abc/", "", "High", "", "", "")) == "abc"
    assert inoperative_description(ActiveError("plain", "", "High", "", "own text", "")) == "own text"


def test_vendor_id_option():
    s = ErrorState(use_vendor_id=True)
    s.raise_error("evse_board_support/BrownOut", "", "Medium", "", "", "ACME")
    assert s.inoperative.vendor_id == "ACME"
    assert s.shutdown == 1  # Medium -> error shutdown


# -- reservations ---------------------------------------------------------------------------------------------
def test_reserve_only_in_idle(h):
    h.plug_in()
    assert h.mgr.reserve(1) is False


def test_reserve_overwrite_and_conflict(h):
    m = h.mark()
    assert h.mgr.reserve(5) is True
    assert h.mgr.reserve(5) is True  # overwrite of the same id: no second event
    assert h.mgr.reserve(6) is False  # another id while reserved
    assert h.since(m) == ["ReservationStart"]


def test_reserve_without_id(h):
    m = h.mark()
    assert h.mgr.reserve(-1) is True
    assert h.mgr.reserve(8) is True  # stored id is still -1: accepted
    assert h.since(m) == ["ReservationStart", "ReservationStart"]
    h.plug_in()
    assert h.mgr.session_events[-2].session_started.reservation_id == 8


def test_withdraw_cancels_reservation_of_authorized(h):
    h.authorize()
    h.mgr.reserve(2)  # Idle with an authorized session (authorize first)
    m = h.mark()
    h.mgr.withdraw_authorization()
    assert h.since(m) == ["ReservationEnd", "SessionFinished"]


def test_g_disable_before_ready(kernels):
    h = ManagerHarness(kernels=kernels, config={"external_ready_to_start_charging": True}, limit_A=None)
    assert h.mgr.enable_disable(0, src("CSMS", "Disable", 5)) is False
    assert h.event_names() == [] and ("enable", False) not in h.board.commands
    h.mgr.external_ready_to_start_charging()
    assert h.event_names() == ["Disabled"]
    assert h.mgr.state == "Disabled"
    assert ("enable", False) in h.board.commands and ("cp_state_F",) in h.board.commands
    assert h.mgr.enable_disable(0, src("CSMS", "Enable", 5)) is True
    assert h.event_names() == ["Disabled", "Enabled"]
    assert h.mgr.state == "Idle"
