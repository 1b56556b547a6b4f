"""The interface's vars: latest values, subscriptions, and in-order delivery (spec §5.2).

Values are published while the manager holds its lock and delivered to subscribers afterwards,
in publication order.  A subscriber may call cmds from its callback: the nested publications are
appended to the same queue and delivered after the current one, so order is preserved.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from .. import codec
from ..types.evse_manager import SessionEvents
from ..types.interface import VARS as INTERFACE_VARS

log = logging.getLogger("evsefast.manager")

#: var name -> type, in the seed interface's order (one table for the whole package)
VARS: Dict[str, Any] = INTERFACE_VARS

_ENCODERS = {None: None, "json": codec.encode_json, "msgpack": codec.encode_msgpack}

#: channels beside the interface's vars (not in ``VARS``, no ``get``): the manager's own error events
EXTRA_CHANNELS = ("errors",)


class VarHub:
    """Latest value per var, subscriber lists, and the delivery queue."""

    def __init__(self) -> None:
        self.latest: Dict[str, Any] = {}
        self._subs: Dict[str, List[Tuple[Callable[[Any], None], Optional[Callable[[Any], bytes]]]]] = {
            name: [] for name in (*VARS, *EXTRA_CHANNELS)}
        self._outbox: Deque[Tuple[str, Any]] = deque()
        #: not empty while publications wait for ``deliver`` (the outbox itself)
        self.pending = self._outbox
        self._delivering = False
        #: every session event ever published, for tests and diagnostics (bounded)
        self.history: Deque[SessionEvents] = deque(maxlen=1024)

    @staticmethod
    def check_name(name: str) -> None:
        """Raise ``KeyError`` naming the allowed vars if ``name`` is not one of them."""
        if name not in VARS:
            raise KeyError(f"unknown var {name!r}; vars: {', '.join(VARS)}")

    @staticmethod
    def encoder(encoding: str) -> Callable[[Any], bytes]:
        """The shared encoder for ``"json"`` or ``"msgpack"``."""
        enc = _ENCODERS.get(encoding)
        if enc is None:
            raise ValueError(f"encoding must be 'json' or 'msgpack', got {encoding!r}")
        return enc

    def subscribe(self, name: str, callback: Callable[[Any], None], encoding: Optional[str] = None) -> Callable[[], None]:
        """Call ``callback(value)`` for every publication of ``name``; returns an unsubscribe function.

        ``encoding`` None hands over the Struct/value, ``"json"`` or ``"msgpack"`` the encoded bytes
        (from the shared encoder in :mod:`evsefast.codec`).
        """
        self.check_name(name)
        return self.subscribe_channel(name, callback, encoding)

    def subscribe_channel(self, name: str, callback: Callable[[Any], None],
                          encoding: Optional[str] = None) -> Callable[[], None]:
        """``subscribe`` for a var or one of ``EXTRA_CHANNELS``."""
        if name not in self._subs:
            raise KeyError(f"unknown channel {name!r}; channels: {', '.join(self._subs)}")
        if encoding not in _ENCODERS:
            raise ValueError(f"encoding must be None, 'json' or 'msgpack', got {encoding!r}")
        entry = (callback, _ENCODERS[encoding])
        self._subs[name].append(entry)

        def unsubscribe() -> None:
            try:
                self._subs[name].remove(entry)
            except ValueError:
                pass
        return unsubscribe

    def publish(self, name: str, value: Any) -> None:
        """Record ``value`` as the latest of ``name`` and queue it for the subscribers."""
        self.latest[name] = value
        if name == "session_event":
            self.history.append(value)
        if self._subs[name]:
            self._outbox.append((name, value))

    def deliver(self) -> None:
        """Hand queued values to subscribers (re-entrant calls return at once; order is kept)."""
        if self._delivering:
            return
        self._delivering = True
        try:
            out = self._outbox
            while out:
                name, value = out.popleft()
                for callback, encode in tuple(self._subs[name]):
                    try:
                        callback(value if encode is None else encode(value))
                    except Exception:  # a subscriber's bug must not stop the charger
                        log.exception("subscriber of %s raised", name)
        finally:
            self._delivering = False
