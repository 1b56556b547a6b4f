"""Yeti serial link benches.

* ``test_yeti_decode_frame``: one MCU frame body -> (member, value): COBS, CRC and protobuf
  (budget: median <= 5 us).
* ``test_yeti_feed_frame``: the reader's path for one frame: stream decoder, protobuf,
  dispatch and the listener call.
* ``test_yeti_pty_latency``: over a real pty, from a ``cp_state=B`` frame written while
  charging to the host's ``allow_power_on=false`` frame read back; ``p99_ms`` in
  ``extra_info`` (budget: p99 <= 2 ms). The driver's reader and the harness run at SCHED_FIFO
  priority ``RT_PRIORITY`` where permitted (as a charge controller deploys it), so other load
  on the machine does not decide the tail; ``extra_info["realtime"]`` says whether it did.
* ``test_yeti_pty_latency_manager``: the same path decided by the EvseManager (driver fail-safe
  off, Runner thread at normal priority); reported, not gated.

Budgets: benches/budgets/yeti.toml.
"""
from __future__ import annotations

import os
import select
import time
import tty

import pytest

from evsefast.board.yeti import Codec, YetiBoard
from evsefast.testing import RecordingListener
from evsefast.types.board import PowerOnOff, PowerOnOffReason

MCU = Codec("yeti", "mcu")
HOST = Codec("yeti", "host")
CP_C_BODY = MCU.encode("cp_state", 2)[:-1]
RT_PRIORITY = 10


class _realtime:
    """Run the calling thread at SCHED_FIFO ``RT_PRIORITY`` for a while, if permitted."""

    def __enter__(self):
        try:
            self.old = (os.sched_getscheduler(0), os.sched_getparam(0))
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
            self.ok = True
        except (AttributeError, OSError):
            self.ok = False
        return self

    def __exit__(self, *exc):
        if self.ok:
            os.sched_setscheduler(0, self.old[0], self.old[1])


@pytest.mark.benchmark(group="yeti-decode")
def test_yeti_decode_frame(benchmark):
    decode = HOST.decode
    assert decode(CP_C_BODY) == ("cp_state", 2)
    benchmark(decode, CP_C_BODY)


@pytest.mark.benchmark(group="yeti-decode")
def test_yeti_decode_power_meter_frame(benchmark):
    body = MCU.encode("power_meter", vrmsL1=230.1, vrmsL2=230.2, vrmsL3=229.9, irmsL1=16.0, irmsL2=16.0,
                      irmsL3=16.0, irmsN=0.2, wattHrL1=1000.0, wattHrL2=1000.0, wattHrL3=1000.0,
                      totalWattHr=3000.0, wattL1=3680.0, wattL2=3680.0, wattL3=3680.0, freqL1=50.0)[:-1]
    benchmark(HOST.decode, body)


@pytest.mark.benchmark(group="yeti-decode")
def test_yeti_feed_frame(benchmark):
    board = YetiBoard("/nonexistent/bench", supervise=False, fail_safe=False)
    board.attach(RecordingListener())
    frames = [MCU.encode("cp_state", 1), MCU.encode("cp_state", 2)]
    state = [0]

    def feed_one():
        state[0] ^= 1
        board.feed(frames[state[0]])

    benchmark(feed_one)


def _read_until(fd, stream, want, timeout_s=1.0):
    deadline = time.perf_counter() + timeout_s
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"no {want} within {timeout_s} s")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            for msg in stream.feed(os.read(fd, 4096)):
                if msg == want:
                    return time.perf_counter()


@pytest.mark.benchmark(group="yeti-latency")
def test_yeti_pty_latency(benchmark):
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    stream = MCU.stream()  # the MCU side decodes what the host writes
    board = YetiBoard(path, supervise=False, reset_timeout_s=0.2, caps_timeout_s=0.0, rt_priority=RT_PRIORITY)
    board.attach(RecordingListener())
    latencies = []
    rt = _realtime().__enter__()
    try:
        board.start()
        os.write(master, MCU.encode("keep_alive", hwcap_max_current=32.0, hwcap_min_current=6.0))
        board.pwm_on(26.7)
        board.allow_power_on(PowerOnOff(allow_power_on=True, reason=PowerOnOffReason.FullPowerCharging))
        cp_b, cp_c = MCU.encode("cp_state", 1), MCU.encode("cp_state", 2)
        os.write(master, MCU.encode("relais_state", True))

        def charging():  # back to C: the standing permission comes back
            os.write(master, cp_c)
            _read_until(master, stream, ("allow_power_on", True))
            return (), {}

        def unplug_to_b():
            t0 = time.perf_counter()
            os.write(master, cp_b)
            latencies.append(_read_until(master, stream, ("allow_power_on", False)) - t0)

        os.write(master, cp_b)  # start from B so that the first setup sees a C edge
        _read_until(master, stream, ("allow_power_on", False))
        benchmark.pedantic(unplug_to_b, setup=charging, rounds=1000, warmup_rounds=5)
    finally:
        rt.__exit__()
        board.close()
        os.close(master)
        os.close(slave)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    benchmark.extra_info["p99_ms"] = round(p99 * 1000.0, 4)
    benchmark.extra_info["p50_ms"] = round(latencies[len(latencies) // 2] * 1000.0, 4)
    benchmark.extra_info["max_ms"] = round(latencies[-1] * 1000.0, 4)
    benchmark.extra_info["realtime"] = bool(board.realtime and rt.ok)
    assert board.stats.dropped == 0


@pytest.mark.benchmark(group="yeti-latency")
def test_yeti_pty_latency_manager(benchmark):
    """Same path with the driver's fail-safe off: the EvseManager (ticked by its Runner) decides."""
    from evsefast.manager import EvseManager
    from evsefast.runner import Runner
    from evsefast.testing import enforced_limits, token, validation

    master, slave = os.openpty()
    tty.setraw(slave)
    stream = MCU.stream()
    board = YetiBoard(os.ttyname(slave), supervise=False, fail_safe=False, reset_timeout_s=0.2, caps_timeout_s=0.0)
    mgr = EvseManager(None, board=board)
    runner = Runner(mgr)
    latencies = []
    try:
        runner.start()
        os.write(master, MCU.encode("keep_alive", hwcap_max_current=32.0, hwcap_min_current=6.0,
                                    hwcap_max_phase_count=3, hwcap_min_phase_count=1))
        mgr.enforce_limits(enforced_limits(16.0))
        cp_b, cp_c = MCU.encode("cp_state", 1), MCU.encode("cp_state", 2)
        os.write(master, cp_b)
        time.sleep(0.05)
        mgr.authorize_response(token(), validation())

        def charging():
            os.write(master, cp_c)
            _read_until(master, stream, ("allow_power_on", True), timeout_s=5.0)
            os.write(master, MCU.encode("relais_state", True))
            time.sleep(0.002)
            return (), {}

        def unplug_to_b():
            t0 = time.perf_counter()
            os.write(master, cp_b)
            latencies.append(_read_until(master, stream, ("allow_power_on", False)) - t0)
            os.write(master, MCU.encode("relais_state", False))

        benchmark.pedantic(unplug_to_b, setup=charging, rounds=500, warmup_rounds=3)
    finally:
        runner.stop()
        mgr.close()
        os.close(master)
        os.close(slave)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    benchmark.extra_info["p99_ms"] = round(p99 * 1000.0, 4)
    benchmark.extra_info["p50_ms"] = round(latencies[len(latencies) // 2] * 1000.0, 4)
    benchmark.extra_info["max_ms"] = round(latencies[-1] * 1000.0, 4)
