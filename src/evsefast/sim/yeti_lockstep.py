"""Lockstep over a real serial link: a virtual Yeti MCU whose time moves only when the host says so.

``evsefast simulate --board yeti`` without ``--speed`` runs the manager, the ``YetiBoard`` driver
and a virtual Yeti MCU in one process, with the frames going through a real pty. In real time a
30-minute session takes 30 minutes, and at a high ``--speed`` the MCU's physics fall behind the
host's clock. Lockstep removes both problems: the simulated clock is the MCU hardware's own
time, and it advances only once both ends have handled every frame:

1. the host ticks the manager (board commands are written to the pty);
2. :meth:`LockstepYetiMcu.step_to` waits until the MCU has read and applied every host frame
   (``host_frames``, the driver's ``tx_frames``), then runs the hardware up to the target time or
   its first event and writes the reports;
3. :class:`HostTap` waits until the driver has read and dispatched every byte the MCU wrote
   (the MCU's ``tx_bytes``); the manager's clock jumps to the hardware's time and it ticks again.

So the session runs as fast as the pty round trips allow, never behind and never ahead, and the
host reacts to each hardware event at the event's simulated time, as in the in-process simulator.
A wait that does not complete within ``timeout_s`` of real time is counted in ``stalls`` (the run
goes on; a stall means frames were lost on the link).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, List, Optional, Tuple

from .virtual_yeti import VirtualYetiMcu

TimedEvent = Tuple[float, Tuple[Any, ...]]


class LockstepYetiMcu(VirtualYetiMcu):
    """A :class:`VirtualYetiMcu` driven by :meth:`step_to` instead of the real clock.

    Its thread only answers the host (reset handshake, commands); the hardware moves in
    :meth:`step_to`. ``on_events(events)`` is called with each step's ``(t_ms, event)`` pairs while
    the MCU's lock is held (so a safety checker sees events and host commands in order).
    """

    def __init__(self, hardware: Any, *, on_events: Optional[Callable[[List[TimedEvent]], None]] = None,
                 timeout_s: float = 2.0, **options: Any) -> None:
        options.pop("speed", None)
        super().__init__(hardware, speed=1.0, **options)
        self.on_events = on_events
        self.timeout_s = float(timeout_s)
        self.stalls = 0
        self._step_lock = threading.RLock()
        self._next_ka_ms = 0.0
        self._silence_end_ms: Optional[float] = None

    def _main(self) -> None:
        import select

        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self._master], [], [], 0.05)
            except (OSError, ValueError):
                return
            if readable:
                with self._step_lock:
                    self._read_host()
                    self._run_calls()

    def _host_frames_seen(self) -> int:
        return self.stats.frames + self.stats.dropped

    def step_to(self, t_ms: float, host_frames: int) -> List[TimedEvent]:
        """Wait for ``host_frames`` host frames, then run the hardware to ``t_ms`` or its first event;
        returns the step's events as ``(t_ms, event)``."""
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while self._host_frames_seen() < host_frames:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stalls += 1
                    break
                self._cond.wait(min(left, 0.005))
        with self._step_lock:
            self._run_calls()
            if not self.running:
                return []
            hw = self.hardware
            events = hw.advance_timed(max(0.0, t_ms - hw.t_ms), stop_on_event=True)
            if self.on_events is not None:
                self.on_events(events)
            for _, ev in events:
                self._on_hw(ev)
            self._after_advance()
            if self._silence_end_ms is not None and hw.t_ms >= self._silence_end_ms:
                self._silence_end_ms = None
                self.resume()
            if hw.t_ms >= self._next_ka_ms:  # a keep-alive every simulated second
                self._keep_alive()
                self._next_ka_ms = hw.t_ms + 1000.0 * self.keepalive_interval_s
            return events

    def _inject(self, kind: str, arg: Any) -> None:
        if kind == "silence" and arg not in (None, ""):  # simulated seconds, not real ones
            self.silence(None)
            self._silence_end_ms = self.hardware.t_ms + 1000.0 * float(arg)
            return
        super()._inject(kind, arg)


class HostTap:
    """Counts the bytes a ``YetiBoard`` has read *and dispatched* (its ``feed`` wrapped on the instance)."""

    def __init__(self, board: Any, timeout_s: float = 2.0) -> None:
        self.board = board
        self.timeout_s = float(timeout_s)
        self.bytes_done = 0
        self.stalls = 0
        self._cond = threading.Condition()
        feed = board.feed

        def counted_feed(data: bytes) -> None:
            try:
                feed(data)
            finally:
                with self._cond:
                    self.bytes_done += len(data)
                    self._cond.notify_all()
        board.feed = counted_feed

    def wait_for(self, n_bytes: int) -> bool:
        """Block until ``n_bytes`` have been dispatched (False and a stall after ``timeout_s``)."""
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while self.bytes_done < n_bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stalls += 1
                    return False
                self._cond.wait(left)
        return True


__all__ = ["HostTap", "LockstepYetiMcu"]
