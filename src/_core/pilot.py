"""Control-pilot classification of ADC sample blocks (IEC 61851-1 / SAE J1772).

Input is a block of samples of the CP line taken without synchronisation to the 1 kHz PWM: uint16
ADC counts with a linear calibration ``V = count * volts_per_count + offset_V``, or float32 volts.
Nothing here reads a clock: the streaming classifier gets each block's time (``t_ms``) handed in.

One block: the plateaus are the *modes* of the sample distribution (no allocation; three passes)
-----------------------------------------------------------------------------------------------
1. A 64-bin histogram of the valid samples (uint16: ``count >> (adc_bits - 6)``, 0.47 V bins at
   12 bits; float32: 64 bins over ``[valid_min_V, valid_max_V]``).  A uint16 sample above the ADC
   range or a float32 one outside ``[valid_min_V, valid_max_V]`` / NaN is rejected and counted.
2. The first plateau is the densest pair of adjacent bins; the second the densest pair at least
   ``pwm_min_swing_V`` away from it.  PWM is present when the second holds at least
   ``max(min_plateau_samples, max_outliers + 1)`` samples; then the higher pair is the top
   plateau, the lower the bottom one and the mid level lies halfway between their centres.  The
   bottom one must lie below the E band (a PWM's low phase is the EVSE's -12 V, or -high through
   a shorted diode): two plateaus above it are a level change inside the block, not PWM.
   Without PWM the block is one plateau (samples far from it, too few for a second plateau, make
   it *unstable*: a glitch).
3. One pass over the samples: each valid sample is high (above the mid level) or low; a plateau's
   samples are those of its side within ``plateau_window_V`` of its centre whose ``settle_samples``
   predecessors (inside the block) are valid and on the same side; sums of their deviations and
   squared deviations (exact integers for counts) give the plateau's mean and standard deviation.
   (If a plateau has no settled sample, e.g. one sample per PWM pulse, the pass runs again
   without the settling rule.)

Outliers: the modes are counts, so isolated outliers (spikes, bursts, contact arcing) cannot
become an anchor however far they reach; up to ``max_outliers`` samples may even share one
0.94 V level band without being taken for a plateau.  An outlier inside a plateau's side but
outside its window, or within ``settle_samples`` after it, is left out of the plateau; one that
lands in the other side moves the duty by one sample.  Cost: the histogram pass (about 3
instructions per sample) and the settling masks of pass 3.

Settling: after each edge, the ``settle_samples`` samples (default 2: 20 us at 100 kS/s) are
not plateau samples, so RC edges (20 us), the diode knee, overshoot and ringing (20 % of the
swing) stay out of the plateau means; a plateau window centred on the mode (not hung from the
extreme) keeps later ringing that reaches beyond ``plateau_window_V`` out too.

Results: ``high_V`` / ``low_V`` are the plateau means (without PWM ``high_V == low_V``), the
state the first band (A, B, C, D, E, F) that holds ``high_V`` (F only without PWM), else invalid.
``duty_pct`` is the share of high samples, each weighted by a triangular window over the block
(sample ``i`` of ``n`` weighs ``min(i + 1, n - i)``): a block that is not a whole number of PWM
periods biases a plain count by up to a quarter period, the window makes that error quadratic
in ``T_pwm / T_block`` and needs no edge detection (a burst cannot fake an edge).  Without PWM
duty is 100 % (0 % at or below the F band).  Duty resolution per block, in percentage points:
``100 * Ts / T_pwm`` (each period's high time is counted to within a sample: 1 at 100 kS/s and
1 kHz) ``+ 32 * (T_pwm / T_block) ** 2`` (the window's leakage: 0.33 for 10 ms blocks)
``+ 200 * k / n`` for ``k`` outlier samples; averaged over blocks the first term goes to 0 when
the ADC clock is not locked to the PWM.  Duty is measured at the mid level: edges whose halves
differ (the EV diode's knee: a slower time constant above the knee) shift it by the difference
of the two mid-crossing delays over the period (0.2 points for 2 us below / 4 us above).
``diode_fault``: PWM present but ``low_V`` outside ``[neg_min_V, neg_max_V]``.
``unstable``: a plateau's sigma above ``unstable_sigma_V``, more than ``unstable_mid_pct`` % of
the valid samples in neither plateau (edges, a level change inside the block, heavy noise), or a
glitch.

Streaming with debounce: ``PilotClassifier`` in pilotstream.py (the kernel namespace's
``pilot.PilotClassifier`` is that class).
"""

