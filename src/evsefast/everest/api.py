"""``ConsumerApi``: the ``everest_api/1/evse_manager_consumer/<id>`` tree for one manager
(wire_protocols.md §2.1, §2.3; EVerest ``modules/API/evse_manager_consumer_API``).

Bare JSON, QoS 0, not retained.  Client -> evsefast (``m2e/<op>``): ``get_evse``, ``enable_disable``,
``pause_charging``, ``resume_charging``, ``stop_transaction``, ``force_unlock`` as
``{"headers":{"replyTo":<topic>},"payload":<args>}``, answered with the bare result on ``replyTo``
(no ``replyTo``: executed, not answered); ``communication_check``.  As EVerest does, a request that
does not parse is logged and neither executed nor answered.  evsefast -> client (``e2m/<name>``):
the forwarded vars, ``session_info`` and ``heartbeat`` (an incrementing integer).
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional, Tuple

import msgspec
from msgspec import Raw

from ..codec import encode_json
from ..errors import EvseError
from .comm_check import ERROR_TYPE, INITIAL_SUB_TYPE, CommCheck
from .driver import ManagerDriver
from .envelopes import NULL, ErrorOrigin, FrameworkError
from .link import MqttLink
from .ratelog import RateLimitedLog
from .session_info import SessionInfoTracker
from .timefmt import rfc3339_ms

__all__ = ["API_CMDS", "ConsumerApi", "FORWARDED_VARS"]

log = logging.getLogger("evsefast.everest.api")

#: evse_manager vars forwarded unchanged (evse_manager_consumer_API.cpp:249-335)
FORWARDED_VARS = ("session_event", "hlc_session_failed", "ev_info", "powermeter", "powermeter_public_key_ocmf",
                  "evse_id", "hw_capabilities", "enforced_limits", "selected_protocol",
                  "supported_energy_transfer_modes")
#: request/reply operations -> payload arguments passed to the manager's cmd
API_CMDS: Dict[str, Any] = {
    "get_evse": None, "enable_disable": ("connector_id", "source"), "pause_charging": None,
    "resume_charging": None, "stop_transaction": "request", "force_unlock": "connector_id",
}


class _Headers(msgspec.Struct):
    replyTo: str = ""


class _Request(msgspec.Struct):
    headers: _Headers = msgspec.field(default_factory=_Headers)
    payload: Raw = NULL


_REQUEST = msgspec.json.Decoder(_Request)
_OBJECT = msgspec.json.Decoder(Dict[str, Raw])
_BOOL = msgspec.json.Decoder(bool)


class ConsumerApi:
    """The consumer API of ``manager`` under ``api_module_id``; see the module docstring.

    ``framework=(wire, prefix)`` also reports the communication check's ``generic/CommunicationFault``
    on the framework's error topic of ``<api_module_id>/main``, as the EVerest API module does.
    """

    def __init__(self, manager, link: MqttLink, driver: ManagerDriver, api_module_id: str, *,
                 external_prefix: str = "", heartbeat_ms: float = 1000.0, comm_check_s: float = 5.0,
                 framework: Optional[tuple] = None, wall_s: Callable[[], float] = time.time) -> None:
        self.manager = manager
        self.link = link
        self.driver = driver
        self.api_module_id = api_module_id
        self.base = f"{external_prefix}everest_api/1/evse_manager_consumer/{api_module_id}"
        self.heartbeat_ms = float(heartbeat_ms)
        self.comm = CommCheck(comm_check_s)
        self.framework = framework
        self.wall_s = wall_s
        self.session = SessionInfoTracker()
        self.heartbeat_id = 0
        self._next_heartbeat = -math.inf
        self._bad = RateLimitedLog(log, f"api {api_module_id}")
        self._fault: Optional[FrameworkError] = None
        self._backlog: Deque[Tuple[str, bytes]] = deque(maxlen=1000)
        self.requests_handled = 0

    # -- wiring ----------------------------------------------------------------------------------
    def attach(self) -> None:
        """Subscribe the requests and the manager's vars; hook the heartbeat into the driver."""
        self.link.subscribe(f"{self.base}/m2e/+", self._on_request, qos=0)
        mgr = self.manager
        for name in FORWARDED_VARS:
            mgr.subscribe(name, self._forwarder(name), encoding="json")
        mgr.subscribe("session_event", lambda ev: self._session(self.session.on_event(ev)))
        mgr.subscribe("powermeter", lambda pm: self._session(self.session.on_powermeter(pm)))
        mgr.subscribe("selected_protocol", lambda p: self._session(self.session.on_selected_protocol(p)))
        self.driver.add_hook(self._tick)
        self.driver.add_deadline(self._deadline)
        self.driver.submit(lambda: self._report(self.comm.start(self.driver.time_ms())))
        self.link.on_connect(lambda: self.driver.submit(self.republish))

    def republish(self) -> None:
        """After a (re)connect: the events kept while disconnected, the latest value of every forwarded
        state var, ``session_info`` and a raised CommunicationFault."""
        while self._backlog:
            topic, value = self._backlog[0]
            if not self.link.publish(topic, value, qos=0):
                return
            self._backlog.popleft()
        mgr = self.manager
        for name in FORWARDED_VARS:
            if name in ("session_event", "hlc_session_failed"):
                continue
            value = mgr.get(name, "json")
            if value is not None:
                self.link.publish(f"{self.base}/e2m/{name}", value, qos=0)
        self._session(True)
        if self._fault is not None and self.framework is not None:
            wire, prefix = self.framework
            self.link.publish(*wire.error(f"{prefix}modules/{self.api_module_id}/impl/main", self._fault))

    def _deadline(self) -> float:
        d = self.comm.deadline_ms()
        if self.heartbeat_ms > 0 and self._next_heartbeat < d:
            d = self._next_heartbeat
        return d

    def _tick(self, now_ms: float) -> None:
        if self.heartbeat_ms > 0 and now_ms >= self._next_heartbeat:
            self._next_heartbeat = now_ms + self.heartbeat_ms
            self.link.publish(f"{self.base}/e2m/heartbeat", b"%d" % self.heartbeat_id, qos=0)
            self.heartbeat_id += 1
        self._report(self.comm.check(now_ms))

    # -- e2m -------------------------------------------------------------------------------------
    def _forwarder(self, name: str):
        topic = f"{self.base}/e2m/{name}"
        is_event = name in ("session_event", "hlc_session_failed")

        def forward(value_json: bytes) -> None:
            # events are kept while the broker is away (sent in order after the reconnect);
            # state vars are simply re-published then
            if is_event and self._backlog:
                self._backlog.append((topic, value_json))
            elif not self.link.publish(topic, value_json, qos=0) and is_event:
                self._backlog.append((topic, value_json))
        return forward

    def _session(self, publish: bool) -> None:
        if publish:
            info = self.session.info(self.wall_s())
            self.link.publish(f"{self.base}/e2m/session_info", encode_json(info), qos=0)

    # -- m2e (network thread -> driver thread) ---------------------------------------------------
    def _on_request(self, topic: str, payload: bytes) -> None:
        op = topic[len(self.base) + 5:]
        if op == "communication_check":
            try:
                value = _BOOL.decode(payload)
            except msgspec.DecodeError:
                self._bad.warning("communication_check: expected true or false, got %r", payload[:80])
                return
            self.driver.submit(lambda: self._report(self.comm.on_value(value, self.driver.time_ms())))
            return
        if op not in API_CMDS:
            log.debug("api %s: %s is not served (no such operation here)", self.api_module_id, op)
            return
        try:
            req = _REQUEST.decode(payload)
        except msgspec.DecodeError as exc:
            self._bad.warning("%s: invalid request, not executed: %s", op, exc)
            return
        self.driver.submit(lambda: self._execute(op, req))

    def _execute(self, op: str, req: _Request) -> None:
        mgr = self.manager
        spec = API_CMDS[op]
        try:
            if spec is None:
                result = getattr(mgr, op)()
            elif isinstance(spec, tuple):
                args = _OBJECT.decode(req.payload)
                missing = [a for a in spec if a not in args]
                if missing:
                    raise ValueError(f"payload.{missing[0]}: required")
                result = getattr(mgr, op)(*(bytes(args[a]) for a in spec))
            else:
                if bytes(req.payload) == b"null":
                    raise ValueError("payload: required")
                result = getattr(mgr, op)(bytes(req.payload))
        except (ValueError, msgspec.DecodeError) as exc:  # CommandRejected is a ValueError
            self._bad.warning("%s: invalid request, not executed: %s", op, exc)
            return
        except EvseError as exc:  # NotReady / ManagerClosed: nothing changed, nothing to answer
            self._bad.warning("%s: not executed: %s", op, exc)
            return
        self.requests_handled += 1
        if req.headers.replyTo:
            self.link.publish(req.headers.replyTo, encode_json(result), qos=0)

    # -- the communication fault -----------------------------------------------------------------
    def _report(self, changes) -> None:
        for kind, sub_type in changes:
            if kind == "raise":
                # raised at every start until a client checks in: only a lost client is worth a warning
                level = logging.INFO if sub_type == INITIAL_SUB_TYPE else logging.WARNING
                log.log(level, "api %s: %s raised (%s)", self.api_module_id, ERROR_TYPE, sub_type)
                self._fault = FrameworkError(
                    type=ERROR_TYPE, sub_type=sub_type, description=sub_type,
                    message="Send communication_check to clear the error",
                    origin=ErrorOrigin(module_id=self.api_module_id, implementation_id="main"), severity="High",
                    timestamp=rfc3339_ms(self.wall_s()), uuid=str(uuid.uuid4()), state="Active", vendor_id="everest")
                err = self._fault
            else:
                log.info("api %s: %s cleared", self.api_module_id, ERROR_TYPE)
                if self._fault is None:
                    continue
                err = msgspec.structs.replace(self._fault, state="ClearedByModule")
                self._fault = None
            if self.framework is not None:
                wire, prefix = self.framework
                self.link.publish(*wire.error(f"{prefix}modules/{self.api_module_id}/impl/main", err))

    @property
    def communication_fault(self) -> Optional[str]:
        """The raised CommunicationFault's sub_type, or None."""
        return self.comm.fault
