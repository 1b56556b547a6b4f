"""Safety never depends on the broker (spec evse_manager.md §3.1 step 4): a broker killed mid-charge
leaves the charge running under the last valid limit until it expires, then it stops safely; the
module reconnects with back-off and re-publishes its state."""
from __future__ import annotations

import socket

import pytest

from evsefast.everest.broker import Mosquitto, find_mosquitto
from evsefast.everest.testing import ModuleRig

pytestmark = pytest.mark.usefixtures("mosquitto")  # skips (or fails under CI) without the binary


def _charging(rig, valid_for: int):
    rig.limit(16.0, valid_for=valid_for)
    rig.plug_in()
    rig.authorize()
    rig.cp("C")
    rig.cp("PowerOn")
    assert rig.manager.state == "Charging"


def _power(rig):
    """The last allow_power_on the board got (True/False)."""
    return [c[1] for c in rig.board.commands if c[0] == "allow_power_on"][-1]


def test_broker_killed_mid_charge_and_restarted():
    assert find_mosquitto() is not None
    broker = Mosquitto().start()
    rig = ModuleRig(broker, reconnect_min_s=0.2)
    try:
        events = rig.peer.watch_vars("connector_1", "evse")
        _charging(rig, valid_for=10)
        broker.kill()
        rig.wait_for(lambda: not rig.link.connected, what="the module to notice the broker is gone")
        # the last valid limit still holds: 9 s later the car still charges at 16 A
        rig.advance(9000)
        assert rig.manager.state == "Charging" and _power(rig) is True
        assert rig.manager.get("limits").max_current == 16.0
        # once now - valid_until >= 1 s the limit falls to 0 A: PWM off (X1) at once, and power off after
        # IEC 61851's 6 s even if the car keeps drawing (§3.1 step 4, the C1 timer)
        rig.advance(2000)
        assert rig.manager.get("limits").max_current == 0.0
        cp = [c[0] for c in rig.board.commands if c[0] in ("pwm_on", "cp_state_X1", "cp_state_F")]
        assert cp[-1] == "cp_state_X1" and rig.manager.state == "StoppingCharging"
        rig.advance(6000)
        assert _power(rig) is False
        rig.cp("PowerOff")
        assert rig.manager.state == "ChargingPausedEVSE"
        assert rig.module._backlog, "the outage's session events are kept for later"
        broker.restart()
        assert rig.link.wait_connected(15) and rig.peer.link.wait_connected(15)
        rig.wait_for(lambda: not rig.module._backlog, what="the kept events to go out")
        assert rig.link.connects == 2
        # serving again: the energy manager's next limit resumes the charge
        rig.limit(16.0, valid_for=10)
        rig.advance(100)
        pwm = [c for c in rig.board.commands if c[0] == "pwm_on"]
        assert pwm[-1][1] == pytest.approx(26.6667, abs=1e-3)
        rig.cp("C")
        rig.cp("PowerOn")
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingResumed")
    finally:
        rig.close()
        broker.close()


def test_kept_events_and_state_go_out_in_order_after_a_reconnect(mosquitto):
    """Only the module's connection drops (the observer stays connected): the events of the outage
    arrive after the reconnect, in order, followed by the state vars, and ModuleReady is re-sent."""
    rig = ModuleRig(mosquitto, reconnect_min_s=0.2)
    try:
        events = rig.peer.watch_vars("connector_1", "evse")
        ready = rig.peer.watch(rig.peer.wire.module_ready(rig.settings.prefix, "connector_1")[0])
        _charging(rig, valid_for=3600)
        events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingStarted")
        sock = rig.link._client.socket()
        sock.shutdown(socket.SHUT_RDWR)  # the network goes away under paho's feet
        rig.wait_for(lambda: not rig.link.connected, what="the disconnect")
        rig.cp("B")
        rig.cp("PowerOff")
        rig.cp("A")
        assert [m[1]["event"] for m in events.drain() if m[0] == "session_event"] == []
        assert rig.link.wait_connected(10)
        ready.get(timeout_s=10)
        got = events.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "SessionFinished")
        names = [v[1]["event"] for v in events.seen if v[0] == "session_event"]
        assert names[names.index("ChargingStarted"):] == ["ChargingStarted", "ChargingPausedEV", "SessionFinished"]
        assert got[1]["uuid"]
        events.wait_for(lambda v: v == ("ready", True))  # the state vars follow
    finally:
        rig.close()
