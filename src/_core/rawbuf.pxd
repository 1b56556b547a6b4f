# Raw buffer access for the kernels' compiled build (plain-Python twin: rawbuf.py).
# A typed memoryview argument costs ~1,000 instructions per call (a memoryview object, the format
# parser); PyObject_GetBuffer into a Py_buffer the caller owns costs ~100.  Inline functions only:
# nothing to import at run time.
from cpython.buffer cimport (PyBUF_FORMAT, PyBUF_STRIDES, PyBuffer_Release, PyObject_CheckBuffer,
                             PyObject_GetBuffer)

cdef extern from *:
    """
    #define EVF_NATIVE_ORDER (PY_LITTLE_ENDIAN ? '<' : '>')
    """
    char EVF_NATIVE_ORDER


cdef inline bint rawbuf_format_ok(const char *f, char code) noexcept:
    # code alone, or with a native size / byte order prefix ("@", "=", "<" on little-endian)
    if f == NULL:
        return code == b'B'
    if f[0] == code and f[1] == 0:
        return True
    return (f[0] == b'@' or f[0] == b'=' or f[0] == EVF_NATIVE_ORDER) and f[1] == code and f[2] == 0


cdef inline void *rawbuf_get(Py_buffer *view, object obj, char code, Py_ssize_t itemsize,
                             bint writable, str name) except? NULL:
    """The data of ``obj``'s buffer, which must be 1-D, C-contiguous, of format ``code`` (and
    writable if asked); the caller releases ``view``.  Errors as rawbuf.buffer_of raises them."""
    if not PyObject_CheckBuffer(obj):
        raise TypeError(f"{name} must be a buffer, got {type(obj).__name__}")
    PyObject_GetBuffer(obj, view, PyBUF_FORMAT | PyBUF_STRIDES)
    # 1-D: C-contiguous iff the stride is the item size (or the buffer is empty)
    if (view.ndim != 1 or view.itemsize != itemsize or not rawbuf_format_ok(view.format, code)
            or (writable and view.readonly) or (view.shape[0] > 1 and view.strides[0] != itemsize)):
        fmt = "B" if view.format == NULL else view.format.decode("ascii", "replace")
        msg = (f"{name} must be a {'writable ' if writable else ''}C-contiguous 1-D buffer of format "
               f"'{chr(code)}', got format '{fmt}', {view.ndim} dimension(s), itemsize {view.itemsize}"
               f"{', read-only' if view.readonly else ''}")
        PyBuffer_Release(view)
        raise ValueError(msg)
    return view.buf
