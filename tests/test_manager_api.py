"""The EvseManager surface: cmds' names and results, vars, encodings, config, and bad input at the edge."""
from __future__ import annotations

import inspect
import json
import typing

import msgspec
import pytest

from evsefast import codec
from evsefast.config import ManagerConfig
from evsefast.errors import CommandRejected
from evsefast.manager import EvseManager
from evsefast.testing import FakeBoard, ManagerHarness, token, validation
from evsefast.types import Evse, SessionEvents

SEED_CMDS = {
    "get_evse": [], "enable_disable": ["connector_id", "cmd_source"],
    "authorize_response": ["provided_token", "validation_result"], "withdraw_authorization": [],
    "reserve": ["reservation_id"], "cancel_reservation": [], "pause_charging": [], "resume_charging": [],
    "stop_transaction": ["request"], "force_unlock": ["connector_id"], "external_ready_to_start_charging": [],
    "set_plug_and_charge_configuration": ["plug_and_charge_configuration"],
    "update_allowed_energy_transfer_modes": ["allowed_energy_transfer_modes"],
}
SEED_VARS = ["session_event", "hlc_session_failed", "limits", "ev_info", "car_manufacturer", "telemetry",
             "powermeter", "powermeter_public_key_ocmf", "evse_id", "hw_capabilities", "enforced_limits",
             "waiting_for_external_ready", "ready", "selected_protocol", "supported_energy_transfer_modes"]


@pytest.fixture
def h(kernels):
    return ManagerHarness(kernels=kernels)


def test_cmds_have_the_interface_names_and_annotations():
    for name, args in SEED_CMDS.items():
        fn = getattr(EvseManager, name)
        params = list(inspect.signature(fn).parameters)[1:]
        assert params == args, name
        hints = typing.get_type_hints(fn)
        assert "return" in hints, name
        assert fn.__doc__, name


def test_vars_mapping():
    assert list(EvseManager.VARS) == SEED_VARS
    assert EvseManager.VARS["session_event"] is SessionEvents


def test_ready_vars(h):
    assert h.mgr.get("ready") is True
    assert h.mgr.get("evse_id") == "DE*PNX*E1234567*1"
    assert h.mgr.get("waiting_for_external_ready") is False
    assert [m.value for m in h.mgr.get("supported_energy_transfer_modes")] == [
        "AC_single_phase_core", "AC_two_phase", "AC_three_phase_core"]
    assert h.mgr.get("hw_capabilities").max_current_A_import == 32.0
    assert h.mgr.get("powermeter").energy_Wh_import.total == 0.0
    assert h.mgr.get("hlc_session_failed") is None
    with pytest.raises(KeyError):
        h.mgr.get("nope")


def test_subscribe_json_and_msgpack(h):
    got_json, got_mp, got_obj = [], [], []
    h.mgr.subscribe("session_event", got_json.append, encoding="json")
    h.mgr.subscribe("session_event", got_mp.append, encoding="msgpack")
    unsub = h.mgr.subscribe("session_event", got_obj.append)
    h.plug_in()
    assert [json.loads(b)["event"] for b in got_json] == ["SessionStarted", "AuthRequired"]
    first = json.loads(got_json[0])
    assert set(first) == {"uuid", "event", "session_started"}  # optional fields omitted, never null
    assert "energy_Wh_export" not in first["session_started"]
    assert msgspec.msgpack.decode(got_mp[1])["event"] == "AuthRequired"
    assert got_json[0] == codec.encode_json(got_obj[0])
    assert h.mgr.get("session_event", encoding="json") == got_json[-1]
    assert msgspec.json.decode(h.mgr.get("limits", encoding="json"))["max_current"] == 16.0
    unsub()
    h.cp("A")
    assert len(got_obj) == 2 and len(got_json) == 3


def test_subscriber_errors_do_not_break_the_charger(h):
    def bad(_):
        raise RuntimeError("subscriber bug")
    h.mgr.subscribe("session_event", bad)
    h.start_charging()
    assert h.mgr.state == "Charging"


def test_subscriber_may_call_cmds(h):
    seen = []

    def on_event(ev):
        seen.append(ev.event.value)
        if ev.event.value == "ChargingStarted":
            h.mgr.pause_charging()
    h.mgr.subscribe("session_event", on_event)
    h.start_charging()
    assert seen == ["SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEVSE"]
    assert h.mgr.state == "ChargingPausedEVSE"


