"""``/evse_manager#`` types: the seed types first (they win), then the HEAD types the interface uses.

Seed (``seeds/000_b34336c8534e1ee7.txt``, spec §6.1): SessionEvents and its payloads SessionStarted,
SessionFinished, SessionCancelled, ReservationStart, ReservationEnd; the enums SessionEvent,
SessionCancellationReason, Error, ReservationEndReason, ReservationResult, SetLocalMaxCurrentResult,
SwitchThreePhasesWhileChargingResult. The seed declares no ``additionalProperties: false``, so its
objects tolerate unknown fields on decode.

HEAD (``types/evse_manager.yaml``, spec §6.3): Evse, Connector, ConnectorTypeEnum, EnableDisableSource
(+ its enums), Limits, EVInfo, CarManufacturer, StopTransactionRequest/Reason, HlcSessionFailedEvent
(+ reason enum), PlugAndChargeConfiguration, UpdateAllowedEnergyTransferModesResult.
"""
from __future__ import annotations

import enum
from typing import Annotated, List, Optional

from msgspec import Meta

from ._base import Message, StrictMessage
from .authorization import ProvidedIdToken

# --------------------------------------------------------------------------------------------------
# Seed enums
# --------------------------------------------------------------------------------------------------


class SessionCancellationReason(str, enum.Enum):
    """Reason for session cancellation (seed)."""

    EmergencyStop = "EmergencyStop"
    EVDisconnected = "EVDisconnected"
    HardReset = "HardReset"
    Local = "Local"
    Other = "Other"
    PowerLoss = "PowerLoss"
    Reboot = "Reboot"
    Remote = "Remote"
    SoftReset = "SoftReset"
    UnlockCommand = "UnlockCommand"
    DeAuthorized = "DeAuthorized"


class ReservationResult(str, enum.Enum):
    """Result of an attempted reservation (seed; not used by the seed interface)."""

    Accepted = "Accepted"
    Faulted = "Faulted"
    Occupied = "Occupied"
    Rejected = "Rejected"
    Unavailable = "Unavailable"


class SetLocalMaxCurrentResult(str, enum.Enum):
    """Returns success or error code (seed; not used by the seed interface)."""

    Success = "Success"
    Error_OutOfRange = "Error_OutOfRange"
    Error_Hardware = "Error_Hardware"


class SwitchThreePhasesWhileChargingResult(str, enum.Enum):
    """Returns success or error code (seed; not used by the seed interface)."""

    Success = "Success"
    Error_NotSupported = "Error_NotSupported"
    Error_NotCharging = "Error_NotCharging"
    Error_Hardware = "Error_Hardware"


class SessionEvent(str, enum.Enum):
    """Event enum of ``SessionEvents.event`` (seed: the 17 published values, profile P1)."""

    Enabled = "Enabled"
    Disabled = "Disabled"
    SessionStarted = "SessionStarted"
    AuthRequired = "AuthRequired"
    ChargingStarted = "ChargingStarted"
    ChargingPausedEV = "ChargingPausedEV"
    ChargingPausedEVSE = "ChargingPausedEVSE"
    ChargingResumed = "ChargingResumed"
    SessionFinished = "SessionFinished"
    SessionCancelled = "SessionCancelled"
    Error = "Error"
    PermanentFault = "PermanentFault"
    ReservationStart = "ReservationStart"
    ReservationEnd = "ReservationEnd"
    ReservationAuthtokenMismatch = "ReservationAuthtokenMismatch"
    ReplugStarted = "ReplugStarted"
    ReplugFinished = "ReplugFinished"


class Error(str, enum.Enum):
    """Details on error type (seed ``Error``; payload of the ``Error``/``PermanentFault`` events)."""

    Car = "Car"
    CarDiodeFault = "CarDiodeFault"
    Relais = "Relais"
    RCD = "RCD"
    VentilationNotAvailable = "VentilationNotAvailable"
    OverCurrent = "OverCurrent"
    Internal = "Internal"
    SLAC = "SLAC"
    HLC = "HLC"


SessionError = Error
"""Alias of the seed ``Error`` enum that does not shadow the word "error" in user code."""


class ReservationEndReason(str, enum.Enum):
    """Reason why reservation ends (seed)."""

    Expired = "Expired"
    Cancelled = "Cancelled"
    UsedToStartCharging = "UsedToStartCharging"


# --------------------------------------------------------------------------------------------------
# Seed objects
# --------------------------------------------------------------------------------------------------


