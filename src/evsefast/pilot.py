"""Control-pilot classification: thin, validating API over ``evsefast._core.pilot`` and
``evsefast._core.cpsignal`` (rules in those modules' docstrings).

One block (no state):

    blk = classify_block_u16(samples, volts_per_count=30/4095, offset_V=-15.0)
    blk = classify_block_f32(volts)
    blk.state ("A".."F", "invalid" via ``STATE_NAMES[blk.state]``), blk.high_V, blk.low_V,
    blk.duty_pct, blk.pwm, blk.diode_fault, blk.unstable, blk.sigma_high_V, blk.n_rejected ...

Streaming with debounce (fast for changes that remove power: to A, B, E, F, invalid, and out of C/D
on any mix of them; slow to C, D):

    clf = PilotClassifier(debounce_fast_ms=20, debounce_slow_ms=250)
    if clf.feed_u16(samples, t_ms):      # 1 when the reported state changed (t_ms: newest sample)
        d = clf.decision()               # PilotDecision: state, previous_state, held_ms, evidence
    k = clf.feed_many(samples, block_len, t_ms, block_ms)   # many small blocks in one call: the
                                         # 1-based block that changed the state, or 0

Bands and their sources (volts; config fields ``<state>_min_V`` / ``<state>_max_V``):

    state  nominal  default band (IEC 61851-1)  SAE J1772 EVSE range  with +-3 % drift, 0.2 V hum
    A      +12      11 .. 13                    11.40 .. 12.60        10.86 .. 13.18
    B      +9        8 .. 10                     8.36 ..  9.56         7.91 .. 10.05
    C      +6        5 .. 7                      5.48 ..  6.49         5.12 ..  6.88
    D      +3        2 .. 4                      2.62 ..  3.25         2.34 ..  3.55
    E       0     -1.1 .. 1.1  (Yeti: 0 +- 1.1)   -                   (0 +- 0.2)
    F, neg -12     -13 .. -11                  -12.60 .. -11.40      -13.18 .. -10.86

(IEC windows as summarised in ../shared/spec/peers_and_standards.md 2.1; J1772 Table A1 via
OpenEVSE.)  The last column is where a line inside J1772's range reads through a divider that
drifted +-3 % with 200 mV of mains hum: A, B and F/neg leave the IEC band by up to 0.18 V.
``hysteresis_V`` = 0.4 (default) keeps the reported state (and a pending candidate, and a running
diode fault) within 0.4 V outside its band, which covers that with margin and stays below half of
the smallest gap between adjacent bands (D/E: 0.9 V), so two widened bands never meet; WARP uses
+-10 % of the CP resistance "to conform to IEC 61851-1 A.4.11 optional hysteresis".  Entering a
state still needs its own band.  ``max_outliers`` = 4: up to 4 outlier samples may share one level
band without being taken for a PWM plateau; ``settle_samples`` = 2: samples after an edge kept out
of the plateaus (20 us at 100 kS/s).

Samples may be ``array('H')`` / ``array('f')``, numpy arrays, memoryviews, bytes / bytearray
(raw native-endian uint16 / float32) or sequences of numbers; numpy is never needed.  The per-block
hot path of the kernel is ``clf.kernel.feed_u16(buf, t_ms)`` with a C-contiguous uint16 buffer
(no checks; evidence in ``clf.kernel.block``).

Synthesis: ``cp_synth(duty_pct=..., high_V=..., ...)`` returns the kernel's ``CpSynth`` (validated
arguments); ``synth.drive(clf.kernel, buf, n_blocks, t_ms, block_ms)`` synthesises and classifies
block after block in one call until the debounced state changes (see ``evsefast._core.cpsignal``).
"""
from __future__ import annotations

import math
from array import array

from . import _impl
from .errors import InvalidInput

STATE_NAMES = ("unknown", "A", "B", "C", "D", "E", "F", "invalid")

