"""msgspec types: EVerest names letter for letter, round trips, omitted optionals, strictness, ranges."""
from __future__ import annotations

import enum
import json
from typing import Any, Dict, List

import msgspec
import pytest
from msgspec import inspect as mi

import evsefast.types as t
from evsefast.codec import decode, encode_json, encode_msgpack, decode_msgpack
from evsefast.errors import CommandRejected

STRUCTS = [getattr(t, n) for n in sorted(t.__all__)
           if isinstance(getattr(t, n), type) and issubclass(getattr(t, n), msgspec.Struct)
           and getattr(t, n).__name__ == n and n not in ("Message", "StrictMessage")]
ENUMS = [getattr(t, n) for n in sorted(t.__all__)
         if isinstance(getattr(t, n), type) and issubclass(getattr(t, n), enum.Enum) and getattr(t, n).__name__ == n]


# --------------------------------------------------------------------------------------------------
# A valid example of any type, derived from the type itself (so every Struct is covered)
# --------------------------------------------------------------------------------------------------

def _example(info: Any, full: bool) -> Any:
    if isinstance(info, mi.UnionType):
        return _example(next(x for x in info.types if not isinstance(x, mi.NoneType)), full)
    if isinstance(info, mi.StructType):
        return {f.encode_name: _example(f.type, full) for f in info.fields if full or f.required}
    if isinstance(info, mi.EnumType):
        return list(info.cls)[-1].value
    if isinstance(info, mi.ListType):
        return [_example(info.item_type, full) for _ in range(max(1, info.min_length or 1))]
    if isinstance(info, mi.BoolType):
        return True
    if isinstance(info, mi.IntType):
        v = 7
        if info.le is not None:
            v = min(v, info.le)
        if info.ge is not None:
            v = max(v, info.ge)
        return v
    if isinstance(info, mi.FloatType):
        v = 7.5
        if info.le is not None:
            v = min(v, info.le)
        if info.ge is not None:
            v = max(v, info.ge)
        return v
    if isinstance(info, mi.StrType):
        if info.pattern:
            return "00:7D:FA:01:02:03"
        n = 3 if info.max_length is None else min(3, info.max_length)
        return "abc"[:n] if (info.min_length or 0) <= n else "x" * info.min_length
    raise AssertionError(f"no example for {info}")


def example(tp: Any, full: bool = True) -> Dict[str, Any]:
    return _example(mi.type_info(tp), full)


@pytest.mark.arm
@pytest.mark.parametrize("full", [True, False], ids=["all-fields", "required-only"])
@pytest.mark.parametrize("tp", STRUCTS, ids=lambda tp: tp.__name__)
def test_round_trip(tp, full):
    plain = example(tp, full)
    obj = msgspec.convert(plain, tp)
    data = encode_json(obj)
    assert json.loads(data) == plain  # names letter for letter, nothing added
    assert b"null" not in data
    assert decode(data, tp) == obj
    assert decode(plain, tp) == obj
    assert decode(obj, tp) == obj
    assert decode_msgpack(encode_msgpack(obj), tp) == obj


@pytest.mark.parametrize("tp", STRUCTS, ids=lambda tp: tp.__name__)
def test_structs_are_frozen_keyword_only_and_omit_defaults(tp):
    cfg = tp.__struct_config__
    assert cfg.frozen and cfg.omit_defaults
    assert issubclass(tp, t.Message)
    with pytest.raises(TypeError):
        tp(*list(example(tp).values())[:1])  # positional arguments are refused (kw_only)


def test_optional_fields_are_omitted_never_null():
    ev = t.SessionEvents(uuid="u", event=t.SessionEvent.Enabled)
    assert encode_json(ev) == b'{"uuid":"u","event":"Enabled"}'
    started = t.SessionEvents(uuid="s1", event=t.SessionEvent.SessionStarted,
                              session_started=t.SessionStarted(timestamp=1700000000, energy_Wh_import=12.5))
    assert json.loads(encode_json(started)) == {
        "uuid": "s1", "event": "SessionStarted",
        "session_started": {"timestamp": 1700000000, "energy_Wh_import": 12.5}}
    assert encode_json(t.EVInfo()) == b"{}"
    assert encode_json(t.Limits(max_current=0.0, nr_of_phases_available=1)) == \
        b'{"max_current":0.0,"nr_of_phases_available":1}'


