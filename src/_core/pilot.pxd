# C types for pilot.py (Cython pure-Python mode: this file augments the .py)
cimport cython

cdef int _S_UNKNOWN, _S_A, _S_B, _S_C, _S_D, _S_E, _S_F, _S_INVALID


@cython.final
cdef class PilotConfig:
    cdef public double volts_per_count, offset_V
    cdef public int adc_bits
    cdef public long max_count
    cdef public double valid_min_V, valid_max_V
    cdef public double plateau_window_V, pwm_min_swing_V
    cdef public long min_plateau_samples
    cdef public double unstable_sigma_V, unstable_mid_pct
    cdef public double a_min_V, a_max_V, b_min_V, b_max_V, c_min_V, c_max_V, d_min_V, d_max_V
    cdef public double e_min_V, e_max_V, f_min_V, f_max_V, neg_min_V, neg_max_V
    cdef public double debounce_fast_ms, debounce_slow_ms
    cdef public bint reject_unstable


@cython.final
cdef class PilotBlock:
    cdef public int state
    cdef public Py_ssize_t n_samples, n_valid, n_rejected
    cdef public double high_V, low_V, sigma_high_V, sigma_low_V, duty_pct, mid_pct
    cdef public bint pwm, diode_fault, unstable

    cpdef void clear(self) noexcept
    cpdef void copy_from(self, PilotBlock other) noexcept


cdef inline double _sqrt(double x) noexcept

cpdef int classify_level(PilotConfig cfg, double level_V) noexcept

@cython.locals(hi=double, lo=double, sh=double, sl=double, m=double, mps=Py_ssize_t, state=int)
cdef int _finish(PilotBlock out, PilotConfig cfg, Py_ssize_t n_valid, Py_ssize_t above,
                 Py_ssize_t nt, double st, double sst, Py_ssize_t nb, double sb, double ssb,
                 double top_ref, double bot_ref, double scale, double offset, bint swing) noexcept

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, s=long, s1=long, s2=long, s3=long, mn=long, mx=long, mn1=long, mx1=long,
               mn2=long, mx2=long, mn3=long, mx3=long, maxc=long, lim=long,
               nrej=Py_ssize_t, n_valid=Py_ssize_t, scale=double, swing=bint, w=long,
               top=long, bot=long, mid2=long, above=Py_ssize_t, nt=Py_ssize_t, nb=Py_ssize_t,
               st=cython.longlong, sst=cython.longlong, sb=cython.longlong, ssb=cython.longlong,
               d=long, e=long, t=long, b=long)
cpdef int block_u16(PilotBlock out, const unsigned short[::1] samples, PilotConfig cfg)

@cython.locals(n=Py_ssize_t, i=Py_ssize_t, v=double, mn=double, mx=double, vmin=double,
               vmax=double, nrej=Py_ssize_t, n_valid=Py_ssize_t, swing=bint, w=double,
               top=double, bot=double, mid=double, above=Py_ssize_t, nt=Py_ssize_t,
               nb=Py_ssize_t, st=double, sst=double, sb=double, ssb=double, d=double, e=double)
cpdef int block_f32(PilotBlock out, const float[::1] samples, PilotConfig cfg)

cpdef bint removes_power(int state) noexcept


@cython.final
cdef class PilotClassifier:
    cdef public PilotConfig cfg
    cdef public PilotBlock block, decided
    cdef public int state, previous_state, candidate
    cdef public double since_ms, decided_ms, held_ms, candidate_since_ms, t_ms
    cdef public long long blocks, changes
    cdef public bint diode_fault_active
    cdef public double diode_fault_since_ms, diode_fault_held_ms

    cpdef void reset(self)
    @cython.locals(blk=PilotBlock, raw=int, held=double, need=double)
    cdef int _step(self, double t_ms) noexcept
    cpdef int feed_u16(self, const unsigned short[::1] samples, double t_ms)
    cpdef int feed_f32(self, const float[::1] samples, double t_ms)
