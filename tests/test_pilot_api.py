"""Buffer normalisation, argument errors (same in both builds), the synthesiser, and a
hypothesis differential test: compiled and pure give identical results."""
import math
import struct
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evsefast import pilot as api
from evsefast.errors import InvalidInput

def reference_block(kernels):
    s = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.1, seed=2)
    buf = array("H", bytes(2000))
    s.fill_u16(buf)
    return buf


def u16_forms(buf):
    forms = {
        "array": buf,
        "bytes": buf.tobytes(),
        "bytearray": bytearray(buf.tobytes()),
        "memoryview": memoryview(buf),
        "memoryview_bytes": memoryview(buf.tobytes()),
        "list": buf.tolist(),
        "tuple": tuple(buf),
    }
    try:
        import numpy
    except ImportError:
        return forms
    forms["numpy"] = numpy.frombuffer(buf, dtype=numpy.uint16)
    forms["numpy_strided"] = numpy.repeat(numpy.frombuffer(buf, dtype=numpy.uint16), 2)[::2]
    forms["numpy_le"] = numpy.frombuffer(buf, dtype="<u2")
    return forms


@pytest.mark.arm
def test_every_u16_buffer_type_gives_the_same_block(kernels):
    buf = reference_block(kernels)
    ref = api.classify_block_u16(buf, kernels=kernels).as_dict()
    assert ref["state"] == "B"
    for name, form in u16_forms(buf).items():
        assert api.classify_block_u16(form, kernels=kernels).as_dict() == ref, name
        clf = api.PilotClassifier(kernels=kernels)
        clf.feed_u16(form, 10.0)
        assert clf.block.as_dict() == ref, name


@pytest.mark.arm
def test_every_f32_buffer_type_gives_the_same_block(kernels):
    s = api.cp_synth(kernels=kernels, duty_pct=53.3, high_V=6.0, noise_V=0.1, seed=2)
    buf = array("f", bytes(4000))
    s.fill_f32(buf)
    ref = api.classify_block_f32(buf, kernels=kernels).as_dict()
    assert ref["state"] == "C"
    forms = {"bytes": buf.tobytes(), "bytearray": bytearray(buf.tobytes()), "memoryview": memoryview(buf),
             "list": buf.tolist()}
    try:
        import numpy
        forms["numpy"] = numpy.frombuffer(buf, dtype=numpy.float32)
        forms["numpy_f64"] = numpy.frombuffer(buf, dtype=numpy.float32).astype(numpy.float64)
    except ImportError:
        pass
    forms["array_d"] = array("d", buf)
    for name, form in forms.items():
        assert api.classify_block_f32(form, kernels=kernels).as_dict() == ref, name


BAD_SAMPLES = [
    (b"\x00\x01\x02", "whole number of 2-byte samples"),
    ([1, 2, -3], "sequence of ints in [0, 65535]"),
    ([1, 70000], "sequence of ints in [0, 65535]"),
    (["a"], "sequence of ints in [0, 65535]"),
    (None, "uint16 buffer or a sequence of numbers, got NoneType"),
    ("abc", "uint16 buffer or a sequence of numbers, got str"),
    (array("i", [1, 2]), "format 'i'"),
    (memoryview(bytes(8)).cast("H", (2, 2)), "one-dimensional"),
]


@pytest.mark.arm
@pytest.mark.parametrize("bad,message", BAD_SAMPLES)
def test_bad_samples_raise_the_same_error_in_both_builds(both_builds, bad, message):
    errors = []
    for ns in both_builds:
        with pytest.raises(InvalidInput) as exc:
            api.classify_block_u16(bad, kernels=ns)
        assert exc.value.field == "samples" and message in str(exc.value)
        errors.append(str(exc.value))
        with pytest.raises(InvalidInput) as exc2:
            api.PilotClassifier(kernels=ns).feed_u16(bad, 1.0)
        assert str(exc2.value) == errors[-1]
    assert errors[0] == errors[1]


def test_numpy_wrong_dtype_is_rejected(both_builds):
    numpy = pytest.importorskip("numpy")
    for ns in both_builds:
        with pytest.raises(InvalidInput, match="samples must hold uint16 samples"):
            api.classify_block_u16(numpy.zeros(4, dtype=numpy.int32), kernels=ns)
        with pytest.raises(InvalidInput, match="samples must hold float32 samples"):
            api.classify_block_f32(numpy.zeros(4, dtype=numpy.int16), kernels=ns)
        with pytest.raises(InvalidInput, match="format '>H'"):
            api.classify_block_u16(numpy.zeros(4, dtype=">u2"), kernels=ns)


