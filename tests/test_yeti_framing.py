"""Yeti link layer: the example frames of wire_protocols.md §3.1, the stream decoder, the
per-board profiles, and fuzzing of the decoder against an independent reference."""
from __future__ import annotations

import binascii
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evsefast.board.yeti import PROFILES, Codec, FrameDecoder, decode_frame, encode_frame, jamcrc
from evsefast.board.yeti.framing import MAX_FRAME, max_encoded_len
from evsefast.errors import CrcError, FramingError, ProtocolError
from evsefast.testing import RecordingListener

pytestmark = pytest.mark.timeout(300)

# (side that sends, member, value, protobuf hex or None, wire hex) — wire_protocols.md §3.1
EXAMPLES = [
    ("host", "pwm_duty_cycle", 5330, "b8 06 d2 29", "09 b8 06 d2 29 d5 05 4c f3 00"),
    ("host", "pwm_duty_cycle", 0, None, "03 b8 06 05 c3 2e a9 9d 00"),
    ("host", "allow_power_on", True, None, "08 c0 06 01 bd 27 4c b0 00"),
    ("mcu", "cp_state", 2, None, "08 b0 06 02 57 1e b4 7d 00"),
    ("mcu", "relais_state", True, None, "08 b8 06 01 55 1e ae ea 00"),
]


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


@pytest.mark.parametrize("side,member,value,proto,wire", EXAMPLES, ids=[f"{e[1]}={e[2]}" for e in EXAMPLES])
def test_example_frames_encode_byte_for_byte(side, member, value, proto, wire):
    codec = Codec("yeti", side)
    if proto is not None:
        assert codec.encode_payload(member, value) == h(proto)
    assert codec.encode(member, value) == h(wire)


@pytest.mark.parametrize("side,member,value,proto,wire", EXAMPLES, ids=[f"{e[1]}={e[2]}" for e in EXAMPLES])
def test_example_frames_decode_byte_for_byte(side, member, value, proto, wire):
    receiver = Codec("yeti", "mcu" if side == "host" else "host")
    assert receiver.decode(h(wire)[:-1]) == (member, value)
    # and through the stream decoder, split at every byte
    stream = receiver.stream()
    got = []
    for b in h(wire):
        got += stream.feed(bytes([b]))
    assert got == [(member, value)]
    assert stream.stats.frames == 1 and stream.stats.dropped == 0


def test_default_valued_oneof_member_is_still_encoded():
    # allow_power_on=false and PWM 0 must reach the MCU: nanopb writes the selected member anyway
    codec = Codec("yeti", "host")
    assert codec.encode_payload("allow_power_on", False) == h("c0 06 00")
    assert Codec("yeti", "mcu").decode(codec.encode("allow_power_on", False)[:-1]) == ("allow_power_on", False)


def test_jamcrc_is_crc32_without_final_xor():
    assert jamcrc(b"123456789") == 0x340BC6D9  # CRC-32/JAMCRC check value
    assert jamcrc(b"") == 0xFFFFFFFF


def test_decode_frame_errors_name_the_problem():
    good = encode_frame(b"\xb8\x06\x01")[:-1]
    assert decode_frame(good) == b"\xb8\x06\x01"
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 0x40
    with pytest.raises(CrcError, match="CRC mismatch"):
        decode_frame(bytes(bad_crc))
    with pytest.raises(FramingError, match="invalid COBS"):
        decode_frame(b"\x05\x01")  # code byte promises 4 more bytes
    with pytest.raises(FramingError, match="truncated"):
        decode_frame(b"\x03\x01\x02")
    with pytest.raises(FramingError, match="exceeds"):
        decode_frame(b"\x01" * (max_encoded_len() + 1))


def test_stream_resynchronises_and_counts_every_kind_of_drop():
    dec = FrameDecoder()
    a, b = encode_frame(b"\x10\x01"), encode_frame(b"\x10\x02")
    bad_crc = bytearray(a)
    bad_crc[2] ^= 0xFF
    stream = (b"\x00\x00" + a + b"\x17\x42garbage\x00" + bytes(bad_crc) + a[:3] + b"\x00"
              + b"\x01" * 3000 + b"\x00" + b)
    got = dec.feed(stream)
    assert got == [b"\x10\x01", b"\x10\x02"]
    s = dec.stats
    assert (s.frames, s.dropped_crc, s.dropped_oversized) == (2, 1, 1)
    assert s.dropped_framing + s.dropped_crc >= 3  # garbage and the truncated frame too
    assert s.dropped == 4 and s.bytes == len(stream)
    assert dec.pending == 0


