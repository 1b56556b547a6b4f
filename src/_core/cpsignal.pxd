# C types for cpsignal.py (Cython pure-Python mode: this file augments the .py)
cimport cython
from cpython.buffer cimport PyBuffer_Release

from evsefast._core.pilotstream cimport PilotClassifier
from evsefast._core.rawbuf cimport rawbuf_get

# the per-sample noise in C (cpnoise.h; cpnoise.py is its plain-Python twin)
cdef extern from "cpnoise.h":
    int evf_noise_table(unsigned int *tab, double a, double b, int kind, double top,
                        long maxc) noexcept nogil
    long evf_noise_batch(unsigned short *out, long cap, const long *starts, const long *lens,
                         const unsigned int *ks, const int *slots, const unsigned int *tab0,
                         int count, unsigned int key, int kind, int clips, const double *a2,
                         const double *b2, double top, long maxc) noexcept nogil
    void evf_noise_f32(float *out, long n, unsigned int k, unsigned int key, double v0, double g,
                       int kind) noexcept nogil
    double evf_noise_one(unsigned int k, unsigned int key, double g, int kind) noexcept nogil
    int evf_noise_level(int force) noexcept nogil
    long EVF_NOISE_SPAN

cdef unsigned long long MASK64, MASK32, SM_M1, SM_M2
cdef unsigned int FMIX1, FMIX2
cdef double GAUSS_C, U_A, U_B
cdef bint _NATIVE

@cython.locals(x='unsigned int')
cdef unsigned int _fmix32(unsigned int x) noexcept
cdef unsigned long long _mix64(unsigned long long z) noexcept
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
    cdef unsigned long long _index, _seedmix
    cdef double _th, _rup, _rdn, _vfall
    cdef bint _ramp
    # _run's memo: the waveform it holds for, and its last two segments (start phase, length, ramp)
    cdef double _m_th, _m_rup, _m_rdn, _m_dt, _m_per, _m_ph0, _m_ph1
    cdef Py_ssize_t _m_k0, _m_k1
    cdef bint _m_r0, _m_r1
    cdef Py_buffer _view
    # the plateau tables of the noisy fill (cpnoise.h): draw -> ADC count, two levels cached
    cdef unsigned int _tab[2][1024]
    cdef double _tab_a[2]
    cdef double _tab_b[2]
    cdef double _tab_top[2]
    cdef long _tab_maxc[2]
    cdef int _tab_kind[2]
    cdef int _tab_valid[2]
    cdef int _tab_clip[2]  # the table has clipped entries
    cdef int _tab_next
    # the fill's noisy runs not yet written (one C call per batch)
    cdef long _b_start[64]
    cdef long _b_len[64]
    cdef unsigned int _b_k[64]
    cdef int _b_slot[64]
    cdef int _b_count, _b_kind
    cdef long _b_pending  # clipped samples of runs written by _noise_table, not yet returned
    cdef unsigned int _b_key
    cdef unsigned short *_b_out
    cdef long _b_cap

    cdef unsigned int _key(self, unsigned long long hi) noexcept
    cdef double _scale(self) noexcept
    @cython.locals(per=double, hv=double, lv=double, r=double)
    cdef void _setup(self) noexcept
    @cython.locals(k=Py_ssize_t)
    cdef inline Py_ssize_t _run(self, double ph, double dt, double per) noexcept
    @cython.locals(th=double, end=double, k=Py_ssize_t)
    cdef Py_ssize_t _segment(self, double ph, double dt, double per) noexcept
    @cython.locals(left=cython.ulonglong, nn=cython.ulonglong)
    cdef inline Py_ssize_t _stretch(self, Py_ssize_t n) noexcept
    @cython.locals(s='unsigned short *')
    cpdef Py_ssize_t fill_u16(self, object out) except? -1
    @cython.locals(i=Py_ssize_t, j=Py_ssize_t, k=Py_ssize_t, th=double, rup=double, rdn=double,
                   vfall=double, hv=double, lv=double, kind=int, sc=double, ph=double, dt=double,
                   per=double, inv=double, off=double, maxc=long, top=double, clipped=Py_ssize_t,
                   v=double, v0=double, xc=double, c=long, ramp=bint, a_hi=double, a_lo=double,
                   b=double, s_hi=int, s_lo=int, key='unsigned int')
    cdef Py_ssize_t _fill_u16(self, unsigned short *out, Py_ssize_t n) noexcept
    @cython.locals(s='float *')
    cpdef Py_ssize_t fill_f32(self, object out) except? -1
    @cython.locals(i=Py_ssize_t, j=Py_ssize_t, k=Py_ssize_t, th=double, rup=double, rdn=double,
                   vfall=double, hv=double, lv=double, kind=int, sc=double, ph=double, dt=double,
                   per=double, v=double, v0=double, ramp=bint, key='unsigned int')
    cdef Py_ssize_t _fill_f32(self, float *out, Py_ssize_t n) noexcept
    @cython.locals(k=Py_ssize_t)
    cpdef Py_ssize_t drive(self, classifier, buf, Py_ssize_t n_blocks, double t_ms,
                           double block_ms) except? -1


