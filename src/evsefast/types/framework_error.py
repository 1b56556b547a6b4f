"""The EVerest framework's Error object (``include/utils/error/error_json.hpp``, wire_protocols.md §1.3).

The manager reports raise and clear of its own ``evse_manager/*`` errors as :class:`ModuleError` values
(``EvseManager.subscribe_errors``); the MQTT side publishes the same object on the module's error topics.
"""
from __future__ import annotations

import enum
from typing import Optional

from ._base import Message
from .board import Severity

__all__ = ["ErrorMapping", "ErrorOrigin", "ErrorLifecycleState", "ModuleError"]


class ErrorLifecycleState(str, enum.Enum):
    """``state`` of an Error object: subscribers tell a raise from a clear by it."""

    Active = "Active"
    ClearedByModule = "ClearedByModule"
    ClearedByReboot = "ClearedByReboot"


class ErrorMapping(Message, frozen=True, kw_only=True, omit_defaults=True):
    """Which EVSE (and connector) an error belongs to."""

    evse: int
    connector: Optional[int] = None


class ErrorOrigin(Message, frozen=True, kw_only=True, omit_defaults=True):
    """The module implementation that raised the error."""

    module_id: str
    implementation_id: str
    mapping: Optional[ErrorMapping] = None


class ModuleError(Message, frozen=True, kw_only=True, omit_defaults=True):
    """One raise or clear of an error, as EVerest's framework sends it.

    ``type`` is ``<interface>/<name>`` (e.g. ``evse_manager/Inoperative``); a clear repeats the raise's
    ``uuid`` with ``state`` ``ClearedByModule``; ``timestamp`` is RFC 3339 UTC with milliseconds. Every
    field is required and always encoded (the framework's JSON has them all).
    """

    type: str
    sub_type: str
    description: str
    message: str
    severity: Severity
    state: ErrorLifecycleState
    timestamp: str
    uuid: str
    vendor_id: str
    origin: ErrorOrigin
