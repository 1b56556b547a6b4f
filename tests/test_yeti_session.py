"""EvseManager + YetiBoard on one end of a real pty, the virtual Yeti MCU (simulator physics and
car) on the other: a full charging session, and link loss with an injected clock."""
from __future__ import annotations

import threading
import time

import pytest

from evsefast import _impl
from evsefast.board.yeti import YetiBoard
from evsefast.sim.virtual_yeti import VirtualYetiMcu, make_hardware
from evsefast.clock import ManualClock, ScaledClock
from evsefast.testing import enforced_limits, token, validation

EvseManager = pytest.importorskip("evsefast.manager").EvseManager
Runner = pytest.importorskip("evsefast.runner").Runner

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("no_serial_leaks")]

COMM_FAULT = "evse_board_support/CommunicationFault"



def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.002)
    return pred()


def is_subsequence(expected, got):
    it = iter(got)
    return all(any(e == g for g in it) for e in expected)


def test_full_charging_session_over_the_serial_link():
    # the plain-Python pilot kernel synthesises the CP waveform ~100x slower: slow down, sample less
    compiled = _impl.ACTIVE.compiled
    speed = 20.0 if compiled else 4.0
    hw = make_hardware("default", seed=1, duration_s=60.0, sample_rate_Hz=100_000 if compiled else 20_000)
    events, energy = [], []
    auth_needed = threading.Event()
    with VirtualYetiMcu(hw, speed=speed) as mcu:
        clock = ScaledClock(speed)
        board = YetiBoard(mcu.port_path, clock=clock)
        mgr = EvseManager(None, board=board, clock=clock)

        def on_event(ev):
            events.append(ev.event.value)
            if ev.event.value == "AuthRequired":
                auth_needed.set()

        mgr.subscribe("session_event", on_event)
        mgr.subscribe("powermeter", lambda pm: energy.append(pm.energy_Wh_import.total))
        runner = Runner(mgr)
        runner.start()
        try:
            mgr.enforce_limits(enforced_limits(16.0))
            assert auth_needed.wait(20.0), events
            mgr.authorize_response(token(), validation())
            assert wait_until(lambda: "SessionFinished" in events, timeout=90.0), events
        finally:
            runner.stop()
            mgr.close()
    expected = ["SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV", "ChargingResumed",
                "SessionFinished"]
    print("session events:", events)
    assert is_subsequence(expected, events), events
    assert "Error" not in events and COMM_FAULT not in str(events)
    assert max(energy) > 0.0
    assert board.stats.dropped == 0 and mcu.stats.dropped == 0
    assert not board.connected


class _Quiet:
    """Hardware that does nothing by itself: the test plays the MCU's reports."""

    connector = "cable"
    lost = False
    t_ms = 0.0

    def advance(self, dt_ms):
        self.t_ms += dt_ms
        return []

    def __getattr__(self, name):
        if name.startswith("set_"):
            return lambda *a: None
        raise AttributeError(name)


@pytest.mark.parametrize("fail_safe", [False, True], ids=["manager-only", "driver-fail-safe"])
def test_silence_for_5_s_gives_communication_fault_power_off_and_charging_resumes_after(fail_safe):
    """Spec §2.6.3 path (h): the fault clears when keep-alives return and the car is still in C:
    ChargingPausedEVSE -> PrepareCharging -> Charging without a replug."""
    clock = ManualClock()
    with VirtualYetiMcu(_Quiet()) as mcu:
        board = YetiBoard(mcu.port_path, clock=clock, supervise=False, fail_safe=fail_safe, caps_timeout_s=2.0)
        mgr = EvseManager(None, board=board, clock=clock)
        raised = []
        mgr.subscribe("session_event", lambda ev: raised.append(ev.event.value))

        def settle(pred):
            assert wait_until(pred)
            time.sleep(0.02)  # let the reader hand everything queued to the manager
            mgr.tick()

        try:
            mgr.start()
            mgr.enforce_limits(enforced_limits(16.0))
            mgr.tick()
            mcu.send("cp_state", 1)
            settle(lambda: board.cp_state == "B")
            mgr.authorize_response(token(), validation())
            mgr.tick()
            assert mcu.wait_for(lambda m, v: m == "pwm_duty_cycle" and 0 < v < 10000)
            mcu.send("cp_state", 2)
            settle(lambda: board.cp_state == "C")
            assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True)
            mcu.send("relais_state", True)
            settle(lambda: board.relay_closed is True)
            assert mgr.state == "Charging", mgr.state

            mcu.silence()
            t0 = time.monotonic()
            clock.advance_ms(4999.0)
            assert board.check_link() is True
            mgr.tick()
            clock.advance_ms(1.0)
            assert board.check_link() is False
            if not fail_safe:
                time.sleep(0.05)
                assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is False, timeout_s=0.0,
                                    since=t0) is None
            mgr.tick()  # one tick: the manager sees CommunicationFault and powers off
            assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is False, since=t0)
            assert "Error" in raised or mgr.state != "Charging", (raised, mgr.state)

            time.sleep(0.05)
            mgr.tick()
            assert mgr.state == "ChargingPausedEVSE", mgr.state
            t1 = time.monotonic()
            mcu.resume()  # keep-alives return: the error clears (the MCU re-reports nothing that did not change)
            settle(lambda: board.link_ok)
            assert board.link_ok
            for _ in range(3):
                time.sleep(0.02)
                mgr.tick()
            assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True, since=t1), mgr.state
            assert mgr.state == "Charging", mgr.state
            assert raised[-2:] == ["Error", "ChargingResumed"] or raised[-1] == "ChargingResumed", raised
        finally:
            mgr.close()
