"""Message counters and call latencies of one or many charge points (the ``--count`` summary)."""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Optional

__all__ = ["Stats", "percentile"]


def percentile(values: List[float], q: float) -> Optional[float]:
    """The ``q`` (0..100) percentile by nearest rank; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * (len(s) - 1)))))
    return s[k]


class Stats:
    """Counts of CALLs sent and received per action, CALLERRORs, timeouts, connects, transactions
    started, and the round-trip time of every CALL this charge point sent (seconds)."""

    def __init__(self) -> None:
        self.sent: Counter = Counter()
        self.received: Counter = Counter()
        self.errors: Counter = Counter()
        self.latencies_s: List[float] = []
        self.connects = 0
        self.connect_failures = 0
        self.transactions = 0

    def merge(self, others: Iterable["Stats"]) -> "Stats":
        """Add the counts of ``others`` to this one; returns self."""
        for o in others:
            self.sent.update(o.sent)
            self.received.update(o.received)
            self.errors.update(o.errors)
            self.latencies_s.extend(o.latencies_s)
            self.connects += o.connects
            self.connect_failures += o.connect_failures
            self.transactions += o.transactions
        return self

    @property
    def messages(self) -> int:
        """CALLs sent plus CALLs received."""
        return sum(self.sent.values()) + sum(self.received.values())

    def summary(self) -> Dict[str, object]:
        """A JSON-ready summary."""
        lat = self.latencies_s
        return {
            "calls_sent": dict(sorted(self.sent.items())),
            "calls_received": dict(sorted(self.received.items())),
            "errors": dict(sorted(self.errors.items())),
            "messages": self.messages,
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "transactions": self.transactions,
            "latency_ms": {"p50": _ms(percentile(lat, 50)), "p99": _ms(percentile(lat, 99)),
                           "max": _ms(max(lat) if lat else None), "n": len(lat)},
        }


def _ms(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x * 1000.0, 3)