BAD_CONFIG = [
    ({"volts_per_count": 0.0}, "volts_per_count must be in [1e-09, 100.0], got 0.0"),
    ({"adc_bits": 17}, "adc_bits must be in [1, 16], got 17"),
    ({"adc_bits": 12.5}, "adc_bits must be an integer in [1, 16], got 12.5"),
    ({"debounce_fast_ms": -1}, "debounce_fast_ms must be in [0.0, 60000.0], got -1"),
    ({"debounce_slow_ms": float("nan")}, "debounce_slow_ms must be in [0.0, 600000.0], got nan"),
    ({"plateau_window_V": "wide"}, "plateau_window_V must be a number, got 'wide'"),
    ({"b_min_V": 10.0, "b_max_V": 8.0}, "b_min_V must be below b_max_V, got [10.0, 8.0]"),
    ({"valid_min_V": 5.0, "valid_max_V": 5.0}, "valid_min_V must be below valid_max_V"),
    ({"colour": 1}, "unknown pilot config field 'colour'"),
]


@pytest.mark.arm
@pytest.mark.parametrize("fields,message", BAD_CONFIG)
def test_bad_config_is_rejected_in_both_builds(both_builds, fields, message):
    for ns in both_builds:
        with pytest.raises(InvalidInput) as exc:
            api.PilotClassifier(kernels=ns, **fields)
        assert message in str(exc.value)
        assert exc.value.field in fields


@pytest.mark.arm
@pytest.mark.parametrize("t", [float("nan"), float("inf"), "soon", None])
def test_bad_time_is_rejected(both_builds, t):
    for ns in both_builds:
        with pytest.raises(InvalidInput, match="t_ms"):
            api.PilotClassifier(kernels=ns).feed_u16([1, 2], t)


BAD_SYNTH = [
    ({"duty_pct": 101.0}, "duty_pct must be in [0.0, 100.0], got 101.0"),
    ({"duty_pct": float("nan")}, "duty_pct must be in [0.0, 100.0], got nan"),
    ({"high_V": 25.0}, "high_V must be in [-20.0, 20.0], got 25.0"),
    ({"sample_period_us": 0.0}, "sample_period_us must be in [0.01, 1000000.0], got 0.0"),
    ({"rise_us": 600.0}, "rise_us must be in [0.0, 500.0], got 600.0"),
    ({"noise_V": -0.1}, "noise_V must be in [0.0, 10.0], got -0.1"),
    ({"noise_kind": 3}, "noise_kind must be in [0, 2], got 3"),
    ({"adc_bits": 12.0}, "adc_bits must be an integer in [1, 16], got 12.0"),
    ({"seed": -1}, "seed must be in [0, 18446744073709551615], got -1"),
    ({"seed": 2 ** 64}, "seed must be in [0, 18446744073709551615]"),
    ({"volts_per_count": "x"}, "volts_per_count must be a number in [1e-09, 100.0], got 'x'"),
    ({"t_us": -1.0}, "t_us must be in [0.0, 1000000000000000.0], got -1.0"),
]


@pytest.mark.arm
@pytest.mark.parametrize("kwargs,message", BAD_SYNTH)
def test_bad_synth_arguments(both_builds, kwargs, message):
    for ns in both_builds:
        with pytest.raises(InvalidInput) as exc:
            api.cp_synth(kernels=ns, **kwargs)
        assert message in str(exc.value) and exc.value.field == next(iter(kwargs))
        with pytest.raises(ValueError):  # the kernel itself raises ValueError
            ns.cpsignal.CpSynth(**kwargs)


@pytest.mark.arm
def test_synth_setters_validate(kernels):
    s = api.cp_synth(kernels=kernels)
    with pytest.raises(ValueError, match="duty_pct"):
        s.set_duty(-1.0)
    with pytest.raises(ValueError, match="low_V"):
        s.set_levels(9.0, -30.0)
    with pytest.raises(ValueError, match="noise_kind"):
        s.set_noise(0.1, 7)
    assert s.duty_pct == 100.0 and s.low_V == -12.0 and s.noise_kind == 2


@pytest.mark.arm
def test_synth_clipping_is_counted(kernels):
    s = api.cp_synth(kernels=kernels, duty_pct=50.0, high_V=18.0, low_V=-18.0)
    buf = array("H", bytes(2000))
    assert s.fill_u16(buf) == 1000 and s.clipped == 1000
    assert set(buf) == {0, 4095}


@pytest.mark.arm
def test_synth_is_deterministic_and_continuous(kernels):
    a = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.3, seed=42, t_us=333.0)
    b = api.cp_synth(kernels=kernels, duty_pct=26.67, high_V=9.0, noise_V=0.3, seed=42, t_us=333.0)
    one = array("H", bytes(4000))
    a.fill_u16(one)
    halves = array("H", bytes(2000)), array("H", bytes(2000))
    b.fill_u16(halves[0])
    b.fill_u16(halves[1])
    assert one == halves[0] + halves[1]
    assert a.t_us == b.t_us == 333.0 + 20000.0


