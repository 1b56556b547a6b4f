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
  block methods add at most 256 interval energies (all >= 0) naively before folding them into the
  compensated sums: relative error <= 256 eps per fold, fewer instructions per sample.
"""

WMS_PER_WH = 3600000.0


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
        """Samples from two float64 buffers of equal length; returns the number consumed."""
        n = t_ms.shape[0]
        if power_W.shape[0] < n:
            n = power_W.shape[0]
        return self._block(n, t_ms, power_W, t_ms, t_ms, t_ms, t_ms, t_ms, t_ms, False)

    def feed_vi_block(self, t_ms, V1, I1, V2, I2, V3, I3):
        """Per-phase V and I samples from seven float64 buffers; returns the number consumed."""
        n = t_ms.shape[0]
        if V1.shape[0] < n:
            n = V1.shape[0]
        if I1.shape[0] < n:
            n = I1.shape[0]
        if V2.shape[0] < n:
            n = V2.shape[0]
        if I2.shape[0] < n:
            n = I2.shape[0]
        if V3.shape[0] < n:
            n = V3.shape[0]
        if I3.shape[0] < n:
            n = I3.shape[0]
        return self._block(n, t_ms, t_ms, V1, I1, V2, I2, V3, I3, True)

    def _block(self, n, t_ms, power_W, V1, I1, V2, I2, V3, I3, vi):
        """The per-sample loop of ``_step`` on local copies of the state (kept in registers)."""
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
        pi = 0.0  # naive partial sums of at most 256 terms (all >= 0: relative error <= 256 eps)
        pe = 0.0
        k = 0
        for i in range(n):
            t = t_ms[i]
            if vi:
                p = _phase_power(V1[i], I1[i]) + _phase_power(V2[i], I2[i]) + _phase_power(V3[i], I3[i])
            else:
                p = power_W[i]
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
                    # both sums only ever grow (terms >= 0): Neumaier without abs()
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
                    pi += xi
                    pe += xe
                    k += 1
                    if k == 256:  # fold the short naive partial sums into the compensated totals
                        y = s_imp + pi
                        if s_imp >= pi:
                            c_imp += (s_imp - y) + pi
                        else:
                            c_imp += (pi - y) + s_imp
                        s_imp = y
                        y = s_exp + pe
                        if s_exp >= pe:
                            c_exp += (s_exp - y) + pe
                        else:
                            c_exp += (pe - y) + s_exp
                        s_exp = y
                        pi = 0.0
                        pe = 0.0
                        k = 0
            has_last = True
            lt = t
            lp = p
        y = s_imp + pi
        if s_imp >= pi:
            c_imp += (s_imp - y) + pi
        else:
            c_imp += (pi - y) + s_imp
        s_imp = y
        y = s_exp + pe
        if s_exp >= pe:
            c_exp += (s_exp - y) + pe
        else:
            c_exp += (pe - y) + s_exp
        s_exp = y
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
