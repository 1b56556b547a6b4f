"""Control-pilot classification of ADC sample blocks (IEC 61851-1 / SAE J1772).

Input is a block of samples of the CP line taken without synchronisation to the 1 kHz PWM: uint16
ADC counts with a linear calibration ``V = count * volts_per_count + offset_V``, or float32 volts.
Nothing here reads a clock: the streaming classifier gets each block's time (``t_ms``) handed in.

One block, two passes over the samples, no allocation:

1. min / max (counts or volts) of the valid samples.  A sample above the ADC range (uint16) or
   outside ``[valid_min_V, valid_max_V]`` / NaN (float32) is rejected and counted.
2. If max - min < ``pwm_min_swing_V`` the block is one plateau (constant level: every sample is in
   it).  Otherwise the *top plateau* is the samples within ``plateau_window_V`` of the max and the
   *bottom plateau* those within ``plateau_window_V`` of the min: trimmed means around the extremes,
   so edge samples (finite rise time) and the other level never enter a plateau's mean.  The same
   pass counts the samples above the mid level (duty) and sums each plateau's deviations and
   squared deviations (exact integers for counts) for its mean and standard deviation.

PWM is present when the swing is large enough and both plateaus hold ``min_plateau_samples``; then
``high_V`` / ``low_V`` are the plateau means and ``duty_pct`` = samples above mid / valid samples.
Without PWM the level is the bigger plateau's mean, ``high_V == low_V``, and duty is 100 % (or 0 %
at or below the F band, constant -12 V).  The raw state is the first band (A, B, C, D, E, F) that
holds ``high_V`` (F only without PWM), else invalid.  ``diode_fault``: PWM present but ``low_V``
outside ``[neg_min_V, neg_max_V]``.  ``unstable``: a plateau's sigma above ``unstable_sigma_V``,
more than ``unstable_mid_pct`` % of the samples in neither plateau (level change inside the block,
heavy noise), or a swing with a plateau too small for PWM (a glitch).

Duty resolution: unsynchronised sampling at period Ts miscounts at most one sample per PWM edge
pair, so a block of whole PWM periods measures duty within 100 * Ts / 1000 us percent.

Streaming (:class:`PilotClassifier`): a new raw state becomes the reported state once it has held
for ``debounce_fast_ms`` (changes that remove power: to A, B, E, F or invalid) or
``debounce_slow_ms`` (to C or D).  ``t_ms`` is the time of a block's newest sample; the hold is
measured from the first block that showed the candidate state, so it is never over-estimated.
An empty block is no evidence (ignored).  A diode fault does not change the state; the classifier
tracks how long it has lasted without a break (``diode_fault_active``, ``diode_fault_held_ms``).  With ``reject_unstable`` an unstable block is no
evidence either and cancels a pending candidate (Yeti's variance gate: keep the last state).
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


class PilotConfig:
    """Calibration, bands and debounce times (volts and milliseconds); no checks here."""

    def __init__(self, volts_per_count=30.0 / 4095.0, offset_V=-15.0, adc_bits=12,
                 valid_min_V=-15.0, valid_max_V=15.0,
                 plateau_window_V=1.5, pwm_min_swing_V=4.0, min_plateau_samples=2,
                 unstable_sigma_V=0.5, unstable_mid_pct=10.0,
                 a_min_V=11.0, a_max_V=13.0, b_min_V=8.0, b_max_V=10.0,
                 c_min_V=5.0, c_max_V=7.0, d_min_V=2.0, d_max_V=4.0,
                 e_min_V=-1.1, e_max_V=1.1, f_min_V=-13.0, f_max_V=-11.0,
                 neg_min_V=-13.0, neg_max_V=-11.0,
                 debounce_fast_ms=20.0, debounce_slow_ms=250.0, reject_unstable=False):
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


class PilotBlock:
    """The evidence of one block (filled in place by ``block_u16`` / ``block_f32``)."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.state = _S_INVALID
        self.n_samples = 0
        self.n_valid = 0
        self.n_rejected = 0
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
            "n_rejected": self.n_rejected, "high_V": self.high_V, "low_V": self.low_V,
            "sigma_high_V": self.sigma_high_V, "sigma_low_V": self.sigma_low_V,
            "duty_pct": self.duty_pct, "mid_pct": self.mid_pct, "pwm": self.pwm,
            "diode_fault": self.diode_fault, "unstable": self.unstable,
        }

    def __repr__(self):
        return f"PilotBlock({self.as_dict()})"


def _sqrt(x):
    # Newton iteration would differ between builds; x ** 0.5 is C pow() compiled, correctly
    # rounded sqrt in both for the values used here (non-negative doubles)
    if x <= 0.0:
        return 0.0
    return x ** 0.5


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


