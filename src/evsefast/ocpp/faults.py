"""EVerest errors -> OCPP 1.6 ``ChargePointErrorCode`` (EVerest's OCPP module mapping).

The manager keeps its active errors (``EvseManager.active_errors``: type, sub-type, severity, ...);
``evse_manager/Inoperative`` is raised while any of them makes the EVSE unusable (spec/evse_manager.md
§2.6.3).  The connector is *Faulted* exactly while that error is active; the reported error code comes
from the first causing error, mapped as EVerest's OCPP module does (MREC errors with vendor id
``https://chargex.inl.gov`` and their ChargeX vendor error code, ``error_mapping.hpp``), anything
else ``OtherError`` with the error type in ``info``.  Errors that do not make the EVSE inoperative
(e.g. MREC3HighTemperature) are reported with the current status as a warning (S16 §4.9).
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

__all__ = ["INOPERATIVE", "MREC_VENDOR_ID", "ErrorInfo", "NO_ERROR", "error_info"]

INOPERATIVE = "evse_manager/Inoperative"
MREC_VENDOR_ID = "https://chargex.inl.gov"

# error type -> (ChargePointErrorCode, ChargeX vendor error code)
_MREC = {
    "connector_lock/MREC1ConnectorLockFailure": ("ConnectorLockFailure", "CX001"),
    "evse_board_support/MREC2GroundFailure": ("GroundFailure", "CX002"),
    "ac_rcd/MREC2GroundFailure": ("GroundFailure", "CX002"),
    "evse_board_support/MREC3HighTemperature": ("HighTemperature", "CX003"),
    "evse_board_support/MREC4OverCurrentFailure": ("OverCurrentFailure", "CX004"),
    "evse_manager/MREC4OverCurrentFailure": ("OverCurrentFailure", "CX004"),
    "evse_board_support/MREC5OverVoltage": ("OverVoltage", "CX005"),
    "evse_manager/MREC5OverVoltage": ("OverVoltage", "CX005"),
    "evse_board_support/MREC6UnderVoltage": ("UnderVoltage", "CX006"),
    "evse_board_support/MREC8EmergencyStop": ("OtherError", "CX008"),
    "evse_board_support/MREC10InvalidVehicleMode": ("OtherError", "CX010"),
    "evse_manager/MREC11CableCheckFault": ("OtherError", "CX011"),
    "evse_board_support/MREC14PilotFault": ("OtherError", "CX014"),
    "evse_board_support/MREC15PowerLoss": ("OtherError", "CX015"),
    "evse_board_support/MREC17EVSEContactorFault": ("OtherError", "CX017"),
    "evse_board_support/MREC18CableOverTempDerate": ("OtherError", "CX018"),
    "evse_board_support/MREC19CableOverTempStop": ("OtherError", "CX019"),
    "evse_board_support/MREC20PartialInsertion": ("OtherError", "CX020"),
    "evse_manager/MREC22ResistanceFault": ("OtherError", "CX022"),
    "evse_board_support/MREC23ProximityFault": ("OtherError", "CX023"),
    "evse_board_support/MREC24ConnectorVoltageHigh": ("OtherError", "CX024"),
    "evse_board_support/MREC25BrokenLatch": ("OtherError", "CX025"),
    "evse_board_support/MREC26CutCable": ("OtherError", "CX026"),
}
_OTHER = {
    "evse_manager/Internal": "InternalError",
    "evse_manager/PowermeterTransactionStartFailed": "PowerMeterFailure",
}


class ErrorInfo(NamedTuple):
    """The error fields of a StatusNotification (1.6) and whether the connector is Faulted."""

    faulted: bool
    error_code: str
    info: Optional[str] = None
    vendor_id: Optional[str] = None
    vendor_error_code: Optional[str] = None


NO_ERROR = ErrorInfo(False, "NoError")


def _map(error_type: str) -> ErrorInfo:
    mrec = _MREC.get(error_type)
    if mrec is not None:
        return ErrorInfo(False, mrec[0], error_type[:50], MREC_VENDOR_ID, mrec[1])
    return ErrorInfo(False, _OTHER.get(error_type, "OtherError"), error_type[:50])


def error_info(active_errors: Sequence) -> ErrorInfo:
    """The StatusNotification error fields for a manager's ``active_errors`` (oldest error wins)."""
    errors = [e for e in active_errors if e.type != INOPERATIVE]
    faulted = any(e.type == INOPERATIVE for e in active_errors)
    if not errors:
        return ErrorInfo(True, "InternalError") if faulted else NO_ERROR
    if faulted:
        # the error that made the EVSE inoperative is named in the Inoperative error's message
        cause = next((e.message for e in active_errors if e.type == INOPERATIVE), "")
        first = next((e for e in errors if e.type == cause), errors[0])
        return _map(first.type)._replace(faulted=True)
    return _map(errors[0].type)
