"""asyncio for ``EvseManager``: ``async for ev in mgr.events()`` and ``await mgr.wait_ready()``.

``mgr.events()`` yields the session events (``SessionEvents``); ``mgr.events("powermeter", "limits",
...)`` yields :class:`VarEvent` ``(name, value)`` pairs of exactly the vars named (add
``"session_event"`` to get those too). The subscription starts when ``events()`` is called, so nothing
published after that is missed, even before the first ``async for`` step.

Values reach the stream from the thread that ticks the manager (a ``Runner`` thread, the event loop
itself when ``Runner`` runs there, or any thread calling a cmd) and wait in a **bounded** buffer of
``maxsize`` items (default 1024). Overflow policy -- when the consumer falls ``maxsize`` items behind:

* ``overflow="drop_oldest"`` (default): the oldest buffered item is dropped for the new one, and
  ``stream.dropped`` counts every dropped item (a warning is logged at the first drop of each run
  of drops). The charger never waits for a slow consumer.
* ``overflow="raise"``: the items buffered before the gap are still delivered, then the iteration
  raises :class:`EventsOverflow` (``dropped`` says how many were lost) and the stream is closed.

``async with mgr.events() as stream`` or ``await stream.aclose()`` unsubscribes; so does dropping the
last reference to a stream (``break`` out of ``async for ev in mgr.events()``: CPython frees it at
once; the manager holds streams only weakly). ``close()`` of the manager ends every stream: the
``async for`` loop ends after the items already buffered.

Cmds stay synchronous and are safe to call from the event loop: they take the manager's lock for
microseconds and never wait for the board or for I/O.
"""
from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections import deque
from typing import (
    TYPE_CHECKING, Any, Callable, Deque, Generic, List, NamedTuple, Optional, TypeVar, overload,
)

from ..errors import EvseError, ManagerClosed
from .var_access import VarAccess

if TYPE_CHECKING:
    import asyncio
    from typing import Literal

    from ..types.evse_manager import SessionEvents
    from .var_access import VarName

log = logging.getLogger("evsefast.manager")

T = TypeVar("T")
DEFAULT_MAXSIZE = 1024


class EventsOverflow(EvseError):
    """An ``events(..., overflow="raise")`` consumer fell ``maxsize`` items behind; ``dropped`` were lost."""

    def __init__(self, message: str, dropped: int) -> None:
        super().__init__(message)
        self.dropped = dropped


class VarEvent(NamedTuple):
    """One publication of a var: its ``name`` and ``value`` (the var's type, e.g. ``Powermeter``)."""

    name: str
    value: Any


