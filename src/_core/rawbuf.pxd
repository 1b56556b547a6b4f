# Raw buffer access for the kernels' compiled build (plain-Python twin: rawbuf.py).
# A typed memoryview argument costs ~1,000 instructions per call (a memoryview object, the format
# parser); PyObject_GetBuffer into a Py_buffer the caller owns costs ~100.  Inline functions only:
# nothing to import at run time.
from cpython.buffer cimport PyBUF_FORMAT, PyBUF_STRIDES, PyBuffer_Release
from cpython.exc cimport PyErr_Clear, PyErr_ExceptionMatches

cdef extern from *:
    """
    #define EVF_NATIVE_ORDER (PY_LITTLE_ENDIAN ? '<' : '>')
    """
    char EVF_NATIVE_ORDER
    # without Cython's error check: a failure is looked at below (the common call skips a
    # separate PyObject_CheckBuffer)
    int evf_get_buffer "PyObject_GetBuffer" (object obj, Py_buffer *view, int flags)


cdef inline bint rawbuf_format_ok(const char *f, char code) noexcept:
    # code alone, or with a native size / byte order prefix ("@", "=", "<" on little-endian)
    if f == NULL:
        return code == b'B'
    if f[0] == code and f[1] == 0:
        return True
    return (f[0] == b'@' or f[0] == b'=' or f[0] == EVF_NATIVE_ORDER) and f[1] == code and f[2] == 0


cdef inline bint rawbuf_ok(const Py_buffer *view, char code, Py_ssize_t itemsize,
                           bint writable) noexcept:
    # 1-D: C-contiguous iff the stride is the item size (or the buffer is empty)
    return (view.ndim == 1 and view.itemsize == itemsize and rawbuf_format_ok(view.format, code)
            and not (writable and view.readonly)
            and (view.shape[0] <= 1 or view.strides[0] == itemsize))


cdef inline void *rawbuf_get(Py_buffer *view, object obj, char code, Py_ssize_t itemsize,
                             bint writable, str name) except? NULL:
    """The data of ``obj``'s buffer, which must be 1-D, C-contiguous, of format ``code`` (and
    writable if asked); the caller releases ``view``.  Errors as rawbuf.buffer_of raises them."""
    if evf_get_buffer(obj, view, PyBUF_FORMAT | PyBUF_STRIDES) < 0:
        if not PyErr_ExceptionMatches(TypeError):
            return NULL  # e.g. BufferError from the exporter: propagated as it is
        PyErr_Clear()
        raise TypeError(f"{name} must be a buffer, got {type(obj).__name__}")
    if not rawbuf_ok(view, code, itemsize, writable):
        fmt = "B" if view.format == NULL else view.format.decode("ascii", "replace")
        msg = (f"{name} must be a {'writable ' if writable else ''}C-contiguous 1-D buffer of format "
               f"'{chr(code)}', got format '{fmt}', {view.ndim} dimension(s), itemsize {view.itemsize}"
               f"{', read-only' if view.readonly else ''}")
        PyBuffer_Release(view)
        raise ValueError(msg)
    return view.buf


cdef inline void *rawbuf_get_nth(Py_buffer *views, int k, object obj, char code,
                                 Py_ssize_t itemsize, bint writable, str name) except? NULL:
    """rawbuf_get into ``views[k]`` of a call taking several buffers: on an error the buffers
    ``views[0:k]`` (taken before) are released too (no try block on the common path)."""
    cdef int j
    if evf_get_buffer(obj, &views[k], PyBUF_FORMAT | PyBUF_STRIDES) == 0:
        if rawbuf_ok(&views[k], code, itemsize, writable):
            return views[k].buf
        PyBuffer_Release(&views[k])
    else:
        PyErr_Clear()
    for j in range(k):
        PyBuffer_Release(&views[j])
    return rawbuf_get(&views[k], obj, code, itemsize, writable, name)  # again, for its error
