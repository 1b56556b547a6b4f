"""The virtual Yeti MCU with the simulator's hardware physics behind it, and its CLI."""
from __future__ import annotations

import os
import time

import pytest

from evsefast.board.yeti import YetiBoard
from evsefast.sim import virtual_yeti_cli as virtual_cli
from evsefast.sim.virtual_yeti import VirtualYetiMcu
from evsefast.testing import RecordingListener
from evsefast.types.board import PowerOnOff, PowerOnOffReason

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_serial_leaks")]

SimHardware = pytest.importorskip("evsefast.sim.hardware").SimHardware

ON = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)



class PlugInCar:
    """Plugs in at 200 ms, asks for power (C) once it sees PWM, draws 16 A on three phases."""

    tick_ms = 50.0
    cp_state = "A"
    diode_fault = False
    phases = 3
    current_A = 16.0
    rcd_mA = 0.0
    cable_A = 32.0

    def tick(self, hw, t_ms):
        if self.cp_state == "A" and t_ms >= 200.0:
            self.cp_state = "B"
        elif self.cp_state == "B" and hw.pwm_running:
            self.cp_state = "C"


def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def events(listener):
    return [c[1].event.value for c in listener.calls if c[0] == "on_bsp_event"]


def test_physics_behind_the_serial_link():
    hw = SimHardware(PlugInCar(), connector="socket", meter_interval_ms=500.0)
    with VirtualYetiMcu(hw, speed=5.0) as mcu:
        board = YetiBoard(mcu.port_path, supervise=False, caps_timeout_s=2.0)
        listener = RecordingListener()
        board.attach(listener)
        with board:
            assert hw.enabled and hw.pwm_pct == 100.0  # the MCU reset: enabled, X1
            board.cp_state_X1()
            assert wait_until(lambda: "B" in events(listener))
            board.lock()
            board.pwm_on(26.7)
            board.allow_power_on(ON)
            assert wait_until(lambda: "PowerOn" in events(listener))
            assert events(listener)[-3:] == ["B", "C", "PowerOn"]
            assert hw.locked and hw.pwm_pct == pytest.approx(26.7)
            assert wait_until(lambda: board.lock_state == 2)
            pps = [c[1].ampacity.value for c in listener.calls if c[0] == "on_ac_pp_ampacity"]
            assert pps[-1] == "A_32"

            def energy():
                samples = [c[1] for c in listener.calls if c[0] == "on_powermeter"]
                return samples[-1].energy_Wh_import.total if samples else 0.0
            assert wait_until(lambda: energy() > 0.0)
            board.cp_state_F()
            assert wait_until(lambda: hw.pwm_pct == 0.0)
            assert wait_until(lambda: "PowerOff" in events(listener)[events(listener).index("PowerOn"):])
    assert board.stats.dropped == 0 and mcu.stats.dropped == 0


def test_hardware_faults_become_error_flags_and_lost_becomes_silence():
    hw = SimHardware(PlugInCar())
    with VirtualYetiMcu(hw, speed=2.0) as mcu:
        board = YetiBoard(mcu.port_path, link_timeout_ms=400.0, check_interval_s=0.02, keepalive_interval_s=0.1)
        listener = RecordingListener()
        board.attach(listener)
        with board:
            assert wait_until(lambda: board.cp_state == "B")  # plugged in: no later "A" unlatches by chance
            mcu.inject_fault("rcd")
            raised = lambda: [c[1].type for c in listener.calls if c[0] == "on_error_raised"]  # noqa: E731
            cleared = lambda: [c[1] for c in listener.calls if c[0] == "on_error_cleared"]  # noqa: E731
            assert wait_until(lambda: "evse_board_support/MREC2GroundFailure" in raised())
            mcu.inject_fault("over_current")  # a non-latching flag: raised and cleared with its flag
            assert wait_until(lambda: "evse_board_support/MREC4OverCurrentFailure" in raised())
            mcu.inject_fault("over_current", active=False)
            mcu.inject_fault("rcd", active=False)
            assert wait_until(lambda: "evse_board_support/MREC4OverCurrentFailure" in cleared())
            # an RCD trip stays raised while the car is plugged in (YetiDriver clears it on unplug)
            assert "evse_board_support/MREC2GroundFailure" not in cleared()
            mcu.inject_fault("lost")
            assert wait_until(lambda: "evse_board_support/CommunicationFault" in raised())
            mcu.inject_fault("lost", active=False)
            assert wait_until(lambda: "evse_board_support/CommunicationFault" in cleared())


