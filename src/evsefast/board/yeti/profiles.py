"""Per-board protocol profiles: the field numbers of the Yeti family, as data.

Every board of the family (Yeti, TI TIDA-010939, the Analog Devices AC kit) wraps
one protobuf message per frame in a oneof container: ``EverestToMcu`` from the host
and ``McuToEverest`` from the MCU. The boards differ only in which container members
exist and which field numbers they carry, so a board is a row of ``PROFILES``, not new
code. The message classes are built at run time from these tables with
``descriptor_pb2`` and ``message_factory`` (no protoc step), each profile in its own
descriptor pool.

Sub-message layouts follow ``yeti.proto`` (wire_protocols.md §3.1). Adding a board::

    PROFILES["myboard"] = BoardProfile(
        name="myboard",
        host={"keep_alive": (100, "KeepAlive"), "pwm_duty_cycle": (103, "uint32"), ...},
        mcu={"keep_alive": (3, "KeepAliveLo"), "cp_state": (102, "CpState"), ...},
    )
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Tuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

#: A container member: (field number, type name). Types are proto scalars or the names below.
Member = Tuple[int, str]

#: Enums shared by the family (value name, number). Enum value names are scoped by prefix.
ENUMS: Dict[str, Tuple[Tuple[str, int], ...]] = {
    "CpState": (("STATE_A", 0), ("STATE_B", 1), ("STATE_C", 2), ("STATE_D", 3), ("STATE_E", 4),
                ("STATE_F", 5)),
    "ResetReason": (("USER", 0), ("WATCHDOG", 1)),
    "PpState": (("STATE_NC", 0), ("STATE_13A", 1), ("STATE_20A", 2), ("STATE_32A", 3),
                ("STATE_70A", 4), ("STATE_FAULT", 5)),
    "LockState": (("UNDEFINED", 0), ("UNLOCKED", 1), ("LOCKED", 2)),
}

#: Sub-messages shared by the family: (field name, number, type).
MESSAGES: Dict[str, Tuple[Tuple[str, int, str], ...]] = {
    "KeepAlive": (
        ("time_stamp", 1, "uint32"), ("hw_type", 2, "uint32"), ("hw_revision", 3, "uint32"),
        ("sw_version_string", 6, "string"),
    ),
    "KeepAliveLo": (
        ("time_stamp", 1, "uint32"), ("hw_type", 2, "uint32"), ("hw_revision", 3, "uint32"),
        ("protocol_version_major", 4, "uint32"), ("protocol_version_minor", 5, "uint32"),
        ("sw_version_string", 6, "string"), ("hwcap_max_current", 7, "float"),
        ("hwcap_min_current", 8, "float"), ("hwcap_max_phase_count", 9, "uint32"),
        ("hwcap_min_phase_count", 10, "uint32"),
        ("supports_changing_phases_during_charging", 11, "bool"),
    ),
    "FirmwareUpdate": (("invoke_rom_bootloader", 1, "bool"),),
    "ErrorFlags": (
        ("diode_fault", 1, "bool"), ("rcd_selftest_failed", 2, "bool"), ("rcd_triggered", 3, "bool"),
        ("ventilation_not_available", 4, "bool"), ("connector_lock_failed", 5, "bool"),
        ("cp_signal_fault", 6, "bool"), ("over_current", 7, "bool"),
    ),
    "Telemetry": (("cp_voltage_hi", 1, "uint32"), ("cp_voltage_lo", 2, "uint32")),
    "PowerMeter": (
        ("time_stamp", 1, "uint32"),
        ("vrmsL1", 2, "float"), ("vrmsL2", 3, "float"), ("vrmsL3", 4, "float"),
        ("irmsL1", 5, "float"), ("irmsL2", 6, "float"), ("irmsL3", 7, "float"), ("irmsN", 8, "float"),
        ("wattHrL1", 9, "float"), ("wattHrL2", 10, "float"), ("wattHrL3", 11, "float"),
        ("totalWattHr", 12, "float"),
        ("tempL1", 13, "float"), ("tempL2", 14, "float"), ("tempL3", 15, "float"), ("tempN", 16, "float"),
        ("wattL1", 17, "float"), ("wattL2", 18, "float"), ("wattL3", 19, "float"),
        ("freqL1", 20, "float"), ("freqL2", 21, "float"), ("freqL3", 22, "float"),
        ("phaseSeqError", 23, "bool"),
    ),
}

#: ErrorFlags member -> EVerest error type raised on the flag's rising edge (names as upstream YetiDriver
#: ``error_handling`` raises them, each defined in everest-core ``errors/*.yaml``; see bindings/everest/errors.json).
ERROR_FLAG_TYPES: Dict[str, str] = {
    "diode_fault": "evse_board_support/DiodeFault",
    "rcd_selftest_failed": "ac_rcd/Selftest",
    "rcd_triggered": "evse_board_support/MREC2GroundFailure",
    "ventilation_not_available": "evse_board_support/VentilationNotAvailable",
    "connector_lock_failed": "connector_lock/MREC1ConnectorLockFailure",
    "cp_signal_fault": "evse_board_support/MREC14PilotFault",
    "over_current": "evse_board_support/MREC4OverCurrentFailure",
}

#: errors that stay raised after their flag falls, until the car is unplugged (CP A), as upstream YetiDriver's
#: ``clear_errors_on_unplug``: a tripped RCD or a failed lock must not let charging resume on its own
LATCHED_UNTIL_UNPLUG = frozenset(("evse_board_support/MREC2GroundFailure", "connector_lock/MREC1ConnectorLockFailure"))

_SCALARS = {
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
}


@dataclass(frozen=True)
class BoardProfile:
    """One board's protocol: container members by name -> (field number, type).

    ``host`` are the members of ``EverestToMcu`` (commands), ``mcu`` those of
    ``McuToEverest`` (reports). ``x1_duty`` is the ``pwm_duty_cycle`` value that means
    X1 (constant +12 V); ``0`` always means state F.
    """

    name: str
    host: Mapping[str, Member]
    mcu: Mapping[str, Member]
    x1_duty: int = 10001
    description: str = ""
    _classes: dict = field(default_factory=dict, compare=False, repr=False)

    def has_host(self, member: str) -> bool:
        """True if the host may send ``member`` to this board."""
        return member in self.host

    def has_mcu(self, member: str) -> bool:
        """True if this board reports ``member``."""
        return member in self.mcu

    def message_classes(self):
        """``(EverestToMcu, McuToEverest)`` protobuf classes for this profile (built once)."""
        if not self._classes:
            self._classes.update(_build(self))
        return self._classes["EverestToMcu"], self._classes["McuToEverest"]


def _build(profile: BoardProfile) -> Dict[str, type]:
    pkg = "evsefast_" + "".join(c if c.isalnum() else "_" for c in profile.name)
    fdp = descriptor_pb2.FileDescriptorProto(name=f"{pkg}.proto", package=pkg, syntax="proto3")
    used = {t for _, t in list(profile.host.values()) + list(profile.mcu.values())}
    for name, values in ENUMS.items():
        if name in used:
            enum = fdp.enum_type.add(name=name)
            for value_name, number in values:
                enum.value.add(name=f"{name.upper()}_{value_name}", number=number)
    for name, fields in MESSAGES.items():
        if name in used:
            _add_message(fdp, pkg, name, [(f, n, t, False) for f, n, t in fields])
    for container, members in (("EverestToMcu", profile.host), ("McuToEverest", profile.mcu)):
        _add_message(fdp, pkg, container, [(f, n, t, True) for f, (n, t) in members.items()])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{pkg}.{name}"))
        for name in ("EverestToMcu", "McuToEverest")
    }


def _add_message(fdp, pkg: str, name: str, fields) -> None:
    msg = fdp.message_type.add(name=name)
    if any(in_oneof for *_, in_oneof in fields):
        msg.oneof_decl.add(name="payload")
    for fname, number, ftype, in_oneof in fields:
        f = msg.field.add(name=fname, number=number,
                          label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
        if ftype in _SCALARS:
            f.type = _SCALARS[ftype]
        elif ftype in ENUMS:
            f.type = descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
            f.type_name = f".{pkg}.{ftype}"
        elif ftype in MESSAGES:
            f.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
            f.type_name = f".{pkg}.{ftype}"
        else:
            raise ValueError(f"profile type {ftype!r} of field {name}.{fname} is unknown; "
                             f"known: {', '.join(sorted([*_SCALARS, *ENUMS, *MESSAGES]))}")
        if in_oneof:
            f.oneof_index = 0


YETI = BoardProfile(
    name="yeti",
    description="Pionix Yeti (yeti.proto): the reference numbering",
    host={
        "firmware_update": (16, "FirmwareUpdate"), "keep_alive": (100, "KeepAlive"),
        "connector_lock": (102, "bool"), "pwm_duty_cycle": (103, "uint32"),
        "allow_power_on": (104, "bool"), "reset": (105, "bool"), "set_number_of_phases": (106, "bool"),
    },
    mcu={
        "keep_alive": (3, "KeepAliveLo"), "reset": (101, "ResetReason"), "cp_state": (102, "CpState"),
        "relais_state": (103, "bool"), "error_flags": (104, "ErrorFlags"), "telemetry": (105, "Telemetry"),
        "pp_state": (106, "PpState"), "lock_state": (107, "LockState"), "power_meter": (108, "PowerMeter"),
    },
)

TIDA010939 = BoardProfile(
    name="tida010939",
    description="TI TIDA-010939 reference design: low field numbers, no power meter, no phase switching",
    host={
        "firmware_update": (1, "FirmwareUpdate"), "keep_alive": (2, "KeepAlive"),
        "connector_lock": (3, "bool"), "pwm_duty_cycle": (4, "uint32"), "allow_power_on": (5, "bool"),
        "reset": (6, "bool"),
    },
    mcu={
        "keep_alive": (1, "KeepAliveLo"), "reset": (2, "ResetReason"), "cp_state": (3, "CpState"),
        "relais_state": (4, "bool"), "error_flags": (5, "ErrorFlags"), "telemetry": (6, "Telemetry"),
        "pp_state": (7, "PpState"), "lock_state": (8, "LockState"),
    },
)

ADKIT = BoardProfile(
    name="adkit",
    description="Analog Devices AD-ACEVSE22KWZ kit: Yeti numbering without lock, PP or phase switching",
    host={
        "keep_alive": (100, "KeepAlive"), "pwm_duty_cycle": (103, "uint32"),
        "allow_power_on": (104, "bool"), "reset": (105, "bool"),
    },
    mcu={
        "keep_alive": (3, "KeepAliveLo"), "reset": (101, "ResetReason"), "cp_state": (102, "CpState"),
        "relais_state": (103, "bool"), "error_flags": (104, "ErrorFlags"), "telemetry": (105, "Telemetry"),
        "power_meter": (108, "PowerMeter"),
    },
)

#: Known boards by name.
PROFILES: Dict[str, BoardProfile] = {p.name: p for p in (YETI, TIDA010939, ADKIT)}


def get_profile(profile) -> BoardProfile:
    """A ``BoardProfile`` from a profile or its name (``"yeti"``, ``"tida010939"``, ``"adkit"``)."""
    if isinstance(profile, BoardProfile):
        return profile
    try:
        return PROFILES[str(profile)]
    except KeyError:
        raise ValueError(f"unknown board profile {profile!r}; known: {', '.join(sorted(PROFILES))}") from None


__all__ = ["ADKIT", "BoardProfile", "ENUMS", "ERROR_FLAG_TYPES", "LATCHED_UNTIL_UNPLUG", "MESSAGES", "PROFILES", "TIDA010939", "YETI",
           "get_profile"]
