"""The site balancer's arithmetic: share a per-phase grid limit among charging connectors.

``allocate(limit_A, demands, min_A)`` is a pure function (no clock, no I/O), property-tested:

* phase-aware: a connector loads only the phases it uses (its wiring rotation, as many as it has
  active), and for every phase the sum of the allocations of the connectors on it is at most
  ``limit_A``;
* every demanding connector gets at least ``min_A`` (6 A: IEC 61851's least PWM current) or 0 A
  (paused), in order of arrival: the earliest demands are admitted first, as SmartEVSE's load
  balancing does;
* the admitted connectors then share the rest fairly (progressive filling: all rise together until
  a phase is full or a connector reaches its own maximum), in steps of ``resolution_A`` rounded down,
  so rounding can never push a phase over the limit;
* ``limit_A`` None: no site limit, everyone gets their own maximum.
"""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

__all__ = ["Demand", "allocate", "phase_load", "phases_of"]

_EPS = 1e-9


class Demand(NamedTuple):
    """A connector that wants power: ``phases`` are grid phase indices (0=L1, 1=L2, 2=L3)."""

    key: str
    phases: Tuple[int, ...]
    max_A: float
    since: float  # when it started demanding (earlier = admitted first)


def phases_of(wiring: str, active: int) -> Tuple[int, ...]:
    """The grid phases a connector wired as ``wiring`` ("L2L3L1", "L1", ...) loads with ``active``
    phases in use (a 1-phase car on a 3-phase connector loads the rotation's first phase)."""
    wired = tuple(int(wiring[i + 1]) - 1 for i in range(0, len(wiring), 2))
    n = min(max(int(active), 1), len(wired))
    return wired[:n]


def phase_load(alloc: Dict[str, float], demands: Iterable[Demand]) -> List[float]:
    """The allocated current on L1, L2, L3."""
    load = [0.0, 0.0, 0.0]
    for d in demands:
        a = alloc.get(d.key, 0.0)
        for p in d.phases:
            load[p] += a
    return load


def allocate(limit_A: Optional[float], demands: Sequence[Demand], min_A: float = 6.0) -> Dict[str, float]:
    """key -> amps (0 = paused) for every demand; see the module docstring.

    The arithmetic is done in whole tenths of an ampere (integers), so no float rounding can put a
    phase over the limit: every result is a multiple of 0.1 A.
    """
    if limit_A is None:
        return {d.key: float(d.max_A) if d.max_A >= min_A else 0.0 for d in demands}
    limit = int(math.floor(float(limit_A) * 10 + _EPS))
    lo = int(math.ceil(float(min_A) * 10 - _EPS))
    top = {d.key: int(math.floor(float(d.max_A) * 10 + _EPS)) for d in demands}
    order = sorted(demands, key=lambda d: (d.since, d.key))
    load = [0, 0, 0]
    admitted: List[Demand] = []
    out: Dict[str, int] = {}
    for d in order:
        if top[d.key] >= lo and all(load[p] + lo <= limit for p in d.phases):
            admitted.append(d)
            for p in d.phases:
                load[p] += lo
            out[d.key] = lo
        else:
            out[d.key] = 0
    # progressive filling above the minimum: everyone rises together
    rising = [d for d in admitted if out[d.key] < top[d.key]]
    while rising:
        count = [0, 0, 0]
        for d in rising:
            for p in d.phases:
                count[p] += 1
        step = min(top[d.key] - out[d.key] for d in rising)
        for p in range(3):
            if count[p]:
                step = min(step, (limit - load[p]) // count[p])
        if step > 0:
            for d in rising:
                out[d.key] += step
                for p in d.phases:
                    load[p] += step
        else:  # less than one tenth each is left somewhere: hand out single tenths in arrival order
            for d in rising:
                if out[d.key] < top[d.key] and all(load[p] < limit for p in d.phases):
                    out[d.key] += 1
                    for p in d.phases:
                        load[p] += 1
        rising = [d for d in rising if out[d.key] < top[d.key] and all(load[p] < limit for p in d.phases)]
    return {k: v / 10.0 for k, v in out.items()}
