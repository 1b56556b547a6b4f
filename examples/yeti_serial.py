"""A charger on a Yeti-family board over a serial port, driven from asyncio.

    python examples/yeti_serial.py /dev/ttyACM0               # a real board, in real time
    evsefast virtual-board --speed 20                          # or a virtual one: prints its pty
    python examples/yeti_serial.py /dev/pts/7 --speed 20       # the same --speed on both sides

It plays the RFID reader (accepts the first token) and the energy manager (16 A, refreshed every
30 s), prints the session events and ends at the first SessionFinished (or after ``--timeout`` s).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

from evsefast import EvseManager
from evsefast.board.yeti import YetiBoard
from evsefast.clock import ScaledClock
from evsefast.runner import Runner
from evsefast.testing import enforced_limits, token, validation

LIMIT_A = 16.0
LIMIT_REFRESH_S = 30.0  # the limits are valid for 60 s; the energy manager renews them in time


async def energy_manager(mgr: EvseManager, speed: float) -> None:
    while True:
        mgr.enforce_limits(enforced_limits(LIMIT_A, valid_for=60))
        await asyncio.sleep(LIMIT_REFRESH_S / speed)


async def charge(port: str, speed: float, timeout_s: float) -> float:
    clock = ScaledClock(speed)  # a virtual board at --speed N runs N times faster than the wall clock
    board = YetiBoard(port, clock=clock, link_timeout_ms=5000.0 * speed)
    with EvseManager({"connector_id": 1}, board=board, clock=clock) as mgr:
        events = mgr.events()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, mgr.start)  # opens the port, resets the MCU: blocking, off the loop

        async def session() -> float:
            started_Wh = 0.0
            async for ev in events:
                print(f"{clock.monotonic_ms() / 1000:7.1f} s  {ev.event.value}", flush=True)
                if ev.event.value == "AuthRequired":
                    mgr.authorize_response(token("RFID1"), validation("Accepted"))
                elif ev.session_started is not None:
                    started_Wh = ev.session_started.energy_Wh_import
                elif ev.session_finished is not None:
                    return ev.session_finished.energy_Wh_import - started_Wh
            return 0.0

        async with Runner(mgr):
            await mgr.wait_ready(timeout_s=10.0)     # the board's first power-meter value is in
            limits = asyncio.ensure_future(energy_manager(mgr, speed))
            try:
                charged_Wh = await asyncio.wait_for(session(), timeout_s)
            finally:
                limits.cancel()
    print(f"charged {charged_Wh:.1f} Wh")
    return charged_Wh


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", help="serial port of the board, e.g. /dev/ttyACM0 or a virtual board's pty")
    parser.add_argument("--speed", type=float, default=1.0, help="the virtual board's --speed (default 1)")
    parser.add_argument("--timeout", type=float, default=7200.0,
                        help="give up when no session has finished after this many seconds (default 7200)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(charge(args.port, args.speed, args.timeout))
    except asyncio.TimeoutError:
        print(f"no session finished within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
