"""``/authorization#`` types used by the interface (EVerest HEAD ``types/authorization.yaml``, spec §6.4)."""
from __future__ import annotations

import enum
from typing import Annotated, List, Optional

from msgspec import Meta

from ._base import Message, StrictMessage
from .iso15118 import CertificateHashDataInfo, EnergyTransferMode
from .text_message import MessageContent


class IdTokenType(str, enum.Enum):
    """Type of an ``IdToken``."""

    Central = "Central"
    eMAID = "eMAID"
    MacAddress = "MacAddress"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KeyCode = "KeyCode"
    Local = "Local"
    NoAuthorization = "NoAuthorization"


class AuthorizationType(str, enum.Enum):
    """How a token was provided."""

    OCPP = "OCPP"
    RFID = "RFID"
    Autocharge = "Autocharge"
    PlugAndCharge = "PlugAndCharge"
    BankCard = "BankCard"


class AuthorizationStatus(str, enum.Enum):
    """Outcome of a token validation; only ``Accepted`` authorizes."""

    Accepted = "Accepted"
    Blocked = "Blocked"
    ConcurrentTx = "ConcurrentTx"
    Expired = "Expired"
    Invalid = "Invalid"
    NoCredit = "NoCredit"
    NotAllowedTypeEVSE = "NotAllowedTypeEVSE"
    NotAtThisLocation = "NotAtThisLocation"
    NotAtThisTime = "NotAtThisTime"
    Unknown = "Unknown"
    PinRequired = "PinRequired"
    Timeout = "Timeout"


class CertificateStatus(str, enum.Enum):
    """Status of a contract certificate (Plug&Charge)."""

    Accepted = "Accepted"
    SignatureError = "SignatureError"
    CertificateExpired = "CertificateExpired"
    CertificateRevoked = "CertificateRevoked"
    NoCertificateAvailable = "NoCertificateAvailable"
    CertChainError = "CertChainError"
    ContractCancelled = "ContractCancelled"


class CustomIdToken(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Additional information attached to an ``IdToken``."""

    value: Annotated[str, Meta(max_length=36)]
    type: Annotated[str, Meta(max_length=50)]


class IdToken(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """An identification token (RFID UID, eMAID, ...)."""

    value: Annotated[str, Meta(min_length=0, max_length=36)]
    type: IdTokenType
    additional_info: Optional[List[CustomIdToken]] = None


ConnectorId = Annotated[int, Meta(ge=1)]


class ProvidedIdToken(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """A token presented for authorization (``authorize_response`` argument ``provided_token``)."""

    id_token: IdToken
    authorization_type: AuthorizationType
    request_id: Optional[int] = None
    parent_id_token: Optional[IdToken] = None
    connectors: Optional[List[ConnectorId]] = None
    prevalidated: Optional[bool] = None
    certificate: Optional[Annotated[str, Meta(max_length=5500)]] = None
    iso15118CertificateHashData: Optional[
        Annotated[List[CertificateHashDataInfo], Meta(min_length=1, max_length=4)]
    ] = None


class ValidationResult(Message, frozen=True, kw_only=True, omit_defaults=True):
    """The validation result of a token (``authorize_response`` argument ``validation_result``)."""

    authorization_status: AuthorizationStatus
    tariff_messages: List[MessageContent]
    certificate_status: Optional[CertificateStatus] = None
    expiry_time: Optional[str] = None
    parent_id_token: Optional[IdToken] = None
    evse_ids: Optional[List[ConnectorId]] = None
    reservation_id: Optional[int] = None
    allowed_energy_transfer_modes: Optional[
        Annotated[List[EnergyTransferMode], Meta(min_length=1)]
    ] = None


__all__ = [
    "AuthorizationStatus", "AuthorizationType", "CertificateStatus", "ConnectorId", "CustomIdToken", "IdToken",
    "IdTokenType", "ProvidedIdToken", "ValidationResult",
]
