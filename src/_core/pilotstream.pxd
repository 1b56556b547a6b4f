# C types for pilotstream.py (Cython pure-Python mode: this file augments the .py)
cimport cython

from evsefast._core.pilot cimport (PilotBlock, PilotConfig, _block_u16, _buffer_len, _release,
                                   _u16_buffer, _u16_sub, block_f32, block_u16, near_band)

cdef int _S_UNKNOWN, _S_A, _S_B, _S_C, _S_D, _S_E, _S_F, _S_INVALID
cdef double _NAN
cdef bint _NATIVE


cdef inline bint _native_stream() noexcept:
    return True


cpdef bint removes_power(int state) noexcept


@cython.final
cdef class PilotClassifier:
    cdef public PilotConfig cfg
    cdef public PilotBlock block, decided, leave_evidence
    cdef public int state, previous_state, candidate, leave_best
    cdef public double since_ms, decided_ms, held_ms, candidate_since_ms, t_ms, leave_since_ms
    cdef public double candidate_lo_V, candidate_hi_V
    cdef public bint candidate_pwm
    cdef public long long blocks, changes, leave_blocks
    cdef public bint diode_fault_active
    cdef public double diode_fault_since_ms, diode_fault_held_ms
    cdef long _leave_counts[8]

    cpdef void reset(self)
    @cython.locals(fault=bint, h=double)
    cdef void _diode(self, PilotBlock blk, double t_ms) noexcept
    @cython.locals(raw=int)
    cdef int _effective(self, PilotBlock blk) noexcept
    cdef int _decide(self, int state, double since_ms, double t_ms, PilotBlock evidence) noexcept
    @cython.locals(counts='long *', best=int, k=int)
    cdef int _leave(self, int eff, PilotBlock blk, double t_ms) noexcept
    @cython.locals(blk=PilotBlock, eff=int, skip=bint, cur=int, held=double, need=double, v=double)
    cdef int _step(self, double t_ms) noexcept
    cdef int _feed_ptr(self, const unsigned short *samples, Py_ssize_t n, double t_ms) noexcept
    cpdef int feed_u16(self, object samples, double t_ms) except? -1
    cpdef int feed_f32(self, object samples, double t_ms) except? -1
    @cython.locals(s='const unsigned short *', n=Py_ssize_t, k=Py_ssize_t)
    cpdef Py_ssize_t feed_many(self, object samples, Py_ssize_t block_len, double t_ms,
                               double block_ms) except? -1