# typed constants for the kernel (module-level C ints are not Python attributes when compiled) ...
_S_UNKNOWN = 0
_S_A = 1
_S_B = 2
_S_C = 3
_S_D = 4
_S_E = 5
_S_F = 6
_S_INVALID = 7
# ... and the public names
STATE_UNKNOWN = 0
STATE_A = 1
STATE_B = 2
STATE_C = 3
STATE_D = 4
STATE_E = 5
STATE_F = 6
STATE_INVALID = 7
STATE_NAMES = ("unknown", "A", "B", "C", "D", "E", "F", "invalid")
_NAN = float("nan")

# The per-sample passes and the buffer access go by one name each (_hist, _sums, _modes, _sqrt,
# _u16_buffer, ...): the compiled build's pilot.pxd defines them as inline C (pilotscan.h,
# rawbuf.pxd); the plain build binds the same names to their Python twins here.
try:
    _NATIVE = _native_scan()
except NameError:
    _NATIVE = False
    from . import pilotscan as _ps

    globals().update(_hist=_ps.hist_u16, _sums=_ps.sums_u16, _modes=_ps.modes, _sqrt=_ps.sqrt,
                     _level=_ps.level, _u16_buffer=_ps.u16_buffer, _f32_buffer=_ps.f32_buffer,
                     _u16_sub=_ps.sub, _buffer_len=_ps.buffer_len, _release=_ps.release)


class PilotConfig:
    """Calibration, bands, plateau rules and debounce times (volts, milliseconds); no checks."""

    def __init__(self, volts_per_count=30.0 / 4095.0, offset_V=-15.0, adc_bits=12,
                 valid_min_V=-15.0, valid_max_V=15.0,
                 plateau_window_V=1.5, pwm_min_swing_V=4.0, min_plateau_samples=2,
                 unstable_sigma_V=0.5, unstable_mid_pct=10.0,
                 a_min_V=11.0, a_max_V=13.0, b_min_V=8.0, b_max_V=10.0,
                 c_min_V=5.0, c_max_V=7.0, d_min_V=2.0, d_max_V=4.0,
                 e_min_V=-1.1, e_max_V=1.1, f_min_V=-13.0, f_max_V=-11.0,
                 neg_min_V=-13.0, neg_max_V=-11.0,
                 debounce_fast_ms=20.0, debounce_slow_ms=250.0, reject_unstable=False,
                 hysteresis_V=0.4, max_outliers=4, settle_samples=2):
        self.volts_per_count = volts_per_count
        self.offset_V = offset_V
        self.adc_bits = adc_bits
        self.max_count = (1 << adc_bits) - 1
        self.valid_min_V = valid_min_V
        self.valid_max_V = valid_max_V
        self.plateau_window_V = plateau_window_V
        self.pwm_min_swing_V = pwm_min_swing_V
        self.min_plateau_samples = min_plateau_samples
        self.unstable_sigma_V = unstable_sigma_V
        self.unstable_mid_pct = unstable_mid_pct
        self.a_min_V = a_min_V
        self.a_max_V = a_max_V
        self.b_min_V = b_min_V
        self.b_max_V = b_max_V
        self.c_min_V = c_min_V
        self.c_max_V = c_max_V
        self.d_min_V = d_min_V
        self.d_max_V = d_max_V
        self.e_min_V = e_min_V
        self.e_max_V = e_max_V
        self.f_min_V = f_min_V
        self.f_max_V = f_max_V
        self.neg_min_V = neg_min_V
        self.neg_max_V = neg_max_V
        self.debounce_fast_ms = debounce_fast_ms
        self.debounce_slow_ms = debounce_slow_ms
        self.reject_unstable = reject_unstable
        self.hysteresis_V = hysteresis_V
        self.max_outliers = max_outliers
        self.settle_samples = settle_samples

    def plateau_min_samples(self):
        """Samples the second plateau needs for PWM: max(min_plateau_samples, max_outliers + 1)."""
        m = self.max_outliers + 1
        return self.min_plateau_samples if self.min_plateau_samples > m else m