# field -> (lowest, highest) accepted value
_CONFIG_RANGES = {
    "volts_per_count": (1e-9, 100.0),
    "offset_V": (-1000.0, 1000.0),
    "adc_bits": (1, 16),
    "valid_min_V": (-1000.0, 1000.0),
    "valid_max_V": (-1000.0, 1000.0),
    "plateau_window_V": (0.01, 12.0),
    "pwm_min_swing_V": (0.01, 48.0),
    "min_plateau_samples": (1, 1_000_000),
    "unstable_sigma_V": (0.0, 100.0),
    "unstable_mid_pct": (0.0, 100.0),
    "debounce_fast_ms": (0.0, 60_000.0),
    "debounce_slow_ms": (0.0, 600_000.0),
    "hysteresis_V": (0.0, 2.0),
    "max_outliers": (0, 1_000_000),
    "settle_samples": (0, 16),
}
_BANDS = ("a", "b", "c", "d", "e", "f", "neg")
for _b in _BANDS:
    _CONFIG_RANGES[f"{_b}_min_V"] = (-30.0, 30.0)
    _CONFIG_RANGES[f"{_b}_max_V"] = (-30.0, 30.0)
_INT_FIELDS = ("adc_bits", "min_plateau_samples", "max_outliers", "settle_samples")
CONFIG_FIELDS = tuple(_CONFIG_RANGES) + ("reject_unstable",)


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{name} must be a number, got {value!r}", name) from None
    return value


def pilot_config(*, kernels=None, **fields):
    """A validated kernel ``PilotConfig`` (defaults: IEC 61851 bands of peers_and_standards §2.1 with
    0.4 V hysteresis (table in the module docstring), 12-bit ADC over -15..+15 V, debounce 20 ms
    fast / 250 ms slow)."""
    ns = kernels or _impl.ACTIVE
    clean = {}
    for name, value in fields.items():
        if name == "reject_unstable":
            clean[name] = bool(value)
            continue
        rng = _CONFIG_RANGES.get(name)
        if rng is None:
            raise InvalidInput(f"unknown pilot config field {name!r}; allowed: {', '.join(CONFIG_FIELDS)}",
                               name)
        value = _number(name, value)
        lo, hi = rng
        if name in _INT_FIELDS:
            if value != int(value):
                raise InvalidInput(f"{name} must be an integer in [{lo}, {hi}], got {value!r}", name)
            value = int(value)
        if not (lo <= value <= hi):
            raise InvalidInput(f"{name} must be in [{lo}, {hi}], got {value!r}", name)
        clean[name] = value
    cfg = ns.pilot.PilotConfig(**clean)
    for b in _BANDS:
        lo, hi = getattr(cfg, f"{b}_min_V"), getattr(cfg, f"{b}_max_V")
        if not lo < hi:
            raise InvalidInput(f"{b}_min_V must be below {b}_max_V, got [{lo}, {hi}]", f"{b}_min_V")
    if not cfg.valid_min_V < cfg.valid_max_V:
        raise InvalidInput(f"valid_min_V must be below valid_max_V, got [{cfg.valid_min_V}, "
                           f"{cfg.valid_max_V}]", "valid_min_V")
    return cfg


def config_fields(cfg) -> dict:
    """The fields of a kernel ``PilotConfig`` (any build) as a dict."""
    return {name: getattr(cfg, name) for name in CONFIG_FIELDS}


def _coerce_config(config, ns, overrides):
    if config is None:
        fields = {}
    elif isinstance(config, dict):
        fields = dict(config)
    elif isinstance(config, ns.pilot.PilotConfig) and not overrides:
        return config
    else:
        fields = config_fields(config)
    fields.update(overrides)
    return pilot_config(kernels=ns, **fields)


def _raw_bytes(name, mv, typecode, size):
    if not mv.c_contiguous:
        mv = memoryview(mv.tobytes())
    if mv.nbytes % size:
        raise InvalidInput(f"{name}: a raw byte buffer must hold a whole number of {size}-byte samples, "
                           f"got {mv.nbytes} bytes", name)
    return mv.cast("B").cast(typecode)


