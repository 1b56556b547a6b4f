"""The EVerest car command language: parse rules, overloads, blocking commands, car behaviours."""
from __future__ import annotations

import pytest

from evsefast.errors import InvalidInput
from evsefast.sim.car import CarScriptError, SimCar, make_car, parse_script, pwm_current_A, split_commands


class View:
    """The hardware as the car sees it."""

    def __init__(self, duty=100.0, cp_state="A", power_W=0.0):
        self.duty_pct = duty
        self.cp_state = cp_state
        self.power_W = power_W


def run_ticks(car, view, n, t0=0.0):
    t = t0
    for _ in range(n):
        car.tick(view, t)
        t += car.tick_ms
    return t


# -- parsing ---------------------------------------------------------------------------------------

def test_lower_cases_the_whole_script():
    assert split_commands("SLEEP 1;Unplug") == [("sleep", ("1",)), ("unplug", ())]


def test_newlines_count_as_semicolons():
    assert split_commands("sleep 1\niec_wait_pwr_ready\nunplug") == [
        ("sleep", ("1",)), ("iec_wait_pwr_ready", ()), ("unplug", ())]


def test_commas_count_as_spaces():
    assert split_commands("draw_power_regulated 16,3") == [("draw_power_regulated", ("16", "3"))]
    assert split_commands("draw_power_regulated 16 3") == [("draw_power_regulated", ("16", "3"))]


def test_trailing_semicolon_adds_nothing_but_double_gives_empty_name():
    assert split_commands("unplug;") == [("unplug", ())]
    assert split_commands("pause;;unplug") == [("pause", ()), ("", ()), ("unplug", ())]


def test_space_after_semicolon_is_an_empty_command_name_as_upstream():
    assert split_commands("pause; unplug")[1] == ("", ("unplug",))
    with pytest.raises(CarScriptError, match="empty command name"):
        parse_script("pause; unplug")


def test_comma_plus_space_gives_an_empty_argument_as_upstream():
    assert split_commands("draw_power_regulated 16, 3") == [("draw_power_regulated", ("16", "", "3"))]
    with pytest.raises(CarScriptError, match="takes 2 argument"):
        parse_script("draw_power_regulated 16, 3")


def test_overloads_are_chosen_by_argument_count():
    car = SimCar()
    assert car.commands()["sleep"] == (1,)
    assert car.commands()["draw_power_regulated"] == (2,)
    assert car.commands()["unplug"] == (0,)
    with pytest.raises(CarScriptError, match=r"'sleep' takes 1 argument\(s\), got 0"):
        parse_script("sleep")
    with pytest.raises(CarScriptError, match=r"'unplug' takes 0 argument\(s\), got 1"):
        parse_script("unplug now")


def test_unknown_command_names_the_command_and_the_allowed_ones():
    with pytest.raises(CarScriptError) as info:
        parse_script("sleep 1;fly_away")
    msg = str(info.value)
    assert "car command 2 is 'fly_away'" in msg and "draw_power_regulated" in msg
    assert isinstance(info.value, InvalidInput) and info.value.field == "car"


def test_iso_commands_are_rejected_with_a_reason():
    with pytest.raises(CarScriptError, match="ISO 15118 stack"):
        parse_script("iso_wait_slac_matched")


def test_non_numeric_argument_is_rejected():
    with pytest.raises(CarScriptError, match="not a number"):
        parse_script("sleep soon")


def test_upstream_example_strings_parse():
    for script in (
        "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,1;sleep 200;unplug",
        "unplug",
        "pause;sleep 36000",
        "draw_power_regulated 16,3",
        "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 32,3;sleep 5;diode_fail;sleep 36000;unplug",
    ):
        assert parse_script(script)


# -- execution -------------------------------------------------------------------------------------

def test_sleep_blocks_for_its_ticks_then_the_next_command_runs_in_the_same_tick():
    car = SimCar("sleep 1;iec_wait_pwr_ready")
    view = View()
    # upstream: int(1000 / 250) + 1 = 5 executions; the fifth completes at t = 1000 ms
    run_ticks(car, view, 4)
    assert car.cp_state == "A" and car.queue[0][0] == "sleep"
    car.tick(view, 1000.0)
    assert car.log[0] == (1000.0, "sleep", ("1",))
    assert car.cp_state == "B"  # iec_wait_pwr_ready ran in the same tick and blocks


def test_iec_wait_pwr_ready_blocks_until_pwm_between_7_and_97():
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 100")
    view = View(duty=100.0)
    run_ticks(car, view, 3)
    assert car.cp_state == "B" and car.queue[0][0] == "iec_wait_pwr_ready"
    view.duty_pct = 5.0  # HLC duty: not enough for IEC
    run_ticks(car, view, 2, 1000.0)
    assert car.queue[0][0] == "iec_wait_pwr_ready"
    view.duty_pct = 26.67
    car.tick(view, 2000.0)
    assert car.cp_state == "C" and car.phases == 3
    assert car.current_A == pytest.approx(16.0, abs=0.01)


