"""``/energy#`` types used by the interface (EVerest HEAD ``types/energy.yaml``, spec §6.4)."""
from __future__ import annotations

from typing import Annotated, List, Optional

from msgspec import Meta

from ._base import Message, StrictMessage


class NumberWithSource(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A number and the name of the node that set it."""

    value: float
    source: str


class IntegerWithSource(Message, frozen=True, kw_only=True, omit_defaults=True):
    """An integer and the name of the node that set it."""

    value: int
    source: str


class LimitsRes(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """Resulting limits at the root side (negative values mean export)."""

    total_power_W: Optional[NumberWithSource] = None
    ac_max_current_A: Optional[NumberWithSource] = None
    ac_max_phase_count: Optional[IntegerWithSource] = None


class PricePerkWh(Message, frozen=True, kw_only=True, omit_defaults=True):
    """A price per kWh valid from ``timestamp``."""

    timestamp: str
    value: float
    currency: Annotated[str, Meta(min_length=3, max_length=3)]


class ScheduleResEntry(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of an enforced schedule (informative only)."""

    timestamp: str
    limits_to_root: LimitsRes
    price_per_kwh: Optional[PricePerkWh] = None


class EnforcedLimits(Message, frozen=True, kw_only=True, omit_defaults=True):
    """The ``enforced_limits`` var: limits from the energy manager addressed to this node."""

    uuid: str
    valid_for: int
    limits_root_side: LimitsRes
    schedule: List[ScheduleResEntry]


__all__ = ["EnforcedLimits", "IntegerWithSource", "LimitsRes", "NumberWithSource", "PricePerkWh", "ScheduleResEntry"]
