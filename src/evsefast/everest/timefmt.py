"""EVerest's timestamps: RFC 3339, UTC, millisecond precision, ``Z`` (framework lib/date.cpp:11-12)."""
from __future__ import annotations

import datetime as _dt

__all__ = ["hour_floor_rfc3339", "rfc3339_ms"]

_UTC = _dt.timezone.utc


def rfc3339_ms(unix_s: float) -> str:
    """``2026-05-06T10:15:02.345Z`` for a Unix time in seconds."""
    t = _dt.datetime.fromtimestamp(unix_s, _UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def hour_floor_rfc3339(unix_s: float) -> str:
    """The start of the hour of ``unix_s`` (energyImpl.cpp's schedule entry timestamp)."""
    return rfc3339_ms(unix_s - unix_s % 3600.0)
