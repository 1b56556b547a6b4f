"""Real-time driver of an :class:`~evsefast.manager.EvseManager`.

The manager is deterministic and never sleeps; the runner gives it time.  It sleeps until the
manager's next deadline (``next_deadline_ms``) or until input arrives -- board threads and cmds wake
it at once -- and then calls ``tick()``.  There is no fixed polling period.

From threads::

    runner = Runner(mgr)
    runner.start()          # starts the manager and a daemon thread
    ...
    runner.stop()

From asyncio::

    async with Runner(mgr):
        await mgr.wait_ready()
        async for ev in mgr.events():   # session events, consumed on the event loop
            ...                         # cmds may be called from here or from other threads
    # or: await Runner(mgr)  -- runs until stop() is called

cmds are safe from any thread and from the event loop: the manager serialises them with one lock.
The runner does not close the manager: ``with EvseManager(...) as mgr`` or ``mgr.close()`` does.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any, Generator, Optional

if TYPE_CHECKING:
    from .manager import EvseManager

__all__ = ["Runner"]

log = logging.getLogger("evsefast.runner")


class Runner:
    """Ticks ``manager`` when input arrives and at its deadlines (threads or asyncio)."""

    def __init__(self, manager: "EvseManager", *, max_sleep_s: float = 1.0) -> None:
        """``max_sleep_s`` bounds one sleep (a safety net against clock jumps; not a polling period)."""
        self.manager = manager
        self.max_sleep_s = float(max_sleep_s)
        self._stop = False
        self._event = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._aevent: Optional[asyncio.Event] = None
        self._task: "Optional[asyncio.Task[None]]" = None

    def _sleep_s(self) -> float:
        mgr = self.manager
        deadline = mgr.next_deadline_ms()
        if deadline is None:
            return self.max_sleep_s
        clock = mgr.clock
        wait_ms = deadline - clock.monotonic_ms()
        if wait_ms <= 0:
            # right after a tick every due timer has fired; a deadline still in the past would be a
            # bug -- yield briefly instead of spinning
            return 0.001
        wait_s = wait_ms / 1000.0 / getattr(clock, "factor", 1.0)
        return min(wait_s, self.max_sleep_s)

    def _tick(self) -> None:
        try:
            self.manager.tick()
        except Exception:  # noqa: BLE001 - the manager never raises; keep running regardless
            log.exception("tick raised")

    # -- threads ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the manager and a daemon thread that drives it."""
        if self._thread is not None:
            return
        self._stop = False
        self.manager.set_waker(self._event.set)
        self.manager.start()
        self._thread = threading.Thread(target=self._thread_loop, name="evsefast-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop driving (threads: join the thread; asyncio: end ``run``)."""
        self._stop = True
        self._event.set()
        if self._aevent is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._aevent.set)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            self._thread = None
            self.manager.set_waker(None)

    def _thread_loop(self) -> None:
        event = self._event
        while not self._stop:
            self._tick()
            sleep = self._sleep_s()
            if sleep > 0:
                event.wait(sleep)
            event.clear()

    def __enter__(self) -> "Runner":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- asyncio ---------------------------------------------------------------------------------
    _loop: Optional[asyncio.AbstractEventLoop] = None

    async def run(self) -> None:
        """Drive the manager from the running event loop until ``stop()``."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._aevent = event = asyncio.Event()
        self._stop = False
        self.manager.set_waker(lambda: loop.call_soon_threadsafe(event.set))
        self.manager.start()
        try:
            while not self._stop:
                self._tick()
                sleep = self._sleep_s()
                if sleep > 0:
                    try:
                        await asyncio.wait_for(event.wait(), sleep)
                    except asyncio.TimeoutError:
                        pass
                else:
                    await asyncio.sleep(0)
                event.clear()
        finally:
            self.manager.set_waker(None)
            self._aevent = None

    def __await__(self) -> Generator[Any, None, None]:
        return self.run().__await__()

    async def __aenter__(self) -> "Runner":
        self._task = asyncio.get_running_loop().create_task(self.run())
        await asyncio.sleep(0)  # let run() install the waker and start the manager
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.stop()
        if self._task is not None:
            await self._task
            self._task = None
