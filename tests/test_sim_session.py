"""End-to-end sessions: car + simulated board + EvseManager, every car profile, the safety checker."""
from __future__ import annotations

import msgspec
import pytest

from evsefast import _impl
from evsefast.errors import SafetyViolation
from evsefast.sim.profiles import PROFILES
from evsefast.sim.runner import SimOptions, SessionRunner, run_session
from evsefast.sim.safety import SafetyChecker
from evsefast.types.powermeter import Energy, Powermeter



def opts(kernels, **kw):
    return SimOptions(kernels=kernels, **kw)  # the pure build samples at 10 kS/s by default


def is_subsequence(expected, seen):
    it = iter(seen)
    return all(any(e == s for s in it) for e in expected)


def times(result, label):
    return [t / 1000.0 for (t, ev), lab in zip(result.events, result.event_labels()) if lab == label]


def test_default_session_pure_build_short(kernels):
    r = run_session(opts(kernels, duration_s=120))
    assert r.ok
    assert r.event_names() == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV",
                               "ChargingResumed", "SessionFinished"]
    assert r.energy_Wh_total > 100
    assert r.max_current_A == pytest.approx(16.0)


def test_default_session_full_30_minutes():
    if not _impl.USING_EXTENSIONS:
        pytest.skip("compiled kernels not loaded: the full 30-minute default session runs compiled")
    r = run_session(SimOptions())
    assert r.ok, r.violation
    assert is_subsequence(PROFILES["default"].expect, r.event_names())
    assert r.event_names()[-1] == "SessionFinished"
    # 3 x 16 A x ~222 V for ~28.6 min of charging
    assert 4800 < r.energy_Wh_total < 5300
    assert r.mean_current_A == pytest.approx(16.0)
    assert r.time_in_cp_state_s["C"] > 1600
    assert 55 < r.time_in_charger_state_s["ChargingPausedEV"] < 65
    # full pilot fidelity: every PWM period of the run went through the pilot kernel
    # (up to one 100 ms block may still be pending at the end)
    assert r.sim_time_s * 1000 - 100 <= r.pwm_periods <= r.sim_time_s * 1000
    assert r.samples == r.pwm_periods * 100


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_ends_with_its_expected_events(kernels, name):
    profile = PROFILES[name]
    duration = max(profile.min_duration_s, 120.0 if name != "sleepy" else 150.0)
    r = run_session(opts(kernels, car=name, duration_s=duration))
    assert r.ok, r.violation
    assert is_subsequence(profile.expect, r.event_names()), r.event_labels()


def test_sleepy_car_gets_its_wake_up_and_charges():
    r = run_session(SimOptions(car="sleepy", duration_s=150, record_vars=True))
    started = times(r, "ChargingStarted")
    auth = times(r, "AuthRequired")[0]
    # EVerest's legacy wake-up: 30 s in PrepareCharging, then F for 4 s (T_step_EF); the car wakes
    assert started and started[0] - auth > 30.0
    assert r.time_in_cp_state_s.get("F", 0.0) >= 4.0
    assert "ChargingPausedEV" not in r.event_names()[: r.event_names().index("ChargingStarted")]
    assert r.energy_Wh_total > 100


def test_late_follower_raises_over_current_after_7_s():
    r = run_session(SimOptions(car="late-follower", duration_s=120, record_vars=True))
    labels = r.event_labels()
    assert "Error{OverCurrent}" in labels
    t_err = times(r, "Error{OverCurrent}")[0]
    # the first meter sample above the soft limit for 10 A: (10 + 0.5) x 1.1 = 11.55 A
    limit_t = 30.0
    over = [t / 1000.0 for t, name, v in r.vars
            if name == "powermeter" and t / 1000.0 >= limit_t and v.current_A.L1 > 11.55]
    assert over, "the car never exceeded the lowered limit"
    assert 7.0 <= t_err - over[0] <= 8.1
    assert labels.index("Error{OverCurrent}") > labels.index("ChargingStarted")


def test_diode_fault_car_raises_car_diode_fault(kernels):
    r = run_session(opts(kernels, car="diode-fault", duration_s=90))
    assert "Error{CarDiodeFault}" in r.event_labels()


def test_ventilation_car_charges_in_d_and_errors_without_ventilation():
    r = run_session(SimOptions(car="ventilation", duration_s=90))
    assert r.time_in_cp_state_s.get("D", 0) > 60 and r.energy_Wh_total > 50
    r = run_session(SimOptions(car="ventilation", duration_s=90, hardware_options={"has_ventilation": False},
                               manager_config={"has_ventilation": True}))
    assert "Error{VentilationNotAvailable}" in r.event_labels()
    assert r.energy_Wh_total == 0


