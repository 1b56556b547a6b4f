"""``EverestModule``: an ``EvseManager`` as an EVerest module over the framework's MQTT protocol.

Provides ``evse`` (evse_manager: every cmd answered with a ``CmdResult``, every var published) and
``energy_grid`` (energy: ``enforce_limits``; ``energy_flow_request`` every second and on the priority
transitions), in the current or legacy format (wire_protocols.md §1.2-§1.5).  Lifecycle: subscribe,
then metadata and ``ModuleReady``; with ``wait_global_ready`` the manager starts only after the
manager's ``GlobalReady`` (a module that calls others must not call before it).  State vars are
re-published on ``GlobalReady`` and after every reconnect.

Threads: cmds arrive on paho's network thread and run on the connector's ``ManagerDriver`` thread;
vars, errors and energy requests are published from the driver thread.  While the broker is away,
session events and error raises/clears are kept (bounded) and sent, in order, after the reconnect;
state vars are simply re-published.  The charger itself never waits for the broker.
"""
from __future__ import annotations

import logging
import math
import threading
from collections import deque
from typing import Callable, Deque, Dict, Optional, Tuple

import msgspec

from ..codec import encode_json
from ..types.interface import VARS
from .driver import ManagerDriver
from .energy import EnergyRequester, energy_flow_request
from .error_reporter import ErrorReporter
from .handlers import ENERGY, EVSE, execute
from .link import MqttLink
from .ratelog import RateLimitedLog
from .settings import ModuleIds
from .wire import HANDLER_EXCEPTION, BadCall, Call

__all__ = ["EverestModule", "EVENT_VARS"]

log = logging.getLogger("evsefast.everest")

#: vars that are events, never re-published (the others are state)
EVENT_VARS = frozenset(("session_event", "hlc_session_failed"))
_BACKLOG = 1000


class _EventName(msgspec.Struct):
    event: str = ""


class _Uuid(msgspec.Struct):
    uuid: str = ""


_EVENT = msgspec.json.Decoder(_EventName)
_UUID = msgspec.json.Decoder(_Uuid)


