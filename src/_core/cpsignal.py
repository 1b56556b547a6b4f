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
  1 = uniform with half-width noise_V, 0 = none.  Counter-based: sample ``k`` of the stream (64-bit
  index, counted from the construction / ``set_seed``) draws ``h = fmix32(lo32(k) ^ key)``, the
  murmur3 finaliser of its index, ``key`` a 32-bit hash of the seed and of ``hi32(k)``.  Gaussian:
  the four bytes of ``h`` summed (Irwin-Hall, n = 4, of 8-bit uniforms: mean 510, variance 21845,
  bounded at +-3.45 sigma), ``t = sum - 510`` volts ``t * noise_V / sqrt(21845)``.  Uniform: the top
  10 bits ``t``, ``((2t + 1) / 1024 - 1) * noise_V`` in (-noise_V, noise_V) (the 1024 levels of the
  old uniform table).  On a plateau of level ``v0`` a sample is the ADC count ``floor(a + t * b)``,
  with ``a`` and ``b`` folded from the level, the noise scale and the calibration once per run (the
  same count as ``floor((v0 + noise - offset_V) / volts_per_count + 0.5)`` up to the rounding of
  the last bit); both builds keep that map from the 1024 draws to counts as a table per plateau
  level (the compiled AVX-512 path computes it with the same formula instead).  Each sample's
  noise depends on its index only: a block vectorises, and a seed reproduces a stream exactly in
  both builds.  (This replaced, with issue 13, a serial SplitMix64 stream drawing 10-bit indices
  into 1024-entry tables: the same seed gives other noise than before; noiseless streams are
  unchanged.)
* uint16 output: ``count = floor((V - offset_V) / volts_per_count + 0.5)`` clipped to
  ``[0, 2**adc_bits - 1]``; clipped samples are counted (``clipped``, and the fill's return value).

``drive(classifier, buf, n_blocks, t_ms, block_ms)`` is the fused loop for simulators: it
synthesises ``n_blocks`` blocks into ``buf`` and feeds each to ``classifier.feed_u16(buf, t)``
(``t = t_ms + k * block_ms`` for the k-th block, 0-based), stopping at the first block after which
the classifier's debounced state changed.  It returns that block's 1-based number, or 0 when the
state did not change (all blocks consumed).  Any object with ``feed_u16(buf, t_ms) -> int`` works;
the compiled build's ``pilot.PilotClassifier`` is driven without a Python call per block.
"""

NOISE_NONE = 0  # public names (module-level C variables are not Python attributes when compiled)
NOISE_UNIFORM = 1
NOISE_GAUSS = 2
import math

MASK64 = 0xFFFFFFFFFFFFFFFF
MASK32 = 0xFFFFFFFF
FMIX1 = 0x85EBCA6B  # murmur3 fmix32 multipliers (typed in the .pxd: C arithmetic when compiled)
FMIX2 = 0xC2B2AE35
SM_M1 = 0xBF58476D1CE4E5B9  # SplitMix64 output multipliers
SM_M2 = 0x94D049BB133111EB
GAUSS_C = 1.0 / math.sqrt(21845.0)  # 1 / sd of a sum of four uniform bytes (sqrt: correctly rounded)
U_A = 2.0 / 1024.0  # uniform: t * U_A + U_B = (2t + 1) / 1024 - 1 in (-1, 1), exact in double
U_B = 1.0 / 1024.0 - 1.0

# The noisy runs and the buffer access go by one name each (_noise_u16, _noise_f32, _noise_one,
# _u16_out, ...): the compiled build's cpsignal.pxd defines them as inline C (cpnoise.h,
# rawbuf.pxd); the plain build binds the same names to their Python twins in cpnoise.py.
try:
    _NATIVE = _native_noise()
except NameError:
    _NATIVE = False
    from . import cpnoise as _cn

    globals().update(_noise_u16=_cn.noise_u16, _noise_f32=_cn.noise_f32, _noise_one=_cn.noise_one,
                     _u16_out=_cn.u16_out, _noise_table=_cn.noise_table, _f32_out=_cn.f32_out, _out_len=_cn.out_len,
                     _out_release=_cn.out_release, _is_native_classifier=_cn.is_native_classifier,
                     _noise_level=_cn.noise_level, _noise_flush=_cn.noise_flush)


def noise_level(force=-1):
    """The compiled build's path for noisy plateaus (2 AVX-512, 1 AVX2, 0 scalar C; ``force``
    selects another one the CPU has, -2 the best again: for tests); -1 in the plain build."""
    return _noise_level(force)


def _fmix32(x):
    """murmur3's 32-bit finaliser (a bijection with full avalanche)."""
    x ^= x >> 16
    x = (x * FMIX1) & MASK32
    x ^= x >> 13
    x = (x * FMIX2) & MASK32
    return x ^ (x >> 16)


