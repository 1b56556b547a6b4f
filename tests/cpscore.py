"""Feeding a streaming classifier with a realistic CP stream (cpline.py) and scoring its decisions.

``score(...)`` compares the classifier's decisions with the truth: false and missed transitions,
decision latency per transition (limits: debounce_fast_ms + 2 blocks and 100 ms for every change
that removes power, debounce_slow_ms + 2 blocks for C/D), per-block and averaged duty error, false
and late diode-fault confirmations (a fault counts as confirmed once ``diode_fault_held_ms`` >=
``debounce_fast_ms``).  Test helper (needs numpy).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from cpline import POWER_STATES, Line, Stream

# ---- feeding a classifier ------------------------------------------------------------------------
@dataclass
class Run:
    """What the classifier said, block by block."""

    block_ms: float
    decisions: List[Tuple[float, str]]  # (t_ms, new state)
    duty: np.ndarray  # per block duty_pct
    pwm: np.ndarray  # per block PWM seen
    diode_confirmed: np.ndarray  # per block: diode_fault_held_ms >= debounce_fast_ms
    blocks: int


def feed(stream: Stream, clf, debounce_fast_ms: float) -> Run:
    """Feed ``stream`` block by block to ``clf`` (an ``evsefast.pilot.PilotClassifier``)."""
    line = stream.line
    n = len(stream.counts)
    nb = n // line.block_n
    buf = stream.counts
    k = clf.kernel
    decisions = []
    duty = np.empty(nb)
    pwm = np.zeros(nb, dtype=bool)
    diode = np.zeros(nb, dtype=bool)
    names = ("unknown", "A", "B", "C", "D", "E", "F", "invalid")
    for j in range(nb):
        t = (j + 1) * line.block_ms
        if k.feed_u16(memoryview(buf[j * line.block_n:(j + 1) * line.block_n]), t):
            decisions.append((t, names[k.state]))
        blk = k.block
        duty[j] = blk.duty_pct
        pwm[j] = bool(blk.pwm)
        diode[j] = k.diode_fault_active and k.diode_fault_held_ms >= debounce_fast_ms
    return Run(line.block_ms, decisions, duty, pwm, diode, nb)


# ---- the scorer ----------------------------------------------------------------------------------
@dataclass
class Score:
    false_transitions: List[Tuple[float, str]] = field(default_factory=list)
    missed: List[Tuple[float, str]] = field(default_factory=list)
    late: List[Tuple[float, str, float, float]] = field(default_factory=list)  # (t, state, latency, limit)
    latencies: List[Tuple[float, str, float]] = field(default_factory=list)
    duty_block_errors: List[Tuple[int, float, float]] = field(default_factory=list)  # (block, err, tol)
    duty_mean_errors: List[Tuple[float, float]] = field(default_factory=list)  # (t, mean error) > 0.5
    duty_max_mean_error: float = 0.0
    pwm_misreads: List[int] = field(default_factory=list)
    false_diode: List[float] = field(default_factory=list)
    diode_late: List[Tuple[float, float]] = field(default_factory=list)
    diode_latencies: List[float] = field(default_factory=list)

    def problems(self) -> dict:
        out = {k: getattr(self, k) for k in ("false_transitions", "missed", "late", "duty_block_errors",
                                               "duty_mean_errors", "pwm_misreads", "false_diode", "diode_late")
               if getattr(self, k)}
        return {k: v[:8] for k, v in out.items()}


def truth_changes(stream: Stream) -> List[Tuple[float, str, str]]:
    """(t_ms, new state, old state) for every change of the CP state, the first from 'unknown'."""
    out = []
    prev = "unknown"
    for t, seg in zip(stream.bounds_ms, stream.segments):
        if seg.state != prev:
            out.append((t, seg.state, prev))
            prev = seg.state
    return out


def duty_tolerance_pct(line: Line, outlier_samples: int) -> float:
    """The per-block duty resolution documented in evsefast._core.pilot: sampling (a sample per
    period), the triangular window's leakage and the outlier samples of the block."""
    t_pwm_us = 1e6 / line.pwm_hz
    t_block_us = line.block_n * line.sample_us
    return (100.0 * line.sample_us / t_pwm_us + 32.0 * (t_pwm_us / t_block_us) ** 2
            + 200.0 * outlier_samples / line.block_n)


