"""The consumer API's liveness: ``communication_check`` from the client, as EVerest's CommCheckHandler
(everest_api_types/utilities/CommCheckHandler.hpp:77-126, wire_protocols.md §2.1).

At start the check raises ``generic/CommunicationFault`` with sub_type ``Initial communication check``;
the client's ``true`` clears it; no ``true`` for ``timeout_s`` raises it again with the default
sub_type; ``false`` ends checking (and clears).  ``timeout_s`` <= 0 disables the check.
Time is handed in (``now_ms``), nothing here reads a clock.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

__all__ = ["CommCheck", "ERROR_TYPE", "INITIAL_SUB_TYPE", "TIMEOUT_SUB_TYPE"]

ERROR_TYPE = "generic/CommunicationFault"
INITIAL_SUB_TYPE = "Initial communication check"
TIMEOUT_SUB_TYPE = "Bridge to implementation connection lost"

#: a change to report: ("raise" | "clear", sub_type)
Change = Tuple[str, str]


class CommCheck:
    """The state machine; each method returns the raise/clear changes to report, in order."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_ms = float(timeout_s) * 1000.0
        self.active = timeout_s > 0
        self.fault: Optional[str] = None  # the raised sub_type, if any
        self.last_ms = -math.inf

    def start(self, now_ms: float) -> List[Change]:
        """Begin checking: the initial fault."""
        if not self.active:
            return []
        self.last_ms = now_ms
        return self._raise(INITIAL_SUB_TYPE)

    def on_value(self, value: bool, now_ms: float) -> List[Change]:
        """The client's ``communication_check`` value."""
        if not self.active:
            return []
        self.last_ms = now_ms
        out = self._clear()
        if not value:
            self.active = False
        return out

    def check(self, now_ms: float) -> List[Change]:
        """Called at ``deadline_ms``: raise on a timeout."""
        if self.active and self.fault is None and now_ms - self.last_ms >= self.timeout_ms:
            return self._raise(TIMEOUT_SUB_TYPE)
        return []

    def deadline_ms(self) -> float:
        """When ``check`` may next raise (+inf if nothing is pending)."""
        if not self.active or self.fault is not None:
            return math.inf
        return self.last_ms + self.timeout_ms

    def _raise(self, sub_type: str) -> List[Change]:
        self.fault = sub_type
        return [("raise", sub_type)]

    def _clear(self) -> List[Change]:
        if self.fault is None:
            return []
        sub, self.fault = self.fault, None
        return [("clear", sub)]
