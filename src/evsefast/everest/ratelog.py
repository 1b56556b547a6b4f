"""A logger that says a repeated warning a few times per window, then how many it held back.

A flood of bad messages (10,000 malformed cmds) must neither fill the log nor cost much: the first
``burst`` warnings of each ``window_s`` are logged, the rest only counted and summarised once.
"""
from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """``warning(msg, *args)`` at most ``burst`` times per ``window_s`` seconds."""

    def __init__(self, logger: logging.Logger, prefix: str = "", *, burst: int = 10, window_s: float = 60.0) -> None:
        self.logger = logger
        self.prefix = f"{prefix}: " if prefix else ""
        self.burst = int(burst)
        self.window_s = float(window_s)
        self._window_start = -1e18
        self._count = 0
        self.suppressed_total = 0

    def warning(self, msg: str, *args: Any) -> None:
        """Log (or count) one warning."""
        now = time.monotonic()
        if now - self._window_start >= self.window_s:
            held = self._count - self.burst
            if held > 0:
                self.logger.warning("%s%d more like this in the last %.0f s were not logged",
                                    self.prefix, held, self.window_s)
            self._window_start = now
            self._count = 0
        self._count += 1
        if self._count <= self.burst:
            self.logger.warning(self.prefix + msg, *args)
        else:
            self.suppressed_total += 1
