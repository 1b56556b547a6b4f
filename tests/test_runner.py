"""The real-time runner: reacts to board input at once and fires timers at their deadlines."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from evsefast.manager import EvseManager
from evsefast.runner import Runner
from evsefast.testing import FakeBoard, enforced_limits, token, validation


def _wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


def test_thread_runner_reacts_to_board_events(kernels):
    board = FakeBoard()
    mgr = EvseManager(board=board, kernels=kernels)
    with Runner(mgr):
        assert _wait_for(lambda: mgr.get("ready") is True)
        mgr.enforce_limits(enforced_limits(16.0))
        board.emit("B")  # from the test thread, as a board's reader thread would
        assert _wait_for(lambda: mgr.state == "WaitingForAuthentication")
        mgr.authorize_response(token(), validation())
        assert mgr.state == "PrepareCharging"
        board.emit("C")
        assert _wait_for(lambda: mgr.state == "Charging")
        assert ("allow_power_on", True, "FullPowerCharging") in board.commands
    assert mgr.next_deadline_ms() is not None


def test_thread_runner_fires_timers_without_input(kernels):
    """A budget valid for 1 s expires (whole-second rule) with no input arriving."""
    board = FakeBoard()
    mgr = EvseManager(board=board, kernels=kernels)
    seen = []
    mgr.subscribe("limits", lambda v: seen.append(v.max_current))
    with Runner(mgr):
        assert _wait_for(lambda: mgr.get("ready") is True)
        mgr.enforce_limits(enforced_limits(16.0, valid_for=1))
        assert _wait_for(lambda: seen and seen[-1] == 0.0 and 16.0 in seen, timeout=10)


def test_cmds_from_many_threads_are_serialised(kernels):
    board = FakeBoard()
    mgr = EvseManager(board=board, kernels=kernels)
    with Runner(mgr):
        assert _wait_for(lambda: mgr.get("ready") is True)
        errors = []

        def worker():
            try:
                for i in range(200):
                    mgr.enforce_limits(enforced_limits(6.0 + (i % 20)))
                    mgr.pause_charging()
                    mgr.reserve(i)
                    mgr.cancel_reservation()
            except Exception as exc:  # pragma: no cover - the assertion reports it
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert mgr.state == "Idle"


def test_asyncio_runner(kernels):
    async def main():
        board = FakeBoard()
        mgr = EvseManager(board=board, kernels=kernels)
        async with Runner(mgr):
            for _ in range(500):
                if mgr.get("ready"):
                    break
                await asyncio.sleep(0.002)
            mgr.enforce_limits(enforced_limits(16.0))
            board.emit("B")
            for _ in range(500):
                if mgr.state == "WaitingForAuthentication":
                    break
                await asyncio.sleep(0.002)
            assert mgr.state == "WaitingForAuthentication"
            # a board thread reporting while the loop waits
            threading.Thread(target=board.emit, args=("A",)).start()
            for _ in range(500):
                if mgr.state == "Idle":
                    break
                await asyncio.sleep(0.002)
            assert mgr.state == "Idle"
        return mgr

    mgr = asyncio.run(main())
    assert [e.event.value for e in mgr.session_events] == ["Enabled", "SessionStarted", "AuthRequired",
                                                           "SessionFinished"]


def test_await_runner_until_stop(kernels):
    async def main():
        mgr = EvseManager(board=FakeBoard(), kernels=kernels)
        runner = Runner(mgr)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, runner.stop)
        await runner
        return mgr

    mgr = asyncio.run(main())
    assert mgr.get("ready") is True