def _finish(out, cfg, n_valid, above, nt, st, sst, nb, sb, ssb, top_ref, bot_ref, scale, offset,
            swing):
    """Turn pass-2 sums (top plateau: deviations above top_ref, bottom: below bot_ref) into volts."""
    hi = 0.0
    lo = 0.0
    sh = 0.0
    sl = 0.0
    if nt > 0:
        m = st / nt
        hi = (top_ref + m) * scale + offset
        sh = _sqrt(sst / nt - m * m) * scale
    if nb > 0:
        m = sb / nb
        lo = (bot_ref - m) * scale + offset
        sl = _sqrt(ssb / nb - m * m) * scale
    mps = cfg.min_plateau_samples
    out.mid_pct = 0.0
    out.diode_fault = False
    out.unstable = False
    if swing and nt >= mps and nb >= mps:
        out.pwm = True
        out.high_V = hi
        out.low_V = lo
        out.sigma_high_V = sh
        out.sigma_low_V = sl
        out.duty_pct = above * 100.0 / n_valid
        out.mid_pct = (n_valid - nt - nb) * 100.0 / n_valid
        state = classify_level(cfg, hi)
        if not (cfg.neg_min_V <= lo <= cfg.neg_max_V):
            out.diode_fault = True
        if sh > cfg.unstable_sigma_V or sl > cfg.unstable_sigma_V or out.mid_pct > cfg.unstable_mid_pct:
            out.unstable = True
    else:
        out.pwm = False
        if swing:
            # a glitch: one plateau too small for PWM; the level is the bigger plateau
            out.unstable = True
            out.mid_pct = (n_valid - nt - nb) * 100.0 / n_valid
            if nb > nt:
                hi = lo
                sh = sl
        out.high_V = hi
        out.low_V = hi
        out.sigma_high_V = sh
        out.sigma_low_V = sh
        if sh > cfg.unstable_sigma_V:
            out.unstable = True
        if hi <= cfg.f_max_V:
            out.duty_pct = 0.0
            state = _S_F if hi >= cfg.f_min_V else _S_INVALID
        else:
            out.duty_pct = 100.0
            state = classify_level(cfg, hi)
    out.state = state
    return state


def block_u16(out, samples, cfg):
    """Classify one block of uint16 ADC counts into ``out`` (a PilotBlock); returns the raw state."""
    n = len(samples)
    out.n_samples = n
    maxc = cfg.max_count
    # pass 1: extremes, four interleaved min/max chains (the common case: no sample above range)
    mn = 65535
    mx = 0
    mn1 = 65535
    mx1 = 0
    mn2 = 65535
    mx2 = 0
    mn3 = 65535
    mx3 = 0
    i = 0
    while i + 3 < n:
        s = samples[i]
        s1 = samples[i + 1]
        s2 = samples[i + 2]
        s3 = samples[i + 3]
        mn = s if s < mn else mn
        mx = s if s > mx else mx
        mn1 = s1 if s1 < mn1 else mn1
        mx1 = s1 if s1 > mx1 else mx1
        mn2 = s2 if s2 < mn2 else mn2
        mx2 = s2 if s2 > mx2 else mx2
        mn3 = s3 if s3 < mn3 else mn3
        mx3 = s3 if s3 > mx3 else mx3
        i += 4
    while i < n:
        s = samples[i]
        mn = s if s < mn else mn
        mx = s if s > mx else mx
        i += 1
    mn1 = mn3 if mn3 < mn1 else mn1
    mx1 = mx3 if mx3 > mx1 else mx1
    mn = mn2 if mn2 < mn else mn
    mx = mx2 if mx2 > mx else mx
    mn = mn1 if mn1 < mn else mn
    mx = mx1 if mx1 > mx else mx
    nrej = 0
    if mx > maxc:
        mn = 65535
        mx = 0
        for i in range(n):
            s = samples[i]
            if s > maxc:
                nrej += 1
            else:
                mn = s if s < mn else mn
                mx = s if s > mx else mx
    n_valid = n - nrej
    out.n_valid = n_valid
    out.n_rejected = nrej
    if n_valid == 0:
        out.clear()
        out.n_samples = n
        out.n_rejected = nrej
        return _S_INVALID
    scale = cfg.volts_per_count
    swing = (mx - mn) * scale >= cfg.pwm_min_swing_V
    above = 0
    nt = 0
    st = 0
    sst = 0
    nb = 0
    sb = 0
    ssb = 0
    if not swing:
        # one plateau: every valid sample, deviations above the min
        top = mn
        bot = mn
        for i in range(n):
            s = samples[i]
            if s <= maxc:
                d = s - mn
                st += d
                sst += d * d
        nt = n_valid
        return _finish(out, cfg, n_valid, 0, nt, st, sst, 0, 0, 0, top, bot, scale,
                       cfg.offset_V, swing)
    w = int(cfg.plateau_window_V / scale)
    top = mx - w
    bot = mn + w
    mid2 = mn + mx
    # pass 2: each sample is on one side of the mid level; a plateau is the part of its side
    # within the window of the extreme (exact integer sums of the deviations from the window edge)
    if nrej:
        lim = maxc  # rejected samples are above the max: keep them out of the top side
    else:
        lim = 65535
    for i in range(n):
        s = samples[i]
        if 2 * s > mid2:
            if s <= lim:
                above += 1
                d = s - top
                if d >= 0:
                    nt += 1
                    st += d
                    sst += d * d
        else:
            e = bot - s
            if e >= 0:
                nb += 1
                sb += e
                ssb += e * e
    return _finish(out, cfg, n_valid, above, nt, st, sst, nb, sb, ssb, top, bot, scale,
                   cfg.offset_V, swing)


