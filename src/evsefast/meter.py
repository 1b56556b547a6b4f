"""Energy metering: thin, validating API over ``evsefast._core.meter``.

``EnergyMeter(max_gap_ms=60000.0, kernels=None)`` integrates timestamped samples (``t_ms`` in
milliseconds of a monotonic clock) into ``import_Wh`` and ``export_Wh`` by the trapezoid rule;
the sign of the power chooses the direction (an interval that crosses zero is split at the
crossing).  A gap longer than ``max_gap_ms`` or a timestamp that goes backwards is not
integrated and is counted (``gaps``, ``backwards``); NaN samples are skipped (``invalid``).
Accumulation is compensated: no drift over 10^7 samples.

    m = EnergyMeter(max_gap_ms=5000)
    m.feed_power(t_ms, power_W)                      # one sample, total W (+ import, - export)
    m.feed_vi(t_ms, V1, I1, V2, I2, V3, I3)          # one sample, per phase V and signed A
    m.feed_power_block(t_ms_buf, power_W_buf)        # float64 buffers (array('d'), numpy, lists)
    m.feed_vi_block(t_ms_buf, V1, I1, V2, I2, V3, I3)
    m.import_Wh, m.export_Wh, m.gaps, m.backwards, m.invalid, m.samples; m.reset()

The kernel class is ``kernels.meter.EnergyIntegrator`` (same methods, block methods take
C-contiguous float64 memoryviews, no checks).
"""
from __future__ import annotations

import math
from array import array

from . import _impl
from .errors import InvalidInput


def as_f64(name: str, values) -> memoryview:
    """A 1-D C-contiguous float64 memoryview of ``values`` (a buffer or a sequence of numbers)."""
    try:
        mv = memoryview(values)
    except TypeError:
        mv = None
    if mv is not None:
        if mv.ndim != 1:
            raise InvalidInput(f"{name} must be one-dimensional, got {mv.ndim} dimensions", name)
        if mv.format in ("d", "<d", "=d") and mv.c_contiguous:
            return mv.cast("B").cast("d") if mv.format != "d" else mv
        values = mv.tolist()
    try:
        return memoryview(array("d", values))
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"{name} must be a float64 buffer or a sequence of numbers", name) from None


def _num(name, value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}", name) from None


def _opt_num(name, value):
    return math.nan if value is None else _num(name, value)


class EnergyMeter:
    """Import / export energy from power or V x I samples (see the module docstring)."""

    __slots__ = ("_k",)

    def __init__(self, max_gap_ms: float = 60000.0, *, kernels=None) -> None:
        gap = _num("max_gap_ms", max_gap_ms)
        if not (0.0 <= gap <= 86_400_000.0):
            raise InvalidInput(f"max_gap_ms must be in [0, 86400000], got {max_gap_ms!r}", "max_gap_ms")
        self._k = (kernels or _impl.ACTIVE).meter.EnergyIntegrator(gap)

    def feed_power(self, t_ms, power_W) -> None:
        self._k.feed_power(_num("t_ms", t_ms), _num("power_W", power_W))

    def feed_vi(self, t_ms, V1, I1, V2=None, I2=None, V3=None, I3=None) -> None:
        """Phases given as None (absent) contribute 0 W."""
        self._k.feed_vi(_num("t_ms", t_ms), _opt_num("V1", V1), _opt_num("I1", I1), _opt_num("V2", V2),
                        _opt_num("I2", I2), _opt_num("V3", V3), _opt_num("I3", I3))

    def feed_power_block(self, t_ms, power_W) -> int:
        t = as_f64("t_ms", t_ms)
        p = as_f64("power_W", power_W)
        if len(p) != len(t):
            raise InvalidInput(f"power_W must have the length of t_ms ({len(t)}), got {len(p)}", "power_W")
        return self._k.feed_power_block(t, p)

    def feed_vi_block(self, t_ms, V1, I1, V2, I2, V3, I3) -> int:
        t = as_f64("t_ms", t_ms)
        bufs = []
        for name, values in (("V1", V1), ("I1", I1), ("V2", V2), ("I2", I2), ("V3", V3), ("I3", I3)):
            b = as_f64(name, values)
            if len(b) != len(t):
                raise InvalidInput(f"{name} must have the length of t_ms ({len(t)}), got {len(b)}", name)
            bufs.append(b)
        return self._k.feed_vi_block(t, *bufs)

    def reset(self) -> None:
        self._k.reset()

    @property
    def import_Wh(self) -> float:
        return self._k.import_Wh

    @property
    def export_Wh(self) -> float:
        return self._k.export_Wh

    @property
    def max_gap_ms(self) -> float:
        return self._k.max_gap_ms

    @property
    def gaps(self) -> int:
        return self._k.gaps

    @property
    def backwards(self) -> int:
        return self._k.backwards

    @property
    def invalid(self) -> int:
        return self._k.invalid

    @property
    def samples(self) -> int:
        return self._k.samples


__all__ = ["EnergyMeter", "as_f64"]
