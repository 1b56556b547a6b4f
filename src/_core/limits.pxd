# C types for limits.py (Cython pure-Python mode: this file augments the .py)
cimport cython
# module constants stay Python objects (a cdef global is invisible from Python); the
# functions use literals

@cython.locals(limit=double, i_w=double)
cpdef double enforced_current_A(double ac_max_current_A, double total_power_W,
                                double nominal_voltage_V, int active_phases) noexcept
cpdef bint setpoint_valid(double current_A) noexcept
cpdef bint setpoint_accepted(double current_A, double valid_until_ms, double now_ms) noexcept
cpdef bint budget_expired(double now_ms, double valid_until_ms) noexcept
cpdef double pp_ampacity_A(int code, int hw_max_phases) noexcept
@cython.locals(r=double)
cpdef double effective_current_A(double enforced_A, double hw_max_A, double cable_A,
                                 double local_max_A) noexcept
cpdef double limit_current_A(double ac_max_current_A, double total_power_W, double nominal_voltage_V,
                             int active_phases, double hw_max_A, double cable_A,
                             double local_max_A) noexcept
cpdef bint charging_allowed(double effective_A) noexcept
cpdef double soft_over_current_limit_A(double signalled_A, double tolerance_pct, double noise_A) noexcept


cdef class PwmRateLimiter:
    cdef public double interval_ms
    cdef public double last_update_ms
    cdef public bint has_update
    cpdef bint may_update(self, double now_ms) noexcept
    cpdef void mark_updated(self, double now_ms) noexcept
    cpdef void reset(self) noexcept


cdef class SoftOverCurrent:
    cdef public double tolerance_pct
    cdef public double noise_A
    cdef public double timeout_ms
    cdef public bint active
    cdef public double since_ms
    cdef public bint tripped
    cpdef double limit_A(self, double signalled_A) noexcept
    @cython.locals(limit=double)
    cpdef bint feed(self, double now_ms, double signalled_A, double L1_A, double L2_A,
                    double L3_A) noexcept
    cpdef void reset(self) noexcept