def test_oversized_frame_across_many_feeds_is_counted_once_and_bounded():
    dec = FrameDecoder()
    for _ in range(100):
        assert dec.feed(b"\x01" * 100) == []
        assert dec.pending <= max_encoded_len()
    assert dec.feed(b"\x00" + encode_frame(b"\x10\x05")) == [b"\x10\x05"]
    assert dec.stats.dropped_oversized == 1


def test_largest_frame_passes():
    payload = bytes(range(1, 256)) * 8
    payload = payload[: MAX_FRAME - 4]
    assert FrameDecoder().feed(encode_frame(payload)) == [payload]


def test_undecodable_but_crc_valid_frames_are_dropped_and_counted():
    stream = Codec("yeti", "host").stream()
    junk = encode_frame(b"\xff\xff\xff\xff\xff")       # broken varint
    unknown = encode_frame(b"\xf8\x3e\x01")            # field 1000: not in the profile
    empty = encode_frame(b"")                          # no oneof member
    good = Codec("yeti", "mcu").encode("cp_state", 1)
    assert stream.feed(junk + unknown + empty + good) == [("cp_state", 1)]
    assert stream.stats.dropped_undecodable == 3


def test_profiles_are_tables_of_field_numbers():
    tida_host = Codec("tida010939", "host")
    assert tida_host.encode_payload("pwm_duty_cycle", 5330) == h("20 d2 29")   # field 4
    assert tida_host.encode_payload("allow_power_on", True) == h("28 01")      # field 5
    tida_mcu = Codec("tida010939", "mcu")
    assert tida_mcu.encode_payload("cp_state", 2) == h("18 02")                 # field 3
    assert not tida_host.can_send("set_number_of_phases")
    assert not tida_mcu.can_send("power_meter")
    adkit = Codec("adkit", "host")
    assert adkit.encode_payload("pwm_duty_cycle", 5330) == Codec("yeti", "host").encode_payload("pwm_duty_cycle", 5330)
    assert not adkit.can_send("connector_lock")
    with pytest.raises(ProtocolError, match="no host-side message 'connector_lock'"):
        adkit.encode("connector_lock", True)
    with pytest.raises(ValueError, match="known: adkit, tida010939, yeti"):
        Codec("nope")
    assert set(PROFILES) == {"yeti", "tida010939", "adkit"}


def test_keep_alive_round_trip_with_capabilities():
    frame = Codec("yeti", "mcu").encode("keep_alive", hwcap_max_current=32.0, hwcap_min_current=6.0,
                                        hwcap_max_phase_count=3, hwcap_min_phase_count=1,
                                        supports_changing_phases_during_charging=True, sw_version_string="x" * 50)
    member, ka = Codec("yeti", "host").decode(frame[:-1])
    assert member == "keep_alive"
    assert (ka.hwcap_max_current, ka.hwcap_min_current, ka.hwcap_max_phase_count) == (32.0, 6.0, 3)
    assert ka.supports_changing_phases_during_charging and ka.sw_version_string == "x" * 50


# ---------------------------------------------------------------- fuzzing against a reference decoder
def reference_cobs_decode(chunk: bytes):
    """Textbook COBS decode of one frame (no 0x00 in it); None if malformed."""
    out, i, n = bytearray(), 0, len(chunk)
    while i < n:
        code = chunk[i]
        end = i + code
        if code == 0 or end > n:
            return None
        out += chunk[i + 1:end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def reference_frames(data: bytes):
    """The payloads a correct receiver accepts: split on 0x00, COBS-decode, CRC residue check."""
    chunks = data.split(b"\x00")[:-1]  # the last piece has no delimiter yet
    out = []
    for c in chunks:
        if not c or len(c) > max_encoded_len():
            continue
        raw = reference_cobs_decode(c)
        if raw is None or not 4 <= len(raw) <= MAX_FRAME:
            continue
        if int.from_bytes(raw[-4:], "little") == binascii.crc32(raw[:-4]) ^ 0xFFFFFFFF:
            out.append(raw[:-4])
    return out


PAYLOADS = [Codec("yeti", "mcu").encode_payload(m, v) for m, v in
            [("cp_state", 1), ("cp_state", 2), ("relais_state", True), ("pp_state", 3), ("reset", 1)]]


def _split_feed(dec, data, cuts):
    got, last = [], 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        got += dec.feed(data[last:cut])
        last = cut
    return got + dec.feed(data[last:])


@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_random_bytes_match_the_reference(data, cuts):
    dec = FrameDecoder()
    got = _split_feed(dec, data, cuts)
    assert got == reference_frames(data)
    assert dec.stats.frames == len(got)


@given(st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(0, 255),
                          st.sampled_from(["flip", "set", "insert", "delete"])), max_size=6),
       st.lists(st.integers(min_value=0, max_value=10_000), max_size=5))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_mutated_streams_never_deliver_a_bad_frame(payloads, mutations, cuts):
    data = bytearray(b"".join(encode_frame(p) for p in payloads))
    for pos, byte, op in mutations:
        i = pos % (len(data) + 1)
        if op == "insert":
            data.insert(i, byte)
        elif i < len(data):
            if op == "flip":
                data[i] ^= byte or 1
            elif op == "set":
                data[i] = byte
            else:
                del data[i]
    data = bytes(data)
    dec = FrameDecoder()
    got = _split_feed(dec, data, cuts)
    assert got == reference_frames(data)
    # untouched frames still get through: no more losses than frames hit by mutations (+1 for a merge)
    assert len(got) >= len(payloads) - 2 * len(mutations)


