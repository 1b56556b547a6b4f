"""Simulation: CP waveform physics, simulated board and power meter, the EVerest car command language.

* ``SimHardware`` (``sim.hardware``): EVSE-side physics (CP through the pilot kernel, relays, PP, lock,
  meter, faults) with an attached car; reused by the virtual Yeti MCU.
* ``SimCar`` / ``make_car`` (``sim.car``): EVerest's EvManager command language and car behaviours.
* ``PROFILES`` (``sim.profiles``): the default session and the cars users report.
* ``SimBoard`` (``sim.board``): ``BoardSupport`` + ``PowerMeter`` over ``SimHardware``.
* ``SafetyChecker`` (``sim.safety``): the invariants checked while a simulation runs.
* ``run_session`` / ``SimOptions`` (``sim.runner``): ``evsefast simulate`` as a function.
* ``VirtualYetiMcu`` (``sim.virtual_yeti``, not imported here: it needs the Yeti codec): the MCU side
  of the Yeti serial protocol on a pty with ``SimHardware`` behind it (``evsefast virtual-board``);
  ``sim.yeti_lockstep`` runs it in lockstep with a host in the same process, ``sim.yeti_session`` is
  ``evsefast simulate --board yeti``. The simulator may use the drivers; drivers never import it.
"""
from .board import SimBoard
from .car import CarScriptError, SimCar, make_car
from .hardware import SimHardware
from .profiles import PROFILES, Profile
from .runner import SessionResult, SimOptions, run_session
from .safety import SafetyChecker, Violation

__all__ = [
    "CarScriptError", "PROFILES", "Profile", "SafetyChecker", "SessionResult", "SimBoard", "SimCar", "SimHardware",
    "SimOptions", "Violation", "make_car", "run_session",
]
