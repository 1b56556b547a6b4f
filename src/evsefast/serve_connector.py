"""``evsefast serve``: one connector -- board, store, ``EvseManager``, EVerest module and consumer API.

Everything touching the manager runs on the connector's driver thread.  The connector logs one
line per session event and tells the site balancer when it starts or stops wanting power
(``demanding``/``since``, read by the balancer thread).
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Optional, Tuple

from .everest.calls import Caller
from .everest.link import MqttLink
from .everest.run import EverestConnector
from .everest.settings import ModuleIds
from .serve_balancer import phases_of
from .serve_boards import make_board
from .serve_config import ConnectorSection

__all__ = ["DEMAND_STATES", "ServeConnector", "event_label"]

log = logging.getLogger("evsefast.serve")

#: core states in which a connector's session wants power (the balancer serves these)
DEMAND_STATES = frozenset(("PrepareCharging", "Charging", "ChargingPausedEV", "ChargingPausedEVSE", "SwitchPhases",
                           "T_step_EF", "T_step_X1"))


def event_label(ev) -> str:
    """``SessionCancelled{Reboot}``, ``Error{OverCurrent}``, ``ReservationStart{5}`` or the event name."""
    name = ev.event.value
    if ev.error is not None:
        return f"{name}{{{ev.error.value}}}"
    if ev.session_cancelled is not None and ev.session_cancelled.reason is not None:
        return f"{name}{{{ev.session_cancelled.reason.value}}}"
    if ev.reservation_start is not None:
        return f"{name}{{{ev.reservation_start.reservation_id}}}"
    if ev.reservation_end is not None:
        return f"{name}{{{ev.reservation_end.reason.value}}}"
    return name


class ServeConnector:
    """One connector of a site; see the module docstring."""

    def __init__(self, index: int, section: ConnectorSection, link: MqttLink, wire, prefix: str, *,
                 external_prefix: str = "", on_change: Optional[Callable[[], None]] = None,
                 on_external_limits: Optional[Callable[[str], None]] = None,
                 limits_refusal: Optional[Callable[[], Optional[str]]] = None) -> None:
        from .manager import EvseManager

        self.index = index
        self.section = section
        self.module_id = section.module_id
        self.caller = Caller(link, wire, prefix, section.module_id)
        self.setup = setup = make_board(section, link, self.caller, wire, prefix)
        cfg = dict(section.manager)
        cfg.setdefault("module_id", section.module_id)
        cfg.setdefault("connector_id", index + 1)
        if section.board == "sim":
            cfg.setdefault("has_ventilation", setup.hardware.has_ventilation)
        self.manager = mgr = EvseManager(cfg, board=setup.board, powermeters=setup.meters,
                                         store=section.store or None, clock=setup.clock)
        api_id = section.module_id if section.api_module_id is None else section.api_module_id
        ids = ModuleIds(module_id=section.module_id, module_name=section.module_name, evse_impl=section.evse_impl,
                        energy_impl=section.energy_impl, api_module_id=api_id,
                        evse=section.evse or mgr.config.connector_id)
        external = section.board == "everest" or bool(section.powermeters)
        wait = section.wait_global_ready == "yes" or (section.wait_global_ready == "auto" and external)
        self.conn = EverestConnector(mgr, link, ids, step=setup.step, time_ms=setup.time_ms,
                                     step_ms=section.sim.step_ms, wait_global_ready=wait,
                                     heartbeat_ms=section.heartbeat_ms, comm_check_s=section.comm_check_s,
                                     on_external_limits=on_external_limits, limits_refusal=limits_refusal,
                                     inline_cmds=section.inline_cmds)
        self.driver = self.conn.driver
        self.module = self.conn.module
        self.api = self.conn.api
        if hasattr(setup.board, "executor"):
            setup.board.executor = self.driver.submit
        if setup.step is not None:
            setup.board.on_event = lambda t_ms, ev: self.driver.tick()
        self.carsim = None
        if setup.car is not None:
            from .serve_carsim import CarSim

            self.carsim = CarSim(link, self.driver, setup.hardware, setup.car, connector_id=mgr.config.connector_id,
                                 module_id=self.module_id, external_prefix=external_prefix)
        self.on_change = on_change
        self.demanding = False
        self.since = 0.0
        mgr.subscribe("session_event", self._log_event)
        self.driver.add_hook(self._watch)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe and start the driver thread."""
        self.conn.start()

    def run(self, fn: Callable, timeout_s: float = 10.0):
        """Run ``fn()`` on the connector's driver thread; its result."""
        return self.driver.run_sync(fn, timeout_s)

    # -- observation (driver thread) -------------------------------------------------------------
    def _log_event(self, ev) -> None:
        uuid = f" session {ev.uuid}" if ev.uuid else ""
        log.info("%s: %s%s", self.module_id, event_label(ev), uuid)

    def _watch(self, now_ms: float) -> None:
        demanding = self.manager.state in DEMAND_STATES
        if demanding != self.demanding:
            self.demanding = demanding
            self.since = time.monotonic()
            if self.on_change is not None:
                self.on_change()

    # -- what the balancer reads (any thread) ----------------------------------------------------
    def grid_phases(self) -> Tuple[int, ...]:
        """The grid phases this connector loads now (its wiring, as many as are active)."""
        limits = self.manager.get("limits")
        caps = self.manager.get("hw_capabilities")
        active = 3
        if limits is not None:
            active = limits.nr_of_phases_available
        elif caps is not None:
            active = caps.max_phase_count_import
        return phases_of(self.section.phases, active)

    def max_current_A(self) -> float:
        """The most this connector can use: its configured maximum, else the board's capabilities."""
        if self.section.max_current_A is not None:
            return float(self.section.max_current_A)
        caps = self.manager.get("hw_capabilities")
        return float(caps.max_current_A_import) if caps is not None else 32.0

    def close(self) -> None:
        """Stop the driver and close the manager (board, store)."""
        self.conn.stop()
        self.manager.close()
