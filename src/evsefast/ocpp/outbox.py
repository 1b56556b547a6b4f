"""The ordered outbox: every CALL the charge point sends after registration goes through it.

Transaction-related messages (1.6 Start/StopTransaction and MeterValues of a transaction, 2.0.1
TransactionEvent) are *persistent*: written to the store before they are sent, delivered in order
-- across disconnects and restarts -- and removed only when the CSMS confirmed them (S16 §3.7).  A
CALLERROR or a timeout counts as a failed attempt: attempt n+1 follows after ``retry interval x n``,
and after the configured number of attempts the message is dropped (S16 §3.7.1).  A lost
connection is not an attempt: the message waits for the next connection.

Other messages (StatusNotification, Authorize, Heartbeat, ...) are *volatile*: queued in memory in
the same order while connected, dropped when the connection is lost (the current status is sent
again after reconnecting; Authorize falls back to the offline rules).

One CALL at a time (J16 §4.1.1): the outbox is the only sender once registered.  It also waits while
a CSMS request is being handled, so a message caused by that request (StopTransaction after
RemoteStopTransaction) follows the request's CALLRESULT on the wire.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Deque, Dict, Optional

from websockets.exceptions import ConnectionClosed

__all__ = ["Outbox", "OutItem"]

log = logging.getLogger("evsefast.ocpp")


@dataclass
class OutItem:
    """One message waiting to be sent."""

    action: str
    payload: Dict[str, Any]
    seq: Optional[int] = None  # store sequence number of a persistent message
    attempts: int = 0
    future: Optional[asyncio.Future] = field(default=None, repr=False)

    @property
    def persistent(self) -> bool:
        """True for transaction messages kept in the store."""
        return self.seq is not None


class Outbox:
    """See the module docstring.  ``send(action, payload)`` performs one CALL and returns the result
    (raising ``OCPPError``/``TimeoutError``/connection errors); ``resolve(item)`` returns the payload
    to send (e.g. with a transaction id the CSMS assigned meanwhile); ``on_result(item, result)`` and
    ``on_dropped(item)`` are called for persistent messages."""

    def __init__(self, store, settings, *, resolve: Callable[[OutItem], Dict[str, Any]],
                 on_result: Callable[[OutItem, Any], None], on_dropped: Callable[[OutItem], None],
                 time_factor: float = 1.0) -> None:
        self.store = store
        self.settings = settings
        self.resolve = resolve
        self.on_result = on_result
        self.on_dropped = on_dropped
        self.time_factor = float(time_factor)
        self.items: Deque[OutItem] = deque(OutItem(m.action, m.payload, m.seq, m.attempts) for m in store.queued())
        self._changed: Optional[asyncio.Event] = None
        self.delivered = 0
        self.dropped = 0

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def push(self, action: str, payload: Dict[str, Any], *, persistent: bool) -> OutItem:
        """Queue a message (persistent ones are on disk when this returns)."""
        seq = self.store.enqueue(action, payload) if persistent else None
        item = OutItem(action, payload, seq)
        self.items.append(item)
        self._notify()
        return item

    def request(self, action: str, payload: Dict[str, Any]) -> "asyncio.Future":
        """Queue a volatile message whose result the caller awaits (exception if it was not delivered)."""
        item = self.push(action, payload, persistent=False)
        item.future = asyncio.get_running_loop().create_future()
        return item.future

    def drop_volatile(self) -> None:
        """The connection is gone: forget volatile messages (their callers get a ``ConnectionError``)."""
        keep: Deque[OutItem] = deque()
        for item in self.items:
            if item.persistent:
                keep.append(item)
            elif item.future is not None and not item.future.done():
                item.future.set_exception(ConnectionError("not delivered: connection lost"))
        self.items = keep

    @property
    def pending_persistent(self) -> int:
        """How many transaction messages wait for delivery."""
        return sum(1 for i in self.items if i.persistent)

    def _finish(self, item: OutItem) -> None:
        if self.items and self.items[0] is item:
            self.items.popleft()
        if item.persistent:
            self.store.dequeue(item.seq)

    async def run(self, send: Callable[[str, Dict[str, Any]], Awaitable[Any]],
                  gate: Callable[[], Awaitable[None]]) -> None:
        """Deliver until cancelled (the caller cancels it when the connection ends)."""
        self._changed = asyncio.Event()
        while True:
            if not self.items:
                self._changed.clear()
                await self._changed.wait()
                continue
            item = self.items[0]
            await gate()
            if not self.items or self.items[0] is not item:
                continue
            try:
                result = await send(item.action, self.resolve(item))
            except asyncio.TimeoutError as exc:  # before OSError: TimeoutError is one since 3.11
                await self._failed(item, exc)
                continue
            except (asyncio.CancelledError, ConnectionError, OSError, ConnectionClosed):
                raise  # not an attempt: the message waits for the next connection
            except Exception as exc:  # noqa: BLE001 - CALLERROR, timeout, bad payload
                await self._failed(item, exc)
                continue
            self._finish(item)
            self.delivered += 1
            if item.persistent:
                try:
                    self.on_result(item, result)
                except Exception:  # noqa: BLE001
                    log.exception("handling the result of %s failed", item.action)
            if item.future is not None and not item.future.done():
                item.future.set_result(result)

    async def _failed(self, item: OutItem, exc: BaseException) -> None:
        log.warning("%s not accepted by the CSMS: %r", item.action, exc)
        if not item.persistent:
            self._finish(item)
            self.dropped += 1
            if item.future is not None and not item.future.done():
                item.future.set_exception(exc)
            return
        item.attempts += 1
        self.store.count_attempt(item.seq)
        if item.attempts >= max(1, self.settings.tx_message_attempts):
            log.warning("dropping %s after %d attempts", item.action, item.attempts)
            self._finish(item)
            self.dropped += 1
            try:
                self.on_dropped(item)
            except Exception:  # noqa: BLE001
                log.exception("handling the dropped %s failed", item.action)
            return
        await asyncio.sleep(self.settings.tx_message_retry_interval_s * item.attempts / self.time_factor)
