"""Clocks handed to the state machine: it never reads time by itself.

A clock gives monotonic milliseconds (timers, limit validity, the 5 s PWM rule)
and wall-clock seconds (the seed's ``timestamp`` fields).
"""
from __future__ import annotations

import time


class Clock:
    """The real clock: ``time.monotonic`` and ``time.time``."""

    def monotonic_ms(self) -> float:
        """Monotonic time in milliseconds."""
        return time.monotonic() * 1000.0

    def wall_s(self) -> float:
        """Wall-clock Unix time in seconds."""
        return time.time()


class ManualClock(Clock):
    """A clock that only moves when told to; for tests and the simulator."""

    def __init__(self, start_ms: float = 0.0, wall_start_s: float = 1_767_225_600.0) -> None:
        self._now_ms = float(start_ms)
        self._wall0_s = float(wall_start_s) - self._now_ms / 1000.0

    def monotonic_ms(self) -> float:
        """The current manual time in milliseconds."""
        return self._now_ms

    def wall_s(self) -> float:
        """Wall time that advances together with the monotonic time."""
        return self._wall0_s + self._now_ms / 1000.0

    def advance_ms(self, delta_ms: float) -> float:
        """Move time forward by ``delta_ms`` (must be >= 0) and return the new time."""
        if delta_ms < 0:
            raise ValueError(f"delta_ms must be >= 0, got {delta_ms}")
        self._now_ms += delta_ms
        return self._now_ms

    def set_ms(self, now_ms: float) -> None:
        """Jump to an absolute monotonic time (never backwards)."""
        if now_ms < self._now_ms:
            raise ValueError(f"time cannot go backwards: {now_ms} < {self._now_ms}")
        self._now_ms = float(now_ms)


class ScaledClock(Clock):
    """A real clock running ``factor`` times faster than wall time (simulations over a serial link)."""

    def __init__(self, factor: float = 1.0) -> None:
        if not factor > 0:
            raise ValueError(f"factor must be > 0, got {factor}")
        self.factor = float(factor)
        self._t0_mono = time.monotonic()
        self._t0_wall = time.time()

    def monotonic_ms(self) -> float:
        """Scaled monotonic time in milliseconds since construction."""
        return (time.monotonic() - self._t0_mono) * 1000.0 * self.factor

    def wall_s(self) -> float:
        """Scaled wall time: starts at the real time, runs ``factor`` times faster."""
        return self._t0_wall + (time.monotonic() - self._t0_mono) * self.factor


__all__ = ["Clock", "ManualClock", "ScaledClock"]
