"""YetiBoard over a real pty against the virtual MCU: events, commands, fault injection,
link supervision with an injected clock, spurious resets, port loss and reconnect."""
from __future__ import annotations

import math
import time

import pytest

from evsefast.board import board_class
from evsefast.board.yeti import Codec, YetiBoard
from evsefast.sim.virtual_yeti import VirtualYetiMcu
from evsefast.board.yeti.transport import SerialTransport
from evsefast.clock import ManualClock
from evsefast.errors import InvalidInput, TransportInitError
from evsefast.testing import RecordingListener
from evsefast.types.board import PowerOnOff, PowerOnOffReason

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_serial_leaks")]

COMM_FAULT = "evse_board_support/CommunicationFault"
ON = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)
OFF = PowerOnOff(allow_power_on=False, reason=PowerOnOffReason.PowerOff)



class NullHardware:
    """Hardware that does nothing by itself: the test sends the MCU's reports."""

    connector = "socket"
    lost = False

    def __init__(self):
        self.t_ms = 0.0
        self.calls = []

    def advance(self, dt_ms):
        self.t_ms += dt_ms
        return []

    def __getattr__(self, name):  # set_pwm_pct, set_allow_power_on, set_lock, ...
        if not name.startswith("set_"):
            raise AttributeError(name)
        return lambda *a: self.calls.append((name, *a))


def wait_until(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.002)
    return pred()


def events(listener):
    return [c[1].event.value for c in listener.calls if c[0] == "on_bsp_event"]


def errors(listener, kind="on_error_raised"):
    return [c[1].type if kind == "on_error_raised" else c[1] for c in listener.calls if c[0] == kind]


@pytest.fixture
def mcu():
    m = VirtualYetiMcu(NullHardware()).start()
    yield m
    m.stop()


@pytest.fixture
def board_and_listener(mcu):
    board = YetiBoard(mcu.port_path, supervise=False, caps_timeout_s=2.0)
    listener = RecordingListener()
    board.attach(listener)
    board.start()
    # the MCU reports its state after the reset: relay open (PowerOff), PP none
    assert wait_until(lambda: events(listener) == ["PowerOff"])
    time.sleep(0.02)
    with listener._lock:
        listener.calls.clear()
    yield board, listener
    board.close()


def test_registry_and_startup_handshake(mcu, board_and_listener):
    board, listener = board_and_listener
    assert board_class("yeti") is YetiBoard
    assert mcu.host_resets == 1
    names = [m for m, _ in mcu.commands()]
    assert names[:4] == ["reset", "keep_alive", "keep_alive", "keep_alive"]
    assert board.capabilities is not None
    caps = board.capabilities
    assert (caps.min_current_A_import, caps.max_current_A_import) == (6.0, 32.0)
    assert (caps.min_phase_count_import, caps.max_phase_count_import) == (1, 3)
    assert caps.supports_changing_phases_during_charging and not caps.supports_cp_state_E
    assert board.connected and board.link_ok and board.supports_connector_lock


def test_commands_are_encoded_as_the_yeti_driver_does(mcu, board_and_listener):
    board, _ = board_and_listener
    t0 = time.monotonic()
    board.pwm_on(53.3)
    board.cp_state_X1()
    board.cp_state_F()
    board.pwm_on(10.0)
    board.allow_power_on(ON)
    board.allow_power_on(OFF)
    board.lock()
    board.unlock()
    board.ac_switch_three_phases_while_charging(False)
    board.enable(False)                 # no message: the Yeti protocol has none
    board.ac_set_overcurrent_limit_A(20.0)  # no message either
    assert mcu.wait_for(lambda m, v: m == "set_number_of_phases", since=t0)
    got = [(m, v) for m, v in mcu.commands() if m not in ("keep_alive", "reset")]
    assert got == [("pwm_duty_cycle", 5330), ("pwm_duty_cycle", 10001), ("pwm_duty_cycle", 0),
                   ("pwm_duty_cycle", 1000), ("allow_power_on", True), ("allow_power_on", False),
                   ("connector_lock", True), ("connector_lock", False), ("set_number_of_phases", False)]
    assert mcu.hardware.calls[-1] == ("set_three_phases", False)
    assert board.overcurrent_limit_A == 20.0 and board.enabled is False
    with pytest.raises(InvalidInput, match="0..100"):
        board.pwm_on(100.5)
    with pytest.raises(InvalidInput, match="0..100"):
        board.pwm_on(math.nan)


