"""A simulated charging station for ``evsefast chargepoint``: connectors, cars, an RFID driver, a clock.

Each connector is a :class:`~evsefast.sim.board.SimBoard` (CP waveform physics through the pilot
kernel, relays, meter) with a :class:`~evsefast.sim.car.SimCar` and an ``EvseManager``.  The meter's
register is monotonic and, with a state folder, survives restarts.  The car's schedule comes from a seed: a pause, plug in, charge for a while (16 or 32 A, 1 or 3 phases), unplug,
again and again.  A driver presents the RFID card ``auth_delay_s`` after each plug-in (unless the
station waits for remote starts).  Simulated time runs ``speed`` times faster than real time; the
charge point's timers (heartbeat, sampling) follow it.
"""
from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

from ..clock import ManualClock
from ..sim.meter import SimMeter

__all__ = ["RegisterMeter", "SimClock", "Station", "StationOptions", "car_schedule"]


class RegisterMeter(SimMeter):
    """A simulated billing meter whose register survives restarts (a real meter keeps it): it starts
    at the value saved in ``path`` and saves the register with every sample it publishes."""

    def __init__(self, *, path: Optional[str] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.base_Wh = 0.0
        if path is not None and os.path.exists(path):
            try:
                with open(path) as f:
                    self.base_Wh = float(f.read().strip() or 0.0)
            except (OSError, ValueError):
                self.base_Wh = 0.0

    @property
    def import_Wh(self) -> float:
        """The register: the saved start value plus what was imported since."""
        return self.base_Wh + super().import_Wh

    def sample(self, wall_s: float):
        """The reading; the register is saved first (write and rename: never half a file)."""
        if self.path is not None:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(repr(self.import_Wh))
            os.replace(tmp, self.path)
        return super().sample(wall_s)


class SimClock(ManualClock):
    """A manual clock moved by the station's driver, ``factor`` times faster than real time."""

    def __init__(self, factor: float = 1.0, wall_start_s: Optional[float] = None) -> None:
        super().__init__(0.0, time.time() if wall_start_s is None else wall_start_s)
        self.factor = float(factor)


@dataclass
class StationOptions:
    """What to simulate (see ``evsefast chargepoint --help``)."""

    connectors: int = 1
    seed: int = 0
    speed: float = 1.0
    id_tag: Optional[str] = "EVSEFAST0001"  # None: no RFID, wait for remote starts
    auth_delay_s: float = 2.0
    first_plugin_s: float = 5.0
    gap_s: tuple = (30.0, 300.0)
    charge_s: tuple = (120.0, 1200.0)
    sample_rate_Hz: Optional[int] = None
    state_dir: Optional[str] = None


def car_schedule(rng: random.Random, opt: StationOptions, sessions: int = 10, first: bool = True) -> str:
    """An EVerest car script of ``sessions`` sessions with random gaps, durations, currents and phases
    (the station appends the next batch when a car has done them all)."""
    parts = [f"sleep {opt.first_plugin_s:g}"] if first else []
    for _ in range(sessions):
        amps = rng.choice((16, 32))
        phases = rng.choice((1, 3, 3))
        charge = round(rng.uniform(*opt.charge_s))
        gap = round(rng.uniform(*opt.gap_s))
        parts.append(f"iec_wait_pwr_ready;sleep 1;draw_power_regulated {amps},{phases};sleep {charge};unplug;"
                     f"sleep {gap}")
    return ";".join(parts)


class Station:
    """The managers, boards and cars of one simulated station on one :class:`SimClock`."""

    def __init__(self, opt: StationOptions, index: int = 0) -> None:
        from .. import _impl
        from ..manager import EvseManager
        from ..sim.board import SimBoard
        from ..sim.car import SimCar
        from ..sim.hardware import SimHardware

        self.opt = opt
        self.clock = SimClock(opt.speed)
        self.boards: List = []
        self.managers: List = []
        self.cp = None
        rate = opt.sample_rate_Hz or (100_000 if _impl.ACTIVE.compiled else 10_000)
        self.index = index
        self.cars: List = []
        self._rngs: List[random.Random] = []
        for k in range(opt.connectors):
            rng = random.Random(f"{opt.seed}:{index}:{k}")
            car = SimCar(car_schedule(rng, opt), name=f"car{k + 1}")
            self.cars.append(car)
            self._rngs.append(rng)
            # a billing meter's register never restarts (OCPP: monotonic, not re-based per session)
            hw = SimHardware(car, seed=rng.randrange(2 ** 31), sample_rate_Hz=rate, reset_meter_on_plugin=False)
            meter_file = None if opt.state_dir is None else os.path.join(opt.state_dir, f"meter-{k + 1}.txt")
            hw.meter = RegisterMeter(path=meter_file, noise=hw.meter.noise, rng=random.Random(hw.seed + 1),
                                     round_Wh=hw.meter.round_Wh)
            board = SimBoard(hw, clock=self.clock)
            store = None
            if opt.state_dir is not None:
                store = f"{opt.state_dir}/manager-{k + 1}.sqlite"
            mgr = EvseManager({"connector_id": k + 1}, board=board, powermeters=(board,), clock=self.clock,
                              store=store)
            board.on_event = lambda _t, _ev, m=mgr: m.tick()
            self.boards.append(board)
            self.managers.append(mgr)
        self._auth_at: List[Optional[float]] = [None] * opt.connectors
        self.on_token: Optional[Callable[[int], None]] = None  # called with the connector when the card is shown
        for k, mgr in enumerate(self.managers):
            mgr.subscribe("session_event", self._on_event(k))

    def _on_event(self, k: int):
        def cb(ev) -> None:
            if ev.event.value == "AuthRequired" and self.opt.id_tag:
                self._auth_at[k] = self.clock.monotonic_ms() + self.opt.auth_delay_s * 1000.0
        return cb

    def start(self) -> None:
        """Start the managers (after the charge point subscribed to them)."""
        for mgr in self.managers:
            mgr.start()

    def step_to(self, target_ms: float) -> None:
        """Advance the hardware and managers towards simulated time ``target_ms``, ticking at every
        deadline; returns early when a driver presents a card (the caller yields, then calls again)."""
        clock = self.clock
        while clock.monotonic_ms() < target_ms:
            nxt = target_ms
            for d in [m.next_deadline_ms() for m in self.managers] + self._auth_at:
                if d is not None and clock.monotonic_ms() < d < nxt:
                    nxt = d
            nxt = min(nxt, clock.monotonic_ms() + 1000.0)
            for board in self.boards:
                board.advance_to(nxt)
            if nxt > clock.monotonic_ms():
                clock.set_ms(nxt)
            for mgr in self.managers:
                mgr.tick()
            for car, rng in zip(self.cars, self._rngs):
                if car.finished:  # the next sessions, keeping the car's state
                    car.modify(car_schedule(rng, self.opt, first=False))
            due = self.due_tokens()
            for cid in due:
                if self.on_token is not None:
                    self.on_token(cid)
            if due:
                return  # let the authorization happen (a CSMS round trip) before time moves on

    def due_tokens(self) -> List[int]:
        """Connectors (1-based) whose driver presents the card now."""
        now = self.clock.monotonic_ms()
        out = []
        for k, at in enumerate(self._auth_at):
            if at is not None and now >= at:
                self._auth_at[k] = None
                out.append(k + 1)
        return out

    async def drive(self, step_s: float = 0.1) -> None:
        """Run in (scaled) real time until cancelled; presents RFID cards through ``self.cp``."""
        loop = asyncio.get_running_loop()
        if self.on_token is None:
            self.on_token = lambda cid: self.cp is not None and loop.create_task(
                self.cp.present_token(cid, self.opt.id_tag))
        # stations start their steps spread over one step: 200 of them do not all wake at once
        await asyncio.sleep(step_s * random.Random(self.index).random())
        t0 = loop.time()
        while True:
            target = (loop.time() - t0) * self.opt.speed * 1000.0
            self.step_to(target)
            await asyncio.sleep(step_s)

    def close(self) -> None:
        """Close the managers (and their stores)."""
        for mgr in self.managers:
            mgr.close()