def test_host_commands_drive_the_hardware():
    hw = SimHardware(None)
    with VirtualYetiMcu(hw) as mcu:
        board = YetiBoard(mcu.port_path, supervise=False, caps_timeout_s=2.0)
        with board:
            board.pwm_on(53.3)
            assert wait_until(lambda: hw.pwm_pct == pytest.approx(53.3))
            board.cp_state_F()
            assert wait_until(lambda: hw.pwm_pct == 0.0)
            board.cp_state_X1()
            assert wait_until(lambda: hw.pwm_pct == 100.0)
            board.ac_switch_three_phases_while_charging(False)
            assert wait_until(lambda: hw.three_phases is False)
            board.allow_power_on(ON)
            assert wait_until(lambda: hw.allow_power is True)


def test_keep_alives_before_any_host_and_nothing_blocks_when_nobody_reads():
    mcu = VirtualYetiMcu(SimHardware(None), keepalive_interval_s=0.01).start()
    try:
        time.sleep(0.5)  # ~50 keep-alives into a pty nobody reads: dropped, never blocking
        assert mcu.tx_frames > 0
        assert not mcu.running  # the car's clock starts at the host's reset
    finally:
        mcu.stop()


def test_cli_prints_the_port_and_stops(capsys, tmp_path):
    link = str(tmp_path / "ttyV")
    assert virtual_cli.main(["--run-for", "0.2", "--seed", "3", "--speed", "2", "--link", link]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [link]
    assert not os.path.exists(link)
    assert virtual_cli.main(["--speed", "0", "--run-for", "0"]) == 2


def test_cli_help_names_the_options(capsys):
    with pytest.raises(SystemExit):
        virtual_cli.main(["--help"])
    text = capsys.readouterr().out
    for option in ("--car", "--speed", "--seed", "--profile"):
        assert option in text


def test_scheduled_faults_and_the_host_timeout_fail_safe():
    hw = SimHardware(PlugInCar())
    mcu = VirtualYetiMcu(hw, speed=5.0, host_timeout_ms=1000.0)
    for t_s, kind, arg in ((0.5, "crc", None), (0.6, "garbage", None), (0.7, "truncate", None), (0.8, "rcd", None),
                           (1.2, "rcd", "off")):
        mcu.schedule(t_s, kind, arg)
    with pytest.raises(ValueError, match="unknown fault"):
        mcu.schedule(1.0, "meteor")
    with mcu:
        board = YetiBoard(mcu.port_path, keepalive_interval_s=0.05, caps_timeout_s=2.0)
        listener = RecordingListener()
        board.attach(listener)
        with board:
            assert wait_until(lambda: {"corrupt_crc", "garbage", "truncated"} <= set(mcu.injected))
            assert wait_until(lambda: board.stats.dropped >= 3), board.stats
            raised = lambda: [c[1].type for c in listener.calls if c[0] == "on_error_raised"]  # noqa: E731
            cleared = lambda: [c[1] for c in listener.calls if c[0] == "on_error_cleared"]  # noqa: E731
            assert wait_until(lambda: "evse_board_support/MREC2GroundFailure" in raised())
            # the flag falls at 1.2 s, but an RCD trip stays raised until the car is unplugged (YetiDriver)
            assert wait_until(lambda: hw.t_ms > 1300.0)
            time.sleep(0.05)
            assert "evse_board_support/MREC2GroundFailure" not in cleared()
            board.pwm_on(26.7)
            assert wait_until(lambda: hw.pwm_pct == pytest.approx(26.7))
            assert mcu.host_timeouts == 0  # the host's keep-alives hold it off
        # the host is gone: 1 s (simulated) later the MCU fails safe
        assert wait_until(lambda: mcu.host_timeouts == 1)
        assert hw.pwm_pct == 100.0 and hw.allow_power is False
