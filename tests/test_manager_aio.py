"""asyncio: ``async for ev in mgr.events(...)``, ``await mgr.wait_ready()``, the bounded buffer's
overflow policy, streams fed from another thread, and the end of iteration at ``close()``."""
from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from evsefast.clock import Clock
from evsefast.errors import ManagerClosed
from evsefast.manager import EvseManager
from evsefast.manager.aio import EventsOverflow, VarEvent
from evsefast.runner import Runner
from evsefast.testing import FakeBoard, FakePowerMeter, ManualClock, enforced_limits, token, validation

pytestmark = pytest.mark.timeout(30)


def charge_once(mgr, board, meter, clock):
    """Plug in, authorize, charge 10 s at 16 A, unplug (a manual clock, no sleeping)."""
    mgr.enforce_limits(enforced_limits(16.0))
    board.emit("B")
    mgr.tick()
    mgr.authorize_response(token(), validation())
    for _ in range(20):
        clock.advance_ms(100.0)
        mgr.tick()
    board.emit("C")
    mgr.tick()
    board.emit("PowerOn")
    for i in range(10):
        clock.advance_ms(1000.0)
        meter.publish(100.0 + 11.0 * (i + 1))
        mgr.tick()
    board.emit("B")
    board.emit("PowerOff")
    board.emit("A")
    for _ in range(20):
        clock.advance_ms(100.0)
        mgr.tick()


def manual_manager():
    clock = ManualClock()
    board, meter = FakeBoard(), FakePowerMeter()
    mgr = EvseManager({"connector_id": 1}, board=board, powermeters=[meter], clock=clock)
    mgr.start()
    meter.publish(100.0)
    mgr.tick()
    assert mgr.ready
    return mgr, board, meter, clock


def test_events_yield_the_session_events_in_order():
    async def main():
        mgr, board, meter, clock = manual_manager()
        stream = mgr.events()  # subscribed now: nothing published from here on is missed
        charge_once(mgr, board, meter, clock)
        mgr.close()
        return [ev.event.value async for ev in stream], [ev.event.value for ev in mgr.session_events]
    got, published = asyncio.run(main())
    assert got == published[-len(got):]
    assert got[0] == "SessionStarted" and got[-1] == "SessionFinished"
    assert "ChargingStarted" in got


def test_events_of_named_vars_yield_name_value_pairs():
    async def main():
        mgr, board, meter, clock = manual_manager()
        stream = mgr.events("powermeter", "session_event")
        charge_once(mgr, board, meter, clock)
        mgr.close()
        return [item async for item in stream]
    items = asyncio.run(main())
    assert all(isinstance(item, VarEvent) for item in items)
    assert {item.name for item in items} == {"powermeter", "session_event"}
    energies = [item.value.energy_Wh_import.total for item in items if item.name == "powermeter"]
    assert energies == sorted(energies) and energies[-1] == pytest.approx(210.0)


def test_overflow_drops_the_oldest_and_counts():
    async def main():
        mgr, board, meter, clock = manual_manager()
        stream = mgr.events("powermeter", maxsize=3)
        for i in range(10):
            meter.publish(200.0 + i)
            mgr.tick()
        mgr.close()
        return [item.value.energy_Wh_import.total async for item in stream], stream.dropped
    values, dropped = asyncio.run(main())
    assert values == [207.0, 208.0, 209.0]  # the newest three
    assert dropped == 7


def test_overflow_raise_delivers_what_came_before_the_gap():
    async def main():
        mgr, board, meter, clock = manual_manager()
        stream = mgr.events("powermeter", maxsize=2, overflow="raise")
        for i in range(5):
            meter.publish(300.0 + i)
            mgr.tick()
        got = []
        with pytest.raises(EventsOverflow) as info:
            async for item in stream:
                got.append(item.value.energy_Wh_import.total)
        mgr.close()
        return got, info.value.dropped
    got, dropped = asyncio.run(main())
    assert got == [300.0, 301.0]
    assert dropped == 3


def test_bad_stream_options_are_refused():
    mgr, *_ = manual_manager()
    with pytest.raises(ValueError, match="maxsize"):
        mgr.events(maxsize=0)
    with pytest.raises(ValueError, match="overflow"):
        mgr.events(overflow="block")
    with pytest.raises(KeyError, match="unknown var"):
        mgr.events("no_such_var")
    mgr.close()
    with pytest.raises(ManagerClosed):
        mgr.events()


def test_a_dropped_stream_unsubscribes():
    mgr, board, meter, clock = manual_manager()
    subs = mgr._vars._subs["powermeter"]
    before = len(subs)

    async def consume():
        stream = mgr.events("powermeter")
        meter.publish(102.0)
        mgr.tick()
        async for _ in stream:
            break
        assert len(subs) == before + 1
        del stream
    asyncio.run(consume())
    gc.collect()
    assert len(subs) == before

    async def explicit():
        async with mgr.events("powermeter") as stream:
            assert len(subs) == before + 1
        assert len(subs) == before
        assert stream.dropped == 0
    asyncio.run(explicit())
    mgr.close()


def test_events_from_a_runner_thread_reach_the_event_loop():
    """The manager ticked by a Runner thread on a real clock; the consumer is a coroutine."""
    board, meter = FakeBoard(), FakePowerMeter()
    mgr = EvseManager({"connector_id": 1}, board=board, powermeters=[meter], clock=Clock())
    runner = Runner(mgr)

    async def main():
        stream = mgr.events("powermeter")
        runner.start()
        loop_thread = threading.get_ident()
        threads = set()

        def publish():
            for i in range(5):
                meter.publish(400.0 + i)  # a meter thread; the runner thread ticks and delivers
        threading.Thread(target=publish).start()
        got = []
        async for item in stream:
            got.append(item.value.energy_Wh_import.total)
            threads.add(threading.get_ident())
            if len(got) == 5:
                break
        return got, threads == {loop_thread}
    try:
        got, on_loop = asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        runner.stop()
        mgr.close()
    assert got == [400.0, 401.0, 402.0, 403.0, 404.0] and on_loop


def test_wait_ready_with_an_asyncio_runner_and_its_failures():
    async def main():
        board, meter = FakeBoard(), FakePowerMeter()
        mgr = EvseManager({"connector_id": 1}, board=board, powermeters=[meter], clock=Clock())
        with pytest.raises(asyncio.TimeoutError):
            await mgr.wait_ready(timeout_s=0.05)  # nobody ticks it: never ready
        async with Runner(mgr):
            meter.publish(10.0)
            await mgr.wait_ready(timeout_s=5.0)
            assert mgr.ready
            await mgr.wait_ready()  # already ready: returns at once
            assert mgr.pause_charging() is False  # cmds are synchronous and safe on the loop
        mgr.close()
        with pytest.raises(ManagerClosed):
            await mgr.wait_ready()
    asyncio.run(main())


def test_close_ends_a_waiting_iteration():
    async def main():
        mgr, *_ = manual_manager()
        stream = mgr.events()

        async def consume():
            return [ev async for ev in stream]
        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.01)
        assert not task.done()
        threading.Thread(target=mgr.close).start()  # closed from another thread
        return await asyncio.wait_for(task, 5)
    assert asyncio.run(main()) == []
