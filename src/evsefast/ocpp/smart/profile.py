"""Charging profiles in one shape for OCPP 1.6 and 2.0.1, with the checks of S16 §3.13 / §7.8-7.14.

Purposes are normalised: ``Max`` (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile),
``External`` (2.0.1 ChargingStationExternalConstraints, combined like Max), ``TxDefault``, ``Tx``.
Times are whole Unix seconds (floored, as libocpp does).  1.6 numbers arrive as ``Decimal`` (the
``ocpp`` package parses them so for ``multipleOf 0.1``); they become floats here.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Tuple

from ..timefmt import parse_iso

__all__ = ["ChargingProfile", "ProfileError", "SchedulePeriod", "parse_profile_16", "parse_profile_201"]

RECURRENCE_S = {"Daily": 86400, "Weekly": 7 * 86400}
_PURPOSES = {
    "ChargePointMaxProfile": "Max", "ChargingStationMaxProfile": "Max",
    "ChargingStationExternalConstraints": "External", "TxDefaultProfile": "TxDefault", "TxProfile": "Tx",
}
_UNITS = {"A": "A", "W": "W"}


class ProfileError(ValueError):
    """A profile the charge point must reject; the message says which field and why."""


@dataclass(frozen=True)
class SchedulePeriod:
    """One period: from ``start_s`` (seconds after the schedule start) at ``limit`` (A or W)."""

    start_s: int
    limit: float
    phases: Optional[int] = None


@dataclass(frozen=True)
class ChargingProfile:
    """A charging profile with one schedule (the first of a 2.0.1 profile's schedules)."""

    id: int
    connector_id: int  # 1.6 connectorId, 2.0.1 evseId; 0 = the whole charge point
    stack_level: int
    purpose: str  # Max | External | TxDefault | Tx
    kind: str  # Absolute | Recurring | Relative
    unit: str  # A | W
    periods: Tuple[SchedulePeriod, ...]
    recurrency: Optional[str] = None  # Daily | Weekly
    valid_from: Optional[int] = None
    valid_to: Optional[int] = None
    start_schedule: Optional[int] = None
    duration_s: Optional[int] = None
    min_rate: Optional[float] = None
    transaction_id: Any = None
    schedule_id: Optional[int] = None  # 2.0.1 chargingSchedule.id

    def to_json(self) -> Dict[str, Any]:
        """A JSON-ready dict (for the store)."""
        d = asdict(self)
        d["periods"] = [asdict(p) for p in self.periods]
        return d

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "ChargingProfile":
        """The inverse of :meth:`to_json`."""
        d = dict(d)
        d["periods"] = tuple(SchedulePeriod(**p) for p in d["periods"])
        return cls(**d)

    def check(self, *, max_stack_level: int, max_periods: int, connectors: int) -> None:
        """Raise ``ProfileError`` if the profile breaks a rule that does not depend on the state."""
        if not 0 <= self.connector_id <= connectors:
            raise ProfileError(f"connectorId {self.connector_id} out of range 0..{connectors}")
        if not 0 <= self.stack_level <= max_stack_level:
            raise ProfileError(f"stackLevel {self.stack_level} out of range 0..{max_stack_level}")
        if self.purpose == "Max" and self.connector_id != 0:
            raise ProfileError("a charge point maximum profile must have connectorId 0")
        if self.purpose in ("Max", "External") and self.kind == "Relative":
            raise ProfileError("a maximum profile cannot be Relative")
        if self.purpose == "Tx" and self.connector_id == 0:
            raise ProfileError("a TxProfile needs a connector, not 0")
        if self.kind in ("Absolute", "Recurring") and self.start_schedule is None:
            raise ProfileError(f"a {self.kind} profile needs startSchedule")
        if self.kind == "Recurring" and self.recurrency not in RECURRENCE_S:
            raise ProfileError("a Recurring profile needs recurrencyKind Daily or Weekly")
        if self.kind != "Recurring" and self.recurrency is not None:
            raise ProfileError("recurrencyKind is only allowed with chargingProfileKind Recurring")
        if not self.periods:
            raise ProfileError("chargingSchedulePeriod is empty")
        if len(self.periods) > max_periods:
            raise ProfileError(f"{len(self.periods)} periods, at most {max_periods} allowed")
        if self.periods[0].start_s != 0:
            raise ProfileError("the first period must have startPeriod 0")
        prev = -1
        for p in self.periods:
            if p.start_s <= prev:
                raise ProfileError("startPeriod values must increase")
            prev = p.start_s
            if not (math.isfinite(p.limit) and p.limit >= 0):
                raise ProfileError(f"limit {p.limit} must be a finite number >= 0")
            if p.phases is not None and not 1 <= p.phases <= 3:
                raise ProfileError(f"numberPhases {p.phases} out of range 1..3")
        if self.duration_s is not None and self.duration_s < 0:
            raise ProfileError("duration must be >= 0")
        if self.valid_from is not None and self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ProfileError("validTo must be after validFrom")


def _time(value: Any, field: str) -> Optional[int]:
    if value is None:
        return None
    try:
        return int(math.floor(parse_iso(value)))
    except ValueError as exc:
        raise ProfileError(f"{field}: {exc}") from None


def _periods(raw) -> Tuple[SchedulePeriod, ...]:
    out = []
    for p in raw or ():
        phases = p.get("number_phases")
        out.append(SchedulePeriod(int(p["start_period"]), float(p["limit"]), None if phases is None else int(phases)))
    return tuple(out)


def _common(pid, connector_id: int, raw: Dict[str, Any], sched: Dict[str, Any]) -> ChargingProfile:
    purpose = _PURPOSES.get(raw.get("charging_profile_purpose"))
    if purpose is None:
        raise ProfileError(f"chargingProfilePurpose {raw.get('charging_profile_purpose')!r} not supported")
    unit = _UNITS.get(sched.get("charging_rate_unit"))
    if unit is None:
        raise ProfileError(f"chargingRateUnit {sched.get('charging_rate_unit')!r} not supported")
    duration = sched.get("duration")
    min_rate = sched.get("min_charging_rate")
    return ChargingProfile(
        id=int(pid), connector_id=int(connector_id), stack_level=int(raw["stack_level"]), purpose=purpose,
        kind=str(raw["charging_profile_kind"]), unit=unit, periods=_periods(sched.get("charging_schedule_period")),
        recurrency=raw.get("recurrency_kind"), valid_from=_time(raw.get("valid_from"), "validFrom"),
        valid_to=_time(raw.get("valid_to"), "validTo"), start_schedule=_time(sched.get("start_schedule"),
                                                                             "startSchedule"),
        duration_s=None if duration is None else int(duration), min_rate=None if min_rate is None else float(min_rate),
        transaction_id=raw.get("transaction_id"), schedule_id=sched.get("id"),
    )


def parse_profile_16(connector_id: int, cs_charging_profiles: Dict[str, Any]) -> ChargingProfile:
    """A 1.6 ``csChargingProfiles`` (snake_case keys, as the ``ocpp`` handlers receive it)."""
    raw = cs_charging_profiles
    try:
        return _common(raw["charging_profile_id"], connector_id, raw, raw["charging_schedule"])
    except (KeyError, TypeError) as exc:
        raise ProfileError(f"malformed charging profile: {exc}") from None


def parse_profile_201(evse_id: int, charging_profile: Dict[str, Any]) -> ChargingProfile:
    """A 2.0.1 ``chargingProfile``; the first of its charging schedules is used."""
    raw = charging_profile
    try:
        schedules = raw["charging_schedule"]
        return _common(raw["id"], evse_id, raw, schedules[0])
    except (KeyError, TypeError, IndexError) as exc:
        raise ProfileError(f"malformed charging profile: {exc}") from None