def test_get_evse(h):
    evse = h.mgr.get_evse()
    assert isinstance(evse, Evse)
    assert codec.to_builtins(evse) == {"id": 1, "connectors": [{"id": 1, "type": "Unknown"}]}
    h2 = ManagerHarness(config={"connector_id": 2, "connector_type": "cType2"})
    assert codec.to_builtins(h2.mgr.get_evse()) == {"id": 2, "connectors": [{"id": 1, "type": "cType2"}]}
    h3 = ManagerHarness(config={"connector_type": "weird"})
    assert codec.to_builtins(h3.mgr.get_evse()) == {"id": 1, "connectors": [{"id": 1}]}


def test_external_ready(kernels):
    h = ManagerHarness(kernels=kernels, config={"external_ready_to_start_charging": True}, limit_A=None)
    assert h.mgr.get("waiting_for_external_ready") is True
    assert h.mgr.get("ready") is None
    assert h.event_names() == []
    h.plug_in()  # not ready: the board events are dropped
    assert h.mgr.state == "Idle"
    assert h.mgr.external_ready_to_start_charging() is True
    assert h.mgr.get("ready") is True
    assert h.event_names() == ["Enabled"]
    assert h.mgr.external_ready_to_start_charging() is True
    assert h.event_names() == ["Enabled"]
    assert ManagerHarness(kernels=kernels).mgr.external_ready_to_start_charging() is False


def test_hlc_cmds_in_basic_charging(h):
    assert h.mgr.update_allowed_energy_transfer_modes(["AC_three_phase_core"]).value == "NoHlc"
    assert h.mgr.set_plug_and_charge_configuration({"pnc_enabled": True}) is None
    h2 = ManagerHarness(config={"ac_hlc_enabled": True})
    assert h2.mgr.update_allowed_energy_transfer_modes(b'["AC_BPT"]').value == "Accepted"


def test_force_unlock(h):
    h.start_charging()
    assert h.mgr.force_unlock(1) is True
    assert h.event_names()[-1] == "SessionCancelled"
    assert h.mgr.session_events[-1].session_cancelled.reason.value == "UnlockCommand"
    assert ("unlock",) in h.board.commands

    class NoLock(FakeBoard):
        supports_connector_lock = False
    h2 = ManagerHarness(board=NoLock())
    assert h2.mgr.force_unlock(0) is False


def test_telemetry_and_meter_key(h):
    from evsefast.types import Telemetry
    t = Telemetry(evse_temperature_C=30.0, fan_rpm=0.0, supply_voltage_12V=12.0, supply_voltage_minus_12V=-12.0,
                  relais_on=False)
    h.board.listener.on_telemetry(t)
    h.mgr.on_powermeter_public_key_ocmf("KEY")
    h.mgr.tick()
    assert h.mgr.get("telemetry") == t
    assert h.mgr.get("powermeter_public_key_ocmf") == "KEY"


def test_energy_never_decreases_within_a_session(h):
    h.sample(100.0)
    h.start_charging()
    h.sample(50.0)  # a meter glitch
    h.cp("A")
    assert h.mgr.session_events[-1].session_finished.energy_Wh_import == 100.0


def test_signed_meter_value_on_session_finished(kernels):
    from evsefast.testing import FakePowerMeter
    from evsefast.types import SignedMeterValue, TransactionStopResponse

    class Signed(FakePowerMeter):
        def stop_transaction(self, transaction_id):
            super().stop_transaction(transaction_id)
            return TransactionStopResponse(status="OK", signed_meter_value=SignedMeterValue(
                signed_meter_data="OCMF|x", signing_method="", encoding_method=""))
    h = ManagerHarness(kernels=kernels, meter=Signed())
    h.start_charging()
    h.cp("A")
    assert h.mgr.session_events[-1].session_finished.signed_meter_value == "OCMF|x"


# -- config ---------------------------------------------------------------------------------------
def test_config_from_dict_and_errors():
    assert ManagerConfig.from_any({"has_ventilation": False}).has_ventilation is False
    assert ManagerConfig.from_any(b'{"evse_id": "X"}').evse_id == "X"
    with pytest.raises(CommandRejected) as ei:
        ManagerConfig.from_any({"soft_over_current_timeout_ms": 100})
    assert ei.value.field == "config.soft_over_current_timeout_ms"
    with pytest.raises(CommandRejected) as ei:
        ManagerConfig.from_any({"nope": 1})
    assert "nope" in ei.value.field
    with pytest.raises(CommandRejected):
        EvseManager({"switch_3ph1ph_cp_state": "Z"}, board=FakeBoard())
    with pytest.raises(TypeError):
        EvseManager()


