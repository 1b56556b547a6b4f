"""Control-pilot waveform synthesiser: fills caller-provided uint16 (ADC counts) or float32 (volts)
buffers with what an ADC sampling the CP line without synchronisation would see.

* PWM of period ``period_us`` (1000 us = 1 kHz) at ``duty_pct``; 0 % is a constant low level (state
  F, -12 V), 100 % a constant high level (X1).  ``high_V`` is the car's plateau (12/9/6/3/0 V for
  A/B/C/D/E), ``low_V`` the negative half (-12 V; a car with a shorted diode gives about -high_V).
* Sample ``k`` of the stream is taken at ``t_us + k * sample_period_us``: the phase keeps running
  from block to block, and the start time picks an arbitrary phase.  The fill works in runs (one
  per plateau or edge of the waveform: the phase is advanced per run, a noiseless plateau is a
  constant fill), so its cost is per sample only for the noise.
* ``rise_us`` > 0 gives linear edges (both directions; a pulse shorter than the edge never
  reaches the top, and the falling edge starts from the level reached).
* Noise (volts, added to every sample): ``noise_kind`` 2 = gaussian-ish with sigma = noise_V,
  1 = uniform with half-width noise_V, 0 = none.  Each sample draws one of 1024 table values with
  10 random bits (six draws per 64-bit output of a seeded SplitMix64 generator kept in the object:
  a Weyl counter plus an output mix, so no serial dependency between samples).  The uniform table
  is 1024 evenly spaced values in (-1, 1); the gaussian table is 1024 Irwin-Hall values (sums of
  four 16-bit uniforms from a fixed seed) rescaled to mean 0 and sigma 1 exactly (bounded at about
  +-3.5 sigma).  A seed reproduces a stream exactly in both builds.
* uint16 output: ``count = floor((V - offset_V) / volts_per_count + 0.5)`` clipped to
  ``[0, 2**adc_bits - 1]``; clipped samples are counted (``clipped``, and the fill's return value).

``drive(classifier, buf, n_blocks, t_ms, block_ms)`` is the fused loop for simulators: it
synthesises ``n_blocks`` blocks into ``buf`` and feeds each to ``classifier.feed_u16(buf, t)``
(``t = t_ms + k * block_ms`` for the k-th block, 0-based), stopping at the first block after which
the classifier's debounced state changed.  It returns that block's 1-based number, or 0 when the
state did not change (all blocks consumed).  Any object with ``feed_u16(buf, t_ms) -> int`` works.
"""

from array import array

NOISE_NONE = 0  # public names (module-level C variables are not Python attributes when compiled)
NOISE_UNIFORM = 1
NOISE_GAUSS = 2
_N_NONE = 0
_N_GAUSS = 2
MASK64 = 0xFFFFFFFFFFFFFFFF
SM_GAMMA = 0x9E3779B97F4A7C15
SM_M1 = 0xBF58476D1CE4E5B9
SM_M2 = 0x94D049BB133111EB
TAB_MASK = 1023  # 1024-entry noise tables, 10 bits per draw, 6 draws per 64-bit output
_TABLES = []  # [gaussian, uniform] arrays, built on first use


def _noise_tables():
    if not _TABLES:
        x = 0x5EED
        g = []
        for _ in range(TAB_MASK + 1):
            x = (x + SM_GAMMA) & MASK64
            r = _mix(x)
            g.append(float((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48)))
        mean = sum(g) / len(g)
        sd = (sum((v - mean) * (v - mean) for v in g) / len(g)) ** 0.5
        _TABLES.append(array("d", [(v - mean) / sd for v in g]))
        _TABLES.append(array("d", [(2 * k + 1) / (TAB_MASK + 1.0) - 1.0 for k in range(TAB_MASK + 1)]))
    return _TABLES


