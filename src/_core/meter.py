"""Energy integration of timestamped power samples into import and export Wh (trapezoid rule).

Plain numbers / float64 buffers in, plain numbers out; times are handed in as ``t_ms`` (float64
milliseconds of the caller's monotonic clock), nothing reads a clock.

* Between two consecutive samples the power is taken as linear; its positive part is import, its
  negative part export.  When the two samples have opposite signs the interval is split at the
  zero crossing, so each direction gets its exact share of the trapezoid.
* A gap ``dt > max_gap_ms`` is not integrated and counted in ``gaps``; a timestamp earlier than the
  previous one is not integrated and counted in ``backwards``.  Either way the new sample becomes
  the start of the next interval (the chain restarts).  An equal timestamp integrates nothing.
* A NaN power or timestamp is skipped (counted in ``invalid``) and leaves the chain as it was.
* ``feed_vi`` sums V x I over three phases; a phase with a NaN voltage or current counts as 0 W.
* Accumulation is compensated (Neumaier) in W*ms, so 10^7 samples stay within 1e-9 relative of
  the exact sum (in practice ~1e-16); ``import_Wh`` / ``export_Wh`` divide by 3.6e6 on read.  The
  block methods add the interval energies (all >= 0) of 256 samples naively in four interleaved
  lanes before folding them into the compensated sums (relative error <= 64 eps per fold): fewer
  instructions per sample, and the compiled build's vector pass (meterfast.h) adds four intervals
  at once with the same result to the bit.
* Buffers: the block methods take float64 buffers (format 'd', 1-D, C-contiguous; array('d'),
  numpy, memoryview); the compiled build reads them through ``PyObject_GetBuffer`` (rawbuf.pxd).
"""

WMS_PER_WH = 3600000.0

# The vector pass and the buffer access go by one name each (_fast, _f64, ...): the compiled
# build's meter.pxd defines them as inline C (meterfast.h, rawbuf.pxd); the plain build binds the
# same names to the plain versions in meterplain.py.
try:
    _NATIVE = _native_meter()
except NameError:
    _NATIVE = False
    from . import meterplain as _mp

    globals().update(_fast=_mp.fast, _f64=_mp.f64, _f64_len=_mp.f64_len, _f64_release=_mp.f64_release,
                     _fast_level=_mp.fast_level)


def fast_level(force=-1):
    """The compiled build's vector pass: 1 AVX2, 0 the baseline build's (SSE2 / NEON / scalar),
    -1 none; ``force`` 0 / 1 selects one (if the CPU has it), -3 none, -2 the best again (tests).
    -1 in the plain build."""
    return _fast_level(force)