def test_enum_values_letter_for_letter_including_odd_names():
    assert t.Ampacity("None") is t.Ampacity.None_
    assert encode_json(t.ProximityPilot(ampacity=t.Ampacity.None_)) == b'{"ampacity":"None"}'
    assert t.SessionEvent.Error.value == "Error" and t.Error.CarDiodeFault.value == "CarDiodeFault"
    assert t.SetLocalMaxCurrentResult("Error_OutOfRange").name == "Error_OutOfRange"
    for e in ENUMS:
        for member in e:
            assert isinstance(member, str) and member.value == str.__str__(member)


# HEAD and other-module enums, in EVerest's order (spec §6.3, §6.4). Seed enums: tests/test_contract.py.
HEAD_ENUMS = {
    t.ConnectorTypeEnum: "cCCS1 cCCS2 cG105 cMCS cTesla cType1 cType2 s309_1P_16A s309_1P_32A s309_3P_16A "
                         "s309_3P_32A sBS1361 sCEE_7_7 sType2 sType3 Other1PhMax16A Other1PhOver16A Other3Ph Pan "
                         "wInductive wResonant Undetermined Unknown",
    t.Enable_source: "Unspecified LocalAPI LocalKeyLock ServiceTechnician RemoteKeyLock MobileApp FirmwareUpdate CSMS",
    t.Enable_state: "Unassigned Disable Enable",
    t.CarManufacturer: "VolkswagenGroup Tesla Unknown",
    t.StopTransactionReason: "EmergencyStop EVDisconnected HardReset Local Other PowerLoss Reboot Remote SoftReset "
                             "UnlockCommand DeAuthorized EnergyLimitReached GroundFault LocalOutOfCredit MasterPass "
                             "OvercurrentFault PowerQuality SOCLimitReached StoppedByEV TimeLimitReached Timeout "
                             "ReqEnergyTransferRejected",
    t.HlcSessionFailedReasonEnum: "ProtocolNegotiationFailed AuthorizationFailed ChargingParametersNotAccepted "
                                  "EnergyTransferSetupFailed ChargingInterrupted FailedTLSHandshake "
                                  "UnexpectedSessionEnd",
    t.UpdateAllowedEnergyTransferModesResult: "Accepted IncompatibleEnergyTransfer ServiceRenegotiationFailed NoHlc",
    t.EnergyTransferMode: "AC_single_phase_core AC_two_phase AC_three_phase_core DC_core DC_extended DC_combo_core "
                          "DC_unique DC AC_BPT AC_BPT_DER AC_DER DC_BPT DC_ACDP DC_ACDP_BPT WPT MCS MCS_BPT",
    t.IdTokenType: "Central eMAID MacAddress ISO14443 ISO15693 KeyCode Local NoAuthorization",
    t.AuthorizationType: "OCPP RFID Autocharge PlugAndCharge BankCard",
    t.AuthorizationStatus: "Accepted Blocked ConcurrentTx Expired Invalid NoCredit NotAllowedTypeEVSE "
                           "NotAtThisLocation NotAtThisTime Unknown PinRequired Timeout",
    t.CertificateStatus: "Accepted SignatureError CertificateExpired CertificateRevoked NoCertificateAvailable "
                         "CertChainError ContractCancelled",
    t.MessageFormat: "ASCII HTML URI UTF8 QRCODE",
    t.HashAlgorithm: "SHA256 SHA384 SHA512",
    t.BoardConnectorType: "IEC62196Type2Cable IEC62196Type2Socket",
}


@pytest.mark.parametrize("e", list(HEAD_ENUMS), ids=lambda e: e.__name__)
def test_head_enum_values(e):
    assert [m.value for m in e] == HEAD_ENUMS[e].split()


