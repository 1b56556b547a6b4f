"""``/text_message#`` types (EVerest HEAD ``types/text_message.yaml``, spec §6.4)."""
from __future__ import annotations

import enum
from typing import Optional

from ._base import Message


class MessageFormat(str, enum.Enum):
    """Format of a ``MessageContent``."""

    ASCII = "ASCII"
    HTML = "HTML"
    URI = "URI"
    UTF8 = "UTF8"
    QRCODE = "QRCODE"


class MessageContent(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A text message, e.g. a tariff message of a ``ValidationResult``."""

    content: str
    format: Optional[MessageFormat] = None
    language: Optional[str] = None


__all__ = ["MessageContent", "MessageFormat"]
