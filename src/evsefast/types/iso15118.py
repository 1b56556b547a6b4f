"""``/iso15118#`` types used by the interface (EVerest HEAD ``types/iso15118.yaml``, spec §6.4)."""
from __future__ import annotations

import enum
from typing import Annotated, List

from msgspec import Meta

from ._base import StrictMessage


class EnergyTransferMode(str, enum.Enum):
    """An ISO 15118 energy transfer mode (AC mono/tri, DC, BPT, ...)."""

    AC_single_phase_core = "AC_single_phase_core"
    AC_two_phase = "AC_two_phase"
    AC_three_phase_core = "AC_three_phase_core"
    DC_core = "DC_core"
    DC_extended = "DC_extended"
    DC_combo_core = "DC_combo_core"
    DC_unique = "DC_unique"
    DC = "DC"
    AC_BPT = "AC_BPT"
    AC_BPT_DER = "AC_BPT_DER"
    AC_DER = "AC_DER"
    DC_BPT = "DC_BPT"
    DC_ACDP = "DC_ACDP"
    DC_ACDP_BPT = "DC_ACDP_BPT"
    WPT = "WPT"
    MCS = "MCS"
    MCS_BPT = "MCS_BPT"


EnergyTransferModes = Annotated[List[EnergyTransferMode], Meta(min_length=1)]
"""A non-empty list of modes: ``update_allowed_energy_transfer_modes`` argument
``allowed_energy_transfer_modes`` and the ``supported_energy_transfer_modes`` var (``minItems: 1``)."""


class HashAlgorithm(str, enum.Enum):
    """Hash algorithm of a ``CertificateHashDataInfo``."""

    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


class CertificateHashDataInfo(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """OCSP data of one certificate in a contract chain."""

    hashAlgorithm: HashAlgorithm
    issuerNameHash: Annotated[str, Meta(max_length=128)]
    issuerKeyHash: Annotated[str, Meta(max_length=128)]
    serialNumber: Annotated[str, Meta(max_length=40)]
    responderURL: Annotated[str, Meta(max_length=512)]


__all__ = ["CertificateHashDataInfo", "EnergyTransferMode", "EnergyTransferModes", "HashAlgorithm"]
