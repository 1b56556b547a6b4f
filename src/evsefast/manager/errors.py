"""Errors -> the inoperative condition, shutdown type and the seed ``Error`` (spec §2.6.3, P6).

Board errors (``evse_board_support/*``, ``ac_rcd/*``) and the manager's own errors
(``evse_manager/*``) are kept by ``(type, sub_type)``.  Any active error except the ignored ones
makes the EVSE inoperative: the first cause raises ``evse_manager/Inoperative`` (kept in
``inoperative``) and the charger publishes ``Error`` (or ``PermanentFault``) once.  Severity High
-> emergency shutdown, otherwise error shutdown; no cause left -> back to none.
"""
from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional, Tuple

NONE = 0
ERROR_SHUTDOWN = 1
EMERGENCY_SHUTDOWN = 2

INOPERATIVE = "evse_manager/Inoperative"
MREC4 = "evse_manager/MREC4OverCurrentFailure"
INTERNAL = "evse_manager/Internal"
PM_START_FAILED = "evse_manager/PowermeterTransactionStartFailed"
MREC9 = "evse_manager/MREC9AuthorizationTimeout"

_IGNORED = frozenset((
    INOPERATIVE,
    "evse_board_support/MREC3HighTemperature",
    "evse_board_support/MREC18CableOverTempDerate",
))

#: errors the module clears itself when entering Idle (EM/Charger.cpp:2170-2181)
CLEARED_ON_UNPLUG = frozenset((
    MREC4, INTERNAL, PM_START_FAILED, MREC9, "evse_manager/MREC22ResistanceFault",
    "evse_manager/MREC11CableCheckFault", "evse_manager/MREC5OverVoltage",
    "evse_manager/VoltagePlausibilityFault",
))

_SEED_ERROR = {
    "evse_board_support/DiodeFault": "CarDiodeFault",
    "evse_board_support/VentilationNotAvailable": "VentilationNotAvailable",
    "evse_board_support/MREC17EVSEContactorFault": "Relais",
    "evse_board_support/MREC2GroundFailure": "RCD",
    "evse_board_support/MREC4OverCurrentFailure": "OverCurrent",
    MREC4: "OverCurrent",
    "evse_board_support/MREC10InvalidVehicleMode": "Car",
    "evse_board_support/MREC14PilotFault": "Car",
}


class ActiveError(NamedTuple):
    """One active error (EVerest error framework fields)."""

    type: str
    sub_type: str
    severity: str
    message: str
    description: str
    vendor_id: str


def seed_error(error_type: str) -> str:
    """The seed ``Error`` value for a causing error type (table of §2.6.3)."""
    mapped = _SEED_ERROR.get(error_type)
    if mapped is not None:
        return mapped
    if error_type.startswith("ac_rcd/"):
        return "RCD"
    if error_type.startswith("slac/"):
        return "SLAC"
    if error_type.startswith("ISO15118_charger/"):
        return "HLC"
    return "Internal"


def _counts(error_type: str) -> bool:
    return error_type not in _IGNORED and not error_type.endswith("/VendorWarning")


def inoperative_description(cause: ActiveError) -> str:
    """HEAD's description of the Inoperative error derived from its cause (EM/ErrorHandling.cpp:7-30)."""
    t = cause.type
    i = t.find("/")
    if i < 0:
        return cause.description
    desc = t[:i] if i == len(t) - 1 else t[i + 1:]
    if desc.endswith("/"):
        desc = desc[:-1]
    if cause.sub_type:
        desc += "/" + cause.sub_type
    return desc


OWN_PREFIX = "evse_manager/"

#: ``listener(error, raised)``: called on every raise (True) and clear (False) of an own error
OwnErrorListener = Callable[[ActiveError, bool], None]


class ErrorState:
    """Active errors, the inoperative condition and the resulting shutdown type.

    ``listener`` (if set) hears every raise and clear of the manager's own ``evse_manager/*`` errors,
    including ``Inoperative``, in the order they happen (a cause before the Inoperative it triggers).
    """

    def __init__(self, use_vendor_id: bool = False, listener: Optional[OwnErrorListener] = None) -> None:
        self.active: Dict[Tuple[str, str], ActiveError] = {}
        self.use_vendor_id = use_vendor_id
        self.inoperative: Optional[ActiveError] = None
        self.cause: Optional[ActiveError] = None
        self.shutdown = NONE
        self.listener = listener

    def raise_error(self, error_type: str, sub_type: str = "", severity: str = "High", message: str = "",
                    description: str = "", vendor_id: str = "") -> Optional[Tuple[str, str]]:
        """Activate an error; returns ``(event, seed_error)`` when the EVSE just became inoperative."""
        key = (error_type, sub_type)
        err = ActiveError(error_type, sub_type, severity, message, description, vendor_id)
        is_new = key not in self.active
        self.active[key] = err
        if is_new:
            self._notify(err, True)
        return self._evaluate()

    def clear_error(self, error_type: str, sub_type: str = "") -> None:
        """Deactivate an error (no-op if it is not active)."""
        err = self.active.pop((error_type, sub_type), None)
        if err is not None:
            self._notify(err, False)
            self._evaluate()

    def clear_errors_on_unplug(self) -> None:
        """Clear the errors the module raised itself (entering Idle)."""
        stale = [k for k in self.active if k[0] in CLEARED_ON_UNPLUG]
        if stale:
            for k in stale:
                self._notify(self.active.pop(k), False)
            self._evaluate()

    def _notify(self, err: ActiveError, raised: bool) -> None:
        if self.listener is not None and err.type.startswith(OWN_PREFIX):
            self.listener(err, raised)

    def is_active(self, error_type: str) -> bool:
        """True if an error of ``error_type`` (any sub-type) is active."""
        return any(k[0] == error_type for k in self.active)

    def _evaluate(self) -> Optional[Tuple[str, str]]:
        causes = [e for e in self.active.values() if _counts(e.type)]
        if not causes:
            was, self.inoperative = self.inoperative, None
            self.cause = None
            self.shutdown = NONE
            if was is not None:
                self._notify(was, False)
            return None
        self.shutdown = EMERGENCY_SHUTDOWN if any(e.severity == "High" for e in causes) else ERROR_SHUTDOWN
        if self.inoperative is not None:
            return None  # a second cause does not replace it
        cause = causes[0]
        vendor = cause.vendor_id if (self.use_vendor_id and cause.vendor_id) else "EVerest"
        self.cause = cause
        self.inoperative = ActiveError(INOPERATIVE, "", "High", cause.type, inoperative_description(cause), vendor)
        self._notify(self.inoperative, True)
        if cause.type == "evse_board_support/PermanentFault":
            return ("PermanentFault", "Internal")
        return ("Error", seed_error(cause.type))
