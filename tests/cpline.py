"""Realistic control-pilot streams with their truth (the scorer: cpscore.py).

Test helper (needs numpy).  A stream is a list of ``Segment`` (what the car and the EVSE do: the
truth) rendered through a ``Line`` (what the wire and the ADC do to it):

* the EVSE generator: +-12 V within J1772's +-0.6 V, PWM at 980-1020 Hz and 8-96 % duty (or X1:
  constant high, or F: constant low), the car's resistance pulls the high level to its state's
  level (A 12, B 9, C 6, D 3 V; E = CP shorted to PE: 0 V, no PWM);
* RC edges with the EV diode's knee: below ``knee_V`` the line moves with ``tau_fast_us`` (the
  cable alone), above it with ``tau_slow_us`` (the car's capacitance joins); a shorted diode
  (``diode_fault``) makes the low level -high;
* ringing after every edge (a damped sine whose first peak is ``ring_frac`` of the swing);
* divider drift (``gain``, 0.97..1.03 = +-3 %), mains hum (``hum_V`` peak at 50 or 60 Hz),
  gaussian ADC noise, single-sample spikes (EMI, contactor arcing: random value, a third of them
  at a rail) and bursts of 2-4 corrupted samples, contact bounce of S2 / the plug at every car
  transition, brief CP-PE shorts that are no state (shorter than the fast debounce);
* a 12-bit ADC over -15..+15 V, blocks of ``block_n`` samples fed with the time of the block's end.

Random numbers come from a counter-based generator (SplitMix64 of seed and index): a seed gives
the same stream with every numpy version.

Feeding a classifier and scoring it against the truth: tests/cpscore.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import List, Optional

import numpy as np

POWER_STATES = ("C", "D")
NOMINAL_V = {"A": 12.0, "B": 9.0, "C": 6.0, "D": 3.0, "E": 0.0}
# SAE J1772 Table A1 pilot ranges (EVSE side), ../shared/spec/peers_and_standards.md 2.1
J1772_V = {"A": (11.40, 12.60), "B": (8.36, 9.56), "C": (5.48, 6.49), "D": (2.62, 3.25)}
MASK64 = (1 << 64) - 1


# ---- counter-based random numbers ----------------------------------------------------------------
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class Rand:
    """Uniform / gaussian numbers from SplitMix64(seed, stream, index): reproducible everywhere."""

    def __init__(self, seed: int, stream: int):
        self.key = np.uint64((seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03 + 1) & MASK64)
        self.count = 0

    def uniform(self, n: int) -> np.ndarray:
        idx = np.arange(self.count, self.count + n, dtype=np.uint64)
        self.count += n
        with np.errstate(over="ignore"):
            z = _mix(self.key + idx * np.uint64(0x9E3779B97F4A7C15))
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)

    def normal(self, n: int) -> np.ndarray:
        u1 = self.uniform(n)
        u2 = self.uniform(n)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)

    def one(self) -> float:
        return float(self.uniform(1)[0])

    def pick(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.one()


# ---- the line and the truth ----------------------------------------------------------------------
@dataclass
class Line:
    """What the wire, the EVSE generator and the ADC do to the CP signal."""

    sample_us: float = 10.0
    pwm_hz: float = 997.3  # a real oscillator: never commensurate with the ADC clock
    gen_high_V: float = 12.0
    gen_low_V: float = -12.0
    gain: float = 1.0
    hum_V: float = 0.0
    hum_hz: float = 50.0
    hum_phase: float = 0.0
    noise_V: float = 0.0
    tau_fast_us: float = 0.0
    tau_slow_us: float = 0.0
    knee_V: float = 0.7
    ring_frac: float = 0.0
    ring_hz: float = 60e3
    ring_tau_us: float = 8.0
    spikes_per_s: float = 0.0
    bursts_per_s: float = 0.0
    bounce_ms: float = 0.0
    shorts_per_s: float = 0.0
    short_ms: float = 6.0
    adc_bits: int = 12
    volts_per_count: float = 30.0 / 4095.0
    offset_V: float = -15.0
    block_n: int = 1000

    @property
    def block_ms(self) -> float:
        return self.block_n * self.sample_us / 1000.0


@dataclass
class Segment:
    """The truth for ``ms`` milliseconds: CP state, PWM duty (100 = X1, constant high), the car's
    level (``car_V``; None: nominal) and a shorted car diode."""

    ms: float
    state: str
    duty_pct: float = 100.0
    car_V: Optional[float] = None
    diode_fault: bool = False

    def high_V(self, line: Line) -> float:
        if self.state == "A":
            return line.gen_high_V if self.car_V is None else self.car_V
        if self.state == "E":
            return 0.0
        if self.state == "F":
            return line.gen_low_V
        return NOMINAL_V[self.state] if self.car_V is None else self.car_V

    def pwm(self) -> bool:
        return self.state not in ("E", "F") and 0.0 < self.duty_pct < 100.0


@dataclass
class Stream:
    """Rendered samples and what the scorer needs to know about them."""

    line: Line
    segments: List[Segment]
    counts: np.ndarray  # uint16 ADC counts
    outliers: np.ndarray  # per sample: True where a spike or burst replaced the line
    glitch: np.ndarray  # per sample: True inside contact bounce or a brief CP-PE short
    bounds_ms: List[float] = field(default_factory=list)  # segment start times (+ the end)


def _edge(t, v0, target, tau_below, tau_above, knee):
    """Two-slope RC edge from ``v0`` toward ``target``: ``tau_below`` while the line is below the
    knee, ``tau_above`` above it (the diode conducts)."""
    if tau_below <= 0.0 and tau_above <= 0.0:
        return np.full_like(t, target)
    tb = max(tau_below, 1e-9)
    ta = max(tau_above, 1e-9)
    rising = target > v0
    first_tau = tb if (v0 < knee) else ta
    crosses = (v0 < knee < target) if rising else (target < knee < v0)
    if not crosses:
        return target + (v0 - target) * np.exp(-t / first_tau)
    t_knee = first_tau * math.log((target - v0) / (target - knee))
    second_tau = ta if rising else tb
    out = target + (v0 - target) * np.exp(-t / first_tau)
    late = t >= t_knee
    out[late] = target + (knee - target) * np.exp(-(t[late] - t_knee) / second_tau)
    return out


def _edge_end(t_end, v0, target, tau_below, tau_above, knee):
    return float(_edge(np.array([t_end]), v0, target, tau_below, tau_above, knee)[0])


def _ring(t, swing, line: Line, delay_us: float):
    """Ringing that starts when the edge is 90 % done: a damped sine whose first lobe (the
    overshoot) peaks at ``ring_frac`` of the swing."""
    if line.ring_frac <= 0.0:
        return 0.0
    w = 2.0 * math.pi * line.ring_hz
    tau = line.ring_tau_us * 1e-6
    tp = math.atan(w * tau) / w  # first peak of exp(-t/tau) sin(w t)
    peak = math.exp(-tp / tau) * math.sin(w * tp)
    ts = np.maximum(t - delay_us, 0.0) * 1e-6
    return line.ring_frac * swing / peak * np.exp(-ts / tau) * np.sin(w * ts)


def _t90(v0, target, tf, ts, knee):
    """When an edge from ``v0`` has covered 90 % of its way to ``target`` (us)."""
    grid = np.linspace(0.0, 10.0 * max(tf, ts, 1e-3), 2001)
    v = _edge(grid, v0, target, tf, ts, knee)
    done = np.nonzero(np.abs(v - target) <= 0.1 * abs(target - v0))[0]
    return float(grid[done[0]]) if done.size else 0.0


def _pwm_wave(phase_us, period_us, duty, hi, lo, line: Line, diode_fault: bool):
    """The noiseless line over one segment at PWM phases ``phase_us`` (0 = rising edge)."""
    th = duty * period_us / 100.0
    knee = -1e9 if diode_fault else line.knee_V  # a shorted diode conducts both ways: one slope
    tf, ts = line.tau_fast_us, line.tau_slow_us
    v_lo_end = lo
    for _ in range(6):  # periodic steady state: where each edge starts
        v_hi_end = _edge_end(th, v_lo_end, hi, tf, ts, knee)
        v_lo_end = _edge_end(period_us - th, v_hi_end, lo, tf, ts, knee)
    out = np.empty_like(phase_us)
    up = phase_us < th
    d_up = _t90(v_lo_end, hi, tf, ts, knee)
    d_down = _t90(v_hi_end, lo, tf, ts, knee)
    out[up] = _edge(phase_us[up], v_lo_end, hi, tf, ts, knee) + _ring(phase_us[up], hi - lo, line, d_up)
    down = ~up
    out[down] = (_edge(phase_us[down] - th, v_hi_end, lo, tf, ts, knee)
                 - _ring(phase_us[down] - th, hi - lo, line, d_down))
    return out


def render(line: Line, segments: List[Segment], seed: int) -> Stream:
    """Samples of ``segments`` on ``line`` (seeded: the same seed gives the same stream)."""
    rnd = Rand(seed, 1)
    ts = line.sample_us
    total_ms = sum(s.ms for s in segments)
    n = int(round(total_ms * 1000.0 / ts))
    n -= n % line.block_n
    t_us = np.arange(n, dtype=np.float64) * ts
    v = np.empty(n)
    period_us = 1e6 / line.pwm_hz
    pwm_t0 = rnd.pick(0.0, period_us)
    bounds = []
    glitch = np.zeros(n, dtype=bool)
    t0 = 0.0
    prev = None
    for seg in segments:
        t1 = t0 + seg.ms
        bounds.append(t0)
        a, b = int(math.ceil(t0 * 1000.0 / ts)), min(n, int(math.ceil(t1 * 1000.0 / ts)))
        if a >= b:
            t0 = t1
            continue
        hi = seg.high_V(line)
        lo = -hi if seg.diode_fault else line.gen_low_V
        if seg.pwm():
            ph = np.mod(t_us[a:b] - pwm_t0, period_us)
            v[a:b] = _pwm_wave(ph, period_us, seg.duty_pct, hi, lo, line, seg.diode_fault)
        else:
            v[a:b] = hi
        if prev is not None and line.bounce_ms > 0 and prev.state in "ABCD" and seg.state in "ABCD" \
                and prev.state != seg.state:
            _bounce(v, a, b, t_us, line, prev, seg, pwm_t0, period_us, rnd)
            glitch[a:min(b, a + int(line.bounce_ms * 1000.0 / ts))] = True
        prev = seg
        t0 = t1
    bounds.append(t0)
    if line.shorts_per_s > 0:
        for start in _poisson(rnd, line.shorts_per_s, total_ms):
            a = int(start * 1000.0 / ts)
            b = min(n, a + int(line.short_ms * 1000.0 / ts))
            v[a:b] = 0.0
            glitch[a:b] = True
    v = line.gain * v
    if line.hum_V:
        v += line.hum_V * np.sin(2.0 * math.pi * line.hum_hz * t_us * 1e-6 + line.hum_phase)
    if line.noise_V:
        v += line.noise_V * rnd.normal(n)
    counts = np.floor((v - line.offset_V) / line.volts_per_count + 0.5)
    maxc = (1 << line.adc_bits) - 1
    counts = np.clip(counts, 0, maxc)
    outliers = np.zeros(n, dtype=bool)
    for rate, lengths in ((line.spikes_per_s, (1, 1)), (line.bursts_per_s, (2, 4))):
        for start in _poisson(rnd, rate, total_ms):
            k = int(start * 1000.0 / ts)
            m = lengths[0] + int(rnd.one() * (lengths[1] - lengths[0] + 1))
            for j in range(k, min(n, k + m)):
                r = rnd.one()
                counts[j] = 0 if r < 1 / 6 else maxc if r < 1 / 3 else int(rnd.one() * (maxc + 1))
                outliers[j] = True
    return Stream(line, segments, counts.astype(np.uint16), outliers, glitch, bounds)


def _poisson(rnd: Rand, rate_per_s: float, total_ms: float):
    t = 0.0
    out = []
    if rate_per_s <= 0:
        return out
    while True:
        t += -math.log(rnd.one()) * 1000.0 / rate_per_s
        if t >= total_ms:
            return out
        out.append(t)


def _bounce(v, a, b, t_us, line, prev, seg, pwm_t0, period_us, rnd):
    """S2 / plug contact bounce: the old level comes back in short bursts over ``bounce_ms``."""
    end = min(b, a + int(line.bounce_ms * 1000.0 / line.sample_us))
    hi = prev.high_V(line)
    lo = -hi if prev.diode_fault else line.gen_low_V
    k = a
    old = True
    while k < end:
        m = max(1, int(rnd.pick(0.1, 0.8) * 1000.0 / line.sample_us))
        if old:
            j = min(end, k + m)
            if prev.pwm() and seg.pwm():
                ph = np.mod(t_us[k:j] - pwm_t0, period_us)
                v[k:j] = _pwm_wave(ph, period_us, seg.duty_pct, hi, lo, line, prev.diode_fault)
            elif not seg.pwm():
                v[k:j] = hi
        k += m
        old = not old


# ---- scenarios -----------------------------------------------------------------------------------
def random_segments(rnd: Rand, n: int, *, corners: str = "", faults: bool = True,
                    min_ms: float = 330.0, max_ms: float = 900.0) -> List[Segment]:
    """A seeded random session: plug-in, charging with duty changes, pauses, faults, unplug.

    ``corners`` "low" / "high": every car level at that end of its J1772 range (pair it with a
    divider ``gain`` of 0.97 / 1.03 to push it out of the IEC band)."""
    moves = {
        "A": "BBBCEF" if faults else "BBBC",
        "B": "AACCCDEF" if faults else "AACCC",
        "C": "BBBADEF" if faults else "BBBA",
        "D": "CCBBAEF" if faults else "CCBBA",
        "E": "ABBC",
        "F": "ABC",
    }
    segs = []
    state = "A"
    for _ in range(n):
        duty = 100.0
        if state in "ABCD" and rnd.one() < 0.85:
            duty = round(rnd.pick(8.0, 96.0), 2)
        car_V = None
        if state in J1772_V:
            lo, hi = J1772_V[state]
            car_V = {"low": lo, "high": hi}.get(corners) or rnd.pick(lo, hi)
        diode = faults and state in "BC" and duty < 100.0 and rnd.one() < 0.15
        segs.append(Segment(rnd.pick(min_ms, max_ms), state, duty, car_V, diode))
        # within a state: the EVSE may change the duty or the car may fix nothing: a second segment
        if state in "BC" and rnd.one() < 0.3:
            segs.append(Segment(rnd.pick(min_ms, max_ms), state, round(rnd.pick(8.0, 96.0), 2), car_V, False))
        state = moves[state][int(rnd.one() * len(moves[state]))]
    return segs


def realistic_line(rnd: Rand, **over) -> Line:
    """A line with every impairment at a random strength within the issue's limits."""
    line = Line(
        pwm_hz=rnd.pick(980.0, 1020.0),
        gen_high_V=rnd.pick(11.4, 12.6),
        gen_low_V=-rnd.pick(11.4, 12.6),
        gain=rnd.pick(0.97, 1.03),
        hum_V=rnd.pick(0.05, 0.2),
        hum_hz=50.0 if rnd.one() < 0.5 else 60.0,
        hum_phase=rnd.pick(0.0, 2 * math.pi),
        noise_V=rnd.pick(0.01, 0.08),
        tau_fast_us=rnd.pick(0.3, 2.0),
        tau_slow_us=rnd.pick(1.0, 4.0),
        ring_frac=rnd.pick(0.0, 0.2),
        ring_hz=rnd.pick(30e3, 150e3),
        ring_tau_us=rnd.pick(4.0, 12.0),
        spikes_per_s=rnd.pick(0.0, 10.0),
        bursts_per_s=rnd.pick(0.0, 2.0),
        bounce_ms=rnd.pick(0.0, 5.0),
    )
    return replace(line, **over)