def test_reports_become_listener_events(mcu, board_and_listener):
    board, listener = board_and_listener
    mcu.send("cp_state", 1)
    mcu.send("cp_state", 1)   # no change: not published again
    mcu.send("pp_state", 3)
    mcu.send("cp_state", 2)
    mcu.send("relais_state", True)
    mcu.send("lock_state", 2)
    mcu.send("error_flags", diode_fault=True)
    mcu.send("error_flags", diode_fault=True, over_current=True)
    mcu.send("error_flags")
    mcu.send("power_meter", totalWattHr=1234.5, wattHrL1=1234.5, vrmsL1=230.0, irmsL1=16.0, wattL1=3680.0,
             freqL1=50.0)
    mcu.send("pp_state", 5)
    mcu.send("relais_state", False)
    assert wait_until(lambda: "PowerOff" in events(listener))
    assert events(listener) == ["B", "C", "PowerOn", "PowerOff"]
    assert errors(listener) == ["evse_board_support/DiodeFault", "evse_board_support/MREC4OverCurrentFailure",
                                "evse_board_support/MREC23ProximityFault"]
    assert errors(listener, "on_error_cleared") == ["evse_board_support/DiodeFault",
                                                    "evse_board_support/MREC4OverCurrentFailure"]
    pps = [c[1].ampacity.value for c in listener.calls if c[0] == "on_ac_pp_ampacity"]
    assert pps == ["A_32", "None"]
    (sample,) = [c[1] for c in listener.calls if c[0] == "on_powermeter"]
    assert sample.energy_Wh_import.total == 1234.5 and sample.power_W.total == 3680.0
    assert sample.voltage_V.L1 == 230.0 and sample.current_A.L1 == 16.0 and sample.frequency_Hz.L1 == 50.0
    assert sample.timestamp.endswith("Z")
    assert board.lock_state == 2 and board.cp_state == "C" and board.relay_closed is False


def test_invalid_values_never_reach_the_listener(mcu, board_and_listener):
    board, listener = board_and_listener
    n = len(listener.calls)
    mcu.send("cp_state", 9)                                        # no such CP state
    mcu.send("pp_state", -1)
    mcu.send("keep_alive", hwcap_max_current=float("nan"), hwcap_min_current=6.0)
    mcu.send("keep_alive", hwcap_max_current=6.0, hwcap_min_current=32.0)   # min > max
    mcu.send("power_meter", totalWattHr=float("inf"))
    mcu.send("cp_state", 1)
    assert wait_until(lambda: events(listener) == ["B"])
    assert [c[0] for c in listener.calls[n:]] == ["on_bsp_event"]
    assert board.invalid_values == 5


@pytest.mark.parametrize("fault", ["garbage", "corrupt_crc", "truncated", "oversized", "undecodable"])
def test_every_corrupted_frame_is_dropped_and_counted_and_the_next_good_frame_accepted(mcu, board_and_listener,
                                                                                        fault):
    board, listener = board_and_listener
    letters = iter("BCBCBCBC")
    for _ in range(4):
        before = board.stats.dropped
        if fault == "garbage":
            mcu.inject_garbage(n=40)
        elif fault == "corrupt_crc":
            mcu.corrupt_next()
            mcu.send("cp_state", 5)
        elif fault == "truncated":
            mcu.truncate_next()
            mcu.send("cp_state", 5)
        elif fault == "oversized":
            mcu.inject_garbage(b"\x07" * 5000)
        else:
            mcu.inject_garbage(Codec("yeti", "mcu").encode("cp_state", 1)[:-1].replace(b"\xb0", b"\xb1"),
                               terminate=True)
        letter = next(letters)
        mcu.send("cp_state", "ABCDEF".index(letter))
        assert wait_until(lambda: events(listener)[-1:] == [letter]), (fault, board.stats)
        assert board.stats.dropped == before + 1, board.stats
    assert "F" not in events(listener)
    assert mcu.injected  # the injection really happened


