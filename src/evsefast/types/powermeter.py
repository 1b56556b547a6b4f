"""powermeter and units types (EVerest ``types/powermeter.yaml``, ``units.yaml``, ``units_signed.yaml``)."""
from __future__ import annotations

import enum
from typing import Annotated, List, Optional

from msgspec import Meta

from ._base import Message


class Energy(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Energy in Wh: ``total`` required, per phase optional."""

    total: float
    L1: Optional[float] = None
    L2: Optional[float] = None
    L3: Optional[float] = None


class Power(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Active power in W: ``total`` required, per phase optional."""

    total: float
    L1: Optional[float] = None
    L2: Optional[float] = None
    L3: Optional[float] = None


class ReactivePower(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Reactive power in VAR: ``total`` required, per phase optional."""

    total: float
    L1: Optional[float] = None
    L2: Optional[float] = None
    L3: Optional[float] = None


class Current(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Current in A per phase (all optional)."""

    DC: Optional[float] = None
    L1: Optional[float] = None
    L2: Optional[float] = None
    L3: Optional[float] = None
    N: Optional[float] = None


class Voltage(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Voltage in V per phase (all optional)."""

    DC: Optional[float] = None
    L1: Optional[float] = None
    L2: Optional[float] = None
    L3: Optional[float] = None


class Frequency(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Grid frequency in Hz: ``L1`` required."""

    L1: float
    L2: Optional[float] = None
    L3: Optional[float] = None


class SignedMeterValue(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A signed meter reading (e.g. OCMF)."""

    signed_meter_data: str
    signing_method: str
    encoding_method: str
    public_key: Optional[str] = None
    timestamp: Optional[str] = None


class SignedEnergy(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Signed variants of an Energy/Power/ReactivePower reading."""

    total: Optional[SignedMeterValue] = None
    L1: Optional[SignedMeterValue] = None
    L2: Optional[SignedMeterValue] = None
    L3: Optional[SignedMeterValue] = None


class SignedCurrent(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Signed variant of a Current reading."""

    DC: Optional[SignedMeterValue] = None
    L1: Optional[SignedMeterValue] = None
    L2: Optional[SignedMeterValue] = None
    L3: Optional[SignedMeterValue] = None
    N: Optional[SignedMeterValue] = None


class SignedVoltage(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Signed variant of a Voltage reading."""

    DC: Optional[SignedMeterValue] = None
    L1: Optional[SignedMeterValue] = None
    L2: Optional[SignedMeterValue] = None
    L3: Optional[SignedMeterValue] = None


class SignedFrequency(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Signed variant of a Frequency reading."""

    L1: Optional[SignedMeterValue] = None
    L2: Optional[SignedMeterValue] = None
    L3: Optional[SignedMeterValue] = None


class Temperature(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A temperature reading in °C."""

    temperature: float
    identification: Optional[str] = None
    location: Optional[str] = None


class Powermeter(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A power-meter sample (``powermeter`` var). ``timestamp`` is an RFC 3339 string."""

    timestamp: str
    energy_Wh_import: Energy
    meter_id: Optional[str] = None
    phase_seq_error: Optional[bool] = None
    energy_Wh_export: Optional[Energy] = None
    power_W: Optional[Power] = None
    voltage_V: Optional[Voltage] = None
    VAR: Optional[ReactivePower] = None
    current_A: Optional[Current] = None
    frequency_Hz: Optional[Frequency] = None
    energy_Wh_import_signed: Optional[SignedEnergy] = None
    energy_Wh_export_signed: Optional[SignedEnergy] = None
    power_W_signed: Optional[SignedEnergy] = None
    voltage_V_signed: Optional[SignedVoltage] = None
    VAR_signed: Optional[SignedEnergy] = None
    current_A_signed: Optional[SignedCurrent] = None
    frequency_Hz_signed: Optional[SignedFrequency] = None
    signed_meter_value: Optional[SignedMeterValue] = None
    temperatures: Optional[List[Temperature]] = None


class IdentificationStatus(str, enum.Enum):
    """OCMF identification status of a power-meter transaction."""

    ASSIGNED = "ASSIGNED"
    NOT_ASSIGNED = "NOT_ASSIGNED"


class OCMFIdentificationType(str, enum.Enum):
    """OCMF identification type of a power-meter transaction."""

    NONE = "NONE"
    DENIED = "DENIED"
    UNDEFINED = "UNDEFINED"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    EMAID = "EMAID"
    EVCCID = "EVCCID"
    EVCOID = "EVCOID"
    ISO7812 = "ISO7812"
    CARD_TXN_NR = "CARD_TXN_NR"
    CENTRAL = "CENTRAL"
    CENTRAL_1 = "CENTRAL_1"
    CENTRAL_2 = "CENTRAL_2"
    LOCAL = "LOCAL"
    LOCAL_1 = "LOCAL_1"
    LOCAL_2 = "LOCAL_2"
    PHONE_NUMBER = "PHONE_NUMBER"
    KEY_CODE = "KEY_CODE"


class TransactionReq(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Power-meter ``start_transaction`` request."""

    evse_id: str
    transaction_id: str
    identification_status: IdentificationStatus
    identification_flags: Annotated[List[str], Meta(max_length=4)]
    identification_type: OCMFIdentificationType
    identification_level: Optional[str] = None
    identification_data: Optional[str] = None
    tariff_text: Optional[Annotated[str, Meta(max_length=250)]] = None


class TransactionRequestStatus(str, enum.Enum):
    """Outcome of a power-meter transaction request."""

    OK = "OK"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    UNEXPECTED_ERROR = "UNEXPECTED_ERROR"


class TransactionStartResponse(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Power-meter ``start_transaction`` response."""

    status: TransactionRequestStatus
    error: Optional[str] = None
    transaction_min_stop_time: Optional[str] = None
    transaction_max_stop_time: Optional[str] = None


class TransactionStopResponse(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Power-meter ``stop_transaction`` response."""

    status: TransactionRequestStatus
    start_signed_meter_value: Optional[SignedMeterValue] = None
    signed_meter_value: Optional[SignedMeterValue] = None
    error: Optional[str] = None


__all__ = [
    "Current", "Energy", "Frequency", "IdentificationStatus", "OCMFIdentificationType", "Power", "Powermeter",
    "ReactivePower", "SignedCurrent", "SignedEnergy", "SignedFrequency", "SignedMeterValue", "SignedVoltage",
    "Temperature", "TransactionReq", "TransactionRequestStatus", "TransactionStartResponse",
    "TransactionStopResponse", "Voltage",
]