class PilotBlock:
    """The evidence of one block (filled in place by ``block_u16`` / ``block_f32``)."""

    def __init__(self):
        self._hist = [0] * 68  # scratch of the passes (no allocation per block) ...
        self._hist[66] = 0xFFFF  # ... and the last block's modes: a speed hint for the C twin
        self._hist[67] = 0xFFFF
        self._acc = [0] * 9
        self.clear()

    def clear(self):
        self.state = _S_INVALID
        self.n_samples = 0
        self.n_valid = 0
        self.n_rejected = 0
        self.n_high = 0
        self.n_low = 0
        self.high_V = 0.0
        self.low_V = 0.0
        self.sigma_high_V = 0.0
        self.sigma_low_V = 0.0
        self.duty_pct = 0.0
        self.mid_pct = 0.0
        self.pwm = False
        self.diode_fault = False
        self.unstable = False

    def copy_from(self, other):
        self.state = other.state
        self.n_samples = other.n_samples
        self.n_valid = other.n_valid
        self.n_rejected = other.n_rejected
        self.n_high = other.n_high
        self.n_low = other.n_low
        self.high_V = other.high_V
        self.low_V = other.low_V
        self.sigma_high_V = other.sigma_high_V
        self.sigma_low_V = other.sigma_low_V
        self.duty_pct = other.duty_pct
        self.mid_pct = other.mid_pct
        self.pwm = other.pwm
        self.diode_fault = other.diode_fault
        self.unstable = other.unstable

    def as_dict(self):
        return {
            "state": STATE_NAMES[self.state], "n_samples": self.n_samples, "n_valid": self.n_valid,
            "n_rejected": self.n_rejected, "n_high": self.n_high, "n_low": self.n_low,
            "high_V": self.high_V, "low_V": self.low_V,
            "sigma_high_V": self.sigma_high_V, "sigma_low_V": self.sigma_low_V,
            "duty_pct": self.duty_pct, "mid_pct": self.mid_pct, "pwm": self.pwm,
            "diode_fault": self.diode_fault, "unstable": self.unstable,
        }

    def __repr__(self):
        return f"PilotBlock({self.as_dict()})"


def classify_level(cfg, level_V):
    """Band of a constant / high-plateau level: STATE_A..STATE_E, else STATE_INVALID (no F)."""
    if cfg.a_min_V <= level_V <= cfg.a_max_V:
        return _S_A
    if cfg.b_min_V <= level_V <= cfg.b_max_V:
        return _S_B
    if cfg.c_min_V <= level_V <= cfg.c_max_V:
        return _S_C
    if cfg.d_min_V <= level_V <= cfg.d_max_V:
        return _S_D
    if cfg.e_min_V <= level_V <= cfg.e_max_V:
        return _S_E
    return _S_INVALID


def near_band(cfg, state, lo_V, hi_V, pwm):
    """True if the levels ``[lo_V, hi_V]`` lie within ``hysteresis_V`` of ``state``'s band (F: only
    without PWM); False for NaN levels."""
    h = cfg.hysteresis_V
    if state == _S_A:
        return cfg.a_min_V - h <= lo_V and hi_V <= cfg.a_max_V + h
    if state == _S_B:
        return cfg.b_min_V - h <= lo_V and hi_V <= cfg.b_max_V + h
    if state == _S_C:
        return cfg.c_min_V - h <= lo_V and hi_V <= cfg.c_max_V + h
    if state == _S_D:
        return cfg.d_min_V - h <= lo_V and hi_V <= cfg.d_max_V + h
    if state == _S_E:
        return cfg.e_min_V - h <= lo_V and hi_V <= cfg.e_max_V + h
    if state == _S_F:
        return not pwm and cfg.f_min_V - h <= lo_V and hi_V <= cfg.f_max_V + h
    return False


def _finish(out, cfg, n_valid, pwm, glitch, duty, nt, st, sst, nb, sb, ssb, top_ref, bot_ref,
            scale, offset):
    """Turn the plateau sums (deviations above top_ref / bot_ref) into volts, state and flags."""
    hi = 0.0
    lo = 0.0
    sh = 0.0
    sl = 0.0
    # IEEE sqrt is correctly rounded: C's sqrt (compiled) and math.sqrt (plain) agree to the bit
    if nt > 0:
        m = st / nt
        hi = (top_ref + m) * scale + offset
        v = sst / nt - m * m
        sh = _sqrt(v) * scale if v > 0.0 else 0.0
    if nb > 0:
        m = sb / nb
        lo = (bot_ref + m) * scale + offset
        v = ssb / nb - m * m
        sl = _sqrt(v) * scale if v > 0.0 else 0.0
    out.n_high = nt
    out.n_low = nb
    out.mid_pct = (n_valid - nt - nb) * 100.0 / n_valid
    out.diode_fault = False
    out.unstable = glitch or out.mid_pct > cfg.unstable_mid_pct or sh > cfg.unstable_sigma_V
    out.pwm = pwm
    out.high_V = hi
    out.sigma_high_V = sh
    if pwm:
        out.low_V = lo
        out.sigma_low_V = sl
        out.duty_pct = duty
        state = classify_level(cfg, hi)
        if not (cfg.neg_min_V <= lo <= cfg.neg_max_V):
            out.diode_fault = True
        if sl > cfg.unstable_sigma_V:
            out.unstable = True
    else:
        out.low_V = hi
        out.sigma_low_V = sh
        if hi <= cfg.f_max_V:
            out.duty_pct = 0.0
            state = _S_F if hi >= cfg.f_min_V else _S_INVALID
        else:
            out.duty_pct = 100.0
            state = classify_level(cfg, hi)
    out.state = state
    return state