# -- bad input ------------------------------------------------------------------------------------------
BAD = [
    ("enable_disable", (0, b'{"enable_source": "CSMS"'), "cmd_source"),  # malformed JSON
    ("enable_disable", (0, {"enable_source": "Nope", "enable_state": "Enable", "enable_priority": 1}),
     "cmd_source.enable_source"),
    ("enable_disable", (0, {"enable_source": "CSMS", "enable_state": "Enable", "enable_priority": 10001}),
     "cmd_source.enable_priority"),
    ("enable_disable", ("zero", {"enable_source": "CSMS", "enable_state": "Enable", "enable_priority": 1}),
     "connector_id"),
    ("enable_disable", (-1, {"enable_source": "CSMS", "enable_state": "Enable", "enable_priority": 1}),
     "connector_id"),
    ("reserve", (2 ** 40,), "reservation_id"),
    ("reserve", ("5",), "reservation_id"),  # JSON text "5" is an int... but not a Python str of digits? see below
    ("reserve", (1.5,), "reservation_id"),
    ("stop_transaction", ({"reason": "Because"},), "request.reason"),
    ("stop_transaction", ({},), "request.reason"),
    ("authorize_response", ({"id_token": {"value": "x" * 40, "type": "ISO14443"}, "authorization_type": "RFID"},
                            validation()), "provided_token.id_token.value"),
    ("authorize_response", (token(), {"authorization_status": "Maybe", "tariff_messages": []}),
     "validation_result.authorization_status"),
    ("update_allowed_energy_transfer_modes", ([],), "allowed_energy_transfer_modes"),
    ("update_allowed_energy_transfer_modes", (["Warp"],), "allowed_energy_transfer_modes[0]"),
    ("enforce_limits", ({"uuid": "evse_manager", "valid_for": 10, "limits_root_side": {
        "ac_max_current_A": {"value": float("nan"), "source": "x"}}, "schedule": []},),
     "value.limits_root_side.ac_max_current_A.value"),
    ("enforce_limits", ({"uuid": "evse_manager", "valid_for": "10", "limits_root_side": {}, "schedule": []},),
     "value.valid_for"),
    ("force_unlock", (True,), "connector_id"),
    ("switch_three_phases_while_charging", ("yes",), "three_phases"),
    ("set_plug_and_charge_configuration", ({"pnc_enabled": 3},), "plug_and_charge_configuration.pnc_enabled"),
]


@pytest.mark.arm
@pytest.mark.parametrize("cmd,args,field", BAD)
def test_bad_input_is_rejected_naming_the_field(h, cmd, args, field):
    h.start_charging()
    before = (h.mgr.state, list(h.board.commands), h.event_names(), h.mgr.get("limits"))
    if cmd == "reserve" and args == ("5",):
        # a str is JSON text: "5" decodes to 5 and is valid; a non-numeric string is not
        args = ("five",)
    with pytest.raises(CommandRejected) as ei:
        getattr(h.mgr, cmd)(*args)
    assert ei.value.field == field
    assert str(ei.value).startswith(field)
    assert (h.mgr.state, list(h.board.commands), h.event_names(), h.mgr.get("limits")) == before


def test_json_bytes_arguments(h):
    assert h.mgr.reserve(b"7") is True
    h.mgr.cancel_reservation()
    assert h.mgr.enable_disable(b"0", b'{"enable_source":"CSMS","enable_state":"Disable","enable_priority":1}') \
        is False
    assert h.mgr.enable_disable(0, b'{"enable_source":"CSMS","enable_state":"Enable","enable_priority":1}') is True
    h.plug_in()
    h.mgr.authorize_response(json.dumps(token()).encode(), json.dumps(validation()).encode())
    assert h.mgr.state == "PrepareCharging"


def test_internal_error_goes_to_safe_state(h):
    h.start_charging()
    h.mgr._core._tick["Charging"] = lambda now: 1 / 0  # a bug in the state machine
    h.mark()
    h.sample()  # any input runs the machine; nothing escapes
    assert h.board.commands[:2] == [("allow_power_on", False, "PowerOff"), ("cp_state_F",)]
    assert h.event_names()[-1] == "Error"
    assert h.mgr.session_events[-1].error.value == "Internal"
