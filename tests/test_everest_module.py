"""evsefast as an EVerest module over a real mosquitto, played from EVerest's side (wire_protocols.md §1):
every cmd with the exact envelopes of §1.7 in both formats, results matched by id, a full session's
session_event order, EnergyManager limits changing the PWM, errors raised and cleared, the energy
request, GlobalReady, and the manifest."""
from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest

from evsefast.everest.testing import ModuleRig
from evsefast.types.interface import CMDS

FORMATS = ["current", "legacy"]
MANIFEST = json.loads((Path(__file__).resolve().parents[1] / "bindings" / "everest" / "manifest.json").read_text())

#: (cmd, args, retval) in an idle, ready manager -- each cmd of the interface once, in this order
EVERY_CMD = [
    ("get_evse", {}, {"id": 1, "connectors": [{"id": 1, "type": "Unknown"}]}),
    ("enable_disable", {"connector_id": 0, "cmd_source": {"enable_source": "LocalAPI", "enable_state": "Enable",
                                                           "enable_priority": 5}}, True),
    ("reserve", {"reservation_id": 5}, True),
    ("cancel_reservation", {}, None),
    ("authorize_response", {"provided_token": {"id_token": {"value": "T1", "type": "ISO14443"},
                                               "authorization_type": "RFID"},
                            "validation_result": {"authorization_status": "Accepted", "tariff_messages": []}}, None),
    ("withdraw_authorization", {}, None),
    ("pause_charging", {}, False),
    ("resume_charging", {}, False),
    ("stop_transaction", {"request": {"reason": "Local"}}, False),
    ("force_unlock", {"connector_id": 1}, True),
    ("external_ready_to_start_charging", {}, False),
    ("set_plug_and_charge_configuration", {"plug_and_charge_configuration": {"pnc_enabled": True}}, None),
    ("update_allowed_energy_transfer_modes", {"allowed_energy_transfer_modes": ["AC_three_phase_core"]}, "NoHlc"),
]


def test_the_table_covers_every_cmd_of_the_interface():
    assert [c[0] for c in EVERY_CMD] != [] and {c[0] for c in EVERY_CMD} == set(CMDS)


def _responses(rig):
    """A Watch of decoded results addressed to 'ocpp' (current: per-cmd response topics; legacy: the
    shared cmd topic, results only)."""
    w = rig.peer.wire
    if w.name == "current":
        return rig.peer.watch(f"{rig.evse_base}/cmd/+/response/ocpp", lambda t, p: (t, json.loads(p)))
    return rig.peer.watch(f"{rig.evse_base}/cmd",
                          lambda t, p: (t, json.loads(p)) if json.loads(p).get("type") == "result" else None)


@pytest.mark.parametrize("fmt, inline", [("current", False), ("legacy", False), ("current", True)])
def test_every_cmd_answers_with_the_exact_envelope(mosquitto, fmt, inline):
    with ModuleRig(mosquitto, fmt, inline_cmds=inline) as rig:
        results = _responses(rig)
        for cmd, args, retval in EVERY_CMD:
            cid = str(uuid.uuid4())
            if fmt == "current":
                topic = f"{rig.evse_base}/cmd/{cmd}"
                payload = {"msg_type": "Cmd", "data": {"id": cid, "args": args, "origin": "ocpp"}}
            else:
                topic = f"{rig.evse_base}/cmd"
                payload = {"name": cmd, "type": "call", "data": {"id": cid, "args": args, "origin": "ocpp"}}
            rig.peer.publish(topic, json.dumps(payload).encode())
            got_topic, got = results.get(timeout_s=5)
            inner = {"id": cid, "retval": retval, "origin": "connector_1"}
            if fmt == "current":
                assert got_topic == f"{rig.evse_base}/cmd/{cmd}/response/ocpp"
                assert got == {"msg_type": "CmdResult", "data": {"type": "result", "data": inner}}
            else:
                assert got_topic == f"{rig.evse_base}/cmd"
                assert got == {"name": cmd, "type": "result", "data": inner}


