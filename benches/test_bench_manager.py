"""EvseManager benches (compiled / pure kernels). Budgets: benches/budgets/manager.toml.

* ``test_cp_event_to_board_command``: one CP event reported by the board -> processed -> the board
  command(s) out, in Charging flipping C <-> B (``evsefast.testing.cp_flip_driver``; the same
  driver serves the instruction-count script).  Budget: median <= 20 us.
* ``test_idle_tick``: a ``tick()`` with nothing queued and no timer due.  Budget: <= 5 us.
* ``test_one_hour_session``: plug-in to unplug, one hour of charging driven by a manual clock in
  100 ms steps with a meter sample every second.  Budget: <= 0.5 s wall.
"""
from __future__ import annotations

import pytest

from evsefast import _impl
from evsefast.testing import FakeBoard, ManagerHarness, cp_flip_driver
from evsefast.types import Current

BUILDS = ("compiled", "pure")


def _ns(build):
    if build == "compiled" and _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1")
    return _impl.build(build)


@pytest.mark.benchmark(group="manager_cp_event")
@pytest.mark.parametrize("build", BUILDS)
def test_cp_event_to_board_command(benchmark, build):
    flip = cp_flip_driver(_ns(build))
    for _ in range(100):  # warm-up: steady C<->B cycle
        flip()
    benchmark(flip)


@pytest.mark.benchmark(group="manager_idle_tick")
@pytest.mark.parametrize("build", BUILDS)
def test_idle_tick(benchmark, build):
    h = ManagerHarness(kernels=_ns(build), board=FakeBoard())
    h.start_charging()
    h.advance(10_000)
    tick = h.mgr.tick
    n = len(h.board.commands)
    benchmark(tick)
    assert len(h.board.commands) == n


def one_hour_session(kernels) -> ManagerHarness:
    """Plug in, authorize, charge one hour (100 ms ticks, 1 s meter samples), unplug."""
    h = ManagerHarness(kernels=kernels, board=FakeBoard())
    h.start_charging()
    clock, mgr, meter = h.clock, h.mgr, h.meter
    advance, tick, publish = clock.advance_ms, mgr.tick, meter.publish
    current = Current(L1=15.9, L2=15.9, L3=15.9)
    energy = 0.0
    for i in range(36_000):
        advance(100)
        if i % 10 == 0:
            energy += 11_000 / 3600  # 11 kW
            publish(energy, current_A=current)
        tick()
    h.cp("A")
    return h


@pytest.mark.benchmark(group="manager_session")
@pytest.mark.parametrize("build", BUILDS)
def test_one_hour_session(benchmark, build):
    kernels = _ns(build)
    h = benchmark.pedantic(one_hour_session, args=(kernels,), rounds=3, iterations=1)
    assert h.event_names()[-2:] == ["ChargingStarted", "SessionFinished"]
    assert h.mgr.session_events[-1].session_finished.energy_Wh_import == pytest.approx(11_000, rel=1e-3)