class EnergyIntegrator:
    """Trapezoid integrator of power samples; see the module docstring for the rules."""

    def __init__(self, max_gap_ms=60000.0):
        self.max_gap_ms = max_gap_ms
        self.reset()

    def reset(self):
        """Forget everything (energies, counters, previous sample)."""
        self.imp_sum = 0.0
        self.imp_c = 0.0
        self.exp_sum = 0.0
        self.exp_c = 0.0
        self.has_last = False
        self.last_t_ms = 0.0
        self.last_power_W = 0.0
        self.samples = 0
        self.gaps = 0
        self.backwards = 0
        self.invalid = 0

    def _add_import(self, x):
        t = self.imp_sum + x
        if abs(self.imp_sum) >= abs(x):
            self.imp_c += (self.imp_sum - t) + x
        else:
            self.imp_c += (x - t) + self.imp_sum
        self.imp_sum = t

    def _add_export(self, x):
        t = self.exp_sum + x
        if abs(self.exp_sum) >= abs(x):
            self.exp_c += (self.exp_sum - t) + x
        else:
            self.exp_c += (x - t) + self.exp_sum
        self.exp_sum = t

    def _step(self, t_ms, power_W):
        if t_ms != t_ms or power_W != power_W:
            self.invalid += 1
            return
        self.samples += 1
        if self.has_last:
            dt = t_ms - self.last_t_ms
            if dt < 0.0:
                self.backwards += 1
            elif dt > self.max_gap_ms:
                self.gaps += 1
            else:
                p0 = self.last_power_W
                if p0 >= 0.0 and power_W >= 0.0:
                    self._add_import((p0 + power_W) * 0.5 * dt)
                elif p0 <= 0.0 and power_W <= 0.0:
                    self._add_export(-(p0 + power_W) * 0.5 * dt)
                elif p0 > 0.0:  # falls through zero: import first, then export
                    tz = dt * (p0 / (p0 - power_W))
                    self._add_import(p0 * 0.5 * tz)
                    self._add_export(-power_W * 0.5 * (dt - tz))
                else:  # rises through zero: export first, then import
                    tz = dt * (p0 / (p0 - power_W))
                    self._add_export(-p0 * 0.5 * tz)
                    self._add_import(power_W * 0.5 * (dt - tz))
        self.has_last = True
        self.last_t_ms = t_ms
        self.last_power_W = power_W

    def feed_power(self, t_ms, power_W):
        """One sample of total power (W, + import / - export) at ``t_ms``."""
        self._step(t_ms, power_W)

    def feed_vi(self, t_ms, V1, I1, V2, I2, V3, I3):
        """One sample of per-phase voltage (V) and signed current (A) at ``t_ms``."""
        self._step(t_ms, _phase_power(V1, I1) + _phase_power(V2, I2) + _phase_power(V3, I3))

    def feed_power_block(self, t_ms, power_W):
        """Samples from two float64 buffers (C-contiguous, format 'd'); returns the number
        consumed (the shorter length)."""
        t = _f64(self, 0, t_ms, "t_ms")
        p = _f64(self, 1, power_W, "power_W")  # (on an error the compiled build releases t)
        n = _f64_len(self, 0, t)
        if _f64_len(self, 1, p) < n:
            n = _f64_len(self, 1, p)
        self._block(n, t, p, t, t, t, t, t, t, False)
        _f64_release(self, 2)
        return n

    def feed_vi_block(self, t_ms, V1, I1, V2, I2, V3, I3):
        """Per-phase V and I samples from seven float64 buffers; returns the number consumed (the
        shortest length)."""
        t = _f64(self, 0, t_ms, "t_ms")
        v1 = _f64(self, 1, V1, "V1")  # (on an error the compiled build releases those before)
        i1 = _f64(self, 2, I1, "I1")
        v2 = _f64(self, 3, V2, "V2")
        i2 = _f64(self, 4, I2, "I2")
        v3 = _f64(self, 5, V3, "V3")
        i3 = _f64(self, 6, I3, "I3")
        n = _f64_len(self, 0, t)
        if _f64_len(self, 1, v1) < n:
            n = _f64_len(self, 1, v1)
        if _f64_len(self, 2, i1) < n:
            n = _f64_len(self, 2, i1)
        if _f64_len(self, 3, v2) < n:
            n = _f64_len(self, 3, v2)
        if _f64_len(self, 4, i2) < n:
            n = _f64_len(self, 4, i2)
        if _f64_len(self, 5, v3) < n:
            n = _f64_len(self, 5, v3)
        if _f64_len(self, 6, i3) < n:
            n = _f64_len(self, 6, i3)
        self._block(n, t, t, v1, i1, v2, i2, v3, i3, True)
        _f64_release(self, 7)
        return n

    def _block(self, n, t_ms, power_W, V1, I1, V2, I2, V3, I3, vi):
        """The per-sample loop of ``_step`` on local copies of the state (kept in registers).

        The block's samples go in chunks of 256 ([0, 256), [256, 512), ... of the block); the
        interval ending at sample i adds to lane i % 4 of the import and export partial sums (all
        terms >= 0, naive: relative error <= 64 eps), and at each chunk's end the lanes,
        ``(l0 + l1) + (l2 + l3)``, fold into the compensated totals.  The compiled build passes
        plain stretches of a chunk to a vector pass (meterfast.h, ``_fast``), which gives the same
        lane sums or declines; the plain build's ``_fast`` always declines."""
        s_imp = self.imp_sum
        c_imp = self.imp_c
        s_exp = self.exp_sum
        c_exp = self.exp_c
        has_last = self.has_last
        lt = self.last_t_ms
        lp = self.last_power_W
        max_gap = self.max_gap_ms
        n_ok = 0
        n_gap = 0
        n_back = 0
        n_bad = 0
        li = [0.0, 0.0, 0.0, 0.0]
        le = [0.0, 0.0, 0.0, 0.0]
        c0 = 0
        while c0 < n:
            c1 = c0 + 256
            if c1 > n:
                c1 = n
            tried = False
            i = c0
            while i < c1:
                if has_last and not tried and (i & 3) == 0 and c1 - i >= 4:
                    tried = True  # once per chunk: a stretch that declines goes to the loop
                    e = i + ((c1 - i) & ~3)
                    if _fast(t_ms, power_W, V1, I1, V2, I2, V3, I3, i, e, lt, lp, max_gap, li, le, vi):
                        n_ok += e - i
                        lt = t_ms[e - 1]
                        if vi:
                            lp = (_phase_power(V1[e - 1], I1[e - 1]) + _phase_power(V2[e - 1], I2[e - 1])
                                  + _phase_power(V3[e - 1], I3[e - 1]))
                        else:
                            lp = power_W[e - 1]
                        i = e
                        continue
                t = t_ms[i]
                if vi:
                    p = _phase_power(V1[i], I1[i]) + _phase_power(V2[i], I2[i]) + _phase_power(V3[i], I3[i])
                else:
                    p = power_W[i]
                i += 1
                if t != t or p != p:
                    n_bad += 1
                    continue
                n_ok += 1
                if has_last:
                    dt = t - lt
                    if dt < 0.0:
                        n_back += 1
                    elif dt > max_gap:
                        n_gap += 1
                    else:
                        if lp >= 0.0 and p >= 0.0:
                            xi = (lp + p) * 0.5 * dt
                            xe = 0.0
                        elif lp <= 0.0 and p <= 0.0:
                            xi = 0.0
                            xe = -(lp + p) * 0.5 * dt
                        elif lp > 0.0:
                            tz = dt * (lp / (lp - p))
                            xi = lp * 0.5 * tz
                            xe = -p * 0.5 * (dt - tz)
                        else:
                            tz = dt * (lp / (lp - p))
                            xe = -lp * 0.5 * tz
                            xi = p * 0.5 * (dt - tz)
                        li[(i - 1) & 3] += xi
                        le[(i - 1) & 3] += xe
                has_last = True
                lt = t
                lp = p
            # fold the chunk's lanes into the compensated totals (both sums only ever grow:
            # Neumaier without abs())
            x = (li[0] + li[1]) + (li[2] + li[3])
            y = s_imp + x
            if s_imp >= x:
                c_imp += (s_imp - y) + x
            else:
                c_imp += (x - y) + s_imp
            s_imp = y
            x = (le[0] + le[1]) + (le[2] + le[3])
            y = s_exp + x
            if s_exp >= x:
                c_exp += (s_exp - y) + x
            else:
                c_exp += (x - y) + s_exp
            s_exp = y
            li[0] = li[1] = li[2] = li[3] = 0.0
            le[0] = le[1] = le[2] = le[3] = 0.0
            c0 = c1
        self.imp_sum = s_imp
        self.imp_c = c_imp
        self.exp_sum = s_exp
        self.exp_c = c_exp
        self.has_last = has_last
        self.last_t_ms = lt
        self.last_power_W = lp
        self.samples += n_ok
        self.gaps += n_gap
        self.backwards += n_back
        self.invalid += n_bad
        return n

    @property
    def import_Wh(self):
        return (self.imp_sum + self.imp_c) / 3600000.0

    @property
    def export_Wh(self):
        return (self.exp_sum + self.exp_c) / 3600000.0


def _phase_power(V, I):
    p = V * I
    if p != p:
        return 0.0
    return p
