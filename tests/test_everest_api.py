"""The consumer API host over a real mosquitto (wire_protocols.md §2.1, §2.3): each request/reply with
replyTo, forwarded vars, session_info across a session, heartbeat and communication_check."""
from __future__ import annotations

import json
import uuid

import pytest

from evsefast.everest.testing import ModuleRig
from evsefast.types.powermeter import Power


def _j(topic, payload):
    return topic, (json.loads(payload) if payload else None)


class Api:
    """A consumer-API client: requests with a unique replyTo, bare replies."""

    def __init__(self, rig):
        self.rig = rig
        self.base = rig.api_base
        self.e2m = rig.peer.watch(f"{self.base}/e2m/#", _j)

    def request(self, op, payload=None, reply=True, raw=None):
        reply_to = f"{self.base}/e2m/{op}/{uuid.uuid4().hex}" if reply else None
        msg = {}
        if reply_to:
            msg["headers"] = {"replyTo": reply_to}
        if payload is not None:
            msg["payload"] = payload
        self.rig.peer.publish(f"{self.base}/m2e/{op}", raw if raw is not None else json.dumps(msg).encode(), qos=0)
        if reply_to:
            return self.e2m.wait_for(lambda m: m[0] == reply_to, timeout_s=5)[1]
        return None

    def latest(self, name):
        for topic, value in reversed(self.e2m.seen):
            if topic == f"{self.base}/e2m/{name}":
                return value
        return None


@pytest.fixture
def rig(mosquitto):
    r = ModuleRig(mosquitto, api_module_id="evse_api", start=False)
    yield r
    r.close()


def test_each_request_is_answered_on_its_reply_topic(rig):
    api = Api(rig)
    rig.start()
    assert api.request("get_evse") == {"id": 1, "connectors": [{"id": 1, "type": "Unknown"}]}
    disable = {"enable_source": "LocalAPI", "enable_state": "Disable", "enable_priority": 10}
    assert api.request("enable_disable", {"connector_id": 0, "source": disable}) is False
    enable = dict(disable, enable_state="Enable")
    assert api.request("enable_disable", {"connector_id": 0, "source": enable}) is True
    assert api.request("pause_charging") is False  # no transaction
    assert api.request("resume_charging") is False
    assert api.request("stop_transaction", {"reason": "Local"}) is False
    assert api.request("force_unlock", 1) is True
    rig.limit(16.0)
    rig.plug_in()
    rig.authorize()
    assert api.request("pause_charging") is True
    assert api.request("resume_charging") is True
    # without replyTo: executed, not answered
    api.request("stop_transaction", {"reason": "Remote"}, reply=False)
    rig.wait_for(lambda: any(e.event.value == "SessionCancelled" for e in rig.manager.session_events),
                 what="SessionCancelled")
    assert api.request("get_evse")["id"] == 1  # the stop request above has been counted by now
    # a request that does not parse is neither executed nor answered (EVerest's behaviour)
    n = rig.api.requests_handled
    api.request("enable_disable", raw=b'{"payload":{"connector_id":0,"source":{"enable_source":"Nope"}}}', reply=False)
    api.request("force_unlock", raw=b"{oops", reply=False)
    assert api.request("get_evse")["id"] == 1
    assert rig.api.requests_handled == n + 1
    assert rig.manager.state != "Disabled"


def test_vars_are_forwarded_bare(rig):
    api = Api(rig)
    fw = rig.peer.watch_vars("connector_1", "evse")
    rig.start()
    rig.plug_in()
    fw.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "AuthRequired")
    api.e2m.wait_for(lambda m: m[0].endswith("/e2m/session_event") and m[1]["event"] == "AuthRequired")
    forwarded = {m[0].rsplit("/", 1)[1] for m in api.e2m.seen}
    assert {"session_event", "evse_id", "hw_capabilities", "selected_protocol", "supported_energy_transfer_modes",
            "ev_info", "session_info"} <= forwarded
    assert not {"limits", "ready", "telemetry", "car_manufacturer", "waiting_for_external_ready"} & forwarded
    fw_events = [v[1] for v in fw.seen if v[0] == "session_event"]
    api_events = [m[1] for m in api.e2m.seen if m[0].endswith("/e2m/session_event")]
    assert api_events == fw_events  # the same objects, without the envelope


