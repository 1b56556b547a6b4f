"""The evse_manager interface (seed ``003``) as Python data: cmd arguments/results and var types.

``CMDS[name]`` is a :class:`CmdSpec` (argument names → types, in the interface's order, and the result type,
``None`` for cmds without a result); ``VARS[name]`` is the var's type. Use them to validate cmd arguments
generically (``evsefast.codec.decode(value, CMDS[cmd].arguments[arg], field_prefix=arg)``), to build MQTT
bindings, and to generate the JSON Schema (``tools/gen_schema.py``).

``resolve_ref`` maps an EVerest ``$ref`` (``/evse_manager#/Evse``) to the msgspec type. The seed naming
conflict is resolved as spec §6.1 says: the var ``session_event`` refers to ``/evse_manager#/SessionEvent``
with ``type: object``; with the seed types that object is :class:`SessionEvents` (``SessionEvent`` is the enum).
"""
from __future__ import annotations

from typing import Annotated, Any, Dict, List, NamedTuple, Optional

from msgspec import Meta

from .board import HardwareCapabilities, Telemetry
from .authorization import ProvidedIdToken, ValidationResult
from .energy import EnforcedLimits
from .evse_manager import (
    CarManufacturer, EnableDisableSource, Evse, EVInfo, HlcSessionFailedEvent, Limits, PlugAndChargeConfiguration,
    SessionEvents, StopTransactionRequest, UpdateAllowedEnergyTransferModesResult,
)
from .iso15118 import EnergyTransferMode, EnergyTransferModes
from .powermeter import Powermeter


class CmdSpec(NamedTuple):
    """One cmd: its arguments (name → type, in order) and its result type (``None``: no result)."""

    arguments: Dict[str, Any]
    result: Optional[Any]


CMDS: Dict[str, CmdSpec] = {
    "get_evse": CmdSpec({}, Evse),
    "enable_disable": CmdSpec({"connector_id": int, "cmd_source": EnableDisableSource}, bool),
    "authorize_response": CmdSpec({"provided_token": ProvidedIdToken, "validation_result": ValidationResult}, None),
    "withdraw_authorization": CmdSpec({}, None),
    "reserve": CmdSpec({"reservation_id": int}, bool),
    "cancel_reservation": CmdSpec({}, None),
    "pause_charging": CmdSpec({}, bool),
    "resume_charging": CmdSpec({}, bool),
    "stop_transaction": CmdSpec({"request": StopTransactionRequest}, bool),
    "force_unlock": CmdSpec({"connector_id": int}, bool),
    "external_ready_to_start_charging": CmdSpec({}, bool),
    "set_plug_and_charge_configuration": CmdSpec({"plug_and_charge_configuration": PlugAndChargeConfiguration}, None),
    "update_allowed_energy_transfer_modes": CmdSpec(
        {"allowed_energy_transfer_modes": EnergyTransferModes}, UpdateAllowedEnergyTransferModesResult),
}
"""The 13 cmds of the seed interface."""

VARS: Dict[str, Any] = {
    "session_event": SessionEvents,
    "hlc_session_failed": HlcSessionFailedEvent,
    "limits": Limits,
    "ev_info": EVInfo,
    "car_manufacturer": CarManufacturer,
    "telemetry": Telemetry,
    "powermeter": Powermeter,
    "powermeter_public_key_ocmf": str,
    "evse_id": str,
    "hw_capabilities": HardwareCapabilities,
    "enforced_limits": EnforcedLimits,
    "waiting_for_external_ready": bool,
    "ready": bool,
    "selected_protocol": str,
    "supported_energy_transfer_modes": EnergyTransferModes,
}
"""Every var of the seed interface (15 in ``003``; the house plan's "17" counts wrongly): name → type."""

_SCALARS = {"integer": int, "number": float, "boolean": bool, "string": str}
_REF_OVERRIDES = {("/evse_manager#/SessionEvent", "object"): SessionEvents}


def resolve_ref(ref: Optional[str], json_type: str = "object", *, items: Optional[Dict[str, Any]] = None,
                min_items: Optional[int] = None) -> Any:
    """The msgspec type for an interface entry (``type``/``$ref``/``items``/``minItems``)."""
    import evsefast.types as _types  # late: evsefast.types imports this module

    if json_type == "array":
        item = resolve_ref((items or {}).get("$ref"), (items or {}).get("type", "object"))
        if min_items == 1 and item is EnergyTransferMode:
            return EnergyTransferModes
        if min_items:
            return Annotated[List[item], Meta(min_length=min_items)]
        return List[item]
    if ref is None:
        return _SCALARS[json_type]
    if (ref, json_type) in _REF_OVERRIDES:
        return _REF_OVERRIDES[(ref, json_type)]
    return getattr(_types, ref.rsplit("/", 1)[1])


__all__ = ["CMDS", "CmdSpec", "VARS", "resolve_ref"]
