"""The framework's wire objects as msgspec Structs (wire_protocols.md §1.2-§1.4).

Decoding keeps inner values as ``msgspec.Raw`` (undecoded JSON) so each part is validated once, by
the type that owns it; encoding wraps already-encoded JSON the same way, so a var's value is
encoded exactly once.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import msgspec
from msgspec import Raw

__all__ = [
    "CallData", "CallOut", "CmdError", "Envelope", "EnvelopeOut", "LegacyOut", "LegacyVarOut", "ResultOut",
    "VarOut", "ErrorMapping", "ErrorOrigin", "FrameworkError", "LegacyMessage",
    "NULL", "ResultData", "ResultErrorData",
]

NULL = Raw(b"null")


class Envelope(msgspec.Struct, frozen=True):
    """Current format: ``{"msg_type": <Type>, "data": <inner>}`` on every internal topic."""

    msg_type: str = ""
    data: Raw = NULL


class LegacyMessage(msgspec.Struct, frozen=True):
    """Legacy cmd/var message: ``{"name": ..., "type": "call"|"result", "data": ...}``."""

    name: str = ""
    type: str = ""
    data: Raw = NULL


class CallData(msgspec.Struct, frozen=True):
    """A cmd call's data: ``{"id", "args", "origin"}``."""

    id: str
    origin: str
    args: Dict[str, Raw] = {}


class CmdError(msgspec.Struct, frozen=True):
    """A CmdResult error: ``{"__everest__error_type", "__everest__error_msg"}`` (conversions.hpp:89-92)."""

    type: str = msgspec.field(name="__everest__error_type")
    msg: str = msgspec.field(name="__everest__error_msg")


class ResultData(msgspec.Struct, frozen=True):
    """A successful result: ``{"id", "retval", "origin"}`` (``retval`` null for cmds without a result)."""

    id: str
    retval: Raw
    origin: str


class ResultErrorData(msgspec.Struct, frozen=True):
    """A failed result: ``{"id", "origin", "error"}``, no ``retval``."""

    id: str
    origin: str
    error: CmdError


class ReceivedResult(msgspec.Struct, frozen=True):
    """A result as a caller reads it: ``retval`` or ``error``."""

    id: str
    origin: str = ""
    retval: Raw = NULL
    error: Optional[CmdError] = None


class ErrorMapping(msgspec.Struct, frozen=True, omit_defaults=True):
    """``origin.mapping``: the evse (and connector) an error belongs to."""

    evse: int
    connector: Optional[int] = None


class ErrorOrigin(msgspec.Struct, frozen=True, omit_defaults=True):
    """``origin``: the module and implementation that raised an error."""

    module_id: str
    implementation_id: str
    mapping: Optional[ErrorMapping] = None


class FrameworkError(msgspec.Struct, frozen=True):
    """The framework's Error object (error_json.hpp:12-24): raised and cleared by ``state``."""

    type: str
    description: str
    message: str
    origin: ErrorOrigin
    severity: str
    timestamp: str
    uuid: str
    state: str
    sub_type: str
    vendor_id: str


# -- what evsefast sends (``Any`` fields hold a Struct or already-encoded ``Raw`` JSON) --------------


class EnvelopeOut(msgspec.Struct, frozen=True):
    """``{"msg_type": ..., "data": ...}``."""

    msg_type: str
    data: Any


class ResultOut(msgspec.Struct, frozen=True):
    """CmdResult data: ``{"type": "result", "data": <ResultData | ResultErrorData>}``."""

    data: Any
    type: str = "result"


class CallOut(msgspec.Struct, frozen=True):
    """A call's data: ``{"id", "args", "origin"}``."""

    id: str
    args: Raw
    origin: str


class VarOut(msgspec.Struct, frozen=True):
    """Var data: ``{"data": <value>}``."""

    data: Raw


class LegacyOut(msgspec.Struct, frozen=True):
    """Legacy cmd message: ``{"name", "type", "data"}``."""

    name: str
    type: str
    data: Any


class LegacyVarOut(msgspec.Struct, frozen=True):
    """Legacy var message: ``{"name", "data"}``."""

    name: str
    data: Raw
