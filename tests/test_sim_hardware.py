"""SimHardware physics and the SimBoard adapter, against a RecordingListener, for both kernel builds."""
from __future__ import annotations

import pytest

from evsefast.clock import ManualClock
from evsefast.errors import InvalidInput
from evsefast.sim.board import COMM_FAULT, SimBoard
from evsefast.sim.car import SimCar
from evsefast.sim.hardware import SimHardware, ampacity_name
from evsefast.testing import RecordingListener
from evsefast.types.board import PowerOnOff, PowerOnOffReason

RATE = 10_000  # 10 samples per PWM period keeps the pure build quick

ALLOW = PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging)
FORBID = PowerOnOff(allow_power_on=False, reason=PowerOnOffReason.PowerOff)


class StaticCar:
    """A car whose state a test sets directly."""

    tick_ms = 250

    def __init__(self, cp_state="A", current_A=16.0, phases=3, cable_A=32.0):
        self.cp_state = cp_state
        self.diode_fault = False
        self.phases = phases
        self.current_A = current_A
        self.rcd_mA = 0.0
        self.cable_A = cable_A

    def tick(self, hw, t_ms):
        pass


def make(kernels, car=None, **options):
    options.setdefault("sample_rate_Hz", RATE)
    hw = SimHardware(car, kernels=kernels, **options)
    board = SimBoard(hw, clock=ManualClock(0.0))
    lst = RecordingListener()
    board.attach(lst)
    return hw, board, lst


def bsp(lst):
    return lst.events()


def errors(lst):
    return [(c[0], c[1].type if c[0] == "on_error_raised" else c[1]) for c in lst.calls
            if c[0] in ("on_error_raised", "on_error_cleared")]


def meters(lst):
    return [c[1] for c in lst.calls if c[0] == "on_powermeter"]


def plug_and_charge(kernels, car=None, **options):
    car = car or StaticCar()
    hw, board, lst = make(kernels, car, **options)
    board.start()
    board.enable(True)
    board.advance(500)
    car.cp_state = "B"
    board.advance(500)
    board.pwm_on(26.6667)
    board.allow_power_on(ALLOW)
    car.cp_state = "C"
    board.advance(1000)
    return hw, board, lst, car


@pytest.mark.arm
def test_start_enable_plug_charge_pause_unplug(kernels):
    hw, board, lst, car = plug_and_charge(kernels)
    assert lst.calls[0][0] == "on_capabilities"
    assert bsp(lst) == ["A", "B", "C", "PowerOn"]
    assert hw.relays_closed and hw.currents_A == (16.0, 16.0, 16.0)
    car.cp_state = "B"  # the car pauses: the board opens the contactor by itself
    board.advance(500)
    assert bsp(lst)[-2:] == ["B", "PowerOff"]
    car.cp_state = "A"
    board.advance(500)
    assert bsp(lst)[-1] == "A"


def test_events_arrive_at_their_simulated_time_and_cp_changes_are_debounced(kernels):
    hw, board, lst = make(kernels, StaticCar())
    seen = []
    board.on_event = lambda t, ev: seen.append((t, ev[0], ev[1]))
    board.advance(100)
    board.enable(True)
    board.advance(900)
    cp = [(t, s) for t, k, s in seen if k == "cp"]
    # disabled hardware shows F (-12 V) until enabled; fast debounce 20 ms on 10 ms blocks
    assert cp[0][1] == "F" and 20.0 <= cp[0][0] <= 40.0
    assert cp[1][1] == "A" and 120.0 <= cp[1][0] <= 140.0
    assert board.clock.monotonic_ms() == 1000.0


def test_relay_needs_power_allowed_state_c_and_pwm(kernels):
    car = StaticCar("C")
    hw, board, lst = make(kernels, car)
    board.enable(True)
    board.advance(1000)
    board.allow_power_on(ALLOW)  # C but X1: no PWM
    board.advance(1000)
    assert not hw.relays_closed and "PowerOn" not in bsp(lst)
    board.pwm_on(26.6667)
    board.advance(50)
    assert not hw.relays_closed  # switching delay 100 ms
    board.advance(100)
    assert hw.relays_closed
    board.allow_power_on(FORBID)
    board.advance(150)
    assert not hw.relays_closed and bsp(lst)[-1] == "PowerOff"


