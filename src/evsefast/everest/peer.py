"""``EverestPeer``: EVerest's side of the wire, for tests, benchmarks and integrators' own checks.

It plays another EVerest module (``ocpp``, an EnergyManager, the manager's ``GlobalReady``) over a
real broker: call a module's cmds and get the result (or the ``CallError``), watch vars, errors and
any topic as decoded messages in arrival order::

    peer = EverestPeer(settings, me="ocpp").start()
    peer.call("connector_1", "evse", "pause_charging")          # -> b"true"
    events = peer.watch_vars("connector_1", "evse")             # a Watch of (name, value) pairs
    peer.global_ready()
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import msgspec

from .calls import Caller
from .link import MqttLink
from .settings import MqttSettings
from .wire import decode_framework_error, wire_format

__all__ = ["EverestPeer", "Watch"]


class Watch:
    """Messages matching a subscription, in arrival order."""

    def __init__(self) -> None:
        self._q: "queue.Queue[Any]" = queue.Queue()
        self.seen: List[Any] = []
        self._lock = threading.Lock()

    def put(self, item: Any) -> None:
        """Called by the subscription."""
        with self._lock:
            self.seen.append(item)
        self._q.put(item)

    def get(self, timeout_s: float = 5.0) -> Any:
        """The next message (raises ``queue.Empty`` after ``timeout_s``)."""
        return self._q.get(timeout=timeout_s)

    def wait_for(self, pred: Callable[[Any], bool], timeout_s: float = 10.0) -> Any:
        """The next message satisfying ``pred``; raises ``TimeoutError`` naming what was seen."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message within {timeout_s:g} s; seen: {self.seen[-20:]!r}")
            try:
                item = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if pred(item):
                return item

    def drain(self) -> List[Any]:
        """Everything queued now, without waiting."""
        out = []
        while True:
            try:
                out.append(self._q.get_nowait())
            except queue.Empty:
                return out


class EverestPeer:
    """An EVerest module id ``me`` on the broker of ``settings``; see the module docstring."""

    def __init__(self, settings: MqttSettings, me: str = "ocpp", *, client_id: str = "") -> None:
        self.settings = settings
        self.me = me
        self.wire = wire_format(settings.format)
        self.prefix = settings.prefix
        self.link = MqttLink(settings, client_id=client_id or f"peer-{me}", name=f"peer-{me}")
        self.caller = Caller(self.link, self.wire, self.prefix, me)

    def start(self, timeout_s: float = 10.0) -> "EverestPeer":
        """Connect (raises ``TimeoutError`` if the broker does not answer)."""
        self.link.start()
        if not self.link.wait_connected(timeout_s):
            raise TimeoutError(f"peer {self.me}: no broker connection within {timeout_s:g} s")
        return self

    def stop(self) -> None:
        """Disconnect."""
        self.link.stop()

    def base(self, module_id: str, impl_id: str) -> str:
        """The implementation prefix."""
        return f"{self.prefix}modules/{module_id}/impl/{impl_id}"

    # -- cmds ------------------------------------------------------------------------------------
    def call(self, module_id: str, impl_id: str, cmd: str, args: Any = None, timeout_s: float = 10.0) -> bytes:
        """Call a cmd; the retval's JSON, or ``CallError`` with the framework's error type."""
        return self.caller.call(module_id, impl_id, cmd, args, timeout_s=timeout_s)

    def call_value(self, module_id: str, impl_id: str, cmd: str, args: Any = None, timeout_s: float = 10.0) -> Any:
        """Like ``call``, the retval decoded to plain Python."""
        return msgspec.json.decode(self.call(module_id, impl_id, cmd, args, timeout_s))

    # -- watching --------------------------------------------------------------------------------
    def watch(self, topic_filter: str, decode: Optional[Callable[[str, bytes], Any]] = None) -> Watch:
        """A ``Watch`` of ``(topic, payload)`` (or ``decode(topic, payload)``) for a topic filter."""
        w = Watch()

        def handler(topic: str, payload: bytes) -> None:
            item = (topic, payload) if decode is None else decode(topic, payload)
            if item is not None:
                w.put(item)
        self.link.subscribe(topic_filter, handler, wait_s=5.0)
        return w

    def watch_vars(self, module_id: str, impl_id: str) -> Watch:
        """``(var name, decoded value)`` of every var of an implementation."""
        base = self.base(module_id, impl_id)

        def decode(topic: str, payload: bytes) -> Optional[Tuple[str, Any]]:
            got = self.wire.parse_var(topic, payload, base)
            return None if got is None else (got[0], msgspec.json.decode(got[1]))
        return self.watch(self.wire.var_filter(base), decode)

    def watch_errors(self, module_id: str, impl_id: str) -> Watch:
        """Decoded Error objects (``FrameworkError``) raised or cleared by an implementation."""
        def decode(topic: str, payload: bytes):
            data = self.wire.parse_error(payload)
            return None if data is None else decode_framework_error(data)
        return self.watch(self.wire.error_filter(self.base(module_id, impl_id)), decode)

    # -- playing the manager / another module ------------------------------------------------------
    def global_ready(self) -> None:
        """Publish the manager's GlobalReady."""
        payload = b"true" if self.wire.name == "legacy" else b'{"msg_type":"GlobalReady","data":true}'
        self.link.publish(f"{self.prefix}ready", payload)

    def publish_var(self, module_id: str, impl_id: str, name: str, value: Any) -> None:
        """Publish a var of module ``module_id`` (e.g. a BSP's ``event``)."""
        raw = value if isinstance(value, bytes) else msgspec.json.encode(value)
        self.link.publish(*self.wire.var(self.base(module_id, impl_id), name, raw))

    def publish(self, topic: str, payload: bytes, qos: int = 2) -> None:
        """Publish raw bytes."""
        self.link.publish(topic, payload, qos=qos)
