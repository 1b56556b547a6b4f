"""The composite schedule of a connector: a pure function of the installed profiles and a time window.

Rules (S16 §3.13.2-3.13.4, E16 §3.8, §3.34, §3.68; libocpp's algorithm, spec/ocpp.md §3.1-3.2):

* each profile yields entries ``[start, end)`` per schedule period and occurrence -- Absolute from
  ``startSchedule``; Recurring every 24 h / 7 d from ``startSchedule`` (never before it), an occurrence
  lasting ``duration`` or until the next one; Relative from the transaction start (the window start
  without a transaction).  A period lasts until the next period, the schedule's ``duration`` or the
  next occurrence; the last period holds until then.  Entries are cut to ``[validFrom, validTo)``.
* within one purpose the entry with the highest ``stackLevel`` covering an instant wins; for
  TxDefault a connector's own profile beats a connector-0 profile of the same level; where nothing
  covers an instant there is no limit from that purpose.
* TxProfile overrides TxDefault; the result is combined with the Max (and External) profiles by
  the minimum, after converting every limit to the requested unit with ``voltage_V x numberPhases``
  (numberPhases absent -> ``default_phases``, 3).
"""
from __future__ import annotations

import math
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

from .profile import RECURRENCE_S, ChargingProfile, SchedulePeriod

__all__ = ["CompositePeriod", "composite_schedule", "convert_limit", "floor_tenth", "limit_at", "station_schedule"]

_INF = math.inf


class CompositePeriod(NamedTuple):
    """A composite period: from ``start_s`` after the window start; ``limit`` None = unconstrained."""

    start_s: int
    limit: Optional[float]
    phases: Optional[int]


class _Entry(NamedTuple):
    start: float
    end: float
    rank: Tuple[int, int]  # (stack level, connector-specific?)
    limit: float
    unit: str
    phases: Optional[int]


def floor_tenth(x: float) -> float:
    """Round down to a multiple of 0.1 (OCPP 1.6 limits are ``multipleOf 0.1``), robust to float noise."""
    return math.floor(x * 10.0 + 1e-6) / 10.0


def convert_limit(limit: float, from_unit: str, to_unit: str, phases: Optional[int], voltage_V: float,
                  default_phases: int = 3) -> float:
    """A limit in ``to_unit``: A per phase <-> W total over ``phases`` (default 3) at ``voltage_V``."""
    if from_unit == to_unit:
        return limit
    n = phases if phases else default_phases
    if to_unit == "A":
        return limit / (voltage_V * n)
    return limit * voltage_V * n