@pytest.mark.arm
def test_synth_noise_statistics(kernels):
    for kind, sigma in ((2, 0.5), (1, 0.5 / math.sqrt(3.0))):
        s = api.cp_synth(kernels=kernels, duty_pct=100.0, high_V=0.0, noise_V=0.5, noise_kind=kind, seed=1)
        buf = array("f", bytes(4 * 20000))
        s.fill_f32(buf)
        mean = sum(buf) / len(buf)
        sd = math.sqrt(sum((v - mean) ** 2 for v in buf) / len(buf))
        assert abs(mean) < 0.02 and sd == pytest.approx(sigma, rel=0.05)


@pytest.mark.arm
def test_synth_edges(kernels):
    # 1 us sampling, 4 us edges, 10 % duty from t=0: ramp up over samples 0..3, top at 4..99
    s = api.cp_synth(kernels=kernels, duty_pct=10.0, high_V=12.0, sample_period_us=1.0, rise_us=4.0)
    buf = array("f", bytes(4 * 1000))
    s.fill_f32(buf)
    assert buf[0] == -12.0 and buf[2] == 0.0 and buf[4] == 12.0 and buf[99] == 12.0
    assert buf[100] == 12.0 and buf[102] == 0.0 and buf[104] == -12.0


# ---- differential: compiled == pure ---------------------------------------------------------

def _same(a, b):
    for k, v in a.items():
        w = b[k]
        if isinstance(v, float):
            assert math.isclose(v, w, rel_tol=1e-12, abs_tol=1e-12), (k, v, w)
        else:
            assert v == w, (k, v, w)


config_st = st.fixed_dictionaries({
    "plateau_window_V": st.floats(0.05, 6.0),
    "pwm_min_swing_V": st.floats(0.5, 20.0),
    "min_plateau_samples": st.integers(1, 20),
    "adc_bits": st.integers(8, 16),
})


@given(samples=st.lists(st.integers(0, 65535), max_size=300), cfg=config_st)
def test_differential_random_u16(both_builds, samples, cfg):
    c, p = both_builds
    buf = array("H", samples)
    _same(api.classify_block_u16(buf, config=cfg, kernels=c).as_dict(),
          api.classify_block_u16(buf, config=cfg, kernels=p).as_dict())


@given(samples=st.lists(st.floats(-20.0, 20.0, width=32) | st.just(float("nan")), max_size=300),
       cfg=config_st)
def test_differential_random_f32(both_builds, samples, cfg):
    c, p = both_builds
    buf = array("f", samples)
    _same(api.classify_block_f32(buf, config=cfg, kernels=c).as_dict(),
          api.classify_block_f32(buf, config=cfg, kernels=p).as_dict())


@given(duty=st.floats(0.0, 100.0), hv=st.floats(-15.0, 15.0), lv=st.floats(-15.0, 0.0),
       noise=st.floats(0.0, 2.0), kind=st.integers(0, 2), seed=st.integers(0, 2 ** 64 - 1),
       rise=st.floats(0.0, 20.0), dt=st.sampled_from([0.5, 1.0, 3.3, 10.0, 37.0]),
       t0=st.floats(0.0, 1e6), n=st.integers(0, 400))
def test_differential_synth_and_stream(both_builds, duty, hv, lv, noise, kind, seed, rise, dt, t0, n):
    out = []
    for ns in both_builds:
        s = api.cp_synth(kernels=ns, duty_pct=duty, high_V=hv, low_V=lv, noise_V=noise, noise_kind=kind,
                         seed=seed, rise_us=rise, sample_period_us=dt, t_us=t0)
        buf = array("H", bytes(2 * n))
        clf = api.PilotClassifier(kernels=ns, debounce_fast_ms=0.0, debounce_slow_ms=5.0)
        k = s.drive(clf.kernel, buf, 3, 1.0, 2.0)
        fbuf = array("f", bytes(4 * n))
        s.fill_f32(fbuf)
        out.append((bytes(buf), struct.pack(f"{n}f", *fbuf), k, clf.decision().as_dict(),
                    clf.block.as_dict(), s.rng, s.clipped, s.phase_us))
    (b1, f1, k1, d1, blk1, *r1), (b2, f2, k2, d2, blk2, *r2) = out
    assert b1 == b2 and f1 == f2 and k1 == k2 and r1 == r2
    _same(d1, d2)
    _same(blk1, blk2)
