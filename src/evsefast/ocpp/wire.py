"""The ``ocpp`` package's ``ChargePoint`` for one websocket connection, wired to our protocol logic.

The ``ocpp`` package builds a handler table from methods decorated with ``@on(action)`` /
``@after(action)`` when an instance is created (one instance per connection, spec/ocpp.md §1.2).
:func:`make_wire` generates those methods from a table ``action -> (on method, after method)`` of
the protocol object, so each CSMS request lands in a plain method of
:class:`~evsefast.ocpp.v16.protocol.Protocol16` (or the 2.0.1 one); the ``@after`` part runs once
the CALLRESULT is on the wire (the right moment for the request's effects).

On top of the package the wire object

* drops CSMS requests unanswered while the BootNotification was Rejected (S16 §4.2);
* keeps ``idle`` set only while no CSMS request is being handled (the outbox waits for it);
* counts messages and call latencies in the charge point's :class:`~evsefast.ocpp.stats.Stats`;
* calls with ``suppress=False``, so a CALLERROR raises instead of returning None (§1.4).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, Optional, Tuple

from ocpp.routing import after, on

__all__ = ["WireMixin", "make_wire"]

_LOG = logging.getLogger("evsefast.ocpp.wire")


class WireMixin:
    """Mixed in front of ``ocpp.v16.ChargePoint`` / ``ocpp.v201.ChargePoint``."""

    proto: Any = None
    call_module: Any = None

    def __init__(self, cp_id: str, connection, proto, *, response_timeout: float) -> None:
        super().__init__(cp_id, connection, response_timeout=response_timeout, logger=_LOG)
        self.proto = proto
        self.idle = asyncio.Event()
        self.idle.set()
        self._busy = 0

    async def route_message(self, raw_msg):
        """Route one incoming frame (see the module docstring for what is added)."""
        action = _call_action(raw_msg)
        if action is None:
            return await super().route_message(raw_msg)
        if self.proto.silent:
            return None  # Rejected: requests are neither answered nor handled
        self.proto.stats.received[action] += 1
        self._busy += 1
        self.idle.clear()
        try:
            return await super().route_message(raw_msg)
        finally:
            self._busy -= 1
            if self._busy == 0:
                self.idle.set()

    async def send_call(self, action: str, payload: Dict[str, Any]) -> Any:
        """One CALL built from snake_case ``payload``; returns the call result dataclass."""
        request = getattr(self.call_module, action)(**payload)
        stats = self.proto.stats
        stats.sent[action] += 1
        t0 = time.perf_counter()
        try:
            result = await self.call(request, suppress=False)
        except asyncio.TimeoutError:
            stats.errors["timeout"] += 1
            raise
        except Exception as exc:
            stats.errors[type(exc).__name__] += 1
            raise
        stats.latencies_s.append(time.perf_counter() - t0)
        return result


def _call_action(raw: Any) -> Optional[str]:
    """The action of a CALL frame (``[2, id, action, payload]``), else None."""
    text = raw.decode() if isinstance(raw, (bytes, bytearray)) else str(raw)
    if not text.lstrip().startswith("[2"):
        return None
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    if isinstance(msg, list) and len(msg) >= 3 and msg[0] == 2 and isinstance(msg[2], str):
        return msg[2]
    return None


def _delegate(method: str, fname: str):
    def handler(self, **kwargs):
        return getattr(self.proto, method)(**kwargs)
    handler.__name__ = fname
    handler.__qualname__ = fname
    return handler


def make_wire(name: str, base: type, call_module, routes: Dict[str, Tuple[str, Optional[str]]]) -> type:
    """A ``WireMixin`` + ``base`` class whose ``@on``/``@after`` handlers call ``proto.<method>``."""
    ns: Dict[str, Any] = {"call_module": call_module, "__doc__": f"The ``ocpp`` charge point of {name}."}
    for action, (on_method, after_method) in routes.items():
        fname = f"_evsefast_on_{action}"
        ns[fname] = on(action)(_delegate(on_method, fname))
        if after_method is not None:
            aname = f"_evsefast_after_{action}"
            ns[aname] = after(action)(_delegate(after_method, aname))
    return type(name, (WireMixin, base), ns)
