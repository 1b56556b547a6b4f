"""Simulator benches: the default ``evsefast simulate`` session end to end, and its parts.

Budgets: benches/budgets/sim.toml.  The headline: the default 30-minute session at full pilot
fidelity (every 1 kHz PWM period synthesised at 100 kS/s and classified by the pilot kernel:
1.8 M periods, 180 M samples) plus the EvseManager, the car and the meter runs in <= 2 s wall
(>= 900x real time) with the compiled kernels.

* ``test_sim_default_session[compiled]``: ``run_session(SimOptions())``, the whole thing;
  ``extra_info``: ``wall_s``, ``cpu_s`` (process CPU time: robust on a loaded machine),
  ``realtime_factor``, ``pwm_periods``, ``ns_per_sample``.
* ``test_sim_hardware_30min[compiled]``: SimHardware + car for 30 minutes in 100 ms steps, no manager
  (the pilot path and the physics alone).
* ``test_sim_short_session[compiled|pure]``: a 60 s session at 20 kS/s, both builds (the ratio).
"""
from __future__ import annotations

import time

import pytest

from evsefast import _impl
from evsefast.sim.car import SimCar
from evsefast.sim.hardware import SimHardware
from evsefast.sim.runner import SimOptions, run_session


def _ns(build):
    if build == "compiled" and _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    return _impl.build(build)


@pytest.mark.benchmark(group="sim-session")
@pytest.mark.parametrize("build", ["compiled"])
def test_sim_default_session(benchmark, build):
    k = _ns(build)
    cpu = []

    def session():
        t0 = time.process_time()
        r = run_session(SimOptions(kernels=k))
        cpu.append(time.process_time() - t0)
        return r
    result = benchmark.pedantic(session, rounds=3, iterations=1, warmup_rounds=0)
    assert result.ok and result.event_names()[-1] == "SessionFinished"
    wall = benchmark.stats.stats.median
    benchmark.extra_info.update(
        cpu_s=sorted(cpu)[len(cpu) // 2],
        sim_s=result.sim_time_s, wall_s=wall, realtime_factor=result.sim_time_s / wall,
        pwm_periods=result.pwm_periods, samples=result.samples, ns_per_sample=wall * 1e9 / result.samples)


def _hardware_30min(k):
    car = SimCar("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 1800")
    hw = SimHardware(car, kernels=k)
    hw.set_enabled(True)
    hw.set_pwm_pct(26.6667)
    hw.set_allow_power_on(True)
    for _ in range(18_000):
        hw.advance(100.0)
    return hw


@pytest.mark.benchmark(group="sim-session")
@pytest.mark.parametrize("build", ["compiled"])
def test_sim_hardware_30min(benchmark, build):
    k = _ns(build)
    hw = benchmark.pedantic(lambda: _hardware_30min(k), rounds=3, iterations=1, warmup_rounds=0)
    assert hw.relays_closed and hw.cp.samples_processed == 180_000_000
    benchmark.extra_info["ns_per_sample"] = benchmark.stats.stats.median * 1e9 / hw.cp.samples_processed


@pytest.mark.benchmark(group="sim-short")
@pytest.mark.parametrize("build", ["compiled", "pure"])
def test_sim_short_session(benchmark, build):
    k = _ns(build)
    result = benchmark.pedantic(lambda: run_session(SimOptions(kernels=k, duration_s=60, sample_rate_Hz=20_000)),
                                rounds=3 if build == "compiled" else 1, iterations=1, warmup_rounds=0)
    assert result.ok and result.event_names()[-1] == "SessionFinished"
