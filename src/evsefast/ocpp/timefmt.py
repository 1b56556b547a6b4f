"""OCPP date-time text <-> Unix seconds (RFC 3339, UTC on the way out).

``datetime.fromisoformat`` on Python 3.9/3.10 rejects a trailing ``Z`` and fractions that are not
3 or 6 digits, both of which CSMSes send; this parser accepts them.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = ["iso", "parse_iso"]

_FRACTION = re.compile(r"\.(\d+)")


def iso(t_s: float) -> str:
    """``2026-01-01T00:00:00.000Z`` for Unix time ``t_s`` (milliseconds, UTC)."""
    dt = datetime.fromtimestamp(t_s, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Unix seconds of an RFC 3339 date-time; no offset means UTC. ``ValueError`` names the text."""
    s = str(text).strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    m = _FRACTION.search(s)
    if m is not None:
        digits = (m.group(1) + "000000")[:6]
        s = s[:m.start()] + "." + digits + s[m.end():]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