class EventStream(Generic[T]):
    """An async iterator over var publications with a bounded buffer; see the module docstring."""

    def __init__(self, maxsize: int, overflow: str) -> None:
        if not (isinstance(maxsize, int) and maxsize >= 1):
            raise ValueError(f"maxsize must be an int >= 1, got {maxsize!r}")
        if overflow not in ("drop_oldest", "raise"):
            raise ValueError(f"overflow must be 'drop_oldest' or 'raise', got {overflow!r}")
        self.maxsize = maxsize
        self.overflow = overflow
        #: items dropped because the consumer was ``maxsize`` items behind
        self.dropped = 0
        self._buf: Deque[Any] = deque()
        self._lock = threading.Lock()
        self._waiter: Optional[asyncio.Future[None]] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._overflowed = False  # "raise": deliver what came before the gap, then raise
        self._dropping = False
        self._closed = False
        self._ending = False  # the manager closed: stop once the buffer is empty
        self._unsubscribers: List[Callable[[], None]] = []
        self._loop = None  # the running loop, else bound at the first step of the iteration
        aio = sys.modules.get("asyncio")  # not imported: no loop can be running (and asyncio costs ~25 ms)
        if aio is not None:
            try:
                self._loop = aio.get_running_loop()
            except RuntimeError:
                pass

    # -- producer side (any thread) ----------------------------------------------------------------
    def _push(self, item: Any) -> None:
        with self._lock:
            if self._closed or self._overflowed:
                if self._overflowed:
                    self.dropped += 1
                return
            if len(self._buf) >= self.maxsize:
                self.dropped += 1
                if self.overflow == "raise":
                    self._overflowed = True
                else:
                    self._buf.popleft()
                    self._buf.append(item)
                    if not self._dropping:
                        self._dropping = True
                        log.warning("events(): the consumer is %d items behind; dropping the oldest (dropped so "
                                    "far: %d)", self.maxsize, self.dropped)
            else:
                self._dropping = False
                self._buf.append(item)
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._wake(waiter)

    def _wake(self, waiter: "asyncio.Future[None]") -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def resolve() -> None:
            if not waiter.done():
                waiter.set_result(None)
        loop.call_soon_threadsafe(resolve)

    def _end(self) -> None:
        """The manager closed: the iteration ends after the buffered items."""
        with self._lock:
            self._ending = True
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._wake(waiter)

    # -- consumer side (the event loop) ------------------------------------------------------------
    def __aiter__(self) -> "EventStream[T]":
        return self

    async def __anext__(self) -> T:
        import asyncio

        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._buf:
                    return self._buf.popleft()  # type: ignore[no-any-return]
                if self._closed or self._ending:
                    waiter = None
                elif self._overflowed:
                    waiter = None
                else:
                    waiter = self._loop.create_future()
                    self._waiter = waiter
            if waiter is None:
                overflowed = self._overflowed
                self._close()
                if overflowed:
                    raise EventsOverflow(f"events(): the consumer fell {self.maxsize} items behind; {self.dropped} "
                                         "publications were dropped", self.dropped)
                raise StopAsyncIteration
            await waiter

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            self._buf.clear()
            unsubscribers, self._unsubscribers = self._unsubscribers, []
        for unsubscribe in unsubscribers:
            unsubscribe()

    async def aclose(self) -> None:
        """Unsubscribe and end the iteration (buffered items are discarded)."""
        self._close()
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __del__(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser (interpreter shutdown)
            pass

    async def __aenter__(self) -> "EventStream[T]":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()


class AsyncApi(VarAccess):
    """``events()`` and ``wait_ready()`` beside the typed ``subscribe``/``get`` (mixed into ``EvseManager``)."""

    _streams: "weakref.WeakSet[EventStream[Any]]"
    if TYPE_CHECKING:
        @property
        def closed(self) -> bool: ...

        @property
        def ready(self) -> bool: ...

    @overload
    def events(self, *, maxsize: int = DEFAULT_MAXSIZE,
               overflow: "Literal['drop_oldest', 'raise']" = "drop_oldest") -> "EventStream[SessionEvents]": ...

    @overload
    def events(self, var: "VarName", *more: "VarName", maxsize: int = DEFAULT_MAXSIZE,
               overflow: "Literal['drop_oldest', 'raise']" = "drop_oldest") -> EventStream[VarEvent]: ...

    def events(self, *names: str, maxsize: int = DEFAULT_MAXSIZE, overflow: str = "drop_oldest") -> EventStream[Any]:
        """An async iterator of session events (no names) or of ``VarEvent(name, value)`` for the vars named;
        bounded by ``maxsize`` with the ``overflow`` policy of the module docstring."""
        if self.closed:
            raise ManagerClosed("events: the manager is closed (close() was called)")
        stream: EventStream[Any] = EventStream(maxsize, overflow)
        ref = weakref.ref(stream)  # the subscription must not keep a dropped stream alive

        def relay(name: Optional[str]) -> Callable[[Any], None]:
            def push(value: Any) -> None:
                target = ref()
                if target is not None:
                    target._push(value if name is None else VarEvent(name, value))
            return push
        if not names:
            stream._unsubscribers.append(self.subscribe("session_event", relay(None)))
        else:
            for name in dict.fromkeys(names):  # each var once, in the order given
                stream._unsubscribers.append(self.subscribe(name, relay(name)))  # type: ignore[call-overload]
        streams = getattr(self, "_streams", None)
        if streams is None:
            streams = self._streams = weakref.WeakSet()
        streams.add(stream)
        return stream

    def _end_streams(self) -> None:
        """End every open ``events()`` iteration (the manager closed)."""
        for stream in list(getattr(self, "_streams", ())):
            stream._end()

    async def wait_ready(self, timeout_s: Optional[float] = None) -> None:
        """Return once the manager is ready (cmds are served; the ``ready`` var was published).

        Someone must tick the manager meanwhile (a ``Runner``). ``timeout_s`` None waits without limit;
        otherwise ``asyncio.TimeoutError`` after that long. ``ManagerClosed`` if the manager is or gets closed.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + float(timeout_s)
        ready = asyncio.Event()

        def on_ready(value: bool) -> None:
            if value:
                loop.call_soon_threadsafe(ready.set)
        unsubscribe = self.subscribe("ready", on_ready)
        try:
            while not self.ready:
                if self.closed:
                    raise ManagerClosed("wait_ready: the manager is closed (close() was called)")
                # look again at least every 0.5 s: close() publishes nothing a waiter would hear
                wait_s = 0.5 if deadline is None else min(0.5, deadline - loop.time())
                if wait_s <= 0:
                    raise asyncio.TimeoutError(f"wait_ready: the manager was not ready within {timeout_s} s")
                try:
                    await asyncio.wait_for(ready.wait(), wait_s)
                except asyncio.TimeoutError:
                    pass
        finally:
            unsubscribe()


__all__ = ["AsyncApi", "EventStream", "EventsOverflow", "VarEvent"]