@pytest.mark.parametrize("fmt", FORMATS)
def test_results_are_matched_by_id(mosquitto, fmt):
    """Concurrent callers get their own results: 4 threads x 10 calls, different cmds and args."""
    with ModuleRig(mosquitto, fmt) as rig:
        errors = []

        def worker(k: int) -> None:
            try:
                for i in range(10):
                    if k % 2:
                        assert rig.peer.call_value("connector_1", "evse", "get_evse")["id"] == 1
                    else:
                        res = rig.peer.call_value("connector_1", "evse", "reserve", {"reservation_id": k * 100 + i})
                        assert isinstance(res, bool)
                        rig.peer.call("connector_1", "evse", "cancel_reservation")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        assert rig.module.cmds_handled >= 60


@pytest.mark.parametrize("fmt, inline", [("current", False), ("legacy", False), ("current", True)])
def test_a_full_session_publishes_the_events_in_the_spec_order(mosquitto, fmt, inline):
    """Spec §2.7(a)+(c), profile P1/P4: plug in, RFID, limit, charge, the car pauses and resumes, unplug.
    Also with the cmds run on the MQTT thread (``inline_cmds``)."""
    with ModuleRig(mosquitto, fmt, start=False, inline_cmds=inline) as rig:
        vars_ = rig.peer.watch_vars("connector_1", "evse")
        rig.start()
        rig.limit(16.0)
        rig.plug_in()
        rig.authorize()
        rig.cp("C")
        rig.cp("PowerOn")
        rig.cp("B")
        rig.cp("PowerOff")
        rig.advance(6000)  # the PWM is back after >= 5 s in ChargingPausedEV
        rig.cp("C")
        rig.cp("PowerOn")
        rig.cp("A")
        rig.cp("PowerOff")
        vars_.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "SessionFinished")
        events = [v[1] for v in vars_.seen if v[0] == "session_event"]
        assert [e["event"] for e in events] == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted",
                                                "ChargingPausedEV", "ChargingResumed", "SessionFinished"]
        session = {e["uuid"] for e in events[1:]}
        assert len(session) == 1 and "" not in session
        assert events[0]["uuid"] == ""
        assert events[1]["session_started"]["energy_Wh_import"] == 0.0
        # the state vars of a ready manager went out too
        names = {v[0] for v in vars_.seen}
        assert {"ready", "evse_id", "hw_capabilities", "limits", "selected_protocol",
                "supported_energy_transfer_modes"} <= names


def test_energy_manager_limits_change_the_pwm(mosquitto):
    """Spec §3.1-§3.4: enforce_limits over MQTT -> I_eff -> duty; 16 A = 26.67 %, then 10 A = 16.67 %
    applied at the first tick >= 5 s after the previous PWM update."""
    with ModuleRig(mosquitto) as rig:
        assert rig.limit(16.0) == b"null"
        rig.plug_in()
        rig.authorize()
        pwm = [c[1] for c in rig.board.commands if c[0] == "pwm_on"]
        assert pwm and pwm[-1] == pytest.approx(26.6667, abs=1e-3)
        rig.cp("C")
        rig.cp("PowerOn")
        rig.limit(10.0)
        assert rig.manager.get("limits").max_current == 10.0
        rig.advance(5000)
        pwm = [c[1] for c in rig.board.commands if c[0] == "pwm_on"]
        assert pwm[-1] == pytest.approx(16.6667, abs=1e-3)
        assert rig.peer.call_value("connector_1", "evse", "get_evse")["id"] == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_are_raised_and_cleared_on_their_topics(mosquitto, fmt):
    """A board error makes the EVSE inoperative: evse_manager/Inoperative is raised with the full Error
    object and cleared (same uuid, ClearedByModule) when the cause goes away."""
    from evsefast.types.board import BoardError, Severity

    with ModuleRig(mosquitto, fmt) as rig:
        errors = rig.peer.watch_errors("connector_1", "evse")
        cause = BoardError(type="evse_board_support/MREC4OverCurrentFailure", message="hardware over-current",
                           severity=Severity.High)
        rig.run(lambda: rig.manager.on_error_raised(cause))
        raised = errors.get()
        assert (raised.type, raised.state, raised.severity) == ("evse_manager/Inoperative", "Active", "High")
        assert raised.message == "evse_board_support/MREC4OverCurrentFailure"
        assert raised.description == "MREC4OverCurrentFailure"
        assert (raised.origin.module_id, raised.origin.implementation_id) == ("connector_1", "evse")
        assert raised.timestamp.endswith("Z") and len(raised.timestamp) == 24
        rig.run(lambda: rig.manager.on_error_cleared("evse_board_support/MREC4OverCurrentFailure"))
        cleared = errors.get()
        assert (cleared.type, cleared.state, cleared.uuid) == ("evse_manager/Inoperative", "ClearedByModule",
                                                               raised.uuid)


