"""Allocated memory does not grow while a manager runs: 100,000 ticks of a charging session."""
from __future__ import annotations

import gc
import tracemalloc

import pytest

from evsefast.testing import FakeBoard, ManagerHarness
from evsefast.types import Current


def _run(h, n, sample_every=10):
    current = Current(L1=9.0, L2=9.0, L3=9.0)  # below every limit used
    for i in range(n):
        h.clock.advance_ms(100)
        if i % sample_every == 0:
            h.energy_Wh += 0.1
            h.meter.publish(h.energy_Wh, current_A=current)
        h.mgr.tick()
        if i % 1000 == 0:
            h.board.commands.clear()  # the fake's own record is not the manager's memory


def test_no_growth_over_100k_ticks(kernels):
    h = ManagerHarness(kernels=kernels, board=FakeBoard())
    h.start_charging()
    # a limit that changes now and then exercises the 5 s PWM path too
    _run(h, 5_000)
    gc.collect()
    tracemalloc.start()
    try:
        _run(h, 1_000)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for k in range(10):
            h.limit(10.0 + k)
            _run(h, 10_000)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert h.mgr.state == "Charging"
    assert after - before < 32 * 1024, f"grew by {after - before} bytes"
