"""Typed access to the interface's vars: ``EvseManager.subscribe`` and ``EvseManager.get``.

Type checkers see each var's own type: ``mgr.get("limits")`` is ``Optional[Limits]``, the callback of
``mgr.subscribe("session_event", cb)`` receives a ``SessionEvents``, and with ``encoding="json"`` or
``"msgpack"`` the value is ``bytes``. An unknown var name is a type error (and a ``KeyError`` naming
the vars at run time). The overloads mirror ``evsefast.types.interface.VARS`` one for one; a test
(``tests/test_typing.py``) fails if they drift apart.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Literal, Optional, cast, overload

from ..types.interface import VARS

if TYPE_CHECKING:
    from ..types.board import HardwareCapabilities, Telemetry
    from ..types.energy import EnforcedLimits
    from ..types.evse_manager import CarManufacturer, EVInfo, HlcSessionFailedEvent, Limits, SessionEvents
    from ..types.iso15118 import EnergyTransferMode
    from ..types.powermeter import Powermeter
    from .vars import VarHub

#: the names of the interface's vars (``evsefast.types.interface.VARS``), for type checkers
VarName = Literal["session_event",
                  "hlc_session_failed",
                  "limits",
                  "ev_info",
                  "car_manufacturer",
                  "telemetry",
                  "powermeter",
                  "powermeter_public_key_ocmf",
                  "evse_id",
                  "hw_capabilities",
                  "enforced_limits",
                  "waiting_for_external_ready",
                  "ready",
                  "selected_protocol",
                  "supported_energy_transfer_modes"]
#: what ``subscribe`` returns: call it to unsubscribe
Unsubscribe = Callable[[], None]
#: the encodings ``subscribe`` and ``get`` offer besides the value itself
Encoding = Literal["json", "msgpack"]


class VarAccess:
    """``subscribe`` and ``get`` for every var of the interface, typed per var (mixed into ``EvseManager``)."""

    _vars: "VarHub"

    @overload
    def subscribe(self, name: Literal["session_event"], callback: Callable[[SessionEvents], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["hlc_session_failed"], callback: Callable[[HlcSessionFailedEvent], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["limits"], callback: Callable[[Limits], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["ev_info"], callback: Callable[[EVInfo], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["car_manufacturer"], callback: Callable[[CarManufacturer], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["telemetry"], callback: Callable[[Telemetry], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["powermeter"], callback: Callable[[Powermeter], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["powermeter_public_key_ocmf"], callback: Callable[[str], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["evse_id"], callback: Callable[[str], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["hw_capabilities"], callback: Callable[[HardwareCapabilities], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["enforced_limits"], callback: Callable[[EnforcedLimits], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["waiting_for_external_ready"], callback: Callable[[bool], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["ready"], callback: Callable[[bool], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["selected_protocol"], callback: Callable[[str], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: Literal["supported_energy_transfer_modes"], callback: Callable[[List[EnergyTransferMode]], object],
                  encoding: None = None) -> Unsubscribe: ...
    @overload
    def subscribe(self, name: VarName, callback: Callable[[bytes], object], encoding: Encoding) -> Unsubscribe: ...

    def subscribe(self, name: str, callback: Callable[[Any], object], encoding: Optional[str] = None) -> Unsubscribe:
        """Call ``callback(value)`` on every publication of var ``name``; returns a function that unsubscribes.

        ``encoding`` None hands over the value (a msgspec Struct, an enum, a ``bool``, ``str`` or list, as the
        var's type says), ``"json"`` or ``"msgpack"`` the encoded ``bytes`` (EVerest's JSON field names).
        Callbacks run on the thread that ticks the manager, after the tick, in publication order; one that
        raises is logged and does not stop the charger. For asyncio use ``events()``.
        """
        return self._vars.subscribe(name, cast(Callable[[Any], None], callback), encoding)

    @overload
    def get(self, name: Literal["session_event"], encoding: None = None) -> Optional[SessionEvents]: ...
    @overload
    def get(self, name: Literal["hlc_session_failed"], encoding: None = None) -> Optional[HlcSessionFailedEvent]: ...
    @overload
    def get(self, name: Literal["limits"], encoding: None = None) -> Optional[Limits]: ...
    @overload
    def get(self, name: Literal["ev_info"], encoding: None = None) -> Optional[EVInfo]: ...
    @overload
    def get(self, name: Literal["car_manufacturer"], encoding: None = None) -> Optional[CarManufacturer]: ...
    @overload
    def get(self, name: Literal["telemetry"], encoding: None = None) -> Optional[Telemetry]: ...
    @overload
    def get(self, name: Literal["powermeter"], encoding: None = None) -> Optional[Powermeter]: ...
    @overload
    def get(self, name: Literal["powermeter_public_key_ocmf"], encoding: None = None) -> Optional[str]: ...
    @overload
    def get(self, name: Literal["evse_id"], encoding: None = None) -> Optional[str]: ...
    @overload
    def get(self, name: Literal["hw_capabilities"], encoding: None = None) -> Optional[HardwareCapabilities]: ...
    @overload
    def get(self, name: Literal["enforced_limits"], encoding: None = None) -> Optional[EnforcedLimits]: ...
    @overload
    def get(self, name: Literal["waiting_for_external_ready"], encoding: None = None) -> Optional[bool]: ...
    @overload
    def get(self, name: Literal["ready"], encoding: None = None) -> Optional[bool]: ...
    @overload
    def get(self, name: Literal["selected_protocol"], encoding: None = None) -> Optional[str]: ...
    @overload
    def get(self, name: Literal["supported_energy_transfer_modes"], encoding: None = None) -> Optional[List[EnergyTransferMode]]: ...
    @overload
    def get(self, name: VarName, encoding: Encoding) -> Optional[bytes]: ...

    def get(self, name: str, encoding: Optional[str] = None) -> Any:
        """The latest value of var ``name`` (None if never published); ``encoding`` "json" or
        "msgpack" returns it encoded by the shared encoder of :mod:`evsefast.codec`."""
        from .vars import VarHub

        VarHub.check_name(name)
        value = self._vars.latest.get(name)
        if encoding is None or value is None:
            return value
        return VarHub.encoder(encoding)(value)


__all__ = ["Encoding", "Unsubscribe", "VARS", "VarAccess", "VarName"]