def test_silence_raises_communication_fault_at_5_s_and_forces_power_off(mcu):
    clock = ManualClock()
    board = YetiBoard(mcu.port_path, clock=clock, supervise=False, caps_timeout_s=2.0)
    listener = RecordingListener()
    board.attach(listener)
    board.start()
    try:
        board.allow_power_on(ON)
        assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True)
        mcu.silence()
        time.sleep(0.05)  # a keep-alive already on the wire is read now, not after the clock moved
        t0 = time.monotonic()
        clock.advance_ms(4999.0)
        assert board.check_link() is True
        assert COMM_FAULT not in errors(listener)
        clock.advance_ms(1.0)
        assert board.check_link() is False
        assert errors(listener) == [COMM_FAULT]
        assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is False, since=t0)
        assert board.check_link() is False and errors(listener) == [COMM_FAULT]  # raised once
        mcu.resume()  # keep-alives return
        assert wait_until(lambda: COMM_FAULT in errors(listener, "on_error_cleared"))
        assert board.link_ok
        # time now counts from the last keep-alive again
        assert board.check_link(clock.monotonic_ms() + 4000.0) is True
    finally:
        board.close()


def test_link_loss_reports_power_off_and_link_return_republishes_cp_and_relay(mcu):
    """The MCU reports only changes: what the host forced during an outage must be reported by the host."""
    clock = ManualClock()
    board = YetiBoard(mcu.port_path, clock=clock, supervise=False, caps_timeout_s=2.0)
    listener = RecordingListener()
    board.attach(listener)
    board.start()
    try:
        mcu.send("cp_state", 2)
        mcu.send("relais_state", True)
        assert wait_until(lambda: board.relay_closed is True and board.cp_state == "C")
        board.allow_power_on(ON)
        time.sleep(0.02)
        with listener._lock:
            listener.calls.clear()
        mcu.silence()
        clock.advance_ms(5000.0)
        assert board.check_link() is False
        # PowerOff (unconfirmed, the link is down) before the CommunicationFault
        kinds = [c[0] if c[0] != "on_bsp_event" else c[1].event.value for c in listener.calls]
        assert kinds == ["PowerOff", "on_error_raised"], kinds
        assert board.relay_closed is False
        with listener._lock:
            listener.calls.clear()
        mcu.silent = False  # keep-alives return; the MCU re-sends nothing else (CP and relays unchanged)
        mcu._keep_alive()
        assert wait_until(lambda: COMM_FAULT in errors(listener, "on_error_cleared"))
        assert wait_until(lambda: events(listener) == ["C", "PowerOff"]), events(listener)
    finally:
        board.close()


def test_power_off_while_the_link_is_down_is_reported_without_fail_safe(mcu):
    clock = ManualClock()
    board = YetiBoard(mcu.port_path, clock=clock, supervise=False, fail_safe=False, caps_timeout_s=2.0)
    listener = RecordingListener()
    board.attach(listener)
    board.start()
    try:
        mcu.send("relais_state", True)
        assert wait_until(lambda: board.relay_closed is True)
        mcu.silence()
        clock.advance_ms(5000.0)
        assert board.check_link() is False
        assert "PowerOff" not in events(listener)[-1:]  # the driver itself did not switch off
        board.allow_power_on(OFF)  # the manager does
        assert events(listener)[-1] == "PowerOff"
    finally:
        board.close()


