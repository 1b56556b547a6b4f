# C types for cpsignal.py (Cython pure-Python mode: this file augments the .py)
cimport cython

cdef int _N_NONE, _N_GAUSS
cdef unsigned long long MASK64, SM_GAMMA, SM_M1, SM_M2
cdef unsigned long long TAB_MASK

cdef unsigned long long _mix(unsigned long long z) noexcept
@cython.locals(dph=double)
cdef double _wave(double ph, double th, double rup, double rdn, double hv, double lv,
                         double vfall) noexcept


@cython.final
cdef class CpSynth:
    cdef public double period_us, sample_period_us, t_us, phase_us
    cdef public int adc_bits
    cdef public long max_count
    cdef public double volts_per_count, offset_V
    cdef public long long clipped, samples
    cdef public double duty_pct, high_V, low_V, rise_us, noise_V
    cdef public int noise_kind
    cdef public unsigned long long rng
    cdef double _th, _rup, _rdn, _vfall
    cdef bint _ramp
    cdef unsigned long long _bits
    cdef int _left
    cdef const double[::1] _tab

    cdef inline unsigned long long _next(self) noexcept
    @cython.locals(per=double, hv=double, lv=double, r=double)
    cdef void _setup(self) noexcept
    @cython.locals(th=double, end=double, k=Py_ssize_t)
    cdef Py_ssize_t _run(self, double ph, double dt, double per) noexcept
    @cython.locals(n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, k=Py_ssize_t, th=double, rup=double,
                   rdn=double, vfall=double, hv=double, lv=double, kind=int, nv=double,
                   x=cython.ulonglong, ph=double, dt=double, per=double, inv=double, off=double,
                   maxc=long, top=double, clipped=Py_ssize_t, v=double, v0=double, xc=double,
                   c=long, ramp=bint, bits=cython.ulonglong, left=int, tab='const double[::1]')
    cpdef Py_ssize_t fill_u16(self, unsigned short[::1] out)
    @cython.locals(n=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, k=Py_ssize_t, th=double, rup=double,
                   rdn=double, vfall=double, hv=double, lv=double, kind=int, nv=double,
                   x=cython.ulonglong, ph=double, dt=double, per=double, v=double, v0=double,
                   ramp=bint, bits=cython.ulonglong, left=int, tab='const double[::1]')
    cpdef Py_ssize_t fill_f32(self, float[::1] out)
    @cython.locals(k=Py_ssize_t)
    cpdef Py_ssize_t drive(self, classifier, buf, Py_ssize_t n_blocks, double t_ms, double block_ms)
