"""The simulated control-pilot front end: the waveform on the CP wire, sampled and classified.

``CpFrontEnd`` does what an ADC-based board does: the CP voltage (a 1 kHz PWM between a high level
set by the car's resistance and a low level set by the car's diode) is sampled into uint16 ADC
blocks, and every block goes through the pilot kernel's streaming classifier
(``kernels.pilot.PilotClassifier.feed_u16``), whose debounced decisions are the CP states.
Nothing is shortcut: every PWM period of the simulated time is synthesised and classified.

Blocks: after any change of the waveform the front end runs ``block_ms`` blocks (10 ms =
1000 samples at 100 kS/s) for ``settle_ms`` so the classifier's debounce (20 ms fast, 250 ms slow)
sees fine-grained evidence; while the waveform is unchanged it runs ``settled_block_ms`` blocks
(100 ms) so that a 30-minute session costs ~20 000 kernel calls instead of 180 000.  Block
boundaries restart at each waveform change; the partial block before it is classified as it is
(a short block, as a real ADC DMA half-buffer would be).

Synthesis: the ``cpsignal`` kernel's ``CpSynth.drive`` synthesises and classifies a run of blocks
in one call (compiled code; it stops at the first block after which the classifier decided a
change), so the Python loop runs per change or per stretch of constant inputs, never per PWM
period.  Without a ``cpsignal`` kernel each distinct waveform gets a noisy buffer of
``settled_block_ms`` + one period of samples (built once, seeded) and each block is a slice of it
at a random whole-period offset.

Noise: uniform in +-``noise_V`` on every sample (0.12 V = YetiSimulator's +-1 % of 12 V), from the
synthesiser's seeded generator, so a seed reproduces the samples exactly.

Time is handed in: ``run(span_ms)`` processes the next ``span_ms`` of signal.
"""
from __future__ import annotations

import random
from array import array
from typing import Dict, List, Optional, Tuple

from .. import _impl

#: YetiSimulator's window half-width around 12, 9, 6, 3, 0 and -12 V (the fallback classifier).
WINDOW_V = 1.1
PWM_HZ = 1000.0
STATE_NAMES = ("", "A", "B", "C", "D", "E", "F", "invalid")

#: ``(offset_ms, state, diode_fault)``: a decided change, offset from the start of a ``run``
Change = Tuple[float, str, bool]


def classify_levels(hi_V: float, lo_V: float, pwm_running: bool) -> Tuple[str, bool]:
    """YetiSimulator's classification of a high and low CP level: ``(state, diode_fault)``.

    Used only when no pilot kernel is available.  ``""`` means "no valid level".
    """
    w = WINDOW_V
    if abs(hi_V + 12.0) <= w and abs(lo_V + 12.0) <= w:
        return "F", False
    if abs(hi_V) <= w:
        return "E", False
    diode = bool(pwm_running and not abs(lo_V + 12.0) <= w and abs(hi_V + lo_V) <= w)
    for state, level in (("A", 12.0), ("B", 9.0), ("C", 6.0), ("D", 3.0)):
        if abs(hi_V - level) <= w:
            return state, diode
    return "invalid", diode


