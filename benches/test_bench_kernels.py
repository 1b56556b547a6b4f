"""Kernel benches: pwm, limits and meter, compiled and pure builds (ids ``compiled`` / ``pure``).

Budgets: benches/budgets/kernels.toml.
* pwm: one ``duty_from_current`` call from Python <= 150 ns (median, compiled).
* limits: one full composition from Python (the manager's per-tick sequence below) <= 400 ns.
* meter: 100,000 power samples through ``EnergyIntegrator.feed_power_block`` <= 300 us compiled
  and >= 50x faster than the pure build in the same run.
"""
from __future__ import annotations

import math
from array import array

import pytest

from evsefast import _impl

BUILDS = ("compiled", "pure")
NAN = math.nan
N_METER = 100_000


def _micro(benchmark, f, *args):
    """A sub-microsecond call: fixed 1000 iterations per round (calibration of the first bench in a
    session can settle on 1 iteration, which then measures the timer, not the call)."""
    return benchmark.pedantic(f, args=args, iterations=1000, rounds=200, warmup_rounds=5)


def _ns(build):
    if build == "compiled" and _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    return _impl.build(build)


# ---- pwm -------------------------------------------------------------------------------------------

@pytest.mark.benchmark(group="pwm_duty")
@pytest.mark.parametrize("build", BUILDS)
def test_pwm_duty(benchmark, build):
    f = _ns(build).pwm.duty_from_current
    assert _micro(benchmark, f, 16.0) == pytest.approx(0.266667, abs=1e-4)


@pytest.mark.benchmark(group="pwm_duty")
@pytest.mark.parametrize("build", BUILDS)
def test_pwm_current_from_duty(benchmark, build):
    f = _ns(build).pwm.current_from_duty_pct
    assert _micro(benchmark, f, 26.666666666666668) == pytest.approx(16.0)


# ---- limits ----------------------------------------------------------------------------------------

def _composition(lim):
    """The manager's per-tick limit sequence (§3.1 steps 2-6, P9): expiry, enforced limit with a W
    limit, PP ampacity (Socket), effective current, threshold.  Returns the effective current."""
    expired = lim.budget_expired
    enforced = lim.enforced_current_A
    pp = lim.pp_ampacity_A
    effective = lim.effective_current_A
    allowed = lim.charging_allowed

    def tick(now_ms, valid_until_ms=60_000.0):
        if expired(now_ms, valid_until_ms):
            return 0.0
        i = effective(enforced(32.0, 11040.0, 230.0, 3), 32.0, pp(4, 3), NAN)
        allowed(i)
        return i

    return tick


@pytest.mark.benchmark(group="limits_compose")
@pytest.mark.parametrize("build", BUILDS)
def test_limits_compose(benchmark, build):
    tick = _composition(_ns(build).limits)
    assert _micro(benchmark, tick, 1_000.0) == pytest.approx(16.0)  # float ms, as the clocks give


@pytest.mark.benchmark(group="limits_compose")
@pytest.mark.parametrize("build", BUILDS)
def test_limits_one_call(benchmark, build):
    f = _ns(build).limits.limit_current_A
    assert _micro(benchmark, f, 32.0, 11040.0, 230.0, 3, 32.0, 63.0, NAN) == pytest.approx(16.0)


@pytest.mark.benchmark(group="limits_soft_over_current")
@pytest.mark.parametrize("build", BUILDS)
def test_limits_soft_over_current_feed(benchmark, build):
    soc = _ns(build).limits.SoftOverCurrent(10.0, 0.5, 7000)
    assert _micro(benchmark, soc.feed, 1_000.0, 16.0, 16.2, 15.9, 16.1) is False


# ---- meter -----------------------------------------------------------------------------------------

def _samples():
    t = array("d", (i * 100.0 for i in range(N_METER)))
    p = array("d", (7000.0 + 3000.0 * math.sin(i * 1e-3) - (5000.0 if i % 5000 > 4000 else 0.0)
                    for i in range(N_METER)))
    return memoryview(t), memoryview(p)


T_MS, POWER_W = _samples()


@pytest.mark.benchmark(group="meter_block_100k")
@pytest.mark.parametrize("build", BUILDS)
def test_meter_block_100k(benchmark, build):
    e = _ns(build).meter.EnergyIntegrator(1000.0)

    def run():
        e.reset()
        return e.feed_power_block(T_MS, POWER_W)

    assert benchmark(run) == N_METER
    assert e.import_Wh > 0.0 and e.gaps == 0


@pytest.mark.benchmark(group="meter_vi_block_100k")
@pytest.mark.parametrize("build", BUILDS)
def test_meter_vi_block_100k(benchmark, build):
    e = _ns(build).meter.EnergyIntegrator(1000.0)
    v = memoryview(array("d", [230.0]) * N_METER)
    i = memoryview(array("d", [16.0]) * N_METER)

    def run():
        e.reset()
        return e.feed_vi_block(T_MS, v, i, v, i, v, i)

    assert benchmark(run) == N_METER


@pytest.mark.benchmark(group="meter_sample")
@pytest.mark.parametrize("build", BUILDS)
def test_meter_feed_power_one(benchmark, build):
    e = _ns(build).meter.EnergyIntegrator(1e18)
    clock = iter(range(10**12))

    def run():
        e.feed_power(float(next(clock)), 7000.0)

    benchmark(run)