class EverestModule:
    """One connector's manager as an EVerest module; see the module docstring."""

    def __init__(self, manager, link: MqttLink, driver: ManagerDriver, wire, prefix: str, ids: ModuleIds, *,
                 wait_global_ready: bool = False,
                 on_external_limits: Optional[Callable[[str], None]] = None,
                 limits_refusal: Optional[Callable[[], Optional[str]]] = None) -> None:
        self.manager = manager
        self.link = link
        self.driver = driver
        self.wire = wire
        self.prefix = prefix
        self.ids = ids
        self.module_id = ids.module_id
        self.base_evse = f"{prefix}modules/{ids.module_id}/impl/{ids.evse_impl}"
        self.base_energy = f"{prefix}modules/{ids.module_id}/impl/{ids.energy_impl}"
        self.wait_global_ready = wait_global_ready
        self.on_external_limits = on_external_limits
        self.limits_refusal = limits_refusal
        self.errors = ErrorReporter(ids.module_id, ids.evse_impl, evse=ids.evse, connector=ids.connector,
                                    wall_s=manager.clock.wall_s)
        self.energy = EnergyRequester()
        self.global_ready = threading.Event()
        self._backlog: Deque[Tuple[str, bytes]] = deque(maxlen=_BACKLOG)
        self._lock = threading.RLock()
        self._bad = RateLimitedLog(log, f"module {ids.module_id}")
        self.cmds_handled = 0
        #: run cmds on paho's network thread (one thread hop less) -- only for boards and meters that
        #: take commands from any thread and never wait for MQTT (see ``EverestConnector``)
        self.inline_cmds = False
        self.bad_calls = 0
        self._attached = False

    # -- wiring ----------------------------------------------------------------------------------
    def attach(self) -> None:
        """Subscribe cmds, GlobalReady and the manager's vars; hook into the driver. Call once, before
        ``driver.start``."""
        if self._attached:
            return
        self._attached = True
        w = self.wire
        self.link.subscribe(w.cmd_filter(self.base_evse), self._cmd_handler(self.base_evse, EVSE))
        self.link.subscribe(w.cmd_filter(self.base_energy), self._cmd_handler(self.base_energy, ENERGY))
        self.link.subscribe(f"{self.prefix}ready", self._on_global_ready)
        self.link.on_connect(self._on_connect)
        for name in VARS:
            self.manager.subscribe(name, self._var_publisher(name), encoding="json")
        self.driver.add_hook(self._after_pass)
        self.driver.add_deadline(self._energy_deadline)
        if self.link.connected:
            self._on_connect()

    def _energy_deadline(self) -> float:
        return self.energy.deadline_ms() if self.driver.manager_started else math.inf

    def provides(self) -> Dict[str, str]:
        """implementation id -> interface (the manifest's ``provides``)."""
        return {self.ids.evse_impl: EVSE, self.ids.energy_impl: ENERGY}

    # -- cmds (network thread -> driver thread) --------------------------------------------------
    def _cmd_handler(self, base: str, interface: str):
        def handle(topic: str, payload: bytes) -> None:
            call = self.wire.parse_call(topic, payload, base)
            if call is None:  # legacy: a result on the shared cmd topic
                return
            if isinstance(call, BadCall):
                self._reject(base, call)
                return
            if self.inline_cmds:
                self._execute(base, interface, call)
            else:
                self.driver.submit(lambda: self._execute(base, interface, call))
        return handle

    def _reject(self, base: str, bad: BadCall) -> None:
        self.bad_calls += 1
        if bad.id and bad.origin:
            self._bad.warning("MessageParsingError for %s from %s: %s", bad.cmd or "?", bad.origin, bad.message)
            topic, payload = self.wire.error_result(base, bad.cmd, bad.id, bad.origin, self.module_id,
                                                    "MessageParsingError", bad.message)
            self.link.publish(topic, payload)
        else:
            self._bad.warning("dropped an unparsable call without id/origin (no one to answer): %s", bad.message)

    def _execute(self, base: str, interface: str, call: Call) -> None:
        refusal = self.limits_refusal() if interface == ENERGY and self.limits_refusal is not None else None
        if refusal:
            retval, error = None, (HANDLER_EXCEPTION, f"{call.cmd}: {refusal}")
        else:
            if interface == ENERGY and self.on_external_limits is not None:
                self._note_external_limits(call)  # the hand-over happens before the limits apply
            retval, error = execute(self.manager, interface, call)
        self.cmds_handled += 1
        if error is not None:
            self.bad_calls += 1
            self._bad.warning("%s from %s: %s", error[0], call.origin, error[1])
            topic, payload = self.wire.error_result(base, call.cmd, call.id, call.origin, self.module_id, *error)
        else:
            topic, payload = self.wire.result(base, call.cmd, call.id, call.origin, self.module_id, retval)
        self.link.publish(topic, payload)

    def _note_external_limits(self, call: Call) -> None:
        try:
            target = _UUID.decode(call.args["value"]).uuid
        except (msgspec.DecodeError, KeyError):
            return
        if target == self.module_id:
            self.on_external_limits(self.module_id)

    # -- vars, errors, energy (driver thread) ----------------------------------------------------
    def _var_publisher(self, name: str):
        base = self.base_evse
        var = self.wire.var
        is_event = name in EVENT_VARS

        def publish(value_json: bytes) -> None:
            if name == "session_event":
                self.energy.note_event(_EVENT.decode(value_json).event)
            topic, payload = var(base, name, value_json)
            self._send(topic, payload, keep=is_event)
        return publish

    def _send(self, topic: str, payload: bytes, keep: bool) -> None:
        """Publish; events and error changes are kept while the broker is away (sent in order later)."""
        with self._lock:
            if keep and self._backlog:
                self._backlog.append((topic, payload))
                return
            if not self.link.publish(topic, payload) and keep:
                self._backlog.append((topic, payload))

    def _after_pass(self, now_ms: float) -> None:
        mgr = self.manager
        for err in self.errors.update(mgr.active_errors):
            log.info("module %s: %s %s (%s)", self.module_id,
                     "raised" if err.state == "Active" else "cleared", err.type, err.message)
            topic, payload = self.wire.error(self.base_evse, err)
            self._send(topic, payload, keep=True)
        self.energy.note_state(mgr.state)
        if self.driver.manager_started:
            priority = self.energy.due(now_ms)
            if priority is not None:
                self.publish_energy_request(priority)

    def publish_energy_request(self, priority: bool = False) -> bool:
        """Publish ``energy_flow_request`` now (False until the board reported its capabilities)."""
        mgr = self.manager
        caps = mgr.get("hw_capabilities")
        if caps is None or not mgr.get("ready"):
            return False
        limits = mgr.get("limits")
        phases = limits.nr_of_phases_available if limits is not None else caps.max_phase_count_import
        req = energy_flow_request(self.module_id, mgr.state, caps, active_phases=phases, meter=mgr.get("powermeter"),
                                  request_zero_power_in_idle=mgr.config.request_zero_power_in_idle,
                                  priority=priority, wall_s=mgr.clock.wall_s())
        topic, payload = self.wire.var(self.base_energy, "energy_flow_request", encode_json(req))
        return self.link.publish(topic, payload)

    def republish_state(self) -> None:
        """Send what the broker side may have missed: kept events and errors in order, then the latest
        value of every state var, then an energy request (driver thread)."""
        with self._lock:
            while self._backlog:
                topic, payload = self._backlog[0]
                if not self.link.publish(topic, payload):
                    return  # lost the connection again: keep the rest
                self._backlog.popleft()
        mgr = self.manager
        for name in VARS:
            if name in EVENT_VARS:
                continue
            value = mgr.get(name, "json")
            if value is not None:
                topic, payload = self.wire.var(self.base_evse, name, value)
                self.link.publish(topic, payload)
        if self.driver.manager_started:
            self.publish_energy_request(False)

    # -- lifecycle (network thread) --------------------------------------------------------------
    def _on_connect(self) -> None:
        w = self.wire
        self.link.publish(*w.metadata(self.prefix, self.module_id, self.ids.module_name, self.provides()))
        self.link.publish(*w.module_ready(self.prefix, self.module_id))
        self.driver.submit(self.republish_state)

    def _on_global_ready(self, topic: str, payload: bytes) -> None:
        if not self.wire.is_global_ready(payload):
            return
        first = not self.global_ready.is_set()
        self.global_ready.set()
        if first:
            log.info("module %s: GlobalReady received", self.module_id)
        if self.wait_global_ready:
            self.driver.start_manager()
        self.driver.submit(self.republish_state)