class CpFrontEnd:
    """Synthesise and classify the CP waveform; see the module docstring.

    ``set_wave(hi_V, lo_V, duty_pct)`` sets the waveform from the present time on (``duty_pct``
    0 = constant low, 100 = constant high); ``run(span_ms)`` processes the next ``span_ms`` and
    returns the decided changes.  ``state`` / ``diode_fault`` hold the latest decision, ``hi_V`` /
    ``lo_V`` / ``measured_duty_pct`` the last block's plateau levels and duty.
    """

    def __init__(self, *, kernels=None, sample_rate_Hz: int = 100_000, adc_bits: int = 12,
                 noise_V: float = 0.12, seed: int = 0, block_ms: float = 10.0,
                 settled_block_ms: float = 100.0, settle_ms: float = 400.0, rise_us: float = 0.0,
                 debounce_fast_ms: float = 20.0, debounce_slow_ms: float = 250.0) -> None:
        k = kernels or _impl.ACTIVE
        if not (1000 <= int(sample_rate_Hz) <= 10_000_000):
            raise ValueError(f"sample_rate_Hz must be in [1000, 10000000], got {sample_rate_Hz!r}")
        if not (8 <= int(adc_bits) <= 16):
            raise ValueError(f"adc_bits must be in [8, 16], got {adc_bits!r}")
        self.sample_rate_Hz = int(sample_rate_Hz)
        self.adc_bits = int(adc_bits)
        self.noise_V = float(noise_V)
        self.seed = int(seed)
        self._rng = random.Random(self.seed * 7919 + 17)
        self.max_count = (1 << self.adc_bits) - 1
        self.volts_per_count = 30.0 / self.max_count
        self.offset_V = -15.0
        spm = self.sample_rate_Hz / 1000.0  # samples per ms
        self._spm = spm
        self._period = max(1, int(round(self.sample_rate_Hz / PWM_HZ)))
        self._block_n = max(self._period, int(round(block_ms * spm)))
        self._settled_n = max(1, int(round(settled_block_ms * spm)) // self._block_n) * self._block_n
        self._settle_n = int(round(settle_ms * spm))
        self._debounce_fast_ms = float(debounce_fast_ms)
        pilot = getattr(k, "pilot", None)
        cpsignal = getattr(k, "cpsignal", None)
        self.kernels_name = getattr(k, "name", "?")
        self.uses_kernel = pilot is not None
        self._clf = None
        self._synth = None
        if pilot is not None:
            cfg = pilot.PilotConfig(volts_per_count=self.volts_per_count, offset_V=self.offset_V,
                                    adc_bits=self.adc_bits, debounce_fast_ms=debounce_fast_ms,
                                    debounce_slow_ms=debounce_slow_ms)
            self._clf = pilot.PilotClassifier(cfg)
            if cpsignal is not None:
                self._synth = cpsignal.CpSynth(
                    duty_pct=0.0, high_V=-12.0, low_V=-12.0, sample_period_us=1e6 / self.sample_rate_Hz,
                    rise_us=float(rise_us), noise_V=self.noise_V,
                    noise_kind=1 if self.noise_V > 0 else 0, seed=(self.seed * 2654435761 + 1) % (1 << 64),
                    adc_bits=self.adc_bits, volts_per_count=self.volts_per_count, offset_V=self.offset_V)
        self.state = ""
        self.diode_fault = False
        self.hi_V = -12.0
        self.lo_V = -12.0
        self.measured_duty_pct = 0.0
        self._wave = (-12.0, -12.0, 0.0)
        self._cache: Dict[Tuple[float, float, float], array] = {}
        self._bufs: Dict[int, memoryview] = {}
        self._cur: Optional[array] = None
        self._n_time = 0  # samples of elapsed time
        self._n_done = 0  # samples classified
        self._fine_until = self._settle_n
        self._pending: List[Change] = []
        self.blocks = 0
        self.samples_processed = 0

    # -- inputs ---------------------------------------------------------------------------------
    def set_wave(self, hi_V: float, lo_V: float, duty_pct: float) -> None:
        """The waveform from now on (what the old one produced so far is classified first)."""
        if duty_pct <= 0.0:
            wave = (float(lo_V), float(lo_V), 0.0)
        elif duty_pct >= 100.0:
            wave = (float(hi_V), float(hi_V), 100.0)
        else:
            wave = (float(hi_V), float(lo_V), float(duty_pct))
        if wave == self._wave:
            return
        if self._n_time > self._n_done:  # a short block: the rest of the old waveform
            self._blocks(1, self._n_time - self._n_done, self._pending)
        self._wave = wave
        self._cur = None
        if self._synth is not None:
            self._synth.set_levels(wave[0], wave[1])
            self._synth.set_duty(wave[2])
        self._fine_until = self._n_time + self._settle_n

    # -- processing -----------------------------------------------------------------------------
    @property
    def t_ms(self) -> float:
        """The time up to which the signal has been run (ms)."""
        return self._n_time / self._spm

    def run(self, span_ms: float, stop_at_change: bool = False) -> List[Change]:
        """Process the next ``span_ms`` of signal; return the decided changes (offsets in ms).

        With ``stop_at_change`` the run ends at the end of the block that decided a change (or at
        once if a change is pending); ``t_ms`` then tells how far it got.
        """
        t0_ms = self._n_time / self._spm
        changes = self._pending  # absolute times until converted below
        self._pending = []
        if stop_at_change and changes:
            return [(t - t0_ms, s, d) for (t, s, d) in changes]
        if span_ms > 0:
            self._n_time = int(round((t0_ms + span_ms) * self._spm))
        while True:
            fine = self._n_done < self._fine_until
            size = self._block_n if fine else self._settled_n
            n_blocks = (self._n_time - self._n_done) // size
            if fine:  # one block per call: the diode check below sees every fine block
                n_blocks = min(n_blocks, 1)
            if n_blocks <= 0:
                break
            self._blocks(n_blocks, size, changes)
            if stop_at_change and changes:
                self._n_time = self._n_done
                break
        if changes:
            return [(t - t0_ms, s, d) for (t, s, d) in changes]
        return changes

    def _buffer(self, size: int) -> memoryview:
        """A reusable uint16 buffer of ``size`` samples (short blocks are views of a block buffer)."""
        buf = self._bufs.get(size)
        if buf is None:
            if size < self._block_n:
                return self._buffer(self._block_n)[:size]
            if size < self._settled_n and size != self._block_n:
                return self._buffer(self._settled_n)[:size]
            buf = memoryview(array("H", bytes(2 * size)))
            self._bufs[size] = buf
        return buf

    def _blocks(self, n_blocks: int, size: int, changes: List[Change]) -> None:
        """Classify up to ``n_blocks`` blocks of ``size`` samples; stops after a decided change."""
        clf = self._clf
        if clf is None:
            self._n_done += n_blocks * size
            self.blocks += n_blocks
            self.samples_processed += n_blocks * size
            self._feed_fallback(self._n_done / self._spm, changes)
            return
        spm = self._spm
        t_first = (self._n_done + size) / spm
        synth = self._synth
        if synth is not None:
            buf = self._bufs.get(size)  # (the common sizes are cached: no method call)
            if buf is None:
                buf = self._buffer(size)
            k = synth.drive(clf, buf, n_blocks, t_first, size / spm)
        else:
            k = 0
            for i in range(n_blocks):
                if clf.feed_u16(self._samples(size), t_first + i * size / spm):
                    k = i + 1
                    break
        done = k if k else n_blocks
        self._n_done += done * size
        self.blocks += done
        self.samples_processed += done * size
        t_end = self._n_done / spm
        blk = clf.block
        if blk.n_valid:
            self.hi_V = blk.high_V
            self.lo_V = blk.low_V
            self.measured_duty_pct = blk.duty_pct
        # the diode check: the classifier's diode fault (with hysteresis) held for the fast debounce
        diode = clf.diode_fault_active and clf.diode_fault_held_ms >= self._debounce_fast_ms
        if diode != self.diode_fault:
            diode = bool(diode)
            self.diode_fault = diode
            if diode and not k:
                changes.append((t_end, self.state, True))
        if k:
            self.state = STATE_NAMES[clf.state]
            changes.append((t_end, self.state, self.diode_fault))

    def _samples(self, n: int):
        """``n`` samples of the present waveform without a synthesiser kernel (cached, seeded)."""
        buf = self._cur
        if buf is None:
            buf = self._cache.get(self._wave)
            if buf is None:
                buf = self._synthesise(self._settled_n + self._period)
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[self._wave] = buf
            self._cur = buf
        periods = (len(buf) - n) // self._period
        off = self._rng.randint(0, periods) * self._period if periods > 0 else 0
        return memoryview(buf)[off:off + n]

    def _synthesise(self, n: int) -> array:
        hi, lo, duty = self._wave
        per = self._period
        high_n = int(round(per * duty / 100.0))
        vpc = self.volts_per_count
        off = self.offset_V
        maxc = self.max_count
        sigma = self.noise_V
        uniform = self._rng.uniform
        out = array("H", bytes(2 * n))
        for i in range(n):
            v = hi if (i % per) < high_n else lo
            if sigma > 0.0:
                v += uniform(-sigma, sigma)
            c = int(round((v - off) / vpc))
            out[i] = 0 if c < 0 else (maxc if c > maxc else c)
        return out

    def _feed_fallback(self, t_end_ms: float, changes: List[Change]) -> None:
        hi, lo, duty = self._wave
        state, diode = classify_levels(hi, lo, 0.0 < duty < 100.0)
        self.hi_V, self.lo_V, self.measured_duty_pct = hi, lo, duty
        if state != self.state or diode != self.diode_fault:
            self.state, self.diode_fault = state, diode
            changes.append((t_end_ms, state, diode))


__all__ = ["CpFrontEnd", "STATE_NAMES", "WINDOW_V", "classify_levels"]
