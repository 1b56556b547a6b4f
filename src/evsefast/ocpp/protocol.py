"""What both OCPP versions share: registration, heartbeat, the outbox, smart charging, resets.

A connection's life (:meth:`ProtocolBase.session`, called by :class:`~evsefast.ocpp.link.Link`):

1. the ``ocpp`` package's receive loop starts (CSMS requests are answered from now on, except
   while the BootNotification is Rejected);
2. BootNotification until Accepted -- once per start or reset; a reconnect does not register again
   (P4 §5.3).  Pending: requests are answered, only triggered messages are sent; retry after
   ``interval``.  Rejected: silence until ``interval`` has passed (S16 §4.2);
3. the current status of every connector (connector 0 first, E16 §3.22), then the outbox delivers
   queued transaction messages and everything new, in order; a Heartbeat after ``interval`` of
   silence (S16 §4.6).

The connection ends when the socket closes; the outbox keeps the transaction messages for the next.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Dict, List, Optional

from .auth import AuthCache
from .outbox import Outbox, OutItem
from .smart.applier import SmartCharging
from .smart.profile import ProfileError

__all__ = ["ProtocolBase", "cancel_and_wait"]

log = logging.getLogger("evsefast.ocpp")


class ProtocolBase:
    """Shared runtime of a charge point; :class:`~.v16.protocol.Protocol16` and the 2.0.1 one add the
    messages.  Built by :class:`~evsefast.ocpp.chargepoint.ChargePoint`."""

    version = ""
    subprotocol = ""
    wire_class: Any = None
    connector_class: Any = None

    def __init__(self, managers, *, identity: str, store, settings, clock, stats, info: Dict[str, str],
                 time_factor: float = 1.0, boot_retry_s: float = 10.0) -> None:
        self.identity = identity
        self.store = store
        self.settings = settings
        self.clock = clock
        self.stats = stats
        self.info = info
        self.time_factor = float(time_factor)
        self.boot_retry_s = float(boot_retry_s)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.loop_thread: Optional[threading.Thread] = None
        try:  # built inside the event loop: timers work before run() starts
            self.loop = asyncio.get_running_loop()
            self.loop_thread = threading.current_thread()
        except RuntimeError:
            pass
        self.link = None
        self.wire = None
        self.registration: Optional[str] = None
        self.silent = False
        self.booted = False
        self.boot_reason = "PowerUp"
        self.heartbeat_s = settings.heartbeat_interval_s
        self.cp_operative = bool(store.get("avail.0", True))
        self.cache = AuthCache(store, self.now_s, lambda: settings.authorization_cache_enabled)
        self.outbox = Outbox(store, settings, resolve=self.resolve, on_result=self.on_tx_result,
                             on_dropped=self.on_tx_dropped, time_factor=time_factor)
        self._last_activity = time.monotonic()
        self._tasks: List[asyncio.Task] = []
        self._pending: Dict[str, Any] = {}
        self.connectors = [self.connector_class(self, i + 1, m) for i, m in enumerate(managers)]
        self.smart = SmartCharging(store, managers, self.now_s, self.tx_start_s, time_factor=time_factor,
                                   phase_switching=lambda: settings.connector_switch_3to1_phase_supported)

    # -- time and state ----------------------------------------------------------------------------
    def now_s(self) -> float:
        """Wall time of the charge point's clock (Unix seconds)."""
        return self.clock.wall_s()

    @property
    def online(self) -> bool:
        """Connected and registered (Accepted): messages can be sent."""
        return self.wire is not None and self.registration == "Accepted"

    def connector(self, cid: int):
        """Connector ``cid`` (1-based) or None."""
        return self.connectors[cid - 1] if 1 <= cid <= len(self.connectors) else None

    def tx_start_s(self, cid: int) -> Optional[float]:
        """Start time of connector ``cid``'s transaction (None if none)."""
        c = self.connector(cid)
        tx = getattr(c, "tx", None)
        return None if tx is None else float(tx["start_s"])

    # -- sending -----------------------------------------------------------------------------------
    def push(self, action: str, payload: Dict[str, Any], *, persistent: bool = False, front: bool = False) -> None:
        """Queue a message: persistent ones always, volatile ones only while online."""
        if persistent:
            self.outbox.push(action, payload, persistent=True)
        elif self.online:
            item = self.outbox.push(action, payload, persistent=False)
            if front:
                self.outbox.items.remove(item)
                self.outbox.items.appendleft(item)

    async def send_now(self, action: str, payload: Dict[str, Any]) -> Any:
        """One CALL outside the outbox (registration and triggered messages while Pending)."""
        wire = self.wire
        if wire is None:
            raise ConnectionError("not connected")
        self._last_activity = time.monotonic()
        return await wire.send_call(action, payload)

    async def _send(self, action: str, payload: Dict[str, Any]) -> Any:
        self._last_activity = time.monotonic()
        return await self.wire.send_call(action, payload)

    async def request(self, action: str, payload: Dict[str, Any]) -> Any:
        """A volatile request whose answer is needed (Authorize); None if it could not be delivered."""
        if not self.online:
            return None
        fut = self.outbox.request(action, payload)
        try:
            return await asyncio.wait_for(fut, self.settings.message_timeout_s + 1.0)
        except Exception:  # noqa: BLE001 - CALLERROR, timeout, lost connection: the offline rules decide
            return None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start_background(self) -> None:
        """Start the tasks that run with or without a connection (call inside the event loop)."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.current_thread()
        self._tasks.append(self.loop.create_task(self.smart.run()))
        self._tasks.append(self.loop.create_task(self._supervise()))
        self.on_loop_started()

    async def stop_background(self) -> None:
        """Cancel the background tasks and every connector's sampler."""
        for c in self.connectors:
            c.stop_sampler()
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    async def session(self, ws) -> None:
        """One connection (see the module docstring); returns when the connection is gone."""
        wire = self.wire_class(self.identity, ws, self, response_timeout=self.settings.message_timeout_s)
        self.wire = wire
        reader = asyncio.ensure_future(wire.start())
        main = asyncio.ensure_future(self._connected(wire))
        try:
            done, _ = await asyncio.wait({reader, main}, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    log.info("%s: %r", self.identity, t.exception())
        finally:
            await cancel_and_wait({reader, main})
            for t in (reader, main):
                if t.done() and not t.cancelled():
                    t.exception()  # retrieved: no "exception never retrieved" noise
            self.wire = None
            if self.registration != "Accepted" or not self.booted:
                self.registration = None
            self.silent = False
            self.outbox.drop_volatile()

    async def _connected(self, wire) -> None:
        await self._register()
        self.send_all_statuses()
        gate = wire.idle.wait
        await asyncio.gather(self.outbox.run(self._send, gate), self._heartbeat())

    async def _register(self) -> None:
        if self.booted and self.registration == "Accepted":
            return
        while True:
            try:
                res = await self.send_now(*self.boot_message())
            except asyncio.TimeoutError:
                await asyncio.sleep(self.boot_retry_s)
                continue
            except (ConnectionError, OSError):
                raise
            except Exception as exc:  # noqa: BLE001 - CALLERROR: try again later
                if type(exc).__name__.startswith("ConnectionClosed"):
                    raise
                log.warning("%s: BootNotification failed: %r", self.identity, exc)
                await asyncio.sleep(self.boot_retry_s)
                continue
            status = _value(res.status)
            interval = int(res.interval or 0)
            self.registration = status
            if status == "Accepted":
                self.silent = False
                self.booted = True
                self.boot_reason = "PowerUp"
                if interval > 0:
                    self.heartbeat_s = interval
                    self.settings.set("heartbeat_interval_s", interval, persist=False)
                return
            self.silent = status == "Rejected"
            await asyncio.sleep(interval if interval > 0 else self.boot_retry_s)
            self.silent = False
            if self.booted and self.registration == "Accepted":
                return  # accepted meanwhile by a triggered BootNotification

    async def _heartbeat(self) -> None:
        while True:
            interval = self.heartbeat_s
            if interval <= 0:
                await asyncio.sleep(1.0)
                continue
            wait = self._last_activity + interval / self.time_factor - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self._last_activity = time.monotonic()
            if not self.outbox.items:
                self.push("Heartbeat", {})

    async def _supervise(self) -> None:
        """Errors that cleared silently (every second), and clock-aligned samples at their time
        (multiples of ClockAlignedDataInterval from midnight UTC, S16 §3.16.2)."""
        next_aligned = None
        while True:
            interval = self.settings.clock_aligned_interval_s
            now = self.now_s()
            if interval <= 0:
                next_aligned = None
            elif next_aligned is None or next_aligned - now > interval:
                next_aligned = now - now % interval + interval
            elif now >= next_aligned:
                next_aligned = now - now % interval + interval
                self.clock_aligned_sample()
            wait = 1.0
            if next_aligned is not None:
                wait = min(wait, max(0.0, next_aligned - now) / self.time_factor + 0.001)
            await asyncio.sleep(wait)
            for c in self.connectors:
                c.refresh_fault()

    # -- shared by the request handlers --------------------------------------------------------------
    def _stash(self, action: str, value: Any) -> None:
        """Keep what an ``on_*`` handler decided for its ``after_*`` handler."""
        self._pending[action] = value

    def _take(self, action: str) -> Any:
        return self._pending.pop(action, None)

    def _check_profile(self, profile) -> None:
        """``ProfileError`` unless a new profile fits this charge point's limits."""
        s = self.settings
        profile.check(max_stack_level=s.charge_profile_max_stack_level, max_periods=s.charging_schedule_max_periods,
                      connectors=len(self.connectors))
        if profile.id not in self.smart.profiles and len(self.smart.profiles) >= s.max_charging_profiles_installed:
            raise ProfileError("too many profiles installed")

    # -- security (SW A05) ---------------------------------------------------------------------------
    def _security_ok(self, profile: int) -> bool:
        """SecurityProfile may only go up, and only with its prerequisites (key, wss://)."""
        link = self.link
        current = self.settings.security_profile if link is None else link.security.profile
        if profile < current:
            return False
        if profile >= 1 and not (self.settings.authorization_key or (link is not None and link.security.password)):
            return False
        return profile < 2 or (link is not None and link.url.startswith("wss://"))

    def apply_security(self) -> None:
        """Hand changed SecurityProfile / AuthorizationKey to the link (used from the next connect)."""
        link = self.link
        if link is None:
            return
        link.security.profile = max(link.security.profile, self.settings.security_profile)
        if self.settings.authorization_key:
            link.security.password = self.settings.authorization_key

    # -- reset -------------------------------------------------------------------------------------
    def begin_reset(self, stop_reason: str, boot_reason: str) -> None:
        """Stop every transaction (``stop_reason``), wait until the stops are delivered (at most 10 s),
        then register again as after a restart (S16 §5.14)."""
        async def run() -> None:
            for c in self.connectors:
                if c.session_active:
                    c.mgr.stop_transaction({"reason": stop_reason})
            deadline = time.monotonic() + 10.0
            while self.outbox.pending_persistent and self.online and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            self.booted = False
            self.registration = None
            self.boot_reason = boot_reason
            if self.link is not None:
                await self.link.drop()
        self._tasks.append(asyncio.get_running_loop().create_task(run()))

    # -- version-specific --------------------------------------------------------------------------
    def on_loop_started(self) -> None:
        """The event loop is known (timers can be armed)."""

    def boot_message(self):
        """``(action, payload)`` of the BootNotification."""
        raise NotImplementedError

    def send_all_statuses(self) -> None:
        """Queue the current status of the charge point and every connector."""
        raise NotImplementedError

    def clock_aligned_sample(self) -> None:
        """A clock-aligned meter sample is due (ClockAlignedDataInterval)."""

    def after_session(self) -> None:
        """A connector's session ended."""

    def resolve(self, item: OutItem) -> Dict[str, Any]:
        """The payload to send for a queued message."""
        return item.payload

    def on_tx_result(self, item: OutItem, result: Any) -> None:
        """The CSMS confirmed a transaction message."""

    def on_tx_dropped(self, item: OutItem) -> None:
        """A transaction message was given up after its attempts."""


async def cancel_and_wait(tasks, timeout_s: float = 5.0) -> set:
    """Cancel ``tasks`` and wait until they end; returns the ones still running after ``timeout_s``.

    The cancellation is repeated: on Python < 3.12 ``asyncio.wait_for`` (used by the ``ocpp`` package
    for every call) can swallow a cancellation that arrives together with the awaited answer, and
    the task would then run on into its next await."""
    pending = {t for t in tasks if not t.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pending:
        for t in pending:
            t.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(left, 0.1))
    return pending


def _value(x: Any) -> str:
    return getattr(x, "value", x)
