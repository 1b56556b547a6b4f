"""The per-sample passes of the uint16 pilot block, as plain Python: the reference.

``pilot.block_u16`` runs these passes over a block of ADC counts.  The compiled build runs the C
twin in ``pilotscan.h`` (the same passes, written so that the compiler vectorises them, with a
CPU-dispatched AVX2 / AVX-512 clone on x86-64); the plain-Python build runs this file.  The two
must agree exactly (integer results only): tests/test_pilot_scan.py checks it on random and edge
blocks.  This module is never compiled.

Conventions: ``s`` is a 1-D uint16 buffer of ``n`` samples; a sample above ``maxc`` (the ADC's
top count) is *rejected*; ``acc`` is a list-like of at least ``ACC_LEN`` integers (outputs).
"""

import math

from .rawbuf import buffer_of

HIST_BINS = 64  # level bins; bin HIST_BINS counts the rejected samples
ACC_LEN = 9
# acc slots written by sums_u16
A_ABOVE = 0
A_NT = 1
A_ST = 2
A_SST = 3
A_NB = 4
A_SB = 5
A_SSB = 6
A_WHIGH = 7
A_WVALID = 8


def hist_u16(s, n, shift, maxc, hist):
    """``hist[b]``, b < HIST_BINS: valid samples with ``v >> shift == b``; ``hist[HIST_BINS]``:
    rejected samples (``v > maxc``).  Overwrites ``hist[0..HIST_BINS]``."""
    for b in range(HIST_BINS + 1):
        hist[b] = 0
    for i in range(n):
        v = s[i]
        if v > maxc:
            hist[HIST_BINS] += 1
        else:
            hist[v >> shift] += 1


def _best_pair(hist, lo, hi):
    """(b, count): the densest pair of adjacent bins (b, b + 1) for lo <= b <= hi (first on a tie;
    (-1, 0) if the range is empty or every pair is empty)."""
    best = -1
    top = 0
    if lo > hi:
        return best, top
    prev = hist[lo]
    for b in range(lo, hi + 1):
        nxt = hist[b + 1]
        p = prev + nxt
        if p > top:
            top = p
            best = b
        prev = nxt
    return best, top


def modes(hist, nbins, dist):
    """(first, second, second's count): the densest pair of adjacent bins among the first
    ``nbins`` and the densest pair at least ``dist`` bins away from it (second -1 if none); a pair
    is named by its lower bin."""
    m1, _ = _best_pair(hist, 0, nbins - 2)
    if m1 < 0:
        m1 = 0
    m2, p2 = _best_pair(hist, 0, m1 - dist)
    m3, p3 = _best_pair(hist, m1 + dist, nbins - 2)
    if p3 > p2:
        return m1, m3, p3
    return m1, m2, p2


def sums_u16(s, n, midc, settle, maxc, tlo, tw, blo, bw, any_, acc):
    """One pass: the side of each valid sample, the duty weights and the plateaus' sums.

    A valid sample is *high* if ``v > midc``.  It belongs to the top plateau if it is high, the
    ``settle`` samples before it (those inside the block) are valid and high too, and
    ``0 <= v - tlo <= tw``; to the bottom plateau if it is valid and not high, so are the
    ``settle`` before it, and ``0 <= v - blo <= bw``.  Plateau sums are of ``d = v - tlo`` (top)
    and ``d = v - blo`` (bottom), and of ``d * d``.  Sample ``i`` weighs ``min(i + 1, n - i)``
    (a triangular window) in the duty sums.  ``acc``: A_ABOVE high samples, A_NT / A_ST / A_SST
    top count / sum / sum of squares, A_NB / A_SB / A_SSB the bottom's, A_WHIGH / A_WVALID the
    weights of the high / of all valid samples.  ``any_`` (the OR of the block's samples, which the
    C twin's histogram pass leaves in its scratch) only lets the C twin pick its path; the result
    does not depend on it.
    """
    above = 0
    nt = 0
    st = 0
    sst = 0
    nb = 0
    sb = 0
    ssb = 0
    whigh = 0
    wvalid = 0
    run_hi = 0  # valid high samples in a row, ending at the previous sample
    run_lo = 0
    for i in range(n):
        v = s[i]
        if v > maxc:
            run_hi = 0
            run_lo = 0
            continue
        w = i + 1 if i + 1 < n - i else n - i
        wvalid += w
        if v > midc:
            above += 1
            whigh += w
            if run_hi >= settle or run_hi == i:
                d = v - tlo
                if 0 <= d <= tw:
                    nt += 1
                    st += d
                    sst += d * d
            run_hi += 1
            run_lo = 0
        else:
            if run_lo >= settle or run_lo == i:
                d = v - blo
                if 0 <= d <= bw:
                    nb += 1
                    sb += d
                    ssb += d * d
            run_lo += 1
            run_hi = 0
    acc[A_ABOVE] = above
    acc[A_NT] = nt
    acc[A_ST] = st
    acc[A_SST] = sst
    acc[A_NB] = nb
    acc[A_SB] = sb
    acc[A_SSB] = ssb
    acc[A_WHIGH] = whigh
    acc[A_WVALID] = wvalid


# ---- the twins of pilot.pxd's inline helpers -------------------------------------------------------
def sqrt(x):
    """IEEE sqrt (correctly rounded, as C's sqrt in the compiled build)."""
    return math.sqrt(x)


def level(force):
    """The plain build has no C path."""
    return -1


def u16_buffer(owner, obj):
    return buffer_of(obj, "H", 2, False, "samples")


def f32_buffer(owner, obj):
    return buffer_of(obj, "f", 4, False, "samples")


def sub(s, start, n):
    return s[start:start + n]


def buffer_len(owner, s):
    return len(s)


def release(owner):
    """Nothing to release: the memoryview goes with its last reference."""