FIELDS = {
    t.Evse: "id connectors",
    t.Connector: "id type",
    t.EnableDisableSource: "enable_source enable_state enable_priority",
    t.Limits: "uuid max_current nr_of_phases_available",
    t.EVInfo: "soc present_voltage present_current target_voltage target_current maximum_current_limit "
              "minimum_current_limit maximum_voltage_limit maximum_power_limit estimated_time_full departure_time "
              "estimated_time_bulk evcc_id remaining_energy_needed battery_capacity battery_full_soc "
              "battery_bulk_soc target_energy_request max_energy_request min_energy_request ac_max_charge_power "
              "ac_min_charge_power ac_max_discharge_power ac_min_discharge_power ac_present_active_power "
              "ac_present_reactive_power",
    t.StopTransactionRequest: "reason id_tag",
    t.HlcSessionFailedEvent: "uuid reason",
    t.PlugAndChargeConfiguration: "pnc_enabled central_contract_validation_allowed "
                                  "contract_certificate_installation_enabled",
    t.ProvidedIdToken: "id_token authorization_type request_id parent_id_token connectors prevalidated certificate "
                       "iso15118CertificateHashData",
    t.IdToken: "value type additional_info",
    t.ValidationResult: "authorization_status tariff_messages certificate_status expiry_time parent_id_token "
                        "evse_ids reservation_id allowed_energy_transfer_modes",
    t.MessageContent: "content format language",
    t.EnforcedLimits: "uuid valid_for limits_root_side schedule",
    t.LimitsRes: "total_power_W ac_max_current_A ac_max_phase_count",
    t.CertificateHashDataInfo: "hashAlgorithm issuerNameHash issuerKeyHash serialNumber responderURL",
    t.Telemetry: "evse_temperature_C plug_temperature_C fan_rpm supply_voltage_12V supply_voltage_minus_12V relais_on",
}


@pytest.mark.parametrize("tp", list(FIELDS), ids=lambda tp: tp.__name__)
def test_head_fields(tp):
    assert set(tp.__struct_encode_fields__) == set(FIELDS[tp].split())


# additionalProperties: false in EVerest's schemas (spec §6.3, §6.4)
STRICT = {t.Connector, t.Limits, t.EVInfo, t.HlcSessionFailedEvent, t.ProvidedIdToken, t.IdToken, t.LimitsRes,
          t.ScheduleResEntry, t.CertificateHashDataInfo, t.Telemetry, t.HardwareCapabilities, t.PowerOnOff,
          t.BspEvent}


@pytest.mark.parametrize("tp", STRUCTS, ids=lambda tp: tp.__name__)
def test_unknown_fields_rejected_exactly_where_the_schema_forbids_them(tp):
    plain = dict(example(tp), extra_field=1)
    if tp in STRICT:
        assert tp.__struct_config__.forbid_unknown_fields
        with pytest.raises(CommandRejected) as info:
            decode(plain, tp, field_prefix="arg")
        assert info.value.field == "arg.extra_field"
        # our part of the message (msgspec's own wording may change between versions)
        assert str(info.value).startswith("arg.extra_field: ") and "allowed fields:" in str(info.value)
        with pytest.raises(CommandRejected):
            decode(json.dumps(plain), tp)
    else:
        assert not tp.__struct_config__.forbid_unknown_fields
        assert decode(plain, tp) == msgspec.convert(example(tp), tp)


def test_nested_unknown_field_names_the_path():
    plain = {"reason": "Local", "id_tag": {"id_token": {"value": "04A1", "type": "ISO14443", "oops": 1},
                                           "authorization_type": "RFID"}}
    with pytest.raises(CommandRejected) as info:
        decode(plain, t.StopTransactionRequest, field_prefix="request")
    assert info.value.field == "request.id_tag.id_token.oops"
    assert "allowed fields: value, type, additional_info" in str(info.value)


def _enum_fields(tp) -> List[tuple]:
    out = []
    for f in mi.type_info(tp).fields:
        ft = f.type
        if isinstance(ft, mi.UnionType):
            ft = next(x for x in ft.types if not isinstance(x, mi.NoneType))
        if isinstance(ft, mi.EnumType):
            out.append((f.encode_name, ft.cls))
    return out


ENUM_FIELDS = [(tp, name, cls) for tp in STRUCTS for name, cls in _enum_fields(tp)]


@pytest.mark.parametrize("tp,name,cls", ENUM_FIELDS, ids=[f"{tp.__name__}.{n}" for tp, n, _ in ENUM_FIELDS])
def test_unknown_enum_value_names_field_and_allowed_values(tp, name, cls):
    plain = dict(example(tp), **{name: "NotAValue"})
    for data in (plain, json.dumps(plain).encode()):
        with pytest.raises(CommandRejected) as info:
            decode(data, tp)
        msg = str(info.value)
        assert info.value.field == f"$.{name}"
        assert msg.startswith(f"$.{name}: ") and "'NotAValue'" in msg
        assert "allowed values: " + ", ".join(m.value for m in cls) in msg