def test_session_info_across_a_session(rig):
    api = Api(rig)
    rig.start()

    def info(pred, what):
        return api.e2m.wait_for(lambda m: m[0].endswith("/e2m/session_info") and pred(m[1]), timeout_s=5)[1]
    rig.limit(16.0)
    rig.run(lambda: rig.meter.publish(1000.0))
    rig.plug_in()
    assert info(lambda i: i["state"] == "Preparing", "Preparing")["charged_energy_wh"] == 0
    info(lambda i: i["state"] == "AuthRequired", "AuthRequired")
    rig.authorize()
    rig.cp("C")
    rig.cp("PowerOn")
    started = info(lambda i: i["state"] == "Charging", "Charging")
    assert started["session_start_time"].endswith("Z") and "session_end_time" not in started
    assert started["selected_protocol"] == "IEC61851-1"
    rig.advance(60_000)
    rig.run(lambda: rig.meter.publish(1250.0, power_W=Power(total=11040.0)))
    got = info(lambda i: i["charged_energy_wh"] == 250, "250 Wh")
    assert got["state"] == "Charging" and got["latest_total_w"] == 11040 and got["session_duration_s"] >= 60
    assert rig.peer.call_value("connector_1", "evse", "pause_charging") is True
    rig.cp("PowerOff")  # the contactors opened
    info(lambda i: i["state"] == "ChargingPausedEVSE", "paused")
    rig.peer.call("connector_1", "evse", "stop_transaction", {"request": {"reason": "Local"}})
    done = info(lambda i: i["state"] == "FinishedEVSE", "FinishedEVSE")
    assert done["charged_energy_wh"] == 250
    rig.run(lambda: rig.meter.publish(1300.0))  # after the transaction: not counted
    rig.cp("A")
    end = info(lambda i: i["state"] == "Unplugged" and "session_end_time" in i, "Unplugged")
    assert end["charged_energy_wh"] == 250 and end["session_duration_s"] >= 60


def test_heartbeat_and_communication_check(rig):
    api = Api(rig)
    faults = rig.peer.watch_errors("evse_api", "main")
    rig.start()
    raised = faults.get()
    assert (raised.type, raised.sub_type, raised.state) == ("generic/CommunicationFault",
                                                            "Initial communication check", "Active")
    assert rig.api.communication_fault == "Initial communication check"
    rig.peer.publish(f"{api.base}/m2e/communication_check", b"true", qos=0)
    cleared = faults.get()
    assert (cleared.state, cleared.uuid) == ("ClearedByModule", raised.uuid)
    beats = []
    for _ in range(3):
        rig.advance(1000)
        beats.append(api.e2m.wait_for(lambda m: m[0].endswith("/e2m/heartbeat") and m[1] not in beats)[1])
    assert beats == sorted(beats) and beats[1] == beats[0] + 1 and beats[2] == beats[1] + 1
    rig.advance(5000)  # no communication_check for 5 s
    again = faults.get()
    assert (again.sub_type, again.state) == ("Bridge to implementation connection lost", "Active")
    rig.peer.publish(f"{api.base}/m2e/communication_check", b"true", qos=0)
    assert faults.get().state == "ClearedByModule"
    rig.peer.publish(f"{api.base}/m2e/communication_check", b"false", qos=0)  # stop checking
    rig.wait_for(lambda: not rig.api.comm.active, what="the check to stop")
    rig.advance(10_000)
    assert faults.drain() == [] and rig.api.communication_fault is None