def block_f32(out, samples, cfg):
    """Classify one block of float32 volts into ``out`` (a PilotBlock); returns the raw state."""
    n = len(samples)
    out.n_samples = n
    vmin = cfg.valid_min_V
    vmax = cfg.valid_max_V
    mn = 1e300
    mx = -1e300
    nrej = 0
    for i in range(n):
        v = samples[i]
        if vmin <= v <= vmax:  # false for NaN
            mn = v if v < mn else mn
            mx = v if v > mx else mx
        else:
            nrej += 1
    n_valid = n - nrej
    out.n_valid = n_valid
    out.n_rejected = nrej
    if n_valid == 0:
        out.clear()
        out.n_samples = n
        out.n_rejected = nrej
        return _S_INVALID
    swing = mx - mn >= cfg.pwm_min_swing_V
    above = 0
    nt = 0
    st = 0.0
    sst = 0.0
    nb = 0
    sb = 0.0
    ssb = 0.0
    if not swing:
        for i in range(n):
            v = samples[i]
            if vmin <= v <= vmax:
                d = v - mn
                st += d
                sst += d * d
        return _finish(out, cfg, n_valid, 0, n_valid, st, sst, 0, 0.0, 0.0, mn, mn, 1.0, 0.0,
                       swing)
    w = cfg.plateau_window_V
    top = mx - w
    bot = mn + w
    mid = (mn + mx) * 0.5
    for i in range(n):
        v = samples[i]
        if v > mid:
            if v <= vmax:
                above += 1
                d = v - top
                if d >= 0.0:
                    nt += 1
                    st += d
                    sst += d * d
        elif v >= vmin:  # false for NaN
            e = bot - v
            if e >= 0.0:
                nb += 1
                sb += e
                ssb += e * e
    return _finish(out, cfg, n_valid, above, nt, st, sst, nb, sb, ssb, top, bot, 1.0, 0.0, swing)


def removes_power(state):
    """True for the changes that must be decided fast: to A, B, E, F or invalid."""
    return state != _S_C and state != _S_D


class PilotClassifier:
    """Streaming, debounced classifier.  ``feed_u16`` / ``feed_f32`` return 1 when the reported
    state changed with this block, else 0; the evidence stays in the attributes (``block`` is the
    last block's :class:`PilotBlock`, ``decided`` the block that made the last decision)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.block = PilotBlock()
        self.decided = PilotBlock()
        self.reset()

    def reset(self):
        self.state = _S_UNKNOWN
        self.previous_state = _S_UNKNOWN
        self.since_ms = 0.0
        self.decided_ms = 0.0
        self.held_ms = 0.0
        self.candidate = _S_UNKNOWN
        self.candidate_since_ms = 0.0
        self.t_ms = 0.0
        self.blocks = 0
        self.changes = 0
        self.diode_fault_active = False
        self.diode_fault_since_ms = 0.0
        self.diode_fault_held_ms = 0.0
        self.block.clear()
        self.decided.clear()

    def _step(self, t_ms):
        blk = self.block
        self.t_ms = t_ms
        if blk.n_samples == 0:
            return 0
        self.blocks += 1
        if blk.diode_fault:
            if not self.diode_fault_active:
                self.diode_fault_active = True
                self.diode_fault_since_ms = t_ms
            self.diode_fault_held_ms = t_ms - self.diode_fault_since_ms
        else:
            self.diode_fault_active = False
            self.diode_fault_held_ms = 0.0
        raw = blk.state
        if self.cfg.reject_unstable and blk.unstable:
            self.candidate = _S_UNKNOWN
            return 0
        if raw == self.state:
            self.candidate = _S_UNKNOWN
            return 0
        if raw != self.candidate:
            self.candidate = raw
            self.candidate_since_ms = t_ms
        held = t_ms - self.candidate_since_ms
        if removes_power(raw):
            need = self.cfg.debounce_fast_ms
        else:
            need = self.cfg.debounce_slow_ms
        if held < need:
            return 0
        self.previous_state = self.state
        self.state = raw
        self.held_ms = held
        self.since_ms = self.candidate_since_ms
        self.decided_ms = t_ms
        self.candidate = _S_UNKNOWN
        self.changes += 1
        self.decided.copy_from(blk)
        return 1

    def feed_u16(self, samples, t_ms):
        """Classify a uint16 block whose newest sample is at ``t_ms``; 1 if the state changed."""
        block_u16(self.block, samples, self.cfg)
        return self._step(t_ms)

    def feed_f32(self, samples, t_ms):
        """Classify a float32-volts block whose newest sample is at ``t_ms``; 1 if it changed."""
        block_f32(self.block, samples, self.cfg)
        return self._step(t_ms)