RANGES = [
    (t.Evse, {"id": 0, "connectors": [{"id": 1}]}, "$.id", "1 <= value <= 128"),
    (t.Evse, {"id": 129, "connectors": [{"id": 1}]}, "$.id", "1 <= value <= 128"),
    (t.Evse, {"id": 1, "connectors": []}, "$.connectors", "1 <= length <= 128"),
    (t.Evse, {"id": 1, "connectors": [{"id": 1}] * 129}, "$.connectors", "1 <= length <= 128"),
    (t.Evse, {"id": 1, "connectors": [{"id": 1}, {"id": 0}]}, "$.connectors[1].id", "value >= 1"),
    (t.EnableDisableSource, {"enable_source": "CSMS", "enable_state": "Enable", "enable_priority": -1},
     "$.enable_priority", "0 <= value <= 10000"),
    (t.EnableDisableSource, {"enable_source": "CSMS", "enable_state": "Enable", "enable_priority": 10001},
     "$.enable_priority", "0 <= value <= 10000"),
    (t.Limits, {"max_current": 16, "nr_of_phases_available": 0}, "$.nr_of_phases_available", "1 <= value <= 3"),
    (t.Limits, {"max_current": 16, "nr_of_phases_available": 4}, "$.nr_of_phases_available", "1 <= value <= 3"),
    (t.EVInfo, {"soc": 100.5}, "$.soc", "0 <= value <= 100"),
    (t.EVInfo, {"battery_full_soc": -1}, "$.battery_full_soc", "0 <= value <= 100"),
    (t.EVInfo, {"evcc_id": "00:7D:FA:01:02"}, "$.evcc_id", "allowed pattern: ^[A-Fa-f0-9]{2}(:[A-Fa-f0-9]{2}){5}$"),
    (t.IdToken, {"value": "x" * 37, "type": "Local"}, "$.value", "length <= 36"),
    (t.ProvidedIdToken, {"id_token": {"value": "x", "type": "Local"}, "authorization_type": "RFID",
                         "connectors": [0]}, "$.connectors[0]", "value >= 1"),
    (t.ValidationResult, {"authorization_status": "Accepted", "tariff_messages": [],
                          "allowed_energy_transfer_modes": []}, "$.allowed_energy_transfer_modes", "length >= 1"),
    (t.HardwareCapabilities, dict(example(t.HardwareCapabilities), max_phase_count_import=4),
     "$.max_phase_count_import", "1 <= value <= 3"),
    (t.PricePerkWh, {"timestamp": "x", "value": 1, "currency": "EURO"}, "$.currency", "3 <= length <= 3"),
]


@pytest.mark.arm
@pytest.mark.parametrize("tp,plain,field,allowed", RANGES, ids=[f"{r[0].__name__}{r[2][1:]}" for r in RANGES])
def test_out_of_range_rejected_with_path_and_allowed_range(tp, plain, field, allowed):
    for data in (plain, json.dumps(plain)):
        with pytest.raises(CommandRejected) as info:
            decode(data, tp)
        assert info.value.field == field
        assert str(info.value).startswith(field + ": ") and allowed in str(info.value)


def test_missing_required_field_names_it():
    with pytest.raises(CommandRejected) as info:
        decode({"enable_source": "CSMS", "enable_state": "Enable"}, t.EnableDisableSource, field_prefix="cmd_source")
    assert info.value.field == "cmd_source.enable_priority"
    assert str(info.value).startswith("cmd_source.enable_priority: ") and "enable_priority" in str(info.value)


def test_seed_session_events_accepts_every_payload():
    plain = {
        "uuid": "abc", "event": "SessionCancelled",
        "session_cancelled": {"timestamp": 1, "energy_Wh_import": 2.5, "energy_Wh_export": 0.5,
                              "signed_meter_value": "OCMF|{}", "reason": "Remote"},
    }
    ev = decode(json.dumps(plain), t.SessionEvents)
    assert ev.session_cancelled.reason is t.SessionCancellationReason.Remote
    assert json.loads(encode_json(ev)) == plain
    plain = {"uuid": "", "event": "ReservationEnd", "reservation_end": {"reason": "UsedToStartCharging",
                                                                       "reservation_id": 5}}
    assert json.loads(encode_json(decode(plain, t.SessionEvents))) == plain
    plain = {"uuid": "u", "event": "PermanentFault", "error": "CarDiodeFault"}
    assert decode(plain, t.SessionEvents).error is t.Error.CarDiodeFault


def test_every_type_has_a_json_schema():
    schemas, components = msgspec.json.schema_components(STRUCTS + ENUMS)
    assert len(schemas) == len(STRUCTS) + len(ENUMS)
    assert components["Limits"]["additionalProperties"] is False
    assert components["EnableDisableSource"]["properties"]["enable_priority"] == \
        {"type": "integer", "minimum": 0, "maximum": 10000}
