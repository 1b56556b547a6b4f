# C types for pilot.py (Cython pure-Python mode: this file augments the .py)
cimport cython

cdef int _S_UNKNOWN, _S_A, _S_B, _S_C, _S_D, _S_E, _S_F, _S_INVALID
cdef double _NAN

from cpython.buffer cimport PyBuffer_Release
from libc.math cimport sqrt as c_sqrt

from evsefast._core.rawbuf cimport rawbuf_get

# the per-sample passes of block_u16 in C (pilotscan.h; pilotscan.py is their plain-Python twin)
cdef extern from "pilotscan.h":
    void evf_hist_u16(const unsigned short *s, Py_ssize_t n, int shift, long maxc,
                      unsigned int *hist) noexcept nogil
    void evf_sums_u16(const unsigned short *s, Py_ssize_t n, long midc, long settle, long maxc,
                      long tlo, long tw, long blo, long bw, long any_, long long *acc) noexcept nogil
    void evf_modes(const unsigned int *hist, long nbins, long dist, long *out) noexcept nogil
    int evf_level(int force) noexcept nogil

cdef bint _NATIVE


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
    cdef public double hysteresis_V
    cdef public long max_outliers, settle_samples

    @cython.locals(m=long)
    cpdef long plateau_min_samples(self) noexcept


@cython.final
cdef class PilotBlock:
    cdef public int state
    cdef public Py_ssize_t n_samples, n_valid, n_rejected, n_high, n_low
    cdef public double high_V, low_V, sigma_high_V, sigma_low_V, duty_pct, mid_pct
    cdef public bint pwm, diode_fault, unstable
    cdef unsigned int _hist[68]
    cdef long long _acc[9]
    cdef Py_buffer _view

    cpdef void clear(self) noexcept
    cpdef void copy_from(self, PilotBlock other) noexcept


# the compiled build's side of the names pilot.py calls (the plain build binds Python twins)
cdef inline bint _native_scan() noexcept:
    return True

cdef inline void _hist(const unsigned short *s, Py_ssize_t n, int shift, long maxc,
                       unsigned int *hist) noexcept:
    evf_hist_u16(s, n, shift, maxc, hist)

cdef inline void _sums(const unsigned short *s, Py_ssize_t n, long midc, long settle, long maxc,
                       long tlo, long tw, long blo, long bw, long any_, long long *acc) noexcept:
    evf_sums_u16(s, n, midc, settle, maxc, tlo, tw, blo, bw, any_, acc)

cdef inline (int, int, long) _modes(unsigned int *hist, int nbins, int dist) noexcept:
    cdef long out[3]
    evf_modes(hist, nbins, dist, out)
    return <int>out[0], <int>out[1], out[2]

cdef inline double _sqrt(double x) noexcept:
    return c_sqrt(x)

cdef inline int _level(int force) noexcept:
    return evf_level(force)

cdef inline const unsigned short *_u16_buffer(PilotBlock out, object obj) except? NULL:
    return <const unsigned short *>rawbuf_get(&out._view, obj, b'H', 2, False, "samples")

cdef inline const float *_f32_buffer(PilotBlock out, object obj) except? NULL:
    return <const float *>rawbuf_get(&out._view, obj, b'f', 4, False, "samples")

cdef inline const unsigned short *_u16_sub(const unsigned short *s, Py_ssize_t start,
                                           Py_ssize_t n) noexcept:
    return s + start

cdef inline Py_ssize_t _buffer_len(PilotBlock out, const void *s) noexcept:
    return out._view.len // out._view.itemsize

cdef inline void _release(PilotBlock out) noexcept:
    PyBuffer_Release(&out._view)


cpdef int classify_level(PilotConfig cfg, double level_V) noexcept

@cython.locals(h=double)
cpdef bint near_band(PilotConfig cfg, int state, double lo_V, double hi_V, bint pwm) noexcept

@cython.locals(hi=double, lo=double, sh=double, sl=double, m=double, v=double, state=int)
cdef int _finish(PilotBlock out, PilotConfig cfg, Py_ssize_t n_valid, bint pwm, bint glitch,
                 double duty, Py_ssize_t nt, double st, double sst, Py_ssize_t nb, double sb,
                 double ssb, double top_ref, double bot_ref, double scale, double offset) noexcept

cdef int _empty(PilotBlock out, Py_ssize_t n, Py_ssize_t nrej) noexcept

@cython.locals(s='const unsigned short *', n=Py_ssize_t, b=int, k=int)
cpdef tuple scan_u16(PilotBlock out, object samples, int shift, long maxc, long midc, long settle,
                     long tlo, long tw, long blo, long bw, unsigned int hint1=*,
                     unsigned int hint2=*)

@cython.locals(b=int)
cpdef tuple modes_of(PilotBlock out, list hist, int nbins, int dist)

cpdef int scan_level(int force=*) noexcept

@cython.locals(s='const unsigned short *')
cpdef int block_u16(PilotBlock out, object samples, PilotConfig cfg) except? -1

@cython.locals(maxc=long, acc='long long *', hist='unsigned int *', shift=int,
               nrej=Py_ssize_t, n_valid=Py_ssize_t, scale=double, bin_V=double, dist=int,
               m1=int, m2=int, p2=long, w=long, pwm=bint, duty=double, top=int, bot=int,
               ct=long, cb=long, midc=long, settle=long)
cdef int _block_u16(PilotBlock out, const unsigned short *samples, Py_ssize_t n,
                    PilotConfig cfg) noexcept

@cython.locals(i=Py_ssize_t, v=double, d=double, above=Py_ssize_t, nt=Py_ssize_t,
               nb=Py_ssize_t, st=double, sst=double, sb=double, ssb=double, run_hi=Py_ssize_t,
               run_lo=Py_ssize_t, w=cython.longlong, whigh=cython.longlong, wvalid=cython.longlong)
cdef (double, double, double, double) _f32_sums(const float *samples, Py_ssize_t n, double mid,
                                                Py_ssize_t settle, double vmin, double vmax,
                                                double tlo, double tw, double blo, double bw,
                                                long long *acc) noexcept

@cython.locals(s='const float *')
cpdef int block_f32(PilotBlock out, object samples, PilotConfig cfg) except? -1

@cython.locals(i=Py_ssize_t, b=int, v=double, vmin=double, vmax=double, inv=double,
               hist='unsigned int *', acc='long long *', nrej=Py_ssize_t, n_valid=Py_ssize_t,
               bin_V=double, dist=int, m1=int, m2=int, p2=long, w=double, pwm=bint, duty=double,
               top=int, bot=int, ct=double, cb=double, mid=double, settle=Py_ssize_t,
               st=double, sst=double, sb=double, ssb=double)
cdef int _block_f32(PilotBlock out, const float *samples, Py_ssize_t n, PilotConfig cfg) noexcept