def _check(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    if not (lo <= value <= hi):  # also rejects NaN
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


def _check_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    _check(name, value, lo, hi)


def _mix(z):
    """SplitMix64's output function of a counter value: 64 random bits."""
    z = ((z ^ (z >> 30)) * SM_M1) & MASK64
    z = ((z ^ (z >> 27)) * SM_M2) & MASK64
    return z ^ (z >> 31)


def _wave(ph, th, rup, rdn, hv, lv, vfall):
    """The noiseless CP voltage at phase ``ph`` (us into the period)."""
    if ph < th:
        if ph < rup:
            return lv + (hv - lv) * (ph / rup)
        return hv
    dph = ph - th
    if dph < rdn:
        return vfall + (lv - vfall) * (dph / rdn)
    return lv


class CpSynth:
    """Deterministic CP waveform generator; see the module docstring."""

    def __init__(self, duty_pct=100.0, high_V=12.0, low_V=-12.0, sample_period_us=10.0,
                 t_us=0.0, rise_us=0.0, noise_V=0.0, noise_kind=2, seed=1, adc_bits=12,
                 volts_per_count=30.0 / 4095.0, offset_V=-15.0, period_us=1000.0):
        _check("period_us", period_us, 10.0, 1e6)
        _check("sample_period_us", sample_period_us, 0.01, 1e6)
        _check("t_us", t_us, 0.0, 1e15)
        _check_int("adc_bits", adc_bits, 1, 16)
        _check("volts_per_count", volts_per_count, 1e-9, 100.0)
        _check("offset_V", offset_V, -1000.0, 1000.0)
        self.period_us = period_us
        self.sample_period_us = sample_period_us
        self.t_us = t_us
        self.adc_bits = adc_bits
        self.max_count = (1 << adc_bits) - 1
        self.volts_per_count = volts_per_count
        self.offset_V = offset_V
        self.phase_us = t_us % period_us
        self.clipped = 0
        self.samples = 0
        self.duty_pct = 100.0
        self.high_V = 12.0
        self.low_V = -12.0
        self.rise_us = 0.0
        self.noise_V = 0.0
        self.noise_kind = 0
        self.rng = 1
        self._bits = 0
        self._left = 0
        self._tab = _noise_tables()[0]
        self.set_seed(seed)
        self.set_duty(duty_pct)
        self.set_levels(high_V, low_V)
        self.set_edges(rise_us)
        self.set_noise(noise_V, noise_kind)

    def set_seed(self, seed):
        """Restart the noise generator (any integer in [0, 2**64))."""
        _check_int("seed", seed, 0, MASK64)
        self.rng = seed
        self._bits = 0
        self._left = 0

    def set_duty(self, duty_pct):
        """PWM duty in percent: 0 = constant low, 100 = constant high, else 1 kHz PWM."""
        _check("duty_pct", duty_pct, 0.0, 100.0)
        self.duty_pct = duty_pct

    def set_levels(self, high_V, low_V):
        """The car-side plateaus in volts (high: 12/9/6/3/0; low: -12, or not for a diode fault)."""
        _check("high_V", high_V, -20.0, 20.0)
        _check("low_V", low_V, -20.0, 20.0)
        self.high_V = high_V
        self.low_V = low_V

    def set_edges(self, rise_us):
        """Linear edge time in us (0 = ideal edges), at most half the PWM period."""
        _check("rise_us", rise_us, 0.0, self.period_us * 0.5)
        self.rise_us = rise_us

    def set_noise(self, noise_V, noise_kind):
        """Noise amplitude in volts (sigma for gaussian-ish, half-width for uniform) and kind."""
        _check("noise_V", noise_V, 0.0, 10.0)
        _check_int("noise_kind", noise_kind, 0, 2)
        self.noise_V = noise_V
        self.noise_kind = noise_kind
        tables = _noise_tables()
        self._tab = tables[0] if noise_kind == 2 else tables[1]

    def _next(self):
        """Advance the generator; returns 64 random bits."""
        self.rng = (self.rng + SM_GAMMA) & MASK64
        return _mix(self.rng)

    def _setup(self):
        """Per-fill constants: threshold, up / down ramp times and falling-edge start level."""
        per = self.period_us
        hv = self.high_V
        lv = self.low_V
        r = self.rise_us
        if self.duty_pct >= 100.0:
            self._th = 2.0 * per  # always high, no edges
            self._rup = 0.0
            self._rdn = 0.0
        elif self.duty_pct <= 0.0:
            self._th = -2.0 * per  # always low, no edges
            self._rup = 0.0
            self._rdn = 0.0
        else:
            self._th = self.duty_pct * per / 100.0
            self._rup = r
            self._rdn = r
        self._vfall = hv
        if self._rup > 0.0 and self._th < self._rup:
            self._vfall = lv + (hv - lv) * (self._th / self._rup)

    def _run(self, ph, dt, per):
        """Samples from phase ``ph`` to the end of its waveform segment (plateau or edge), at
        least 1; sets ``_ramp`` when the segment is an edge."""
        th = self._th
        if ph < th:
            if ph < self._rup:
                end = self._rup if self._rup < th else th
                self._ramp = True
            else:
                end = th
                self._ramp = False
        elif ph - th < self._rdn:
            end = th + self._rdn
            self._ramp = True
        else:
            end = per
            self._ramp = False
        if end > per:
            end = per
        k = int((end - ph) / dt)
        if ph + k * dt < end:
            k += 1
        if k < 1:
            k = 1
        return k

    def fill_u16(self, out):
        """Fill ``out`` (uint16 ADC counts) with the next ``len(out)`` samples; returns how many
        were clipped to the ADC range."""
        self._setup()
        n = len(out)
        th = self._th
        rup = self._rup
        rdn = self._rdn
        vfall = self._vfall
        hv = self.high_V
        lv = self.low_V
        kind = self.noise_kind
        nv = self.noise_V
        tab = self._tab
        x = self.rng
        bits = self._bits
        left = self._left
        ph = self.phase_us
        dt = self.sample_period_us
        per = self.period_us
        inv = 1.0 / self.volts_per_count
        off = self.offset_V
        maxc = self.max_count
        top = maxc + 1.0
        clipped = 0
        i = 0
        # one run per waveform segment: a plateau's samples share their noiseless value
        while i < n:
            k = self._run(ph, dt, per)
            if k > n - i:
                k = n - i
            ramp = self._ramp
            v0 = _wave(ph, th, rup, rdn, hv, lv, vfall)
            if not ramp and kind == 0:
                xc = (v0 - off) * inv + 0.5
                if xc < 0.0:
                    c = 0
                    clipped += k
                elif xc >= top:
                    c = maxc
                    clipped += k
                else:
                    c = int(xc)
                for j in range(i, i + k):
                    out[j] = c
            else:
                for j in range(k):
                    if ramp:
                        v = _wave(ph + j * dt, th, rup, rdn, hv, lv, vfall)
                    else:
                        v = v0
                    if kind != 0:  # _N_NONE (a literal: module-level C globals are not constants)
                        if left == 0:
                            x = (x + SM_GAMMA) & MASK64
                            bits = _mix(x)
                            left = 6
                        v += tab[bits & TAB_MASK] * nv
                        bits >>= 10
                        left -= 1
                    xc = (v - off) * inv + 0.5
                    if xc < 0.0:
                        out[i + j] = 0
                        clipped += 1
                    elif xc >= top:
                        out[i + j] = maxc
                        clipped += 1
                    else:
                        c = int(xc)
                        out[i + j] = c
            i += k
            ph += k * dt
            while ph >= per:
                ph -= per
        self.rng = x
        self._bits = bits
        self._left = left
        self.phase_us = ph
        self.t_us += n * dt
        self.samples += n
        self.clipped += clipped
        return clipped

    def fill_f32(self, out):
        """Fill ``out`` (float32 volts) with the next ``len(out)`` samples; returns ``len(out)``."""
        self._setup()
        n = len(out)
        th = self._th
        rup = self._rup
        rdn = self._rdn
        vfall = self._vfall
        hv = self.high_V
        lv = self.low_V
        kind = self.noise_kind
        nv = self.noise_V
        tab = self._tab
        x = self.rng
        bits = self._bits
        left = self._left
        ph = self.phase_us
        dt = self.sample_period_us
        per = self.period_us
        i = 0
        while i < n:
            k = self._run(ph, dt, per)
            if k > n - i:
                k = n - i
            ramp = self._ramp
            v0 = _wave(ph, th, rup, rdn, hv, lv, vfall)
            for j in range(k):
                if ramp:
                    v = _wave(ph + j * dt, th, rup, rdn, hv, lv, vfall)
                else:
                    v = v0
                if kind != 0:
                    if left == 0:
                        x = (x + SM_GAMMA) & MASK64
                        bits = _mix(x)
                        left = 6
                    v += tab[bits & TAB_MASK] * nv
                    bits >>= 10
                    left -= 1
                out[i + j] = v
            i += k
            ph += k * dt
            while ph >= per:
                ph -= per
        self.rng = x
        self._bits = bits
        self._left = left
        self.phase_us = ph
        self.t_us += n * dt
        self.samples += n
        return n

    def drive(self, classifier, buf, n_blocks, t_ms, block_ms):
        """Synthesise up to ``n_blocks`` blocks into ``buf`` and feed each to
        ``classifier.feed_u16(buf, t_ms + k * block_ms)``; returns the 1-based number of the block
        after which the classifier reported a change, or 0 if none did."""
        for k in range(n_blocks):
            self.fill_u16(buf)
            if classifier.feed_u16(buf, t_ms + k * block_ms):
                return k + 1
        return 0
