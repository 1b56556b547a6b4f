"""evsefast.codec: the shared encoders/decoders and their errors."""
from __future__ import annotations

import json
import math

import msgspec
import pytest

import evsefast.types as t
from evsefast import codec
from evsefast.codec import decode, decode_msgpack, encode_json, encode_msgpack, validate
from evsefast.errors import CommandRejected, InvalidInput

SOURCE = {"enable_source": "CSMS", "enable_state": "Disable", "enable_priority": 100}


@pytest.mark.arm
def test_decode_accepts_json_bytes_str_dict_and_struct():
    want = t.EnableDisableSource(enable_source=t.Enable_source.CSMS, enable_state=t.Enable_state.Disable,
                                 enable_priority=100)
    raw = json.dumps(SOURCE)
    for data in (raw.encode(), raw, bytearray(raw.encode()), memoryview(raw.encode()), SOURCE, want):
        assert decode(data, t.EnableDisableSource) == want
    assert encode_json(want) == b'{"enable_source":"CSMS","enable_state":"Disable","enable_priority":100}'
    assert decode_msgpack(encode_msgpack(want), t.EnableDisableSource) == want


def test_decode_scalars_and_aliases():
    assert decode(3, int) == 3
    assert decode(b"3", int) == 3
    assert decode('"Local"', t.StopTransactionReason) is t.StopTransactionReason.Local
    assert validate("Local", t.StopTransactionReason) is t.StopTransactionReason.Local
    assert decode(["AC_single_phase_core", t.EnergyTransferMode.AC_BPT], t.EnergyTransferModes) == [
        t.EnergyTransferMode.AC_single_phase_core, t.EnergyTransferMode.AC_BPT]
    assert decode(("DC",), t.EnergyTransferModes) == [t.EnergyTransferMode.DC]


def test_struct_input_is_validated_again():
    bad = t.EnableDisableSource(enable_source=t.Enable_source.CSMS, enable_state=t.Enable_state.Enable,
                                enable_priority=20000)  # msgspec does not check constraints in __init__
    with pytest.raises(CommandRejected) as info:
        decode(bad, t.EnableDisableSource, field_prefix="cmd_source")
    assert info.value.field == "cmd_source.enable_priority"
    assert "allowed range: 0 <= value <= 10000" in str(info.value)
    nested = {"reason": "Local", "id_tag": t.ProvidedIdToken(
        id_token=t.IdToken(value="x" * 40, type=t.IdTokenType.Local), authorization_type=t.AuthorizationType.RFID)}
    with pytest.raises(CommandRejected) as info:
        decode(nested, t.StopTransactionRequest)
    assert info.value.field == "$.id_tag.id_token.value"


@pytest.mark.arm
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_rejected_everywhere(bad):
    with pytest.raises(CommandRejected) as info:
        decode({"max_current": bad, "nr_of_phases_available": 1}, t.Limits, field_prefix="limits")
    assert info.value.field == "limits.max_current" and "finite" in str(info.value)
    with pytest.raises(CommandRejected) as info:
        decode(t.Powermeter(timestamp="2026-01-01T00:00:00Z", energy_Wh_import=t.Energy(total=1.0, L2=bad)),
               t.Powermeter)
    assert info.value.field == "$.energy_Wh_import.L2"
    with pytest.raises(CommandRejected):
        decode_msgpack(msgspec.msgpack.encode({"max_current": bad, "nr_of_phases_available": 1}), t.Limits)
    with pytest.raises(CommandRejected):  # JSON has no NaN; a huge literal overflows to inf
        decode(b'{"max_current": 1e999, "nr_of_phases_available": 1}', t.Limits)


def test_strict_types():
    # the field path is ours; the type names are the content (msgspec's wording around them may change)
    with pytest.raises(CommandRejected, match=r"^connector_id: .*int.*bool") as info:
        decode(True, int, field_prefix="connector_id")
    assert info.value.field == "connector_id"
    with pytest.raises(CommandRejected, match=r"^\$\.reservation_id: .*int.*str") as info:
        decode({"reservation_id": "5", "id_tag": "x"}, t.ReservationStart)
    assert info.value.field == "$.reservation_id"
    with pytest.raises(CommandRejected) as info:
        decode({"max_current": 16, "nr_of_phases_available": True}, t.Limits)
    assert info.value.field == "$.nr_of_phases_available"


def test_errors_are_invalid_input_and_chain_the_msgspec_error():
    with pytest.raises(CommandRejected) as info:
        decode(b'{"enable_source": 1}', t.EnableDisableSource, field_prefix="cmd_source")
    err = info.value
    assert isinstance(err, InvalidInput) and isinstance(err, ValueError)
    assert isinstance(err.__cause__, msgspec.ValidationError)
    assert err.field == "cmd_source.enable_source"
    assert "allowed values: Unspecified, LocalAPI" in str(err)


def test_malformed_json():
    with pytest.raises(CommandRejected, match="malformed JSON") as info:
        decode(b'{"enable_source": ', t.EnableDisableSource, field_prefix="cmd_source")
    assert info.value.field == "cmd_source"
    with pytest.raises(CommandRejected, match="malformed msgpack"):
        decode_msgpack(b"\xc1", t.Limits)


def test_wrong_container_at_root():
    with pytest.raises(CommandRejected) as info:
        decode([1, 2], t.Limits, field_prefix="x")
    assert info.value.field == "x" and str(info.value).startswith("x: Expected `object`, got `array`")


def test_null_for_an_optional_field_reads_as_absent_and_is_never_written():
    lim = decode(b'{"max_current": 6, "nr_of_phases_available": 1, "uuid": null}', t.Limits)
    assert lim.uuid is None and b"null" not in encode_json(lim)


def test_decoders_are_cached_and_reused():
    assert codec.json_decoder(t.Limits) is codec.json_decoder(t.Limits)
    assert codec.msgpack_decoder(t.Limits) is codec.msgpack_decoder(t.Limits)
    assert codec.json_decoder(t.EnergyTransferModes) is codec.json_decoder(t.EnergyTransferModes)


def test_to_builtins():
    ev = t.SessionEvents(uuid="u", event=t.SessionEvent.Error, error=t.Error.RCD)
    assert codec.to_builtins(ev) == {"uuid": "u", "event": "Error", "error": "RCD"}


def test_a_plain_str_of_the_wrong_type_reports_the_type_not_malformed_json():
    import pytest as _pytest

    from evsefast.codec import decode
    from evsefast.errors import CommandRejected

    with _pytest.raises(CommandRejected, match=r"^reservation_id: .*int.*str") as info:
        decode("x", int, field_prefix="reservation_id")
    assert info.value.field == "reservation_id"
    assert decode("5", int, field_prefix="reservation_id") == 5  # JSON text is still accepted