def _empty(out, n, nrej):
    out.clear()
    out.n_samples = n
    out.n_rejected = nrej
    return _S_INVALID


def scan_u16(out, samples, shift, maxc, midc, settle, tlo, tw, blo, bw, hint1=0xFFFF,
             hint2=0xFFFF):
    """The raw passes of ``block_u16`` (histogram, then sums) into ``out``'s scratch; returns
    ``(histogram, acc)`` as lists (see pilotscan.py).  ``hint1`` / ``hint2``: the mode pairs the
    C histogram counts with vector compares (0xFFFF: none; the result must not depend on them).
    For tests: the compiled build runs the C twin, the plain build pilotscan.py."""
    out._hist[66] = hint1
    out._hist[67] = hint2
    s = _u16_buffer(out, samples)
    try:
        n = _buffer_len(out, s)
        _hist(s, n, shift, maxc, out._hist)
        _sums(s, n, midc, settle, maxc, tlo, tw, blo, bw, out._hist[65], out._acc)
    finally:
        _release(out)
    return [out._hist[b] for b in range(65)], [out._acc[k] for k in range(9)]


def modes_of(out, hist, nbins, dist):
    """``_modes`` (pilotscan.modes or its C twin) on a list of 65 bin counts: for tests."""
    for b in range(65):
        out._hist[b] = hist[b]
    return _modes(out._hist, nbins, dist)


def scan_level(force=-1):
    """The compiled build's path for the passes (4 AVX-512BW, 3 AVX2, 2 SSE2, 1 NEON, 0 scalar C;
    ``force`` selects another one the CPU has, -2 the best again: for tests); -1 in the plain
    build."""
    return _level(force)


def block_u16(out, samples, cfg):
    """Classify one block of uint16 ADC counts (any 1-D C-contiguous buffer of format 'H') into
    ``out`` (a PilotBlock); returns the raw state."""
    s = _u16_buffer(out, samples)
    try:
        return _block_u16(out, s, _buffer_len(out, s), cfg)
    finally:
        _release(out)


def _block_u16(out, samples, n, cfg):
    """block_u16 on ``n`` samples at ``samples`` (the compiled build: a pointer)."""
    out.n_samples = n
    if n == 0:
        return _empty(out, 0, 0)
    maxc = cfg.max_count
    acc = out._acc
    hist = out._hist
    shift = cfg.adc_bits - 6 if cfg.adc_bits > 6 else 0
    _hist(samples, n, shift, maxc, hist)
    nrej = hist[64]
    n_valid = n - nrej
    out.n_valid = n_valid
    out.n_rejected = nrej
    if n_valid == 0:
        return _empty(out, n, nrej)
    scale = cfg.volts_per_count
    bin_V = scale * (1 << shift)
    dist = int(cfg.pwm_min_swing_V / bin_V)
    if dist * bin_V < cfg.pwm_min_swing_V:
        dist += 1
    if dist < 2:
        dist = 2
    m1, m2, p2 = _modes(hist, (maxc >> shift) + 1, dist)  # the two plateaus' bin pairs
    hist[66] = m1  # the next block's histogram hint (its result does not depend on it)
    hist[67] = m2 if m2 >= 0 else 0xFFFF
    w = int(cfg.plateau_window_V / scale)
    top = m1 if m1 > m2 else m2
    bot = m2 if m1 > m2 else m1
    ct = (top + 1) << shift
    cb = (bot + 1) << shift
    # a PWM's low phase is the EVSE's -12 V (or -high through a shorted diode): two plateaus
    # above the E band are a level change inside the block, not PWM
    pwm = p2 >= cfg.plateau_min_samples() and cb * scale + cfg.offset_V < cfg.e_min_V
    duty = 0.0
    if pwm:
        midc = (ct + cb) >> 1
        settle = cfg.settle_samples
        while True:
            _sums(samples, n, midc, settle, maxc, ct - w, 2 * w, cb - w, 2 * w, hist[65], acc)
            if (acc[1] > 0 and acc[4] > 0) or settle == 0:
                break
            settle = 0  # no settled sample on a side (one sample per pulse): plain windows
        duty = acc[7] * 100.0 / acc[8]
    else:
        ct = (m1 + 1) << shift
        cb = 0
        _sums(samples, n, -1, 0, maxc, ct - w, 2 * w, 0, -1, hist[65], acc)
    return _finish(out, cfg, n_valid, pwm, p2 > 0 and not pwm, duty, acc[1], acc[2], acc[3],
                   acc[4], acc[5], acc[6], ct - w, cb - w, scale, cfg.offset_V)