def test_state_d_without_ventilation_raises_and_does_not_close(kernels):
    car = StaticCar("D")
    hw, board, lst = make(kernels, car, has_ventilation=False)
    board.enable(True)
    board.pwm_on(26.6667)
    board.allow_power_on(ALLOW)
    board.advance(1500)
    assert not hw.relays_closed
    assert ("on_error_raised", "evse_board_support/VentilationNotAvailable") in errors(lst)
    hw2, board2, lst2 = make(kernels, StaticCar("D"), has_ventilation=True)
    board2.enable(True)
    board2.pwm_on(26.6667)
    board2.allow_power_on(ALLOW)
    board2.advance(1500)
    assert hw2.relays_closed


def test_diode_fault_is_found_by_the_classifier(kernels):
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 3;diode_fail;sleep 100")
    hw, board, lst = make(kernels, car)
    board.enable(True)
    board.pwm_on(26.6667)
    board.allow_power_on(ALLOW)
    board.advance(3000)
    assert hw.relays_closed
    board.advance(3000)
    assert ("on_error_raised", "evse_board_support/DiodeFault") in errors(lst)
    assert hw.cp.lo_V > -9.0  # the measured low plateau is about -6 V


def test_meter_integrates_v_times_i_and_resets_on_plug_in(kernels):
    hw, board, lst, car = plug_and_charge(kernels, StaticCar(), meter_noise=0.0, round_Wh=False)
    board.advance(3600_000 / 60)  # one minute
    m = meters(lst)[-1]
    v = 230.0 - 0.5 * 16.0
    assert m.voltage_V.L1 == pytest.approx(v)
    assert m.current_A.L1 == 16.0 and m.current_A.N == pytest.approx(0.2)
    expected = 3 * v * 16.0 * (hw.t_ms - 1150.0) / 3.6e6  # contactor closed at ~1.15 s
    assert m.energy_Wh_import.total == pytest.approx(expected, abs=2.0)
    car.cp_state = "A"
    board.advance(1000)
    car.cp_state = "B"
    board.advance(1000)
    assert meters(lst)[-1].energy_Wh_import.total == 0.0
    assert hw.meter.import_Wh == 0.0


def test_one_phase_car_draws_on_l1_only(kernels):
    hw, board, lst, car = plug_and_charge(kernels, StaticCar(phases=1))
    assert hw.currents_A == (16.0, 0.0, 0.0)
    board.ac_switch_three_phases_while_charging(False)
    car.phases = 3
    board.advance(300)
    assert hw.currents_A == (16.0, 0.0, 0.0)  # the board switched to one phase


def test_socket_reports_pp_ampacity(kernels):
    car = SimCar("sleep 0.5;pause;sleep 1;unplug;sleep 1", cable_A=20)
    hw, board, lst = make(kernels, car, connector="socket")
    board.start()
    board.enable(True)
    board.advance(3000)
    pp = [c[1].ampacity.value for c in lst.calls if c[0] == "on_ac_pp_ampacity"]
    assert pp == ["None", "A_20", "None"]
    assert ampacity_name(63) == "A_63_3ph_70_1ph" and ampacity_name(10) == "None"


@pytest.mark.parametrize("fault,error", [
    ("rcd", "evse_board_support/MREC2GroundFailure"),
    ("over_current", "evse_board_support/MREC4OverCurrentFailure"),
    ("evse_board_support/MREC6UnderVoltage", "evse_board_support/MREC6UnderVoltage"),
])
def test_injected_board_errors(kernels, fault, error):
    hw, board, lst, car = plug_and_charge(kernels)
    hw.inject_fault(fault)
    board.advance(500)
    assert ("on_error_raised", error) in errors(lst)
    if fault == "rcd":
        assert not hw.relays_closed
    hw.inject_fault(fault, active=False)
    board.advance(100)
    assert ("on_error_cleared", error) in errors(lst)


