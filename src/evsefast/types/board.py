"""evse_board_support and board_support_common types (EVerest HEAD, spec §6.4)."""
from __future__ import annotations

import enum
from typing import Annotated, Optional

from msgspec import Meta


from ._base import Message, StrictMessage

PhaseCount = Annotated[int, Meta(ge=1, le=3)]


class BspEventKind(str, enum.Enum):
    """``BspEvent.event``: CP states, contactor feedback, and the legacy replug events."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    PowerOn = "PowerOn"
    PowerOff = "PowerOff"
    Disconnected = "Disconnected"
    EvseReplugStarted = "EvseReplugStarted"
    EvseReplugFinished = "EvseReplugFinished"


class BspEvent(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """An event published by the board (``evse_board_support`` var ``event``)."""

    event: BspEventKind


class PowerOnOffReason(str, enum.Enum):
    """Why the manager allows or forbids closing the contactors."""

    DCCableCheck = "DCCableCheck"
    DCPreCharge = "DCPreCharge"
    FullPowerCharging = "FullPowerCharging"
    PowerOff = "PowerOff"


class PowerOnOff(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """Argument of the board command ``allow_power_on``."""

    allow_power_on: bool
    reason: PowerOnOffReason


class BoardConnectorType(str, enum.Enum):
    """``HardwareCapabilities.connector_type``: a fixed cable or a socket with PP."""

    IEC62196Type2Cable = "IEC62196Type2Cable"
    IEC62196Type2Socket = "IEC62196Type2Socket"


class HardwareCapabilities(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """Board capabilities (``evse_board_support`` var ``capabilities``)."""

    max_current_A_import: float
    min_current_A_import: float
    max_phase_count_import: PhaseCount
    min_phase_count_import: PhaseCount
    max_current_A_export: float
    min_current_A_export: float
    max_phase_count_export: PhaseCount
    min_phase_count_export: PhaseCount
    supports_changing_phases_during_charging: bool
    supports_cp_state_E: bool
    connector_type: BoardConnectorType
    max_plug_temperature_C: Optional[float] = None


class Telemetry(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """Board telemetry (``evse_board_support`` var ``telemetry``)."""

    evse_temperature_C: float
    fan_rpm: float
    supply_voltage_12V: float
    supply_voltage_minus_12V: float
    relais_on: bool
    plug_temperature_C: Optional[float] = None


class Ampacity(str, enum.Enum):
    """Cable current capability read from the proximity pilot (PP)."""

    None_ = "None"
    A_13 = "A_13"
    A_20 = "A_20"
    A_32 = "A_32"
    A_63_3ph_70_1ph = "A_63_3ph_70_1ph"


class ProximityPilot(Message, frozen=True, kw_only=True, omit_defaults=True):
    """``evse_board_support`` var ``ac_pp_ampacity``."""

    ampacity: Ampacity


class Severity(str, enum.Enum):
    """Severity of an error raised by a board or the manager."""

    High = "High"
    Medium = "Medium"
    Low = "Low"


class BoardError(Message, frozen=True, kw_only=True, omit_defaults=True):
    """An error raised by a board, e.g. ``type="evse_board_support/MREC4OverCurrentFailure"``.

    ``type`` is the full EVerest error type (``<interface>/<name>``); a board error is
    identified by ``(type, sub_type)`` when it is cleared again.
    """

    type: str
    sub_type: str = ""
    message: str = ""
    description: str = ""
    severity: Severity = Severity.High
    vendor_id: str = ""


BOARD_ERROR_TYPES = (
    "DiodeFault", "VentilationNotAvailable", "BrownOut", "EnergyManagement", "PermanentFault",
    "MREC2GroundFailure", "MREC3HighTemperature", "MREC4OverCurrentFailure", "MREC5OverVoltage",
    "MREC6UnderVoltage", "MREC8EmergencyStop", "MREC10InvalidVehicleMode", "MREC14PilotFault",
    "MREC15PowerLoss", "MREC17EVSEContactorFault", "MREC18CableOverTempDerate",
    "MREC19CableOverTempStop", "MREC20PartialInsertion", "MREC23ProximityFault",
    "MREC24ConnectorVoltageHigh", "MREC25BrokenLatch", "MREC26CutCable", "TiltDetected",
    "WaterIngressDetected", "EnclosureOpen", "VendorError", "VendorWarning", "CommunicationFault",
)
"""Error names of ``/errors/evse_board_support`` (prefix them with ``evse_board_support/``)."""

__all__ = [
    "Ampacity", "BOARD_ERROR_TYPES", "BoardConnectorType", "BoardError", "BspEvent", "BspEventKind",
    "HardwareCapabilities", "PhaseCount", "PowerOnOff", "PowerOnOffReason", "ProximityPilot",
    "Severity", "Telemetry",
]
