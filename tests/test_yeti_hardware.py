"""Hardware-in-the-loop: a real Yeti-family board on ``EVSEFAST_SERIAL_PORT``.

Run it with a board connected (and no car plugged in)::

    EVSEFAST_SERIAL_PORT=/dev/ttyUSB0 python -m pytest -m hardware tests/test_yeti_hardware.py
    # optional: EVSEFAST_SERIAL_BAUD=115200 EVSEFAST_SERIAL_PROFILE=yeti|tida010939|adkit
"""
from __future__ import annotations

import os
import threading
import time

import pytest

PORT = os.environ.get("EVSEFAST_SERIAL_PORT", "")

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not PORT, reason="needs a real Yeti-family board: set EVSEFAST_SERIAL_PORT=/dev/ttyUSB0 "
                       "(and optionally EVSEFAST_SERIAL_BAUD, EVSEFAST_SERIAL_PROFILE) and run "
                       "'python -m pytest -m hardware tests/test_yeti_hardware.py'"),
]


def test_session_against_a_real_board():
    from evsefast.board.yeti import YetiBoard
    from evsefast.testing import RecordingListener
    from evsefast.types.board import PowerOnOff, PowerOnOffReason

    board = YetiBoard(PORT, int(os.environ.get("EVSEFAST_SERIAL_BAUD", "115200")),
                      profile=os.environ.get("EVSEFAST_SERIAL_PROFILE", "yeti"))
    listener = RecordingListener()
    board.attach(listener)
    with board:
        caps = board.wait_for_capabilities(5.0)
        assert caps is not None, "the board sent no KeepAliveLo within 5 s"
        assert 0 <= caps.min_current_A_import <= caps.max_current_A_import
        board.cp_state_X1()
        board.allow_power_on(PowerOnOff(allow_power_on=False, reason=PowerOnOffReason.PowerOff))
        time.sleep(2.5)  # keep-alives must keep coming: no CommunicationFault
        assert board.link_ok
        raised = [c[1].type for c in listener.calls if c[0] == "on_error_raised"]
        assert "evse_board_support/CommunicationFault" not in raised
        events = [c[1].event.value for c in listener.calls if c[0] == "on_bsp_event"]
        assert all(e in ("A", "B", "C", "D", "E", "F", "PowerOn", "PowerOff") for e in events), events
        board.pwm_on(10.0)   # 6 A offer; with no car the CP stays in A
        time.sleep(0.5)
        board.cp_state_X1()
        assert board.stats.frames > 0
        assert board.stats.dropped_crc <= board.stats.frames // 100, board.stats
    assert not [t for t in threading.enumerate() if t.name.startswith("evsefast-")]


def test_manager_session_against_a_real_board():
    """The manager on the real board: ready, linked, no errors. With ``EVSEFAST_HIL_PLUG=1`` an EV
    (or EV simulator) is plugged in within 60 s and charges after an RFID-style authorisation."""
    from evsefast.board.yeti import YetiBoard
    from evsefast.manager import EvseManager
    from evsefast.runner import Runner
    from evsefast.testing import enforced_limits, token, validation

    board = YetiBoard(PORT, int(os.environ.get("EVSEFAST_SERIAL_BAUD", "115200")),
                      profile=os.environ.get("EVSEFAST_SERIAL_PROFILE", "yeti"))
    mgr = EvseManager(None, board=board)
    events, ready = [], threading.Event()
    mgr.subscribe("session_event", lambda ev: events.append(ev.event.value))
    mgr.subscribe("ready", lambda v: ready.set() if v else None)
    runner = Runner(mgr)
    runner.start()
    try:
        assert ready.wait(10.0), "the manager did not become ready"
        mgr.enforce_limits(enforced_limits(10.0))
        time.sleep(3.0)
        assert board.link_ok and "Error" not in events, events
        if os.environ.get("EVSEFAST_HIL_PLUG") == "1":
            deadline = time.monotonic() + 60.0
            while "AuthRequired" not in events and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "AuthRequired" in events, f"no EV plugged in within 60 s: {events}"
            mgr.authorize_response(token(), validation())
            deadline = time.monotonic() + 60.0
            while "ChargingStarted" not in events and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "ChargingStarted" in events, events
    finally:
        runner.stop()
        mgr.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("evsefast-yeti")]
