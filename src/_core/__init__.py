"""evsefast's kernels, installed as ``evsefast._core``.

Each kernel is one plain-Python source (``<name>.py``) plus an augmenting
``<name>.pxd`` that gives Cython the C types.  The build compiles the pair into
an extension module; the same ``.py`` runs unchanged as the pure-Python
fallback.  Nothing here knows the layers above: plain numbers and buffers in,
plain numbers out; no I/O, no clock reads, no msgspec.
"""
