"""The ``/energy#`` request types the ``energy_grid`` implementation publishes (EVerest
``types/energy.yaml``: EnergyFlowRequest, ScheduleReqEntry, LimitsReq, NodeType, EvseState).

Only evsefast's EVerest adapter needs them (the manager receives ``EnforcedLimits``, defined with the
other interface types in :mod:`evsefast.types.energy`), so they live here.
"""
from __future__ import annotations

import enum
from typing import Annotated, List, Optional

from msgspec import Meta

from ..types._base import Message, StrictMessage
from ..types.energy import IntegerWithSource, NumberWithSource, PricePerkWh
from ..types.powermeter import Powermeter

__all__ = ["EnergyFlowRequest", "EvseState", "LimitsReq", "NodeType", "ScheduleReqEntry"]


class NodeType(str, enum.Enum):
    """Kind of node in the energy tree."""

    Undefined = "Undefined"
    Evse = "Evse"
    Generic = "Generic"


class EvseState(str, enum.Enum):
    """The simplified EVSE state sent to the energy manager."""

    Unplugged = "Unplugged"
    WaitForAuth = "WaitForAuth"
    WaitForEnergy = "WaitForEnergy"
    PrepareCharging = "PrepareCharging"
    PausedEV = "PausedEV"
    PausedEVSE = "PausedEVSE"
    Charging = "Charging"
    Finished = "Finished"
    Disabled = "Disabled"


class LimitsReq(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """Requested limits at one side of a node (EVSE -> energy manager)."""

    total_power_W: Optional[NumberWithSource] = None
    ac_max_current_A: Optional[NumberWithSource] = None
    ac_min_current_A: Optional[NumberWithSource] = None
    ac_max_phase_count: Optional[IntegerWithSource] = None
    ac_min_phase_count: Optional[IntegerWithSource] = None
    ac_supports_changing_phases_during_charging: Optional[bool] = None
    ac_number_of_active_phases: Optional[Annotated[int, Meta(ge=1, le=3)]] = None


class ScheduleReqEntry(StrictMessage, frozen=True, kw_only=True, omit_defaults=True):
    """One entry of a requested schedule."""

    timestamp: str
    limits_to_root: LimitsReq
    limits_to_leaves: LimitsReq
    conversion_efficiency: Optional[Annotated[float, Meta(ge=0, le=1)]] = None
    price_per_kwh: Optional[PricePerkWh] = None


class EnergyFlowRequest(Message, frozen=True, kw_only=True, omit_defaults=True):
    """The ``energy_flow_request`` var of the ``energy`` interface."""

    children: List["EnergyFlowRequest"]
    uuid: str
    node_type: NodeType
    schedule_import: List[ScheduleReqEntry]
    schedule_export: List[ScheduleReqEntry]
    schedule_setpoints: List[dict]
    priority_request: Optional[bool] = None
    evse_state: Optional[EvseState] = None
    energy_usage_root: Optional[Powermeter] = None
    energy_usage_leaves: Optional[Powermeter] = None