def _f32_sums(samples, n, mid, settle, vmin, vmax, tlo, tw, blo, bw, acc):
    """pilotscan.sums_u16 for float32 volts: the same rule with valid = vmin <= v <= vmax; the
    counts and weights go to ``acc``, the four sums are returned."""
    above = 0
    nt = 0
    nb = 0
    st = 0.0
    sst = 0.0
    sb = 0.0
    ssb = 0.0
    whigh = 0
    wvalid = 0
    run_hi = 0
    run_lo = 0
    for i in range(n):
        v = samples[i]
        if not (vmin <= v <= vmax):  # also NaN
            run_hi = 0
            run_lo = 0
            continue
        w = i + 1 if i + 1 < n - i else n - i
        wvalid += w
        if v > mid:
            above += 1
            whigh += w
            if run_hi >= settle or run_hi == i:
                d = v - tlo
                if 0.0 <= d <= tw:
                    nt += 1
                    st += d
                    sst += d * d
            run_hi += 1
            run_lo = 0
        else:
            if run_lo >= settle or run_lo == i:
                d = v - blo
                if 0.0 <= d <= bw:
                    nb += 1
                    sb += d
                    ssb += d * d
            run_lo += 1
            run_hi = 0
    acc[0] = above
    acc[1] = nt
    acc[4] = nb
    acc[7] = whigh
    acc[8] = wvalid
    return st, sst, sb, ssb


def block_f32(out, samples, cfg):
    """Classify one block of float32 volts (any 1-D C-contiguous buffer of format 'f') into
    ``out`` (a PilotBlock); returns the raw state."""
    s = _f32_buffer(out, samples)
    try:
        return _block_f32(out, s, _buffer_len(out, s), cfg)
    finally:
        _release(out)


def _block_f32(out, samples, n, cfg):
    """block_f32 on ``n`` samples at ``samples`` (the compiled build: a pointer)."""
    out.n_samples = n
    if n == 0:
        return _empty(out, 0, 0)
    vmin = cfg.valid_min_V
    vmax = cfg.valid_max_V
    hist = out._hist
    acc = out._acc
    for b in range(66):
        hist[b] = 0
    inv = 64.0 / (vmax - vmin)
    for i in range(n):
        v = samples[i]
        if vmin <= v <= vmax:  # false for NaN
            b = int((v - vmin) * inv)
            hist[b if b < 64 else 63] += 1
        else:
            hist[64] += 1
    nrej = hist[64]
    n_valid = n - nrej
    out.n_valid = n_valid
    out.n_rejected = nrej
    if n_valid == 0:
        return _empty(out, n, nrej)
    bin_V = (vmax - vmin) / 64.0
    dist = int(cfg.pwm_min_swing_V / bin_V)
    if dist * bin_V < cfg.pwm_min_swing_V:
        dist += 1
    if dist < 2:
        dist = 2
    m1, m2, p2 = _modes(hist, 64, dist)
    w = cfg.plateau_window_V
    top = m1 if m1 > m2 else m2
    bot = m2 if m1 > m2 else m1
    ct = vmin + (top + 1) * bin_V
    cb = vmin + (bot + 1) * bin_V
    pwm = p2 >= cfg.plateau_min_samples() and cb < cfg.e_min_V  # low phase negative (see block_u16)
    duty = 0.0
    if pwm:
        mid = (ct + cb) * 0.5
        settle = cfg.settle_samples
        st, sst, sb, ssb = _f32_sums(samples, n, mid, settle, vmin, vmax, ct - w, 2 * w, cb - w, 2 * w, acc)
        if (acc[1] == 0 or acc[4] == 0) and settle > 0:
            st, sst, sb, ssb = _f32_sums(samples, n, mid, 0, vmin, vmax, ct - w, 2 * w, cb - w, 2 * w, acc)
        duty = acc[7] * 100.0 / acc[8]
    else:
        ct = vmin + (m1 + 1) * bin_V
        cb = 0.0
        st, sst, sb, ssb = _f32_sums(samples, n, vmin - 1.0, 0, vmin, vmax, ct - w, 2 * w, 0.0, -1.0, acc)
    return _finish(out, cfg, n_valid, pwm, p2 > 0 and not pwm, duty, acc[1], st, sst, acc[4], sb, ssb,
                   ct - w, cb - w, 1.0, 0.0)
