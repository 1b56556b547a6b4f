"""Buffer access for the kernels' plain-Python build: the twin of rawbuf.pxd (never compiled).

``buffer_of`` returns a memoryview with the format ``code`` (so that indexing gives numbers) and
raises the same errors, with the same text, as the compiled build's ``rawbuf_get``.
"""
import sys

_ORDER = "<" if sys.byteorder == "little" else ">"


def format_ok(fmt, code):
    """``code`` alone, or with a native size / byte order prefix ("@", "=", "<" on little-endian)."""
    return fmt == code or (len(fmt) == 2 and fmt[0] in "@=" + _ORDER and fmt[1] == code)


def buffer_of(obj, code, itemsize, writable, name):
    """A 1-D C-contiguous memoryview of ``obj`` with format ``code`` (writable if asked)."""
    try:
        mv = memoryview(obj)
    except TypeError:
        raise TypeError(f"{name} must be a buffer, got {type(obj).__name__}") from None
    if (mv.ndim != 1 or mv.itemsize != itemsize or not format_ok(mv.format, code)
            or (writable and mv.readonly) or not mv.c_contiguous):
        msg = (f"{name} must be a {'writable ' if writable else ''}C-contiguous 1-D buffer of format "
               f"'{code}', got format '{mv.format}', {mv.ndim} dimension(s), itemsize {mv.itemsize}"
               f"{', read-only' if mv.readonly else ''}")
        mv.release()
        raise ValueError(msg)
    if mv.format != code:
        mv = mv.cast("B").cast(code)
    return mv
