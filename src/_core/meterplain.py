"""The plain build's side of the names meter.py calls (the compiled build: inline C in meter.pxd).

No vector pass: ``fast`` always declines, so the plain build integrates every interval in
meter.py's loop -- the reference the compiled pass is tested against (tests/test_meter_fast.py).
Never compiled.
"""
from .rawbuf import buffer_of


def fast(t, p, V1, I1, V2, I2, V3, I3, i, e, lt, lp, gap, li, le, vi):
    """Declines: the loop does the stretch."""
    return False


def fast_level(force):
    """No vector pass in the plain build."""
    return -1


def f64(owner, k, obj, name):
    """A float64 buffer as a memoryview of format 'd' (rawbuf.buffer_of's checks and errors)."""
    return buffer_of(obj, "d", 8, False, name)


def f64_len(owner, k, s):
    return len(s)


def f64_release(owner, count):
    """Nothing to release: the memoryviews go with their last reference."""
