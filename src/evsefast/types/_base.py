"""Shared Struct bases: EVerest's snake_case names, absent optionals omitted (never null)."""
from __future__ import annotations

import msgspec


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every wire type: immutable, keyword-only, optional fields omitted when unset."""


class StrictMessage(Message, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """A wire type whose EVerest schema says ``additionalProperties: false``."""