def test_car_residual_current_raises_ac_rcd(kernels):
    car = SimCar("draw_power_fixed 10,3;sleep 1;rcd_current 8;sleep 10")
    hw, board, lst = make(kernels, car)
    board.enable(True)
    board.advance(2000)
    assert ("on_error_raised", "ac_rcd/DC") in errors(lst)


def test_contactor_fault_and_stuck_relay(kernels):
    car = StaticCar("C")
    hw, board, lst = make(kernels, car)
    hw.inject_fault("contactor_fault")
    board.enable(True)
    board.pwm_on(26.6667)
    board.allow_power_on(ALLOW)
    board.advance(1000)
    assert not hw.relays_closed
    assert ("on_error_raised", "evse_board_support/MREC17EVSEContactorFault") in errors(lst)
    hw2, board2, lst2, car2 = plug_and_charge(kernels)
    hw2.inject_fault("stuck_relay")
    car2.cp_state = "B"
    board2.allow_power_on(FORBID)
    board2.advance(1000)
    assert hw2.relays_closed  # welded


def test_lost_board_goes_silent_and_reports_communication_fault(kernels):
    hw, board, lst, car = plug_and_charge(kernels)
    n = len(lst.calls)
    hw.inject_fault("lost")
    board.advance(4000)
    assert len(lst.calls) == n  # silence
    board.pwm_on(10.0)  # dropped
    assert hw.pwm_pct == pytest.approx(26.6667)
    board.advance(2000)
    assert ("on_error_raised", COMM_FAULT) in errors(lst)
    assert not hw.relays_closed  # the MCU's fail-safe


def test_every_pwm_period_goes_through_the_classifier(kernels):
    hw, board, lst = make(kernels, StaticCar("B"))
    board.enable(True)
    board.pwm_on(26.6667)
    board.advance(2000)
    assert hw.cp.uses_kernel
    assert hw.cp.samples_processed == 2 * RATE
    assert hw.cp.measured_duty_pct == pytest.approx(26.6667, abs=100.0 / (RATE / 1000) + 0.5)


def test_same_seed_same_events_and_both_builds_agree(both_builds):
    def run(k, seed):
        car = SimCar("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 5;pause;sleep 2;unplug;"
                     "sleep 1")
        hw, board, lst = make(k, car, seed=seed)
        board.enable(True)
        board.pwm_on(26.6667)
        board.allow_power_on(ALLOW)
        return [(t, ev[0], ev[1]) for t, ev in board.advance(12_000) if ev[0] in ("cp", "relay", "error")]

    compiled, pure = both_builds
    a = run(compiled, 7)
    assert a == run(compiled, 7)
    assert a == run(pure, 7)


def test_bad_inputs_are_rejected():
    with pytest.raises(InvalidInput, match="connector"):
        SimHardware(connector="plug")
    hw = SimHardware()
    with pytest.raises(InvalidInput, match="fault kind"):
        hw.inject_fault("gremlins")
    with pytest.raises(InvalidInput, match="dt_ms"):
        hw.advance(-1)
    with pytest.raises(InvalidInput, match="pct"):
        hw.set_pwm_pct(-5)


def test_short_blocks_at_waveform_changes_cause_no_spurious_states(kernels):
    hw, board, lst = make(kernels, StaticCar("B"), cp_noise_V=0.2)
    board.enable(True)
    board.advance(500)
    n = len(bsp(lst))
    for i in range(60):  # a duty change every 7..43 ms: blocks are cut short again and again
        board.pwm_on(10.0 + (i * 7) % 80)
        board.advance(7.0 + (i * 13) % 37)
    board.cp_state_X1()
    board.advance(500)
    assert bsp(lst)[n:] == []  # still B throughout
    assert hw.cp.state == "B" and hw.cp.samples_processed <= hw.t_ms * RATE / 1000
