"""An EVerest BSP module and a powermeter module, played over a real mosquitto, drive a whole session
of an ``evsefast serve`` connector with ``board = "everest"`` (wire_protocols.md §1, spec §7, §4)."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

from evsefast.everest.peer import EverestPeer
from evsefast.everest.settings import MqttSettings
from evsefast.serve_config import parse_config
from evsefast.serve_site import Site
from evsefast.testing import token, validation

CAPS = {"max_current_A_import": 16.0, "min_current_A_import": 6.0, "max_phase_count_import": 3,
        "min_phase_count_import": 1, "max_current_A_export": 0.0, "min_current_A_export": 0.0,
        "max_phase_count_export": 1, "min_phase_count_export": 1, "supports_changing_phases_during_charging": False,
        "supports_cp_state_E": False, "connector_type": "IEC62196Type2Cable"}


class FakeModule:
    """An EVerest module played over MQTT: answers every cmd call (recorded) with ``answers[cmd]``."""

    def __init__(self, settings: MqttSettings, module_id: str, impl: str, answers=None) -> None:
        self.peer = EverestPeer(settings, module_id).start()
        self.module_id, self.impl = module_id, impl
        self.base = self.peer.base(module_id, impl)
        self.answers = answers or {}
        self.calls = []
        self.cond = threading.Condition()
        w = self.peer.wire
        self.peer.link.subscribe(w.cmd_filter(self.base), self._on_call, wait_s=5)

    def _on_call(self, topic: str, payload: bytes) -> None:
        call = self.peer.wire.parse_call(topic, payload, self.base)
        if call is None or not hasattr(call, "args"):
            return
        args = {k: json.loads(bytes(v)) for k, v in call.args.items()}
        with self.cond:
            self.calls.append((call.cmd, args, call.origin))
            self.cond.notify_all()
        retval = json.dumps(self.answers.get(call.cmd)).encode()
        self.peer.link.publish(*self.peer.wire.result(self.base, call.cmd, call.id, call.origin, self.module_id,
                                                      retval))

    def wait_call(self, pred, timeout_s: float = 10.0):
        with self.cond:
            ok = self.cond.wait_for(lambda: any(pred(c) for c in self.calls), timeout_s)
            assert ok, f"{self.module_id}: no matching call; calls: {self.calls}"
            return next(c for c in self.calls if pred(c))

    def var(self, name: str, value) -> None:
        self.peer.publish_var(self.module_id, self.impl, name, value)

    def error(self, error_type: str, active: bool) -> None:
        from evsefast.everest.envelopes import ErrorOrigin, FrameworkError
        err = FrameworkError(type=error_type, sub_type="", description="d", message="m", severity="High",
                             origin=ErrorOrigin(module_id=self.module_id, implementation_id=self.impl),
                             timestamp="2026-05-06T10:15:02.345Z", uuid="bsp-err-1",
                             state="Active" if active else "ClearedByModule", vendor_id="Pionix")
        self.peer.link.publish(*self.peer.wire.error(self.base, err))

    def stop(self) -> None:
        self.peer.stop()


def _meter(wh: float) -> dict:
    return {"timestamp": "2026-05-06T10:15:02.345Z", "meter_id": "M1", "energy_Wh_import": {"total": wh},
            "power_W": {"total": 3680.0}}


@pytest.mark.parametrize("fmt", ["current", "legacy"])
def test_a_bsp_module_drives_a_whole_session(mosquitto, fmt):
    tag = uuid.uuid4().hex[:8]
    mqtt = {"host": mosquitto.host, "port": mosquitto.port, "everest_prefix": f"everest_{tag}", "format": fmt,
            "external_prefix": f"ext_{tag}/"}
    cfg = parse_config({"mqtt": mqtt, "connectors": [{
        "module_id": "connector_1", "board": "everest", "bsp_module_id": "yeti_driver",
        "powermeters": [{"module_id": "meter"}]}]}, env={})
    settings = cfg.mqtt
    bsp = FakeModule(settings, "yeti_driver", "board_support")
    meter = FakeModule(settings, "meter", "main", answers={
        "start_transaction": {"status": "OK"},
        "stop_transaction": {"status": "OK", "signed_meter_value": {"signed_meter_data": "OCMF|x",
                                                                    "signing_method": "", "encoding_method": "OCMF"}}})
    ocpp = EverestPeer(settings, "ocpp").start()
    site = Site(cfg)
    try:
        events = ocpp.watch_vars("connector_1", "evse")
        site.start()
        assert site.link.wait_connected(10)
        c = site.connector("connector_1")
        assert not c.driver.manager_started  # an EVerest BSP: wait for GlobalReady
        ocpp.global_ready()
        bsp.var("capabilities", CAPS)
        meter.var("powermeter", _meter(1000.0))
        events.wait_for(lambda v: v == ("ready", True))
        bsp.wait_call(lambda call: call[0] == "enable" and call[1] == {"value": True})
        bsp.var("event", {"event": "B"})
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "AuthRequired")
        ocpp.call("connector_1", "evse", "authorize_response",
                  {"provided_token": token("RFID7"), "validation_result": validation()})
        # the balancer (no site limit) gave the BSP's 16 A: 26.67 % PWM
        cmd = bsp.wait_call(lambda call: call[0] == "pwm_on")
        assert cmd[1]["value"] == pytest.approx(26.6667, abs=1e-3) and cmd[2] == "connector_1"
        start = meter.wait_call(lambda call: call[0] == "start_transaction")
        assert start[1]["value"]["identification_data"] == "RFID7"
        bsp.var("event", {"event": "C"})
        bsp.wait_call(lambda call: call[0] == "allow_power_on" and call[1]["value"]["allow_power_on"] is True)
        bsp.var("event", {"event": "PowerOn"})
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingStarted")
        meter.var("powermeter", _meter(1500.0))
        # a BSP error makes the EVSE inoperative: power off, paused, until the car leaves
        bsp.error("evse_board_support/MREC2GroundFailure", True)
        ev = events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "Error")
        assert ev[1]["error"] == "RCD"
        bsp.wait_call(lambda call: call[0] == "allow_power_on" and call[1]["value"]["allow_power_on"] is False)
        bsp.var("event", {"event": "PowerOff"})
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingPausedEVSE")
        bsp.var("event", {"event": "A"})
        ev = events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "SessionFinished")
        bsp.error("evse_board_support/MREC2GroundFailure", False)
        assert ev[1]["session_finished"]["energy_Wh_import"] == 1500.0
        meter.wait_call(lambda call: call[0] == "stop_transaction" and call[1]["transaction_id"])
        names = [v[1]["event"] for v in events.seen if v[0] == "session_event"]
        assert names[names.index("SessionStarted"):] == ["SessionStarted", "AuthRequired", "ChargingStarted", "Error",
                                                         "ChargingPausedEVSE", "SessionFinished"]
    finally:
        site.shutdown()
        try:
            # the safe state reached the BSP before exit: CP F, disabled; power never allowed again
            bsp.wait_call(lambda call: call[0] == "cp_state_F")
            bsp.wait_call(lambda call: call == ("enable", {"value": False}, "connector_1"))
        finally:
            for m in (bsp, meter):
                m.stop()
            ocpp.stop()
    power = [call[1]["value"]["allow_power_on"] for call in bsp.calls if call[0] == "allow_power_on"]
    assert power[-1] is False