def score(stream: Stream, run: Run, debounce_fast_ms: float, debounce_slow_ms: float) -> Score:
    sc = Score()
    line = stream.line
    bms = run.block_ms
    changes = truth_changes(stream)
    bounds = stream.bounds_ms
    decisions = list(run.decisions)
    used = set()
    for i, (t, state, old) in enumerate(changes):
        nxt = changes[i + 1][0] if i + 1 < len(changes) else bounds[-1]
        limit = (debounce_slow_ms if state in POWER_STATES else debounce_fast_ms) + 2 * bms
        if old in POWER_STATES and state not in POWER_STATES:
            limit = min(limit, 100.0)
        match = None
        for j, (td, sd) in enumerate(decisions):
            if j in used or td < t:
                continue
            if td > nxt + limit:
                break
            if sd == state:
                match = j
                break
        if match is None:
            sc.missed.append((t, state))
            continue
        used.add(match)
        lat = decisions[match][0] - t
        sc.latencies.append((t, state, lat))
        if lat > limit:
            sc.late.append((t, state, lat, limit))
    sc.false_transitions = [d for j, d in enumerate(decisions) if j not in used]
    # duty and PWM per block, inside steady segments (one block of margin on each side)
    outl = stream.outliers.reshape(-1, line.block_n).sum(axis=1)
    glitchy = stream.glitch.reshape(-1, line.block_n).any(axis=1)
    t_end = (np.arange(run.blocks) + 1) * bms
    t_start = t_end - bms
    for k, seg in enumerate(stream.segments):
        a, b = bounds[k] + bms, bounds[k + 1] - bms
        sel = np.nonzero((t_start >= a) & (t_end <= b) & ~glitchy)[0]
        if sel.size == 0:
            continue
        if seg.pwm():
            bad = sel[~run.pwm[sel]]
            sc.pwm_misreads.extend(int(x) for x in bad)
            errs = run.duty[sel] - seg.duty_pct
            for blk, err in zip(sel, errs):
                tol = duty_tolerance_pct(line, int(outl[blk]))
                if abs(err) > tol:
                    sc.duty_block_errors.append((int(blk), float(err), tol))
            if sel.size >= 10:
                m = float(np.mean(errs))
                sc.duty_max_mean_error = max(sc.duty_max_mean_error, abs(m))
                if abs(m) > 0.5:
                    sc.duty_mean_errors.append((bounds[k], m))
        else:
            bad = sel[run.pwm[sel]]
            sc.pwm_misreads.extend(int(x) for x in bad)
    # diode faults: confirmed only inside a fault stretch (+ the time to notice its end), and soon
    fault_on = np.zeros(run.blocks, dtype=bool)
    for k, seg in enumerate(stream.segments):
        if seg.diode_fault and seg.pwm():
            fault_on[(t_end > bounds[k]) & (t_start < bounds[k + 1] + bms)] = True
            t_conf = t_end[(t_start >= bounds[k]) & run.diode_confirmed]
            limit = debounce_fast_ms + 2 * bms
            if seg.ms >= limit + bms:
                if t_conf.size == 0 or t_conf[0] - bounds[k] > limit:
                    sc.diode_late.append((bounds[k], float(t_conf[0] - bounds[k]) if t_conf.size else -1.0))
                else:
                    sc.diode_latencies.append(float(t_conf[0] - bounds[k]))
    sc.false_diode = [float(t_end[j]) for j in np.nonzero(run.diode_confirmed & ~fault_on)[0]]
    return sc
