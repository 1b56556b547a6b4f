"""``ManagerDriver``: one thread that owns an ``EvseManager`` (and its board) in real time.

Everything that touches the manager runs on this thread, in order: jobs handed over from other
threads (MQTT cmds, limits from the site balancer), the simulated board's physics (``step``), the
manager's ``tick`` at its deadlines, then the hooks that look at the result (vars already went out
through subscriptions; the EVerest module compares errors and the core state there).  A board's own
threads (a serial reader) only queue input, which wakes the driver through the manager's waker.

The loop sleeps until the earliest of: the manager's next deadline, the next ``step_ms`` of a
simulated board, a deadline source's time (``add_deadline``), a job, or board input.  A failing
job or hook is logged and the loop goes on: nothing here may stop a charger.
"""
from __future__ import annotations

import logging
import math
import threading
from collections import deque
from typing import Any, Callable, Deque, List, Optional

__all__ = ["ManagerDriver"]

log = logging.getLogger("evsefast.everest.driver")

_INF = math.inf


class _Sync:
    __slots__ = ("event", "result", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None


class ManagerDriver:
    """Drives ``manager`` on a thread named ``name``; see the module docstring.

    ``time_ms`` is the manager's time base read in real time (default ``manager.clock.monotonic_ms``);
    ``step(now_ms)`` advances a simulated board to ``now_ms`` (called every ``step_ms``).
    """

    def __init__(self, manager, *, name: str = "evsefast-driver", time_ms: Optional[Callable[[], float]] = None,
                 step: Optional[Callable[[float], None]] = None, step_ms: float = 100.0,
                 max_sleep_ms: float = 1000.0) -> None:
        self.manager = manager
        self.name = name
        self.time_ms = time_ms if time_ms is not None else manager.clock.monotonic_ms
        self.step = step
        self.step_ms = float(step_ms)
        self.max_sleep_ms = float(max_sleep_ms)
        self._jobs: Deque[Callable[[], None]] = deque()
        self._event = threading.Event()
        self._hooks: List[Callable[[float], None]] = []
        self._deadlines: List[Callable[[], float]] = []
        self._thread: Optional[threading.Thread] = None
        self._stop = False
        self._next_step = -_INF
        self.manager_started = False
        self.passes = 0

    # -- wiring ----------------------------------------------------------------------------------
    def add_hook(self, hook: Callable[[float], None]) -> None:
        """Call ``hook(now_ms)`` after every pass (on the driver thread)."""
        self._hooks.append(hook)

    def add_deadline(self, source: Callable[[], float]) -> None:
        """Wake no later than ``source()`` (ms in the manager's time base; +inf for never)."""
        self._deadlines.append(source)

    def wake(self) -> None:
        """Run a pass soon (thread-safe)."""
        self._event.set()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job()`` on the driver thread (thread-safe, in submission order)."""
        self._jobs.append(job)
        self._event.set()

    def run_sync(self, fn: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        """Run ``fn()`` on the driver thread and return its result (or raise its exception)."""
        if threading.current_thread() is self._thread or self._thread is None:
            return fn()
        box = _Sync()

        def job() -> None:
            try:
                box.result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box.error = exc
            finally:
                box.event.set()
        self.submit(job)
        if not box.event.wait(timeout_s):
            raise TimeoutError(f"{self.name}: no answer within {timeout_s:g} s")
        if box.error is not None:
            raise box.error
        return box.result

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, start_manager: bool = True) -> None:
        """Start the thread; the manager is started now, or later by ``start_manager()``."""
        if self._thread is not None:
            return
        self._stop = False
        self.manager.set_waker(self._event.set)
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        if start_manager:
            self.start_manager()

    def start_manager(self) -> None:
        """Start the manager on the driver thread (idempotent)."""
        def job() -> None:
            if not self.manager_started:
                self.manager_started = True
                self.manager.start()
        self.submit(job)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread after the pass in progress (queued jobs still run)."""
        thread = self._thread
        if thread is None:
            return
        self._stop = True
        self._event.set()
        if thread is not threading.current_thread():
            thread.join(timeout_s)
        self._thread = None
        self.manager.set_waker(None)

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None

    def tick(self) -> None:
        """Tick the manager if it was started (for boards that deliver events inside ``step``)."""
        if self.manager_started:
            self.manager.tick()

    # -- the loop --------------------------------------------------------------------------------
    def _pass(self) -> None:
        now = self.time_ms()
        jobs = self._jobs
        # a simulated board is brought to the present before a job acts on it, and every step_ms
        if self.step is not None and (now >= self._next_step or jobs):
            self._next_step = now + self.step_ms
            self._guard(self.step, now)
        while jobs:
            self._guard(jobs.popleft())
        if self.manager_started:
            self._guard(self.manager.tick)
        for hook in self._hooks:
            self._guard(hook, now)
        self.passes += 1

    def _sleep_ms(self) -> float:
        now = self.time_ms()
        wake = now + self.max_sleep_ms
        if self.step is not None and self._next_step < wake:
            wake = self._next_step
        if self.manager_started:
            d = self.manager.next_deadline_ms()
            if d is not None and d < wake:
                wake = d
        for source in self._deadlines:
            try:
                d = source()
            except Exception:  # noqa: BLE001
                log.exception("%s: deadline source raised", self.name)
                continue
            if d < wake:
                wake = d
        # right after a pass every due item has run; a deadline still in the past would be a bug:
        # yield a millisecond instead of spinning
        return max(1.0, wake - now)

    def _loop(self) -> None:
        event = self._event
        while not self._stop:
            self._pass()
            if self._stop:
                break
            sleep_ms = self._sleep_ms()
            if not self._jobs:
                event.wait(sleep_ms / 1000.0)
            event.clear()
        # jobs queued before stop() still run (the shutdown sequence relies on it)
        while self._jobs:
            self._guard(self._jobs.popleft())

    def _guard(self, fn: Callable, *args) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - log and keep driving
            log.exception("%s: %r raised", self.name, fn)
