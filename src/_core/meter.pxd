# C types for meter.py (Cython pure-Python mode: this file augments the .py)
cimport cython


cdef double _phase_power(double V, double I) noexcept nogil


cdef class EnergyIntegrator:
    cdef public double max_gap_ms
    cdef public double imp_sum, imp_c, exp_sum, exp_c
    cdef public bint has_last
    cdef public double last_t_ms, last_power_W
    cdef public long long samples, gaps, backwards, invalid

    cpdef void reset(self) noexcept
    @cython.locals(t=double)
    cdef inline void _add_import(self, double x) noexcept nogil
    @cython.locals(t=double)
    cdef inline void _add_export(self, double x) noexcept nogil
    @cython.locals(dt=double, p0=double, tz=double)
    cdef inline void _step(self, double t_ms, double power_W) noexcept nogil
    cpdef void feed_power(self, double t_ms, double power_W) noexcept
    cpdef void feed_vi(self, double t_ms, double V1, double I1, double V2, double I2,
                       double V3, double I3) noexcept
    @cython.locals(n=Py_ssize_t)
    cpdef Py_ssize_t feed_power_block(self, const double[::1] t_ms, const double[::1] power_W)
    @cython.locals(n=Py_ssize_t)
    cpdef Py_ssize_t feed_vi_block(self, const double[::1] t_ms, const double[::1] V1,
                                   const double[::1] I1, const double[::1] V2,
                                   const double[::1] I2, const double[::1] V3,
                                   const double[::1] I3)
    @cython.locals(i=Py_ssize_t, t=double, p=double, dt=double, tz=double, xi=double, xe=double,
                   y=double, pi=double, pe=double, k=int, s_imp=double, c_imp=double, s_exp=double, c_exp=double,
                   has_last=bint, lt=double, lp=double, max_gap=double,
                   n_ok=Py_ssize_t, n_gap=Py_ssize_t, n_back=Py_ssize_t, n_bad=Py_ssize_t)
    cdef Py_ssize_t _block(self, Py_ssize_t n, const double[::1] t_ms, const double[::1] power_W,
                           const double[::1] V1, const double[::1] I1, const double[::1] V2,
                           const double[::1] I2, const double[::1] V3, const double[::1] I3,
                           bint vi) noexcept