def _as_typed(name, samples, typecode, size, kind):
    try:
        mv = memoryview(samples)
    except TypeError:
        mv = None
    if mv is not None:
        if mv.ndim != 1:
            raise InvalidInput(f"{name} must be one-dimensional, got {mv.ndim} dimensions", name)
        fmt = mv.format
        if fmt in (typecode, "<" + typecode, "=" + typecode, "@" + typecode):
            if mv.c_contiguous and fmt == typecode:
                return mv
            if mv.c_contiguous:
                return mv.cast("B").cast(typecode)
            return memoryview(array(typecode, mv.tolist()))
        if fmt in ("B", "b", "c") and mv.itemsize == 1:
            return _raw_bytes(name, mv, typecode, size)
        if typecode == "f" and fmt in ("d", "<d", "=d", "e"):
            return memoryview(array("f", mv.tolist()))
        raise InvalidInput(f"{name} must hold {kind} samples (buffer format {typecode!r}), got format {fmt!r}",
                           name)
    if isinstance(samples, (str, dict)) or samples is None:
        raise InvalidInput(f"{name} must be a {kind} buffer or a sequence of numbers, got "
                           f"{type(samples).__name__}", name)
    try:
        return memoryview(array(typecode, samples))
    except (TypeError, ValueError, OverflowError):
        if typecode == "H":
            raise InvalidInput(f"{name} must be a uint16 buffer or a sequence of ints in [0, 65535]",
                               name) from None
        raise InvalidInput(f"{name} must be a float32 buffer or a sequence of numbers", name) from None


def as_u16(name: str, samples):
    """A 1-D C-contiguous uint16 buffer of ``samples`` (buffer, raw bytes or sequence of ints)."""
    if type(samples) is array and samples.typecode == "H":  # the hot path: as is
        return samples
    return _as_typed(name, samples, "H", 2, "uint16")


def as_f32(name: str, samples):
    """A 1-D C-contiguous float32 buffer of ``samples`` (float64 input is converted)."""
    if type(samples) is array and samples.typecode == "f":
        return samples
    return _as_typed(name, samples, "f", 4, "float32")


def _t(t_ms):
    if type(t_ms) is float and t_ms - t_ms == 0.0:  # finite float: the hot path
        return t_ms
    t = _number("t_ms", t_ms)
    if not math.isfinite(t):
        raise InvalidInput(f"t_ms must be a finite number of milliseconds, got {t_ms!r}", "t_ms")
    return float(t)


def classify_block_u16(samples, volts_per_count=None, offset_V=None, *, adc_bits=None, config=None,
                       kernels=None):
    """Classify one block of uint16 ADC counts (``V = count * volts_per_count + offset_V``);
    returns a kernel ``PilotBlock`` with the evidence."""
    ns = kernels or _impl.ACTIVE
    over = {k: v for k, v in (("volts_per_count", volts_per_count), ("offset_V", offset_V),
                              ("adc_bits", adc_bits)) if v is not None}
    cfg = _coerce_config(config, ns, over)
    out = ns.pilot.PilotBlock()
    ns.pilot.block_u16(out, as_u16("samples", samples), cfg)
    return out


def classify_block_f32(samples, *, config=None, kernels=None):
    """Classify one block of float32 volts; returns a kernel ``PilotBlock``."""
    ns = kernels or _impl.ACTIVE
    cfg = _coerce_config(config, ns, {})
    out = ns.pilot.PilotBlock()
    ns.pilot.block_f32(out, as_f32("samples", samples), cfg)
    return out


class PilotDecision:
    """A debounced decision and its evidence (the block that completed the hold; leaving C/D on a
    mix of states: the latest block of the chosen state).  ``block_state`` is that block's own
    state before hysteresis ("invalid" for a level just outside the decided state's band)."""

    __slots__ = ("state", "previous_state", "t_ms", "since_ms", "held_ms", "high_V", "low_V",
                 "sigma_high_V", "sigma_low_V", "duty_pct", "pwm", "diode_fault", "unstable",
                 "n_samples", "n_rejected", "block_state")

    def __init__(self, **fields):
        for k in self.__slots__:
            setattr(self, k, fields[k])

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"PilotDecision({inner})"

    def __eq__(self, other):
        return isinstance(other, PilotDecision) and self.as_dict() == other.as_dict()


