"""The framework's wire formats without a broker: the exact envelopes of wire_protocols.md §1.3-§1.8,
and that the topics match bindings/everest/topics.json."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from evsefast.everest.envelopes import ErrorOrigin, FrameworkError
from evsefast.everest.settings import ModuleIds, MqttSettings
from evsefast.everest.wire import BadCall, Call, wire_format
from evsefast.errors import InvalidInput
from evsefast.types.interface import CMDS, VARS

ROOT = Path(__file__).resolve().parents[1]
TOPICS = json.loads((ROOT / "bindings" / "everest" / "topics.json").read_text())
BASE = "everest/modules/connector_1/impl/evse"
ID = "0b6f8a52-4c1e-4f7e-9d38-2a1c5e7b9f10"


def j(b: bytes):
    return json.loads(b)


def test_pause_charging_current_format_is_the_worked_example():
    w = wire_format("current")
    topic, payload = w.call(BASE, "pause_charging", ID, b"{}", "ocpp")
    assert topic == "everest/modules/connector_1/impl/evse/cmd/pause_charging"
    assert j(payload) == {"msg_type": "Cmd", "data": {"id": ID, "args": {}, "origin": "ocpp"}}
    call = w.parse_call(topic, payload, BASE)
    assert call == Call("pause_charging", ID, "ocpp", {})
    topic, payload = w.result(BASE, "pause_charging", ID, "ocpp", "connector_1", b"true")
    assert topic == "everest/modules/connector_1/impl/evse/cmd/pause_charging/response/ocpp"
    assert j(payload) == {"msg_type": "CmdResult", "data": {"type": "result", "data": {
        "id": ID, "retval": True, "origin": "connector_1"}}}
    topic, payload = w.error_result(BASE, "pause_charging", ID, "ocpp", "connector_1", "HandlerException", "boom")
    assert j(payload) == {"msg_type": "CmdResult", "data": {"type": "result", "data": {
        "id": ID, "origin": "connector_1",
        "error": {"__everest__error_type": "HandlerException", "__everest__error_msg": "boom"}}}}
    res = w.parse_result(payload)
    assert res.id == ID and res.error.type == "HandlerException" and res.error.msg == "boom"


def test_pause_charging_legacy_format_is_the_worked_example():
    w = wire_format("legacy")
    topic, payload = w.call(BASE, "pause_charging", ID, b"{}", "ocpp")
    assert topic == "everest/modules/connector_1/impl/evse/cmd"
    assert j(payload) == {"name": "pause_charging", "type": "call",
                          "data": {"id": ID, "args": {}, "origin": "ocpp"}}
    assert w.parse_call(topic, payload, BASE) == Call("pause_charging", ID, "ocpp", {})
    topic, payload = w.result(BASE, "pause_charging", ID, "ocpp", "connector_1", b"true")
    assert topic == "everest/modules/connector_1/impl/evse/cmd"
    assert j(payload) == {"name": "pause_charging", "type": "result",
                          "data": {"id": ID, "retval": True, "origin": "connector_1"}}
    # results share the topic: the callee must not take its own result for a call
    assert w.parse_call(topic, payload, BASE) is None


@pytest.mark.parametrize("fmt", ["current", "legacy"])
def test_session_event_var_envelope(fmt):
    w = wire_format(fmt)
    value = b'{"uuid":"u","event":"ChargingPausedEVSE"}'
    topic, payload = w.var(BASE, "session_event", value)
    if fmt == "current":
        assert topic == f"{BASE}/var/session_event"
        assert j(payload) == {"msg_type": "Var", "data": {"data": {"uuid": "u", "event": "ChargingPausedEVSE"}}}
    else:
        assert topic == f"{BASE}/var"
        assert j(payload) == {"name": "session_event", "data": {"uuid": "u", "event": "ChargingPausedEVSE"}}
    assert w.parse_var(topic, payload, BASE) == ("session_event", value)


def _error(state: str) -> FrameworkError:
    return FrameworkError(type="evse_manager/Inoperative", sub_type="", description="d", message="m",
                          origin=ErrorOrigin(module_id="connector_1", implementation_id="evse"), severity="High",
                          timestamp="2026-05-06T10:15:02.345Z", uuid="e1", state=state, vendor_id="EVerest")


def test_error_raise_and_clear_envelopes():
    w = wire_format("current")
    topic, payload = w.error(BASE, _error("Active"))
    assert topic == f"{BASE}/error/evse_manager/Inoperative"
    msg = j(payload)
    assert msg["msg_type"] == "RaiseError"
    assert set(msg["data"]) == {"type", "sub_type", "description", "message", "origin", "severity", "timestamp",
                                "uuid", "state", "vendor_id"}
    assert msg["data"]["origin"] == {"module_id": "connector_1", "implementation_id": "evse"}
    topic, payload = w.error(BASE, _error("ClearedByModule"))
    assert j(payload)["msg_type"] == "ClearError" and j(payload)["data"]["state"] == "ClearedByModule"
    legacy = wire_format("legacy")
    topic, payload = legacy.error(BASE, _error("Active"))
    assert topic == f"{BASE}/error" and j(payload)["state"] == "Active"


def test_ready_messages():
    cur, leg = wire_format("current"), wire_format("legacy")
    assert cur.module_ready("everest/", "connector_1") == (
        "everest/modules/connector_1/ready", b'{"msg_type":"ModuleReady","data":true}')
    assert leg.module_ready("everest/", "connector_1") == ("everest/modules/connector_1/ready", b"true")
    assert cur.is_global_ready(b'{"msg_type":"GlobalReady","data":true}')
    assert not cur.is_global_ready(b"true") and not cur.is_global_ready(b"{")
    assert leg.is_global_ready(b"true") and not leg.is_global_ready(b"false")
    topic, payload = cur.metadata("everest/", "connector_1", "evsefast", {"evse": "evse_manager"})
    assert topic == "everest/modules/connector_1/metadata"
    assert j(payload) == {"msg_type": "GetConfigResponse",
                          "data": {"module": "evsefast", "provides": {"evse": {"interface": "evse_manager"}}}}


@pytest.mark.parametrize("payload, has_reply", [
    (b'{"msg_type":"Cmd","data":{"id":"abc","origin":"ocpp","args":{"x":1,,}}}', True),
    (b'{"msg_type":"Cmd","data":{"origin":"ocpp"}}', False),
    (b'not json at all', False),
    (b'{"msg_type":"Var","data":{"id":"abc","origin":"ocpp"}}', True),
    (b'\xff\xfe', False),
])
def test_bad_calls_salvage_id_and_origin_when_they_are_there(payload, has_reply):
    bad = wire_format("current").parse_call(f"{BASE}/cmd/reserve", payload, BASE)
    assert isinstance(bad, BadCall) and bad.cmd == "reserve"
    assert bool(bad.id and bad.origin) is has_reply
    if has_reply:
        assert (bad.id, bad.origin) == ("abc", "ocpp")


def test_topics_json_matches_the_wire_formats():
    """bindings/everest/topics.json (generated) and the code agree on every cmd and var topic."""
    sub = {"{prefix}": "everest/", "{module_id}": "connector_1", "{impl_id}": "evse", "{caller_id}": "ocpp"}

    def fill(t: str, impl: str = "evse") -> str:
        for k, v in {**sub, "{impl_id}": impl}.items():
            t = t.replace(k, v)
        return t
    cur = wire_format("current")
    fw = TOPICS["framework"]
    assert set(fw["cmds"]) == set(CMDS) and set(fw["vars"]) == set(VARS)
    for name, spec in fw["cmds"].items():
        topic, payload = cur.call(BASE, name, "<uuid>", b"{}", "ocpp")
        assert fill(spec["call"]["topic"]) == topic
        rtopic, rpayload = cur.result(BASE, name, "<uuid>", "ocpp", "<module_id>", b"null")
        assert fill(spec["result"]["topic"]) == rtopic
        assert j(rpayload)["msg_type"] == spec["result"]["payload"]["msg_type"]
    for name, spec in fw["vars"].items():
        assert fill(spec["topic"]) == cur.var(BASE, name, b"1")[0]
    legacy = TOPICS["framework_legacy"]
    assert fill(legacy["cmd"]["topic"]) == wire_format("legacy").cmd_filter(BASE)
    assert fill(legacy["var"]["topic"]) == wire_format("legacy").var_filter(BASE)
    energy = TOPICS["energy_grid"]
    ebase = "everest/modules/connector_1/impl/energy_grid"
    assert fill(energy["cmds"]["enforce_limits"]["call"]["topic"], "energy_grid") == \
        cur.call(ebase, "enforce_limits", "i", b"{}", "ocpp")[0]
    assert fill(energy["vars"]["energy_flow_request"]["topic"], "energy_grid") == \
        cur.var(ebase, "energy_flow_request", b"1")[0]


def test_settings_env_overrides_and_checks():
    s = MqttSettings().with_env({"MQTT_SERVER_ADDRESS": "broker", "MQTT_SERVER_PORT": "1884",
                                 "EV_MQTT_EVEREST_PREFIX": "everest_abc", "EV_MQTT_EXTERNAL_PREFIX": "ext_abc/"})
    assert (s.host, s.port, s.prefix, s.external_prefix) == ("broker", 1884, "everest_abc/", "ext_abc/")
    s = MqttSettings().with_env({"EV_MQTT_BROKER_SOCKET_PATH": "/run/mqtt.sock"})
    assert s.socket_path == "/run/mqtt.sock" and s.host == ""
    with pytest.raises(InvalidInput, match="EV_MQTT_BROKER_PORT"):
        MqttSettings().with_env({"EV_MQTT_BROKER_PORT": "x"})
    with pytest.raises(InvalidInput, match="either socket_path or host"):
        MqttSettings(host="broker", socket_path="/run/mqtt.sock")
    with pytest.raises(InvalidInput, match="external_prefix"):
        MqttSettings(everest_prefix="everest", external_prefix="everest/")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"module_id": "a/b"}, ModuleIds)