def test_error_flags_use_everest_error_names_and_latch_rcd_and_lock_until_unplug(mcu, board_and_listener):
    board, listener = board_and_listener
    mcu.send("cp_state", 1)
    mcu.send("error_flags", rcd_triggered=True, connector_lock_failed=True, diode_fault=True)
    assert wait_until(lambda: len(errors(listener)) == 3)
    assert sorted(errors(listener)) == ["connector_lock/MREC1ConnectorLockFailure", "evse_board_support/DiodeFault",
                                        "evse_board_support/MREC2GroundFailure"]
    mcu.send("error_flags")  # every flag falls
    assert wait_until(lambda: errors(listener, "on_error_cleared") == ["evse_board_support/DiodeFault"])
    time.sleep(0.05)
    assert errors(listener, "on_error_cleared") == ["evse_board_support/DiodeFault"]  # RCD and lock stay
    mcu.send("cp_state", 0)  # unplugged
    assert wait_until(lambda: len(errors(listener, "on_error_cleared")) == 3)
    assert sorted(errors(listener, "on_error_cleared")[1:]) == ["connector_lock/MREC1ConnectorLockFailure",
                                                               "evse_board_support/MREC2GroundFailure"]


def test_virtual_mcu_reports_relays_open_after_its_own_reset(mcu, board_and_listener):
    """A rebooted MCU drives no relay: its first relais_state after the reset says open, even though the
    hardware model (here one that never moves by itself) has not stepped yet."""
    board, listener = board_and_listener
    mcu._on_thread(lambda: mcu._on_hw(("relay", True)))
    assert wait_until(lambda: board.relay_closed is True)
    n = len(mcu.received)
    mcu.spurious_reset()
    assert wait_until(lambda: board.relay_closed is False), events(listener)
    assert events(listener)[-1] == "PowerOff"
    assert len(mcu.received) >= n  # the host answered the reset (keep-alives, state re-sent)


def test_timer_thread_sends_keep_alives_and_supervises(mcu):
    board = YetiBoard(mcu.port_path, keepalive_interval_s=0.05, link_timeout_ms=300.0, check_interval_s=0.01)
    listener = RecordingListener()
    board.attach(listener)
    with board:
        n = len(mcu.commands("keep_alive"))
        assert wait_until(lambda: len(mcu.commands("keep_alive")) >= n + 3)
        mcu.silence()
        assert wait_until(lambda: COMM_FAULT in errors(listener))
        mcu.resume()
        assert wait_until(lambda: COMM_FAULT in errors(listener, "on_error_cleared"))


def test_spurious_reset_is_reported_and_state_re_sent(mcu, board_and_listener):
    board, listener = board_and_listener
    board.pwm_on(26.7)
    board.allow_power_on(ON)
    board.lock()
    mcu.send("cp_state", 2)
    assert wait_until(lambda: events(listener) == ["C"])
    t0 = time.monotonic()
    mcu.spurious_reset()
    assert wait_until(lambda: board.spurious_resets == 1)
    assert ("evse_board_support/VendorWarning", "SpuriousReset") in [
        (c[1].type, c[1].sub_type) for c in listener.calls if c[0] == "on_error_raised"]
    assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True, since=t0)
    assert mcu.wait_for(lambda m, v: m == "pwm_duty_cycle" and v == 2670, since=t0)
    assert mcu.wait_for(lambda m, v: m == "connector_lock" and v is True, since=t0)
    assert COMM_FAULT not in errors(listener)
    # the MCU's keep-alive after the reset clears the warning
    assert wait_until(lambda: "evse_board_support/VendorWarning" in errors(listener, "on_error_cleared"))


