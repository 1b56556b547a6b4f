"""msgspec types for every type the evse_manager interface uses (seed types win).

Field names and enum values are EVerest's, letter for letter; optional fields that
are unset are omitted from the encoded JSON, never sent as ``null``.

One module per EVerest type module, everything re-exported here:

* ``evse_manager``: the seed types (``SessionEvents`` and payloads, seed enums) and the HEAD
  ``/evse_manager#`` types the interface uses (``Evse``, ``EnableDisableSource``, ``Limits``, ...).
* ``authorization``: ``ProvidedIdToken``, ``IdToken``, ``ValidationResult`` and their enums.
* ``iso15118``: ``EnergyTransferMode``, ``CertificateHashDataInfo``.
* ``energy``: ``EnforcedLimits`` and ``LimitsRes``.
* ``text_message``: ``MessageContent``.
* ``interface``: ``CMDS`` (cmd → arguments/result types) and ``VARS`` (var → type) of the seed interface.
* ``board``: ``evse_board_support`` types (``HardwareCapabilities``, ``Telemetry``, ...).
* ``powermeter``: ``Powermeter`` with its units.
* ``framework_error``: ``ModuleError``, the framework's Error object (raise/clear of the manager's own errors).

Encode/decode/validate with :mod:`evsefast.codec`.
"""
from ._base import Message, StrictMessage  # noqa: F401
from .board import *  # noqa: F401,F403
from .powermeter import *  # noqa: F401,F403
from .text_message import *  # noqa: F401,F403
from .iso15118 import *  # noqa: F401,F403
from .authorization import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .evse_manager import *  # noqa: F401,F403
from .framework_error import *  # noqa: F401,F403
from .interface import CMDS, VARS, CmdSpec, resolve_ref  # noqa: F401

from . import (  # noqa: E402
    authorization, board, energy, evse_manager, framework_error, iso15118, powermeter, text_message,
)

__all__ = ["CMDS", "CmdSpec", "Message", "StrictMessage", "VARS", "resolve_ref"]
for _m in (board, powermeter, text_message, iso15118, authorization, energy, evse_manager, framework_error):
    __all__ += list(getattr(_m, "__all__", ()))
del _m
