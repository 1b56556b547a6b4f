# C types for meter.py (Cython pure-Python mode: this file augments the .py)
cimport cython
from cpython.buffer cimport PyBuffer_Release

from evsefast._core.rawbuf cimport rawbuf_get_nth

# the vector pass over plain stretches (meterfast.h; meter.py's loop is its reference)
cdef extern from "meterfast.h":
    int evf_meter_pass(const double *t, const double *p, const double *V1, const double *I1,
                       const double *V2, const double *I2, const double *V3, const double *I3,
                       long i, long e, double lt, double lp, double gap, double *li, double *le,
                       int vi) noexcept nogil
    int evf_meter_level(int force) noexcept nogil

cdef bint _NATIVE

cdef double _phase_power(double V, double I) noexcept nogil


@cython.final
cdef class EnergyIntegrator:
    cdef public double max_gap_ms
    cdef public double imp_sum, imp_c, exp_sum, exp_c
    cdef public bint has_last
    cdef public double last_t_ms, last_power_W
    cdef public long long samples, gaps, backwards, invalid
    cdef Py_buffer _views[7]

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
    @cython.locals(n=Py_ssize_t, t='const double *', p='const double *')
    cpdef Py_ssize_t feed_power_block(self, object t_ms, object power_W) except -1
    @cython.locals(n=Py_ssize_t, t='const double *', v1='const double *', i1='const double *',
                   v2='const double *', i2='const double *', v3='const double *',
                   i3='const double *')
    cpdef Py_ssize_t feed_vi_block(self, object t_ms, object V1, object I1, object V2, object I2,
                                   object V3, object I3) except -1
    @cython.locals(i=Py_ssize_t, e=Py_ssize_t, c0=Py_ssize_t, c1=Py_ssize_t, tried=bint,
                   t=double, p=double, dt=double, tz=double, xi=double, xe=double, x=double,
                   y=double, li='double[4]', le='double[4]', s_imp=double, c_imp=double,
                   s_exp=double, c_exp=double, has_last=bint, lt=double, lp=double, max_gap=double,
                   n_ok=Py_ssize_t, n_gap=Py_ssize_t, n_back=Py_ssize_t, n_bad=Py_ssize_t)
    cdef Py_ssize_t _block(self, Py_ssize_t n, const double *t_ms, const double *power_W,
                           const double *V1, const double *I1, const double *V2,
                           const double *I2, const double *V3, const double *I3,
                           bint vi) noexcept


# the compiled build's side of the names meter.py calls (the plain build binds their twins)
cdef inline bint _native_meter() noexcept:
    return True

cdef inline bint _fast(const double *t, const double *p, const double *V1, const double *I1,
                       const double *V2, const double *I2, const double *V3, const double *I3,
                       Py_ssize_t i, Py_ssize_t e, double lt, double lp, double gap, double *li,
                       double *le, bint vi) noexcept:
    return evf_meter_pass(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, le, vi)

cdef inline const double *_f64(EnergyIntegrator owner, int k, object obj, str name) except? NULL:
    # on an error the buffers taken before are released
    return <const double *>rawbuf_get_nth(owner._views, k, obj, b'd', 8, False, name)

cdef inline Py_ssize_t _f64_len(EnergyIntegrator owner, int k, const double *s) noexcept:
    return owner._views[k].len // 8

cdef inline void _f64_release(EnergyIntegrator owner, int count) noexcept:
    cdef int k
    for k in range(count):
        PyBuffer_Release(&owner._views[k])

cpdef int fast_level(int force=*) noexcept

cdef inline int _fast_level(int force) noexcept:
    return evf_meter_level(force)