class SessionStarted(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Data for the SessionStarted event. ``timestamp`` is Unix epoch seconds (profile P10)."""

    timestamp: float
    energy_Wh_import: float
    energy_Wh_export: Optional[float] = None
    signed_meter_value: Optional[str] = None
    reservation_id: Optional[float] = None


class SessionFinished(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Data for the SessionFinished event that happens when the car is plugged out."""

    timestamp: float
    energy_Wh_import: float
    energy_Wh_export: Optional[float] = None
    signed_meter_value: Optional[str] = None


class SessionCancelled(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Data for the SessionCancelled event (e.g. the user cancels charging before plug-out)."""

    timestamp: float
    energy_Wh_import: float
    energy_Wh_export: Optional[float] = None
    signed_meter_value: Optional[str] = None
    reason: Optional[SessionCancellationReason] = None


class ReservationStart(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Details on Reservation Start."""

    reservation_id: int
    id_tag: str
    parent_id: Optional[str] = None


class ReservationEnd(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Details on Reservation End."""

    reason: ReservationEndReason
    reservation_id: int


class SessionEvents(Message, frozen=True, kw_only=True, omit_defaults=True):
    """The ``session_event`` var payload: ``uuid``, ``event`` and at most the payload matching ``event``.

    ``session_started`` ↔ SessionStarted, ``session_finished`` ↔ SessionFinished, ``session_cancelled`` ↔
    SessionCancelled, ``error`` ↔ Error/PermanentFault, ``reservation_start`` ↔ ReservationStart,
    ``reservation_end`` ↔ ReservationEnd; other events carry no payload.
    """

    uuid: str
    event: SessionEvent
    session_started: Optional[SessionStarted] = None
    session_finished: Optional[SessionFinished] = None
    session_cancelled: Optional[SessionCancelled] = None
    error: Optional[Error] = None
    reservation_start: Optional[ReservationStart] = None
    reservation_end: Optional[ReservationEnd] = None


# --------------------------------------------------------------------------------------------------
# HEAD types used by the interface (spec §6.3)
# --------------------------------------------------------------------------------------------------


class ConnectorTypeEnum(str, enum.Enum):
    """Connector type of a ``Connector``."""

    cCCS1 = "cCCS1"
    cCCS2 = "cCCS2"
    cG105 = "cG105"
    cMCS = "cMCS"
    cTesla = "cTesla"
    cType1 = "cType1"
    cType2 = "cType2"
    s309_1P_16A = "s309_1P_16A"
    s309_1P_32A = "s309_1P_32A"
    s309_3P_16A = "s309_3P_16A"
    s309_3P_32A = "s309_3P_32A"
    sBS1361 = "sBS1361"
    sCEE_7_7 = "sCEE_7_7"
    sType2 = "sType2"
    sType3 = "sType3"
    Other1PhMax16A = "Other1PhMax16A"
    Other1PhOver16A = "Other1PhOver16A"
    Other3Ph = "Other3Ph"
    Pan = "Pan"
    wInductive = "wInductive"
    wResonant = "wResonant"
    Undetermined = "Undetermined"
    Unknown = "Unknown"


class Connector(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """One connector of an EVSE."""

    id: Annotated[int, Meta(ge=1)]
    type: Optional[ConnectorTypeEnum] = None


class Evse(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Result of ``get_evse``: the EVSE and its connectors."""

    id: Annotated[int, Meta(ge=1, le=128)]
    connectors: Annotated[List[Connector], Meta(min_length=1, max_length=128)]


class Enable_source(str, enum.Enum):
    """``EnableDisableSource.enable_source``."""

    Unspecified = "Unspecified"
    LocalAPI = "LocalAPI"
    LocalKeyLock = "LocalKeyLock"
    ServiceTechnician = "ServiceTechnician"
    RemoteKeyLock = "RemoteKeyLock"
    MobileApp = "MobileApp"
    FirmwareUpdate = "FirmwareUpdate"
    CSMS = "CSMS"


class Enable_state(str, enum.Enum):
    """``EnableDisableSource.enable_state``."""

    Unassigned = "Unassigned"
    Disable = "Disable"
    Enable = "Enable"


# EVerest generates the C++ names ``Enable_source``/``Enable_state`` for these inline enums; its API
# types call them ``EnableSourceEnum``/``EnableStateEnum``. All names refer to the same classes.
EnableSource = EnableSourceEnum = Enable_source
EnableState = EnableStateEnum = Enable_state

EnablePriority = Annotated[int, Meta(ge=0, le=10000)]
"""0 is the highest priority, 10000 the lowest."""


class EnableDisableSource(Message, frozen=True, kw_only=True, omit_defaults=True):
    """``enable_disable`` argument ``cmd_source``: who asks, what, and with which priority (0 = highest)."""

    enable_source: Enable_source
    enable_state: Enable_state
    enable_priority: EnablePriority


class Limits(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """The ``limits`` var."""

    max_current: float
    nr_of_phases_available: Annotated[int, Meta(ge=1, le=3)]
    uuid: Optional[str] = None


Percent = Annotated[float, Meta(ge=0, le=100)]
EvccId = Annotated[str, Meta(pattern=r"^[A-Fa-f0-9]{2}(:[A-Fa-f0-9]{2}){5}$")]


class EVInfo(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """The ``ev_info`` var: details about the EV if available (all optional; ``{}`` in basic charging)."""

    soc: Optional[Percent] = None
    present_voltage: Optional[float] = None
    present_current: Optional[float] = None
    target_voltage: Optional[float] = None
    target_current: Optional[float] = None
    maximum_current_limit: Optional[float] = None
    minimum_current_limit: Optional[float] = None
    maximum_voltage_limit: Optional[float] = None
    maximum_power_limit: Optional[float] = None
    estimated_time_full: Optional[str] = None
    departure_time: Optional[str] = None
    estimated_time_bulk: Optional[str] = None
    evcc_id: Optional[EvccId] = None
    remaining_energy_needed: Optional[float] = None
    battery_capacity: Optional[float] = None
    battery_full_soc: Optional[Percent] = None
    battery_bulk_soc: Optional[Percent] = None
    target_energy_request: Optional[float] = None
    max_energy_request: Optional[float] = None
    min_energy_request: Optional[float] = None
    ac_max_charge_power: Optional[float] = None
    ac_min_charge_power: Optional[float] = None
    ac_max_discharge_power: Optional[float] = None
    ac_min_discharge_power: Optional[float] = None
    ac_present_active_power: Optional[float] = None
    ac_present_reactive_power: Optional[float] = None


class CarManufacturer(str, enum.Enum):
    """The ``car_manufacturer`` var (derived from the EVCC-ID in HLC)."""

    VolkswagenGroup = "VolkswagenGroup"
    Tesla = "Tesla"
    Unknown = "Unknown"


class StopTransactionReason(str, enum.Enum):
    """Reason of a ``StopTransactionRequest`` (HEAD: the 11 seed cancellation reasons, then 11 more)."""

    EmergencyStop = "EmergencyStop"
    EVDisconnected = "EVDisconnected"
    HardReset = "HardReset"
    Local = "Local"
    Other = "Other"
    PowerLoss = "PowerLoss"
    Reboot = "Reboot"
    Remote = "Remote"
    SoftReset = "SoftReset"
    UnlockCommand = "UnlockCommand"
    DeAuthorized = "DeAuthorized"
    EnergyLimitReached = "EnergyLimitReached"
    GroundFault = "GroundFault"
    LocalOutOfCredit = "LocalOutOfCredit"
    MasterPass = "MasterPass"
    OvercurrentFault = "OvercurrentFault"
    PowerQuality = "PowerQuality"
    SOCLimitReached = "SOCLimitReached"
    StoppedByEV = "StoppedByEV"
    TimeLimitReached = "TimeLimitReached"
    Timeout = "Timeout"
    ReqEnergyTransferRejected = "ReqEnergyTransferRejected"


class StopTransactionRequest(Message, frozen=True, kw_only=True, omit_defaults=True):
    """``stop_transaction`` argument ``request`` (also the BSP var ``request_stop_transaction``)."""

    reason: StopTransactionReason
    id_tag: Optional[ProvidedIdToken] = None


class HlcSessionFailedReasonEnum(str, enum.Enum):
    """Why an HLC session failed."""

    ProtocolNegotiationFailed = "ProtocolNegotiationFailed"
    AuthorizationFailed = "AuthorizationFailed"
    ChargingParametersNotAccepted = "ChargingParametersNotAccepted"
    EnergyTransferSetupFailed = "EnergyTransferSetupFailed"
    ChargingInterrupted = "ChargingInterrupted"
    FailedTLSHandshake = "FailedTLSHandshake"
    UnexpectedSessionEnd = "UnexpectedSessionEnd"


class HlcSessionFailedEvent(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """The ``hlc_session_failed`` var (never published in basic charging)."""

    uuid: str
    reason: HlcSessionFailedReasonEnum


class PlugAndChargeConfiguration(Message, frozen=True, kw_only=True, omit_defaults=True):
    """``set_plug_and_charge_configuration`` argument: each present field is stored."""

    pnc_enabled: Optional[bool] = None
    central_contract_validation_allowed: Optional[bool] = None
    contract_certificate_installation_enabled: Optional[bool] = None


class UpdateAllowedEnergyTransferModesResult(str, enum.Enum):
    """Result of ``update_allowed_energy_transfer_modes``."""

    Accepted = "Accepted"
    IncompatibleEnergyTransfer = "IncompatibleEnergyTransfer"
    ServiceRenegotiationFailed = "ServiceRenegotiationFailed"
    NoHlc = "NoHlc"


class StartSessionReason(str, enum.Enum):
    """HEAD only, informative (not part of the seed payloads)."""

    EVConnected = "EVConnected"
    Authorized = "Authorized"


__all__ = [
    "CarManufacturer", "Connector", "ConnectorTypeEnum", "EVInfo", "EnableDisableSource", "EnablePriority",
    "EnableSource", "EnableSourceEnum", "EnableState", "EnableStateEnum", "Enable_source", "Enable_state", "Error",
    "Evse", "EvccId",
    "HlcSessionFailedEvent", "HlcSessionFailedReasonEnum", "Limits", "Percent", "PlugAndChargeConfiguration",
    "ReservationEnd", "ReservationEndReason", "ReservationResult", "ReservationStart", "SessionCancellationReason",
    "SessionCancelled", "SessionError", "SessionEvent", "SessionEvents", "SessionFinished", "SessionStarted",
    "SetLocalMaxCurrentResult", "StartSessionReason", "StopTransactionReason", "StopTransactionRequest",
    "SwitchThreePhasesWhileChargingResult", "UpdateAllowedEnergyTransferModesResult",
]