def test_energy_flow_request_every_second_and_on_priority_transitions(mosquitto):
    with ModuleRig(mosquitto) as rig:
        reqs = rig.peer.watch_vars("connector_1", "energy_grid")
        rig.advance(1000)
        first = reqs.wait_for(lambda v: v[0] == "energy_flow_request")[1]
        assert first["uuid"] == "connector_1" and first["node_type"] == "Evse" and first["children"] == []
        assert first["evse_state"] == "Unplugged" and first["priority_request"] is False
        root = first["schedule_import"][0]["limits_to_root"]
        assert root["ac_max_current_A"]["value"] == 32.0 and root["ac_min_current_A"]["value"] == 6.0
        assert root["ac_max_phase_count"]["value"] == 3 and root["ac_supports_changing_phases_during_charging"]
        leaves = first["schedule_export"][0]["limits_to_leaves"]
        assert leaves["ac_max_current_A"]["value"] == 0.0 and leaves["total_power_W"]["value"] == 0.0
        assert first["energy_usage_root"]["energy_Wh_import"]["total"] == 0.0
        rig.plug_in()  # -> WaitingForAuthentication: a priority request at once, no clock advance needed
        prio = reqs.wait_for(lambda v: v[1].get("priority_request") is True)[1]
        assert prio["evse_state"] == "WaitForAuth"
        n = len(reqs.seen)
        rig.advance(1000)
        later = reqs.wait_for(lambda v: True)
        assert later[1]["priority_request"] is False and len(reqs.seen) == n + 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_waits_for_global_ready_before_starting(mosquitto, fmt):
    with ModuleRig(mosquitto, fmt, wait_global_ready=True, start=False) as rig:
        ready = rig.peer.watch(rig.peer.wire.module_ready(rig.settings.prefix, "connector_1")[0])
        vars_ = rig.peer.watch_vars("connector_1", "evse")
        rig.start()
        topic, payload = ready.get()
        assert payload == rig.peer.wire.module_ready(rig.settings.prefix, "connector_1")[1]
        assert not rig.driver.manager_started and rig.manager.get("ready") is None
        rig.peer.global_ready()
        vars_.wait_for(lambda v: v == ("ready", True))
        assert rig.module.global_ready.is_set()


def test_metadata_and_manifest_agree(mosquitto):
    """The module serves exactly what bindings/everest/manifest.json declares."""
    with ModuleRig(mosquitto, start=False) as rig:
        meta = rig.peer.watch(f"{rig.settings.prefix}modules/connector_1/metadata", lambda t, p: json.loads(p))
        rig.start()
        data = meta.get()["data"]
        assert data["module"] == "evsefast"
        assert data["provides"] == {k: {"interface": v["interface"]} for k, v in MANIFEST["provides"].items()}
        assert MANIFEST["requires"]["bsp"]["min_connections"] == 0
        assert MANIFEST["enable_external_mqtt"] is True


def test_a_broker_on_a_unix_socket(mosquitto):
    """EVerest's mqtt_broker_socket_path: the module connects over the socket (the caller over TCP)."""
    with ModuleRig(mosquitto, use_socket=True, start=False) as rig:
        assert rig.settings.socket_path == mosquitto.socket_path and rig.settings.host == ""
        rig.peer.stop()
        from evsefast.everest.peer import EverestPeer
        from evsefast.everest.settings import MqttSettings

        tcp = MqttSettings(host=mosquitto.host, port=mosquitto.port, everest_prefix=rig.settings.everest_prefix)
        rig.peer = EverestPeer(tcp, "ocpp").start()
        rig.start()
        assert rig.peer.call_value("connector_1", "evse", "get_evse")["id"] == 1