# the compiled build's side of the names cpsignal.py calls (the plain build binds cpnoise.py)
cdef inline bint _native_noise() noexcept:
    return True

cdef inline long _noise_flush(CpSynth owner) noexcept:
    # write the batched runs; returns how many of their samples were clipped
    cdef long clipped = owner._b_pending
    owner._b_pending = 0
    if owner._b_count:
        clipped += evf_noise_batch(owner._b_out, owner._b_cap, owner._b_start, owner._b_len,
                                  owner._b_k, owner._b_slot, &owner._tab[0][0], owner._b_count,
                                  owner._b_key, owner._b_kind, owner._tab_clip[0] | owner._tab_clip[1],
                                  owner._tab_a, owner._tab_b, owner._tab_top[owner._b_slot[0]],
                                  owner._tab_maxc[owner._b_slot[0]])
        owner._b_count = 0
    return clipped

cdef inline int _noise_table(CpSynth owner, double a, double b, int kind, double top, long maxc,
                             int keep) noexcept:
    # the table slot of the plateau (a, b): built with the plain formula's counts when not cached
    # (never evicting slot ``keep``); pending runs are written first (they may use the slot)
    cdef int s
    for s in range(2):
        if (owner._tab_valid[s] and owner._tab_a[s] == a and owner._tab_b[s] == b
                and owner._tab_kind[s] == kind and owner._tab_top[s] == top
                and owner._tab_maxc[s] == maxc):
            return s
    s = 1 if keep == 0 else 0 if keep == 1 else owner._tab_next
    owner._tab_next = 1 - s
    owner._b_pending += _noise_flush(owner)
    owner._tab_clip[s] = evf_noise_table(owner._tab[s], a, b, kind, top, maxc)
    owner._tab_a[s] = a
    owner._tab_b[s] = b
    owner._tab_kind[s] = kind
    owner._tab_top[s] = top
    owner._tab_maxc[s] = maxc
    owner._tab_valid[s] = 1
    return s

cdef inline long _noise_u16(CpSynth owner, unsigned short *out, Py_ssize_t start, Py_ssize_t n,
                            Py_ssize_t cap, unsigned int k, unsigned int key, double a, double b,
                            int slot, int kind, double top, long maxc) noexcept:
    # batch the run (written at _noise_flush: returns the clipped count of any runs written now)
    cdef long clipped = 0
    cdef int r = owner._b_count
    if r == 64 or (r and start + n - owner._b_start[0] > EVF_NOISE_SPAN):
        clipped = _noise_flush(owner)  # (a batch of two runs or more spans EVF_NOISE_SPAN at most)
        r = 0
    if r == 0:  # (a batch never spans a key change, a fill or a buffer: set once)
        owner._b_key = key
        owner._b_kind = kind
        owner._b_out = out
        owner._b_cap = start + cap
    owner._b_start[r] = start
    owner._b_len[r] = n
    owner._b_k[r] = k
    owner._b_slot[r] = slot
    owner._b_count = r + 1
    return clipped

cdef inline void _noise_f32(float *out, Py_ssize_t start, Py_ssize_t n, unsigned int k,
                            unsigned int key, double v0, double g, int kind) noexcept:
    evf_noise_f32(out + start, n, k, key, v0, g, kind)

cdef inline double _noise_one(unsigned int k, unsigned int key, double g, int kind) noexcept:
    return evf_noise_one(k, key, g, kind)

cdef inline int _noise_level(int force) noexcept:
    return evf_noise_level(force)

cpdef int noise_level(int force=*) noexcept

cdef inline unsigned short *_u16_out(CpSynth owner, object obj) except? NULL:
    return <unsigned short *>rawbuf_get(&owner._view, obj, b'H', 2, True, "out")

cdef inline float *_f32_out(CpSynth owner, object obj) except? NULL:
    return <float *>rawbuf_get(&owner._view, obj, b'f', 4, True, "out")

cdef inline Py_ssize_t _out_len(CpSynth owner, const void *s) noexcept:
    return owner._view.len // owner._view.itemsize

cdef inline void _out_release(CpSynth owner) noexcept:
    PyBuffer_Release(&owner._view)

cdef inline bint _is_native_classifier(object obj) noexcept:
    return type(obj) is PilotClassifier

cdef inline Py_ssize_t _drive_native(CpSynth synth, PilotClassifier clf, object buf,
                                     Py_ssize_t n_blocks, double t_ms, double block_ms) except? -1:
    # the fused loop without a Python call per block: synthesise into buf, classify it
    cdef unsigned short *p = _u16_out(synth, buf)
    cdef Py_ssize_t n = _out_len(synth, p), k
    try:
        for k in range(n_blocks):
            synth._fill_u16(p, n)
            if clf._feed_ptr(p, n, t_ms + k * block_ms):
                return k + 1
        return 0
    finally:
        _out_release(synth)
