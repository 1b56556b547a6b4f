"""A charger on the real clock under asyncio: ``Runner`` ticks the manager on the event loop while
``async for ev in mgr.events()`` consumes the session events and plays the RFID reader.

The board is a stand-in (``FakeBoard``) wired to behave like a car and a contactor, and the meter
adds 11 kW while the contactor is closed; the session takes about two seconds. Run it with
``python examples/asyncio_runner.py``.
"""
from __future__ import annotations

import asyncio

from evsefast import EvseManager
from evsefast.clock import Clock
from evsefast.runner import Runner
from evsefast.testing import FakeBoard, FakePowerMeter, enforced_limits, token, validation
from evsefast.types.board import PowerOnOff

METER_PERIOD_S = 0.05


class CarAndContactor(FakeBoard):
    """The car answers the PWM with state C; the contactor follows ``allow_power_on`` 20 ms later."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.contactor_closed = False
        self.wants_power = False

    def pwm_on(self, value: float) -> None:
        super().pwm_on(value)
        if not self.wants_power:
            self.wants_power = True
            self.loop.call_later(0.05, self.emit, "C")

    def allow_power_on(self, value: PowerOnOff) -> None:
        super().allow_power_on(value)
        if value.allow_power_on != self.contactor_closed:
            self.contactor_closed = value.allow_power_on
            self.loop.call_later(0.02, self.emit, "PowerOn" if value.allow_power_on else "PowerOff")

    async def unplug_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.wants_power = False
        self.emit("B")   # the car stops drawing ...
        await asyncio.sleep(0.2)
        self.emit("A")   # ... and is unplugged


async def meter(board: CarAndContactor, power_meter: FakePowerMeter) -> None:
    """A meter that publishes every 50 ms and counts 11 kW while the contactor is closed."""
    energy_Wh = 0.0
    while True:
        if board.contactor_closed:
            energy_Wh += 11_000 * METER_PERIOD_S / 3600
        power_meter.publish(energy_Wh)
        await asyncio.sleep(METER_PERIOD_S)


async def main() -> float:
    loop = asyncio.get_running_loop()
    board, power_meter = CarAndContactor(loop), FakePowerMeter()
    with EvseManager({"connector_id": 1}, board=board, powermeters=[power_meter], clock=Clock()) as mgr:
        events = mgr.events()                     # subscribed now: nothing is missed
        metering = asyncio.ensure_future(meter(board, power_meter))
        async with Runner(mgr):                   # starts the manager, ticks it on this loop
            await mgr.wait_ready(timeout_s=5.0)   # the first meter value is in
            mgr.enforce_limits(enforced_limits(16.0))
            board.emit("B")                       # the car plugs in
            t0 = loop.time()
            started_Wh = charged_Wh = 0.0
            async for ev in events:
                print(f"{loop.time() - t0:5.2f} s  {ev.event.value}")
                if ev.event.value == "AuthRequired":
                    mgr.authorize_response(token("RFID1"), validation("Accepted"))  # a cmd, from the loop
                elif ev.session_started is not None:
                    started_Wh = ev.session_started.energy_Wh_import
                elif ev.event.value == "ChargingStarted":
                    asyncio.ensure_future(board.unplug_after(1.0))
                elif ev.session_finished is not None:
                    charged_Wh = ev.session_finished.energy_Wh_import - started_Wh
                    break
        metering.cancel()
    print(f"charged {charged_Wh:.1f} Wh")
    return charged_Wh


if __name__ == "__main__":
    asyncio.run(main())
