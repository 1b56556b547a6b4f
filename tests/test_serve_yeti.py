"""An ``evsefast serve`` connector on a Yeti serial board (a virtual Yeti MCU on a real pty), with its
cmds run on the MQTT thread (``inline_cmds``): a session over MQTT, then the safe stop reaches the MCU."""
from __future__ import annotations

import time
import uuid

from evsefast.everest.peer import EverestPeer
from evsefast.serve_config import parse_config
from evsefast.serve_site import Site
from evsefast.sim.virtual_yeti import VirtualYetiMcu, make_hardware

CAR = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 600"


def test_a_yeti_connector_charges_and_stops_safely(mosquitto, no_serial_leaks):
    tag = uuid.uuid4().hex[:8]
    mcu = VirtualYetiMcu(make_hardware(CAR, seed=1, sample_rate_Hz=10_000)).start()
    cfg = parse_config({"mqtt": {"host": mosquitto.host, "port": mosquitto.port, "everest_prefix": f"everest_{tag}"},
                        "connectors": [{"module_id": "cp_yeti", "board": "yeti", "port": mcu.port_path,
                                        "inline_cmds": True, "manager": {"disable_authentication": True}}]},
                       env={})
    site = Site(cfg)
    peer = EverestPeer(cfg.mqtt, "ocpp").start()
    try:
        events = peer.watch_vars("cp_yeti", "evse")
        site.start()
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingStarted", timeout_s=20)
        assert peer.call_value("cp_yeti", "evse", "get_evse")["id"] == 1  # answered on the MQTT thread
        assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True, timeout_s=5) is not None
    finally:
        t_stop = time.monotonic()
        site.shutdown()
        peer.stop()
        # the safe stop reached the MCU (it reads the pty on its own thread): disabled = F (duty 0)
        f = mcu.wait_for(lambda m, v: m == "pwm_duty_cycle" and v == 0, timeout_s=5, since=t_stop)
        mcu.stop()
    assert f is not None
    cmds = mcu.commands()
    last_power = [v for m, v in cmds if m == "allow_power_on"][-1]
    last_duty = [v for m, v in cmds if m == "pwm_duty_cycle"][-1]
    # then the manager's close() leaves the PWM off (X1, 10001) with power off: no PWM, no power
    assert last_power is False and last_duty in (0, 10001), [c for c in cmds if c[0] != "keep_alive"][-6:]
    names = [v[1]["event"] for v in events.seen if v[0] == "session_event"]
    assert names[-2:] == ["SessionCancelled", "Disabled"]
