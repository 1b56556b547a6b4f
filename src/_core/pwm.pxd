# C types for pwm.py (Cython pure-Python mode: this file augments the .py)
# (module constants stay Python objects: a cdef global would be invisible from Python)
cpdef double duty_from_current(double current_A) noexcept
cpdef double current_from_duty_pct(double duty_pct) noexcept
cpdef bint is_digital_communication_pct(double duty_pct) noexcept
cpdef double board_percent(double duty) noexcept
cpdef bint is_valid_board_percent(double duty_pct) noexcept
