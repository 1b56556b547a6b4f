"""``evsefast serve``: the board (and meters) of one connector, from its config section.

* ``sim``: ``SimHardware`` + ``SimCar`` behind a ``SimBoard`` (board and billing meter), advanced in
  real time by the connector's driver thread (``step``), on a ``ManualClock`` that follows it, so the
  manager sees every simulated event at its own time;
* ``yeti``: the Yeti-family serial driver (its MCU meters too);
* ``everest``: an EVerest BSP module over MQTT (``EverestBoard``).

Any connector may add EVerest powermeter modules as billing meters (``powermeters``).
"""
from __future__ import annotations

import time
from typing import Any, Callable, List, NamedTuple, Optional

from .clock import ManualClock
from .everest.board import EverestBoard
from .everest.calls import Caller
from .everest.link import MqttLink
from .everest.powermeter import EverestPowerMeter
from .serve_config import ConnectorSection

__all__ = ["BoardSetup", "make_board"]


class BoardSetup(NamedTuple):
    """What a connector's manager and driver need from its board."""

    board: Any
    meters: List[Any]
    clock: Any  # the manager's clock (None: the real clock)
    step: Optional[Callable[[float], None]]  # advance a simulated board to a time
    time_ms: Optional[Callable[[], float]]  # the manager's time base read in real time
    hardware: Any = None  # SimHardware for sim boards
    car: Any = None


def _sim(section: ConnectorSection) -> BoardSetup:
    from .sim.board import SimBoard
    from .sim.car import SimCar
    from .sim.hardware import SimHardware

    s = section.sim
    wall0 = time.time()
    car = SimCar(s.car)  # a bad script is a config error, raised here
    hw = SimHardware(car, seed=s.seed, sample_rate_Hz=s.sample_rate_Hz, connector=s.connector,
                     meter_interval_ms=s.meter_interval_ms, telemetry_interval_ms=s.telemetry_interval_ms,
                     wall_start_s=wall0)
    clock = ManualClock(0.0, wall_start_s=wall0)
    board = SimBoard(hw, clock=clock, max_current_A=s.max_current_A, max_phases=3)
    t0 = time.monotonic()

    def elapsed_ms() -> float:
        return (time.monotonic() - t0) * 1000.0
    return BoardSetup(board, [board], clock, board.advance_to, elapsed_ms, hw, car)


def make_board(section: ConnectorSection, link: MqttLink, caller: Caller, wire, prefix: str) -> BoardSetup:
    """The board, meters and time base of one connector."""
    meters: List[Any] = [EverestPowerMeter(link, caller, wire, prefix, m.module_id, m.impl, timeout_s=m.timeout_s)
                         for m in section.powermeters]
    if section.board == "sim":
        setup = _sim(section)
        return setup._replace(meters=setup.meters + meters)
    if section.board == "yeti":
        from .board.yeti.driver import YetiBoard

        board = YetiBoard(section.port, section.baudrate, profile=section.yeti_profile)
        return BoardSetup(board, meters, None, None, None)
    board = EverestBoard(link, caller, wire, prefix, section.bsp_module_id, section.bsp_impl,
                         lock_impl=section.lock_impl, rcd_impl=section.rcd_impl)
    return BoardSetup(board, meters, None, None, None)