def test_one_phase_car_draws_on_l1_only():
    r = run_session(SimOptions(car="one-phase", duration_s=90, record_vars=True))
    samples = [v for _, name, v in r.vars if name == "powermeter" and v.current_A.L1 > 0]
    assert samples and all(s.current_A.L2 == 0 and s.current_A.L3 == 0 for s in samples)
    three = run_session(SimOptions(car="default", duration_s=90))
    assert r.energy_Wh_total < 0.5 * three.energy_Wh_total


def test_user_script_runs_as_is():
    r = run_session(SimOptions(car="sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 10,1;sleep 20;unplug",
                               duration_s=60))
    assert r.event_names()[-1] == "SessionFinished"
    assert r.max_current_A == pytest.approx(10.0)
    assert [c[1] for c in r.car_log][-1] == "unplug"


def test_same_seed_same_output_and_seeded_uuids():
    def run(seed):
        r = run_session(SimOptions(duration_s=90, seed=seed, record_vars=True))
        return [(t, name, msgspec.json.encode(v)) for t, name, v in r.vars]

    a = run(3)
    assert a == run(3)
    b = run(4)
    assert [x[:2] for x in a] == [x[:2] for x in b]  # same events at the same times
    assert a != b  # different noise, different uuids


# -- safety ----------------------------------------------------------------------------------------

def test_stuck_relay_trips_the_contactor_invariant():
    r = run_session(SimOptions(duration_s=120, faults=[(20.0, "stuck_relay")]))
    assert r.violation is not None and r.violation.rule == "contactor"
    assert "still closed" in r.violation.message
    assert 60.0 < r.violation.t_ms / 1000.0 < 80.0  # when the car paused
    assert "broken at t=" in str(r.violation)


def test_rule_breaking_board_that_closes_without_permission(monkeypatch):
    from evsefast.sim import hardware as hwmod

    def reckless(self):
        return self.cp_state == "C"  # ignores allow_power_on and the PWM
    monkeypatch.setattr(hwmod.SimHardware, "_relay_should_close", reckless)
    r = run_session(SimOptions(car="draw_power_fixed 16,3;sleep 30", duration_s=30))
    assert r.violation is not None and r.violation.rule == "contactor"
    assert "power not allowed" in r.violation.message or "PWM off" in r.violation.message


class _Hw:
    relays_closed = False
    pwm_running = True
    pwm_pct = 26.0
    has_ventilation = False
    relay_delay_ms = 100.0


def test_checker_duty_rule_and_energy_rule(kernels):
    c = SafetyChecker(_Hw(), kernels=kernels)
    for pct in (5.0, 10.0, 26.6667, 97.0, 100.0):
        c.command(0.0, "pwm_on", pct)
    assert c.ok
    c.command(1000.0, "pwm_on", 99.0)
    assert c.violations[0].rule == "duty"
    with pytest.raises(SafetyViolation, match=r"'duty' broken at t=1.000 s"):
        c.check(1000.0)

    def sample(wh):
        return ("meter", Powermeter(timestamp="2026-01-01T00:00:00Z", energy_Wh_import=Energy(total=wh)))
    c = SafetyChecker(_Hw(), kernels=kernels)
    c.event(0.0, sample(10.0))
    c.event(1000.0, ("cp", "A"))
    c.event(1100.0, ("cp", "B"))  # plug-in edge: the meter may restart at 0
    c.event(2000.0, sample(0.0))
    c.event(3000.0, sample(5.0))
    assert c.ok
    c.event(4000.0, sample(4.0))
    assert c.violations[0].rule == "energy"


def test_checker_power_off_rule():
    c = SafetyChecker(_Hw())
    c.command(0.0, "allow_power_on", True)
    c.event(100.0, ("cp", "C"))
    c.event(5000.0, ("cp", "B"))
    c.check(5050.0, raise_=False)
    assert c.ok
    c.check(5200.0, raise_=False)
    assert c.violations[0].rule == "power_off" and "CP C->B" in c.violations[0].message
    c = SafetyChecker(_Hw())
    c.command(0.0, "allow_power_on", True)
    c.event(100.0, ("cp", "C"))
    c.event(5000.0, ("cp", "B"))
    c.command(5010.0, "allow_power_on", False)
    c.check(6000.0, raise_=False)
    assert c.ok


def test_runner_rejects_bad_options():
    from evsefast.errors import InvalidInput

    for kw, field in (({"limit_A": 0}, "limit"), ({"phases": 2}, "phases"), ({"duration_s": 0}, "duration"),
                      ({"speed": -1.0}, "speed")):
        with pytest.raises(InvalidInput) as info:
            SessionRunner(SimOptions(**kw))
        assert info.value.field == field
