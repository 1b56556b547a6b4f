"""The per-sample noise of the CP synthesiser, as plain Python: the reference twin of cpnoise.h.

cpsignal.py calls these under the names its compiled build gets from cpsignal.pxd (inline C in
cpnoise.h, rawbuf.pxd); the plain build binds them here.  They must give the same numbers as the
C twin to the bit (tests/test_cpsignal_noise.py).  Never compiled.

Sample ``k``'s draw is ``t = draw(fmix32(lo32(k) ^ key), kind)``: the sum of the hash's four bytes
minus 510 (kind 2, gaussian-ish: 1021 values) or its top 10 bits (kind 1, uniform: 1024 values).  A noisy plateau maps a draw
to the ADC count ``floor(a + t * b)`` (clipped to ``[0, maxc]``; cpsignal.py computes ``a``, ``b``);
an edge sample adds ``noise_one`` volts to its level.
"""
from array import array

from .rawbuf import buffer_of

MASK32 = 0xFFFFFFFF
U_A = 2.0 / 1024.0  # uniform volts: (t * U_A + U_B) * g = ((2t + 1) / 1024 - 1) * g, in (-g, g)
U_B = 1.0 / 1024.0 - 1.0


def fmix32(x):
    """murmur3's 32-bit finaliser."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & MASK32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & MASK32
    return x ^ (x >> 16)


def draw(k, key, kind):
    """The integer draw of the sample whose index has ``lo32 == k``."""
    h = fmix32((k ^ key) & MASK32)
    if kind == 2:
        return (h & 255) + ((h >> 8) & 255) + ((h >> 16) & 255) + (h >> 24) - 510
    return h >> 22


def noise_one(k, key, g, kind):
    """The noise (volts) of the sample whose index has ``lo32 == k``: ``t * g`` (kind 2, ``g`` =
    sigma / sqrt(21845)) or ``(t * U_A + U_B) * g`` (kind 1, ``g`` = the half-width)."""
    t = draw(k, key, kind)
    if kind == 2:
        return t * g
    return (t * U_A + U_B) * g


def noise_table(owner, a, b, kind, top, maxc, keep):
    """The C twin's table slot for the plateau ``(a, b)`` (built if not cached, never evicting
    slot ``keep``); the plain build computes every count: no tables."""
    return 0


def noise_u16(owner, out, start, n, cap, k, key, a, b, slot, kind, top, maxc):
    """``n`` ADC counts ``floor(a + t * b)`` of a noisy plateau into ``out[start:]`` (the first
    sample at index ``lo32 == k``); returns how many were clipped to ``[0, maxc]``.  ``cap``: how
    many samples from ``start`` the C twin may write (it may spill into the next run's);
    ``owner``, ``slot``: the synthesiser and the table (``noise_table``) the C twin uses; the C
    twin batches the runs of a fill until ``noise_flush``.  (Here too the counts come from a table
    of the 1024 draws, cached per plateau: the same numbers, fewer Python operations per sample.)"""
    counts, clips = _plateau_table(a, b, kind, top, maxc)
    m1 = 0x85EBCA6B
    m2 = 0xC2B2AE35
    if kind == 2:
        draws = []
        for j in range(k, k + n):
            x = (j & MASK32) ^ key
            x ^= x >> 16
            x = (x * m1) & MASK32
            x ^= x >> 13
            x = (x * m2) & MASK32
            x ^= x >> 16
            draws.append((x & 255) + ((x >> 8) & 255) + ((x >> 16) & 255) + (x >> 24))
    else:
        draws = []
        for j in range(k, k + n):
            x = (j & MASK32) ^ key
            x ^= x >> 16
            x = (x * m1) & MASK32
            x ^= x >> 13
            x = (x * m2) & MASK32
            draws.append((x ^ (x >> 16)) >> 22)
    out[start:start + n] = array("H", [counts[d] for d in draws])
    if not clips:
        return 0
    return sum(clips[d] for d in draws)


_TABLES = {}


def _plateau_table(a, b, kind, top, maxc):
    """(counts, clips): the count of every draw position (t - tmin) and whether it was clipped
    (``None`` when no draw is), as the C twin's evf_noise_table builds them."""
    key = (a, b, kind, top, maxc)
    tab = _TABLES.get(key)
    if tab is None:
        tmin = -510 if kind == 2 else 0
        counts = []
        flags = []
        for t in range(tmin, tmin + 1024 if kind == 1 else 511):
            xc = a + t * b
            if xc < 0.0:
                counts.append(0)
                flags.append(1)
            elif xc >= top:
                counts.append(maxc)
                flags.append(1)
            else:
                counts.append(int(xc))
                flags.append(0)
        tab = (counts, flags if any(flags) else None)
        if len(_TABLES) >= 16:
            _TABLES.clear()
        _TABLES[key] = tab
    return tab


def noise_flush(owner):
    """The plain build writes every run at once: nothing pending."""
    return 0


def noise_f32(out, start, n, k, key, v0, g, kind):
    """float32 volts of the constant level ``v0`` plus noise into ``out[start:]``."""
    for j in range(n):
        out[start + j] = v0 + noise_one((k + j) & MASK32, key, g, kind)


def noise_level(force):
    """The plain build has no C path."""
    return -1


def u16_out(owner, obj):
    return buffer_of(obj, "H", 2, True, "out")


def f32_out(owner, obj):
    return buffer_of(obj, "f", 4, True, "out")


def out_len(owner, s):
    return len(s)


def out_release(owner):
    """Nothing to release: the memoryview goes with its last reference."""


def is_native_classifier(obj):
    """The plain build drives every classifier through its ``feed_u16``."""
    return False