def _occurrences(p: ChargingProfile, w0: float, w1: float, tx_start: Optional[float]) -> List[Tuple[float, float]]:
    """``(occurrence start, occurrence end)`` pairs that may overlap the window."""
    dur = _INF if p.duration_s is None else float(p.duration_s)
    if p.kind == "Relative":
        s = float(tx_start) if tx_start is not None else w0
        return [(s, s + dur)]
    if p.kind == "Absolute":
        s = float(p.start_schedule)
        return [(s, s + dur)]
    period = RECURRENCE_S[p.recurrency]
    s0 = float(p.start_schedule)
    k = 0 if w0 <= s0 else int((w0 - s0) // period)
    out = []
    while True:
        s = s0 + k * period
        if s >= w1:
            break
        out.append((s, s + min(dur, period)))
        k += 1
    return out


def _entries(p: ChargingProfile, connector_id: int, w0: float, w1: float, tx_start: Optional[float]) -> List[_Entry]:
    lo = -_INF if p.valid_from is None else float(p.valid_from)
    hi = _INF if p.valid_to is None else float(p.valid_to)
    rank = (p.stack_level, 1 if p.connector_id == connector_id and connector_id != 0 else 0)
    periods: Sequence[SchedulePeriod] = p.periods
    out = []
    for occ, occ_end in _occurrences(p, w0, w1, tx_start):
        for i, per in enumerate(periods):
            a = occ + per.start_s
            b = occ + periods[i + 1].start_s if i + 1 < len(periods) else _INF
            b = min(b, occ_end)
            a, b = max(a, lo, w0), min(b, hi, w1)
            if a < b:
                out.append(_Entry(a, b, rank, per.limit, p.unit, per.phases))
    return out


def _winner(entries: Sequence[_Entry], t: float) -> Optional[_Entry]:
    best = None
    for e in entries:
        if e.start <= t < e.end and (best is None or e.rank > best.rank):
            best = e
    return best


def _layers(profiles: Iterable[ChargingProfile], connector_id: int, w0: float, w1: float,
            tx_start: Optional[float], tx_active: bool):
    mx, ext, txd, tx = [], [], [], []
    for p in profiles:
        if p.purpose == "Max":
            mx += _entries(p, connector_id, w0, w1, tx_start)
        elif p.purpose == "External" and p.connector_id in (0, connector_id):
            ext += _entries(p, connector_id, w0, w1, tx_start)
        elif p.purpose == "TxDefault" and p.connector_id in (0, connector_id):
            txd += _entries(p, connector_id, w0, w1, tx_start)
        elif p.purpose == "Tx" and tx_active and p.connector_id == connector_id and connector_id != 0:
            tx += _entries(p, connector_id, w0, w1, tx_start)
    return mx, ext, txd, tx


def _boundaries(w0: float, w1: float, *layers) -> List[float]:
    pts = {w0}
    for layer in layers:
        for e in layer:
            pts.add(e.start)
            pts.add(e.end)
    return sorted(x for x in pts if w0 <= x < w1)


def _dedupe(raw: List[Tuple[float, Optional[float], Optional[int]]]) -> List[Tuple[float, Optional[float], Optional[int]]]:
    out: List[Tuple[float, Optional[float], Optional[int]]] = []
    for item in raw:
        if out and out[-1][1] == item[1] and out[-1][2] == item[2]:
            continue
        out.append(item)
    return out


def _merge(raw: List[Tuple[float, Optional[float], Optional[int]]], w0: float) -> List[CompositePeriod]:
    return [CompositePeriod(int(round(t - w0)), limit, phases) for t, limit, phases in _dedupe(raw)]


def _combine(entries: Sequence[Optional[_Entry]], unit: str, voltage_V: float, default_phases: int):
    given = [e for e in entries if e is not None]
    if not given:
        return None, None
    limit = min(convert_limit(e.limit, e.unit, unit, e.phases, voltage_V, default_phases) for e in given)
    phases = [e.phases for e in given if e.phases is not None]
    return limit, (min(phases) if phases else None)


def composite_schedule(profiles: Iterable[ChargingProfile], connector_id: int, start_s: float, duration_s: float, *,
                       unit: str = "A", tx_start_s: Optional[float] = None, tx_active: bool = True,
                       voltage_V: float = 230.0, default_phases: int = 3,
                       include_max: bool = True) -> List[CompositePeriod]:
    """The composite schedule of connector ``connector_id`` (> 0) for ``[start_s, start_s + duration_s)``.

    Limits are in ``unit`` and not rounded; ``None`` where no profile constrains the connector.
    ``tx_active`` False leaves TxProfiles out (they only apply during a transaction).
    """
    w0 = float(start_s)
    return _merge(_raw(profiles, connector_id, w0, w0 + float(duration_s), unit, tx_start_s, tx_active, voltage_V,
                       default_phases, include_max), w0)


def _raw(profiles, connector_id, w0, w1, unit, tx_start_s, tx_active, voltage_V, default_phases, include_max):
    mx, ext, txd, tx = _layers(list(profiles), connector_id, w0, w1, tx_start_s, tx_active)
    if not include_max:
        mx, ext = [], []
    raw = []
    for t in _boundaries(w0, w1, mx, ext, txd, tx):
        tx_e = _winner(tx, t) or _winner(txd, t)
        limit, phases = _combine((tx_e, _winner(mx, t), _winner(ext, t)), unit, voltage_V, default_phases)
        raw.append((t, limit, phases))
    return _dedupe(raw)


def station_schedule(profiles: Iterable[ChargingProfile], connectors: int, start_s: float, duration_s: float, *,
                     unit: str = "A", default_limit: float, tx_starts=None, voltage_V: float = 230.0,
                     default_phases: int = 3) -> List[CompositePeriod]:
    """Connector 0: the expected total of all connectors (each unconstrained one at ``default_limit``),
    capped by the charge point's Max and External profiles (E16 §3.30)."""
    profiles = list(profiles)
    w0, w1 = float(start_s), float(start_s) + float(duration_s)
    per = [composite_schedule(profiles, c, start_s, duration_s, unit=unit,
                              tx_start_s=(tx_starts or {}).get(c), voltage_V=voltage_V,
                              default_phases=default_phases, include_max=False) for c in range(1, connectors + 1)]
    mx, ext, _, _ = _layers(profiles, 0, w0, w1, None, False)
    pts = set(_boundaries(w0, w1, mx, ext))
    for sched in per:
        pts.update(w0 + p.start_s for p in sched)
    raw = []
    for t in sorted(pts):
        total = 0.0
        for sched in per:
            cur = None
            for p in sched:
                if w0 + p.start_s <= t:
                    cur = p
            total += default_limit if cur is None or cur.limit is None else cur.limit
        cap, phases = _combine((_winner(mx, t), _winner(ext, t)), unit, voltage_V, default_phases)
        raw.append((t, total if cap is None else min(total, cap), phases))
    return _merge(raw, w0)


def limit_at(profiles: Iterable[ChargingProfile], connector_id: int, now_s: float, *, unit: str = "A",
             tx_start_s: Optional[float] = None, tx_active: bool = True, voltage_V: float = 230.0,
             default_phases: int = 3, horizon_s: float = 8 * 86400) -> Tuple[Optional[float], Optional[int],
                                                                              Optional[float]]:
    """``(limit, phases, next_change_s)`` at ``now_s``: the composite's current period and when the next
    one begins (None if nothing changes within ``horizon_s``)."""
    raw = _raw(profiles, connector_id, float(now_s), float(now_s) + horizon_s, unit, tx_start_s, tx_active,
               voltage_V, default_phases, True)
    if not raw:
        return None, None, None
    _, limit, phases = raw[0]
    return limit, phases, (raw[1][0] if len(raw) > 1 else None)