class PilotClassifier:
    """Debounced streaming classifier (see the module docstring)."""

    __slots__ = ("kernel", "_ns")

    def __init__(self, config=None, *, kernels=None, **fields) -> None:
        self._ns = kernels or _impl.ACTIVE
        self.kernel = self._ns.pilot.PilotClassifier(_coerce_config(config, self._ns, fields))

    @property
    def config(self):
        return self.kernel.cfg

    def feed_u16(self, samples, t_ms) -> int:
        """Classify a uint16 block whose newest sample is at ``t_ms``; 1 if the state changed."""
        return self.kernel.feed_u16(as_u16("samples", samples), _t(t_ms))

    def feed_f32(self, samples, t_ms) -> int:
        """Classify a float32-volts block whose newest sample is at ``t_ms``; 1 if it changed."""
        return self.kernel.feed_f32(as_f32("samples", samples), _t(t_ms))

    def feed_many(self, samples, block_len, t_ms, block_ms) -> int:
        """Classify the consecutive ``block_len``-sample blocks of one uint16 buffer in one call
        (for small blocks: one Python call instead of one per block), block k (0-based) as
        ``feed_u16(block_k, t_ms + k * block_ms)``; a partial block at the end is left out.
        Stops after the first block that changed the state: returns its 1-based number, or 0
        when none did (every whole block consumed)."""
        if isinstance(block_len, bool) or not isinstance(block_len, int) or not 1 <= block_len <= 1 << 30:
            raise InvalidInput(f"block_len must be an integer in [1, 1073741824], got {block_len!r}",
                               "block_len")
        step = _number("block_ms", block_ms)
        if not (0.0 <= step <= 1e9):
            raise InvalidInput(f"block_ms must be in [0, 1e9] milliseconds, got {block_ms!r}", "block_ms")
        return self.kernel.feed_many(as_u16("samples", samples), block_len, _t(t_ms), float(step))

    def reset(self) -> None:
        self.kernel.reset()

    @property
    def state(self) -> str:
        """The debounced state: "unknown" before the first decision, "A".."F" or "invalid"."""
        return STATE_NAMES[self.kernel.state]

    @property
    def diode_fault_held_ms(self) -> float:
        """How long a diode fault has been seen without a break (0.0 when the last block had none)."""
        return self.kernel.diode_fault_held_ms

    @property
    def block(self):
        """The last block's evidence (kernel ``PilotBlock``, overwritten by the next feed)."""
        return self.kernel.block

    def decision(self) -> PilotDecision:
        """The last decision with the evidence of the block that made it."""
        k = self.kernel
        b = k.decided
        return PilotDecision(
            state=STATE_NAMES[k.state], previous_state=STATE_NAMES[k.previous_state],
            t_ms=k.decided_ms, since_ms=k.since_ms, held_ms=k.held_ms, high_V=b.high_V, low_V=b.low_V,
            sigma_high_V=b.sigma_high_V, sigma_low_V=b.sigma_low_V, duty_pct=b.duty_pct, pwm=bool(b.pwm),
            diode_fault=bool(b.diode_fault), unstable=bool(b.unstable), n_samples=b.n_samples,
            n_rejected=b.n_rejected, block_state=STATE_NAMES[b.state],
        )


def cp_synth(*, kernels=None, **kwargs):
    """A kernel ``CpSynth`` (arguments in ``evsefast._core.cpsignal``); bad arguments raise
    ``InvalidInput`` naming the argument and its range."""
    ns = kernels or _impl.ACTIVE
    try:
        return ns.cpsignal.CpSynth(**kwargs)
    except ValueError as exc:
        raise InvalidInput(str(exc), str(exc).split(" ", 1)[0]) from None
    except TypeError as exc:
        raise InvalidInput(str(exc)) from None


__all__ = [
    "CONFIG_FIELDS", "PilotClassifier", "PilotDecision", "STATE_NAMES", "as_f32", "as_u16",
    "classify_block_f32", "classify_block_u16", "config_fields", "cp_synth", "pilot_config",
]
