"""``Caller``: evsefast calling another EVerest module's cmds (a BSP, a power meter).

As the framework does (everest.cpp:397-430): the response subscription exists before the call is
published, results are matched on ``id``.  ``call`` blocks for the result (never call it from paho's
network thread: the result arrives there); ``send`` is fire-and-forget, its result only checked for an
error, which is logged.  Pending calls are bounded in number and age, so a module that never answers
cannot grow memory.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Optional, Set

import msgspec

from .. import codec
from .envelopes import ReceivedResult
from .link import MqttLink

__all__ = ["CallError", "Caller"]

log = logging.getLogger("evsefast.everest.calls")

_MAX_PENDING = 1024
_FORGET_AFTER_S = 60.0


class CallError(Exception):
    """A cmd call failed: ``error_type`` is the framework's (``CmdTimeout``, ``HandlerException``, ...)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class _Pending:
    __slots__ = ("cmd", "target", "event", "result", "t0")

    def __init__(self, cmd: str, target: str, wait: bool) -> None:
        self.cmd = cmd
        self.target = target
        self.event = threading.Event() if wait else None
        self.result: Optional[ReceivedResult] = None
        self.t0 = time.monotonic()


class Caller:
    """Calls cmds of other modules for module ``me`` over ``link`` in ``wire``'s format."""

    def __init__(self, link: MqttLink, wire, prefix: str, me: str) -> None:
        self.link = link
        self.wire = wire
        self.prefix = prefix
        self.me = me
        self._pending: "OrderedDict[str, _Pending]" = OrderedDict()
        self._lock = threading.Lock()
        self._subscribed: Set[str] = set()

    def base(self, module_id: str, impl_id: str) -> str:
        """The implementation prefix of a target."""
        return f"{self.prefix}modules/{module_id}/impl/{impl_id}"

    def prepare(self, module_id: str, impl_id: str) -> None:
        """Subscribe to the target's results (done by ``call``/``send`` too; call it early to be ready)."""
        base = self.base(module_id, impl_id)
        filt = self.wire.response_filter(base, self.me)
        if filt not in self._subscribed:
            self._subscribed.add(filt)
            # on paho's network thread the SUBACK cannot arrive while we wait: subscribe without waiting
            self.link.subscribe(filt, self._on_result, wait_s=0.0 if self.link.on_network_thread() else 5.0)

    # -- calls -----------------------------------------------------------------------------------
    def send(self, module_id: str, impl_id: str, cmd: str, args: Any = None) -> bool:
        """Fire and forget; False if the broker is not connected (the call is dropped)."""
        return self._publish(module_id, impl_id, cmd, args, None) is not None

    def call(self, module_id: str, impl_id: str, cmd: str, args: Any = None, timeout_s: float = 10.0) -> bytes:
        """Call and wait for the result; returns the retval's JSON. Raises ``CallError``."""
        pending = _Pending(cmd, f"{module_id}/{impl_id}", True)
        cid = self._publish(module_id, impl_id, cmd, args, pending)
        if cid is None:
            raise CallError("CmdTimeout", f"{module_id}->{cmd}: not connected to the broker")
        if not pending.event.wait(timeout_s):
            with self._lock:
                self._pending.pop(cid, None)
            raise CallError("CmdTimeout", f"{module_id}->{cmd}: no result within {timeout_s:g} s")
        res = pending.result
        if res.error is not None:
            raise CallError(res.error.type, res.error.msg)
        return bytes(res.retval)

    def _publish(self, module_id: str, impl_id: str, cmd: str, args: Any, pending: Optional[_Pending]) -> Optional[str]:
        self.prepare(module_id, impl_id)
        cid = str(uuid.uuid4())
        args_json = b"{}" if args is None else (args if isinstance(args, bytes) else codec.encode_json(args))
        topic, payload = self.wire.call(self.base(module_id, impl_id), cmd, cid, args_json, self.me)
        with self._lock:
            self._prune()
            self._pending[cid] = pending if pending is not None else _Pending(cmd, f"{module_id}/{impl_id}", False)
        if not self.link.publish(topic, payload):
            with self._lock:
                self._pending.pop(cid, None)
            return None
        return cid

    def _prune(self) -> None:
        now = time.monotonic()
        pend = self._pending
        while pend:
            cid, p = next(iter(pend.items()))
            if len(pend) < _MAX_PENDING and now - p.t0 < _FORGET_AFTER_S:
                break
            pend.popitem(last=False)
            if p.event is None:
                log.warning("%s->%s: no result after %.0f s", p.target, p.cmd, now - p.t0)

    # -- results (network thread) ----------------------------------------------------------------
    def _on_result(self, topic: str, payload: bytes) -> None:
        res = self.wire.parse_result(payload)
        if res is None:
            return
        with self._lock:
            p = self._pending.pop(res.id, None)
        if p is None:
            return
        if p.event is not None:
            p.result = res
            p.event.set()
        elif res.error is not None:
            log.warning("%s->%s failed: %s: %s", p.target, p.cmd, res.error.type, res.error.msg)

    @property
    def pending(self) -> int:
        """Calls still waiting for a result."""
        return len(self._pending)


def decode_retval(data: bytes, tp: Any) -> Any:
    """A retval's JSON as ``tp`` (``CallError`` SchemaValidationError if it does not match)."""
    try:
        return msgspec.json.decode(data, type=tp)
    except msgspec.DecodeError as exc:
        raise CallError("SchemaValidationError", f"result does not match the interface: {exc}") from exc