@given(st.binary(max_size=400))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_board_reader_path_never_raises(data):
    from evsefast.board.yeti import YetiBoard

    board = YetiBoard("/nonexistent/never-opened", supervise=False)
    listener = RecordingListener()
    board.attach(listener)
    mcu = Codec("yeti", "mcu")
    board.feed(data)
    board.feed(b"\x00" + mcu.encode("cp_state", 3))
    assert ("on_bsp_event", "D") in [(c[0], getattr(c[1], "event", None) and c[1].event.value)
                                      for c in listener.calls]
    for name, *args in listener.calls:
        if name == "on_capabilities":
            caps = args[0]
            assert math.isfinite(caps.max_current_A_import) and 1 <= caps.max_phase_count_import <= 3


_FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=32)
_MCU_MESSAGES = st.one_of(
    st.tuples(st.just("cp_state"), st.integers(-5, 12)),
    st.tuples(st.just("pp_state"), st.integers(-5, 12)),
    st.tuples(st.just("reset"), st.integers(0, 3)),
    st.tuples(st.just("relais_state"), st.booleans()),
    st.tuples(st.just("lock_state"), st.integers(0, 5)),
    st.tuples(st.just("keep_alive"), st.fixed_dictionaries({
        "hwcap_max_current": _FLOATS, "hwcap_min_current": _FLOATS,
        "hwcap_max_phase_count": st.integers(0, 2**32 - 1), "hwcap_min_phase_count": st.integers(0, 2**32 - 1),
        "supports_changing_phases_during_charging": st.booleans()})),
    st.tuples(st.just("power_meter"), st.fixed_dictionaries({
        "totalWattHr": _FLOATS, "vrmsL1": _FLOATS, "irmsL1": _FLOATS, "wattL1": _FLOATS, "freqL1": _FLOATS})),
    st.tuples(st.just("error_flags"), st.fixed_dictionaries({
        "diode_fault": st.booleans(), "rcd_triggered": st.booleans(), "over_current": st.booleans()})),
)


@given(st.lists(_MCU_MESSAGES, max_size=20))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_crc_valid_frames_with_hostile_values_never_reach_the_listener(messages):
    from evsefast.board.yeti import YetiBoard

    board = YetiBoard("/nonexistent/never-opened", supervise=False)
    listener = RecordingListener()
    board.attach(listener)
    mcu = Codec("yeti", "mcu")
    for member, value in messages:
        frame = mcu.encode(member, **value) if isinstance(value, dict) else mcu.encode(member, value)
        board.feed(frame)
    for name, *args in listener.calls:
        if name == "on_capabilities":
            caps = args[0]
            assert math.isfinite(caps.max_current_A_import) and math.isfinite(caps.min_current_A_import)
            assert 0 <= caps.min_current_A_import <= caps.max_current_A_import
            assert 1 <= caps.min_phase_count_import <= caps.max_phase_count_import <= 3
        elif name == "on_powermeter":
            sample = args[0]
            assert math.isfinite(sample.energy_Wh_import.total) and math.isfinite(sample.power_W.total)
        elif name == "on_bsp_event":
            assert args[0].event.value in ("A", "B", "C", "D", "E", "F", "PowerOn", "PowerOff")