def test_regulated_car_obeys_an_evse_pause_and_draws_the_pwm_current():
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 32,1;sleep 100")
    view = View(duty=26.67)
    run_ticks(car, view, 2)
    assert car.cp_state == "C" and car.phases == 1 and car.current_A == pytest.approx(16.0, abs=0.01)
    view.duty_pct = 100.0  # X1: the EVSE paused
    car.tick(view, 1000.0)
    assert car.cp_state == "B" and car.current_A == 0.0


def test_fixed_car_draws_whatever_the_pwm():
    car = SimCar("draw_power_fixed 20,3;sleep 100")
    view = View(duty=100.0)
    car.tick(view, 0.0)
    assert car.cp_state == "C" and car.current_A == 20.0


def test_pause_unplug_error_e_diode_fail_rcd_current_set_soc():
    car = SimCar("draw_power_fixed 10,3;pause;sleep 1")
    car.tick(View(), 0.0)
    assert car.cp_state == "B"
    car = SimCar("error_e;sleep 1")
    car.tick(View(), 0.0)
    assert car.cp_state == "E"
    car = SimCar("draw_power_fixed 10,3;sleep 0.25;diode_fail;rcd_current 7.5;set_soc 55;sleep 1")
    car.tick(View(), 0.0)
    assert car.cp_state == "C" and not car.diode_fault
    car.tick(View(), 250.0)  # the diode shorts; the CP state stays C (upstream: diode_fail only)
    assert car.diode_fault and car.cp_state == "C" and car.rcd_mA == 7.5 and car.soc_pct == 55.0
    car = SimCar("draw_power_fixed 10,3;unplug;sleep 1")
    car.tick(View(), 0.0)
    assert car.cp_state == "A"


def test_run_ends_when_the_queue_is_empty_and_the_car_returns_to_defaults():
    car = SimCar("draw_power_fixed 10,3")
    car.tick(View(), 0.0)
    assert car.finished and car.cp_state == "A"


def test_wait_for_real_plugin_and_plugin_commands():
    car = SimCar("wait_for_real_plugin;plugin", plugin_commands="draw_power_fixed 6,1;sleep 10")
    car.tick(View(cp_state="F"), 0.0)
    assert car.queue[0][0] == "wait_for_real_plugin"
    car.tick(View(cp_state="A"), 250.0)
    assert car.cp_state == "C" and car.current_A == 6.0 and car.phases == 1


def test_duty_to_current_follows_yetisimulator():
    assert pwm_current_A(5.0) == 0.0
    assert pwm_current_A(26.666) == pytest.approx(16.0, abs=0.01)
    assert pwm_current_A(90.0) == pytest.approx(65.0)
    assert pwm_current_A(96.5) == 80.0
    assert pwm_current_A(100.0) == 0.0


# -- behaviours users report -----------------------------------------------------------------------

def test_sleepy_car_ignores_pwm_until_it_was_interrupted():
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 100", sleepy=True)
    view = View(duty=100.0)
    car.tick(view, 0.0)  # plugged in: asleep
    view.duty_pct = 26.67
    t = run_ticks(car, view, 40, 250.0)
    assert car.cp_state == "B"  # asleep: no reaction to the PWM
    view.duty_pct = 0.0  # the EVSE's wake-up: F for 4 s
    t = run_ticks(car, view, 16, t)
    view.duty_pct = 26.67
    run_ticks(car, view, 2, t)
    assert car.cp_state == "C"


def test_late_follower_keeps_drawing_the_old_current():
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 32,3;sleep 100", follow_delay_s=5.0)
    view = View(duty=26.67)
    t = run_ticks(car, view, 2)
    assert car.current_A == pytest.approx(16.0, abs=0.01)
    view.duty_pct = 16.67  # 10 A
    t = run_ticks(car, view, 16, t)  # 4 s
    assert car.current_A == pytest.approx(16.0, abs=0.01)
    run_ticks(car, view, 8, t)
    assert car.current_A == pytest.approx(10.0, abs=0.01)


def test_ventilation_car_uses_state_d_and_one_phase_car_uses_one_phase():
    car = SimCar("iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 100", ventilation=True, max_phases=1)
    run_ticks(car, View(duty=26.67), 2)
    assert car.cp_state == "D" and car.phases == 1


def test_make_car_from_profile_or_script():
    assert make_car("sleepy").sleepy
    assert make_car(None).name == "default"
    car = make_car("sleep 1;unplug")
    assert car.queue == [("sleep", ("1",)), ("unplug", ())]
    with pytest.raises(InvalidInput, match="profiles"):
        make_car("nosuchprofile")


def test_bad_options_are_rejected():
    with pytest.raises(InvalidInput, match="max_phases"):
        SimCar(max_phases=4)