def test_fail_safe_withdraws_power_when_cp_leaves_c_and_restores_it(mcu, board_and_listener):
    board, listener = board_and_listener
    board.allow_power_on(ON)
    mcu.send("cp_state", 2)
    assert wait_until(lambda: events(listener) == ["C"])
    t0 = time.monotonic()
    mcu.send("cp_state", 1)
    assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is False, since=t0)
    t1 = time.monotonic()
    mcu.send("cp_state", 2)  # the manager has not changed its mind: the permission stands
    assert mcu.wait_for(lambda m, v: m == "allow_power_on" and v is True, since=t1)
    board.allow_power_on(OFF)
    mcu.send("cp_state", 1)
    mcu.send("cp_state", 2)
    assert wait_until(lambda: events(listener) == ["C", "B", "C", "B", "C"])
    time.sleep(0.05)
    assert mcu.commands("allow_power_on")[-1] == ("allow_power_on", False)


def test_port_loss_is_reported_and_the_board_reconnects(tmp_path):
    link = str(tmp_path / "ttyYETI")
    first = VirtualYetiMcu(NullHardware(), link_path=link).start()
    board = YetiBoard(link, supervise=False, backoff_initial_s=0.02, backoff_max_s=0.1, caps_timeout_s=2.0)
    listener = RecordingListener()
    board.attach(listener)
    second = None
    try:
        board.start()
        board.pwm_on(50.0)
        first.stop()
        assert wait_until(lambda: COMM_FAULT in errors(listener))
        assert board.port_losses == 1 and not board.link_ok
        time.sleep(0.3)  # a few failed reconnects with backoff
        second = VirtualYetiMcu(NullHardware(), link_path=link).start()
        assert wait_until(lambda: COMM_FAULT in errors(listener, "on_error_cleared"))
        assert board.reconnects == 1 and second.host_resets == 1
        assert second.wait_for(lambda m, v: m == "pwm_duty_cycle" and v == 5000)
    finally:
        board.close()
        first.stop()
        if second is not None:
            second.stop()


def test_open_is_exclusive_and_errors_are_wrapped(mcu, tmp_path):
    with SerialTransport(mcu.port_path):
        with pytest.raises(TransportInitError, match="cannot open serial port") as exc:
            YetiBoard(mcu.port_path, supervise=False).start()
        assert exc.value.__cause__ is not None
    with pytest.raises(TransportInitError):
        YetiBoard(str(tmp_path / "missing"), supervise=False).start()


def test_listener_exceptions_do_not_kill_the_reader(mcu, board_and_listener):
    board, listener = board_and_listener

    class Exploding(RecordingListener):
        def on_bsp_event(self, event):
            super().on_bsp_event(event)
            raise RuntimeError("listener bug")

    bad = Exploding()
    board.attach(bad)
    mcu.send("cp_state", 1)
    mcu.send("cp_state", 2)
    assert wait_until(lambda: events(bad) == ["B", "C"])


@pytest.mark.parametrize("profile", ["tida010939", "adkit"])
def test_other_profiles_work_end_to_end(profile):
    with VirtualYetiMcu(NullHardware(), profile=profile) as mcu:
        board = YetiBoard(mcu.port_path, profile=profile, supervise=False, caps_timeout_s=2.0)
        listener = RecordingListener()
        board.attach(listener)
        with board:
            assert board.capabilities is not None
            board.pwm_on(16.0)
            board.lock()  # no lock on the AdKit: nothing is sent
            mcu.send("cp_state", 1)
            assert wait_until(lambda: events(listener)[-1:] == ["B"])
            assert mcu.wait_for(lambda m, v: m == "pwm_duty_cycle" and v == 1600)
            assert board.supports_connector_lock == (profile != "adkit")
            time.sleep(0.05)
            assert bool(mcu.commands("connector_lock")) == (profile != "adkit")


def test_enable_re_reports_the_cp_state(mcu, board_and_listener):
    # the MCU reports a CP state only on change, the manager drops CP events while disabled:
    # a car plugged in before the charger is enabled must still be seen
    board, listener = board_and_listener
    mcu.send("cp_state", 1)
    assert wait_until(lambda: events(listener) == ["B"])
    board.enable(False)
    assert events(listener) == ["B"]
    board.enable(True)
    assert events(listener) == ["B", "B"]
    assert mcu.commands("enable") == []
