"""OCPP charge point benches (budgets: benches/budgets/ocpp.toml).

* ``test_ocpp_remote_start_latency``: a CSMS built with the ``ocpp`` package sends
  RemoteStartTransaction to a charge point whose EV is plugged in (simulated: it goes to C as soon as
  the PWM is on); the time until the CSMS has StatusNotification Charging, on localhost.  The path:
  CALL validation and routing, the answer, ``authorize_response``, the manager's PrepareCharging and
  PWM, the EV's C, Charging, StartTransaction and StatusNotification back through the outbox.
  ``extra_info``: p50_ms, p99_ms, max_ms over 100 starts.
* ``test_ocpp_fleet_200``: 200 simulated charge points (stations with IEC 61851 physics and seeded
  cars, MeterValueSampleInterval 10 s, 10x real time) against one CSMS in another process, for 12 s.
  ``extra_info``: msgs_per_s (sustained), cpu_pct_per_cp (this process: stations, managers, charge
  points), cpu_ms_per_msg, p50_ms/p99_ms of the charge points' calls, registered.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from evsefast.ocpp.stats import percentile
from evsefast.ocpp.testing import Rig
from evsefast.testing import CheckingBoard

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}


class _EagerEv(CheckingBoard):
    """An EV that asks for power (C) as soon as the PWM is on."""

    harness = None

    def pwm_on(self, value: float) -> None:
        super().pwm_on(value)
        if 0.0 < value < 100.0 and self.cp == "B" and self.harness is not None:
            asyncio.get_running_loop().call_soon(self.harness.cp, "C")


async def _remote_start_latencies(rounds: int):
    board = _EagerEv()
    rig = Rig(settings=QUIET, boards=[board])
    board.harness = h = rig.h()
    lat = []
    async with rig:
        csms = rig.csms
        for i in range(rounds):
            h.plug_in()
            await rig.settle()
            n = len(csms.statuses(1))
            t0 = time.perf_counter()
            await csms.call("CP1", "RemoteStartTransaction", id_tag=f"R{i}", connector_id=1)
            await csms.wait_for(lambda: "Charging" in csms.statuses(1)[n:], timeout=5)
            lat.append(time.perf_counter() - t0)
            h.cp("A")
            await csms.wait_for("StopTransaction", i + 1)
            await rig.settle()
    return lat


def test_ocpp_remote_start_latency(benchmark):
    result = {}

    def measure():
        result["lat"] = asyncio.run(_remote_start_latencies(100))
    benchmark.pedantic(measure, rounds=1, iterations=1)
    lat = sorted(result["lat"])
    benchmark.extra_info["p50_ms"] = round(percentile(lat, 50) * 1000.0, 3)
    benchmark.extra_info["p99_ms"] = round(percentile(lat, 99) * 1000.0, 3)
    benchmark.extra_info["max_ms"] = round(lat[-1] * 1000.0, 3)
    benchmark.extra_info["n"] = len(lat)


_CSMS = """
import asyncio, sys, time
import ocpp.messages
from evsefast.ocpp.testing import Csms
ocpp.messages.ASYNC_VALIDATION = False
async def main():
    csms = await Csms("1.6", heartbeat_interval=60).start()
    print(csms.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(time.process_time(), flush=True)
    await csms.stop()
asyncio.run(main())
"""


@pytest.mark.timeout(180)
def test_ocpp_fleet_200(benchmark):
    import ocpp.messages

    from evsefast.ocpp.fleet import FleetOptions, run_fleet
    from evsefast.ocpp.station import StationOptions

    csms = subprocess.Popen([sys.executable, "-c", _CSMS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    result = {}
    old = ocpp.messages.ASYNC_VALIDATION
    ocpp.messages.ASYNC_VALIDATION = False  # as evsefast chargepoint runs it
    try:
        port = int(csms.stdout.readline())
        station = StationOptions(speed=10.0, first_plugin_s=5.0, gap_s=(30.0, 120.0), charge_s=(120.0, 600.0))
        opt = FleetOptions(f"ws://127.0.0.1:{port}/CP", count=200, duration_s=120.0, station=station,
                           settings={"meter_sample_interval_s": 10, "heartbeat_interval_s": 60},
                           reconnect_min_s=0.5)

        def measure():
            result["r"] = asyncio.run(run_fleet(opt))
        benchmark.pedantic(measure, rounds=1, iterations=1)
    finally:
        ocpp.messages.ASYNC_VALIDATION = old
        csms.stdin.close()
        result["csms_cpu_s"] = float(csms.stdout.readline() or "nan")
        csms.wait(timeout=30)
    r = result["r"]
    s = r.stats.summary()
    msgs = r.stats.messages
    benchmark.extra_info["registered"] = r.registered
    benchmark.extra_info["messages"] = msgs
    benchmark.extra_info["msgs_per_s"] = round(msgs / r.wall_s, 1)
    benchmark.extra_info["cpu_pct_per_cp"] = round(100.0 * r.cpu_s / r.wall_s / r.count, 3)
    benchmark.extra_info["cpu_ms_per_msg"] = round(1000.0 * r.cpu_s / max(msgs, 1), 3)
    benchmark.extra_info["p50_ms"] = s["latency_ms"]["p50"]
    benchmark.extra_info["p99_ms"] = s["latency_ms"]["p99"]
    benchmark.extra_info["errors"] = sum(s["errors"].values())
    benchmark.extra_info["csms_cpu_pct"] = round(100.0 * result["csms_cpu_s"] / r.wall_s, 1)
    assert r.registered == 200