def _mix64(z):
    """SplitMix64's output function: 64 random bits of a 64-bit value."""
    z = ((z ^ (z >> 30)) * SM_M1) & MASK64
    z = ((z ^ (z >> 27)) * SM_M2) & MASK64
    return z ^ (z >> 31)


def _check(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    if not (lo <= value <= hi):  # also rejects NaN
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


def _check_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    _check(name, value, lo, hi)


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
        self._index = 0
        self._m_th = self._m_rup = self._m_rdn = self._m_dt = self._m_per = -1.0  # _run's memo
        self._m_ph0 = self._m_ph1 = -1.0
        self._m_k0 = self._m_k1 = 1
        self._m_r0 = self._m_r1 = False
        self._seedmix = 0
        self.set_seed(seed)
        self.set_duty(duty_pct)
        self.set_levels(high_V, low_V)
        self.set_edges(rise_us)
        self.set_noise(noise_V, noise_kind)

    def set_seed(self, seed, index=0):
        """Restart the noise (any integer in [0, 2**64)): the next sample is index ``index`` (0, or
        any point of the stream in [0, 2**64))."""
        _check_int("seed", seed, 0, MASK64)
        _check_int("index", index, 0, MASK64)
        self.rng = seed
        self._seedmix = _mix64(seed)
        self._index = index

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

    def _key(self, hi):
        """The 32-bit noise key for the samples whose index has ``hi32 == hi``."""
        return _fmix32((self._seedmix ^ _mix64((self._seedmix >> 32) ^ hi)) & MASK32)

    def _scale(self):
        if self.noise_kind == 2:
            return self.noise_V * GAUSS_C
        return self.noise_V

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
        if (self._th != self._m_th or self._rup != self._m_rup or self._rdn != self._m_rdn
                or self.sample_period_us != self._m_dt or per != self._m_per):
            self._m_th = self._th  # another waveform: forget _run's segments
            self._m_rup = self._rup
            self._m_rdn = self._rdn
            self._m_dt = self.sample_period_us
            self._m_per = per
            self._m_ph0 = -1.0
            self._m_ph1 = -1.0

    def _run(self, ph, dt, per):
        """Samples from phase ``ph`` to the end of its waveform segment (plateau or edge), at
        least 1; sets ``_ramp`` when the segment is an edge.  A function of ``ph`` and the
        waveform only: the last two segments are remembered (a periodic waveform's segments start
        at the same phases period after period), which saves the division on the fill's
        sequential path."""
        if ph == self._m_ph0:
            self._ramp = self._m_r0
            return self._m_k0
        if ph == self._m_ph1:
            self._ramp = self._m_r1
            return self._m_k1
        k = self._segment(ph, dt, per)
        self._m_ph0, self._m_k0, self._m_r0 = self._m_ph1, self._m_k1, self._m_r1
        self._m_ph1 = ph
        self._m_k1 = k
        self._m_r1 = self._ramp
        return k

    def _segment(self, ph, dt, per):
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

    def _stretch(self, n):
        """Samples from the current index before ``hi32`` of the index changes (at most ``n``)."""
        left = MASK32 + 1 - (self._index & MASK32)
        nn = n
        return n if nn < left else left

    def fill_u16(self, out):
        """Fill ``out`` (a writable uint16 buffer, ADC counts) with the next ``len(out)`` samples;
        returns how many were clipped to the ADC range."""
        s = _u16_out(self, out)
        try:
            return self._fill_u16(s, _out_len(self, s))
        finally:
            _out_release(self)

    def _fill_u16(self, out, n):
        self._setup()
        th = self._th
        rup = self._rup
        rdn = self._rdn
        vfall = self._vfall
        hv = self.high_V
        lv = self.low_V
        kind = self.noise_kind
        sc = self._scale()
        ph = self.phase_us
        dt = self.sample_period_us
        per = self.period_us
        inv = 1.0 / self.volts_per_count
        off = self.offset_V
        maxc = self.max_count
        top = maxc + 1.0
        clipped = 0
        key = self._key(self._index >> 32)
        # a noisy plateau's count is floor(a + t * b), t the draw: a per level (high, low), b per fill
        if kind == 2:
            b = sc * inv
            a_hi = (hv - off) * inv + 0.5
            a_lo = (lv - off) * inv + 0.5
        else:
            b = U_A * sc * inv
            a_hi = (hv + U_B * sc - off) * inv + 0.5
            a_lo = (lv + U_B * sc - off) * inv + 0.5
        s_hi = -1
        s_lo = -1
        if kind != 0:  # the compiled build's draw -> count tables (cached: built on a level change)
            if th > 0.0:
                s_hi = _noise_table(self, a_hi, b, kind, top, maxc, -1)
            if th < per:
                s_lo = _noise_table(self, a_lo, b, kind, top, maxc, s_hi)
        i = 0
        # one run per waveform segment: a plateau's samples share their noiseless value
        while i < n:
            k = self._run(ph, dt, per)
            if k > n - i:
                k = n - i
            if kind != 0:
                k = self._stretch(k)  # one noise key per run
                if self._index & MASK32 == 0:
                    clipped += _noise_flush(self)  # the batched runs of the previous key
                    key = self._key(self._index >> 32)
            ramp = self._ramp
            if not ramp and kind == 0:
                v0 = _wave(ph, th, rup, rdn, hv, lv, vfall)
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
            elif not ramp:
                # the compiled build batches the run (written at the next flush)
                if ph < th:
                    clipped += _noise_u16(self, out, i, k, n - i, self._index & MASK32, key, a_hi, b,
                                          s_hi, kind, top, maxc)
                else:
                    clipped += _noise_u16(self, out, i, k, n - i, self._index & MASK32, key, a_lo, b,
                                          s_lo, kind, top, maxc)
            else:
                clipped += _noise_flush(self)  # the batched runs before this edge
                for j in range(k):
                    v = _wave(ph + j * dt, th, rup, rdn, hv, lv, vfall)
                    if kind != 0:
                        v += _noise_one((self._index + j) & MASK32, key, sc, kind)
                    xc = (v - off) * inv + 0.5
                    if xc < 0.0:
                        out[i + j] = 0
                        clipped += 1
                    elif xc >= top:
                        out[i + j] = maxc
                        clipped += 1
                    else:
                        out[i + j] = int(xc)
            i += k
            self._index += k
            ph += k * dt
            while ph >= per:
                ph -= per
        clipped += _noise_flush(self)
        self.phase_us = ph
        self.t_us += n * dt
        self.samples += n
        self.clipped += clipped
        return clipped

    def fill_f32(self, out):
        """Fill ``out`` (a writable float32 buffer, volts) with the next ``len(out)`` samples;
        returns ``len(out)``."""
        s = _f32_out(self, out)
        try:
            return self._fill_f32(s, _out_len(self, s))
        finally:
            _out_release(self)

    def _fill_f32(self, out, n):
        self._setup()
        th = self._th
        rup = self._rup
        rdn = self._rdn
        vfall = self._vfall
        hv = self.high_V
        lv = self.low_V
        kind = self.noise_kind
        sc = self._scale()
        ph = self.phase_us
        dt = self.sample_period_us
        per = self.period_us
        i = 0
        while i < n:
            k = self._run(ph, dt, per)
            if k > n - i:
                k = n - i
            if kind != 0:
                k = self._stretch(k)
            ramp = self._ramp
            v0 = _wave(ph, th, rup, rdn, hv, lv, vfall)
            if not ramp and kind != 0:
                _noise_f32(out, i, k, self._index & MASK32, self._key(self._index >> 32), v0, sc, kind)
            else:
                key = self._key(self._index >> 32)
                for j in range(k):
                    if ramp:
                        v = _wave(ph + j * dt, th, rup, rdn, hv, lv, vfall)
                    else:
                        v = v0
                    if kind != 0:
                        v += _noise_one((self._index + j) & MASK32, key, sc, kind)
                    out[i + j] = v
            i += k
            self._index += k
            ph += k * dt
            while ph >= per:
                ph -= per
        self.phase_us = ph
        self.t_us += n * dt
        self.samples += n
        return n

    def drive(self, classifier, buf, n_blocks, t_ms, block_ms):
        """Synthesise up to ``n_blocks`` blocks into ``buf`` and feed each to
        ``classifier.feed_u16(buf, t_ms + k * block_ms)``; returns the 1-based number of the block
        after which the classifier reported a change, or 0 if none did."""
        if _is_native_classifier(classifier):
            return _drive_native(self, classifier, buf, n_blocks, t_ms, block_ms)
        for k in range(n_blocks):
            self.fill_u16(buf)
            if classifier.feed_u16(buf, t_ms + k * block_ms):
                return k + 1
        return 0
