"""The interface's cmds (seed ``003_58ced612409218a2``) and the extra ones, as ``EvseManager`` methods.

Each first checks that the manager serves cmds (before ready: :class:`evsefast.errors.NotReady`, except
``enable_disable`` and ``external_ready_to_start_charging``; after ``close()``:
:class:`evsefast.errors.ManagerClosed`), then validates its arguments (a Struct, a plain dict or JSON text; bad
input raises :class:`evsefast.errors.CommandRejected` naming the field, before anything changes), then applies
its effect under the manager's lock and runs the state machine (spec §5.1, §2.5, §3).
"""
from __future__ import annotations

import math
from typing import Annotated, Any, List, Mapping, Sequence, TypeVar, Union

from msgspec import Meta

from ..codec import decode
from ..types.authorization import ProvidedIdToken, ValidationResult
from ..types.energy import EnforcedLimits
from ..types.evse_manager import (
    Connector, ConnectorTypeEnum, EnableDisableSource, Evse, PlugAndChargeConfiguration, SetLocalMaxCurrentResult,
    StopTransactionRequest, SwitchThreePhasesWhileChargingResult, UpdateAllowedEnergyTransferModesResult,
)
from ..types.iso15118 import EnergyTransferMode
from .errors import NONE as SHUTDOWN_NONE
from .states import DISABLED, IDLE

_T = TypeVar("_T")
#: what a cmd argument of Struct type accepts: the msgspec Struct, a plain dict, or JSON text/bytes
StructInput = Union[_T, Mapping[str, Any], bytes, str]

ConnectorId = Annotated[int, Meta(ge=0, le=128)]
ReservationId = Annotated[int, Meta(ge=-(2 ** 31), le=2 ** 31 - 1)]
NonNegativeCurrent = Annotated[float, Meta(ge=0)]
EnergyTransferModeList = Annotated[List[EnergyTransferMode], Meta(min_length=1)]
_NAN = math.nan
_MAX_VALID_FOR_MS = 10 ** 12  # keeps valid_until inside a C long long
_CONNECTOR_TYPES = frozenset(m.value for m in ConnectorTypeEnum)


def get_evse(self) -> Evse:
    """``{id: connector_id, connectors: [{id: 1, type: connector_type if it is a ConnectorTypeEnum}]}``."""
    self._serving("get_evse")
    t = self.config.connector_type
    connector = Connector(id=1, type=ConnectorTypeEnum(t)) if t in _CONNECTOR_TYPES else Connector(id=1)
    return Evse(id=self.config.connector_id, connectors=[connector])


def enable_disable(self, connector_id: int, cmd_source: StructInput[EnableDisableSource]) -> bool:
    """Enable or disable (§2.7(g)); returns the evaluated enabled flag (may differ from the request)."""
    self._serving("enable_disable", before_ready=True)
    cid = decode(connector_id, ConnectorId, field_prefix="connector_id")
    src = decode(cmd_source, EnableDisableSource, field_prefix="cmd_source")

    def apply(now: int) -> bool:
        core = self._core
        self._enable.set(src.enable_source.value, src.enable_state.value, src.enable_priority)
        result = self._enable.enabled()
        if cid != 0:
            core.connector_enabled = result
        if not self._boot.ready:
            return result  # the table decides the initial Enabled/Disabled once ready
        if core.state == DISABLED and core.connector_enabled and result:  # P8
            core.set_disabled(False)
        if (not result) != core.disabled_published:  # P3: once per transition
            core.disabled_published = not result
            if not result:
                core.set_disabled(True)
                self._events.simple("Disabled", core.session_uuid)
                self._cancel_reservation()
                core.step(now)  # power off and F before the board is disabled
            else:
                self._events.simple("Enabled", core.session_uuid)
        self._bsp_enable(result)
        return result
    return self._cmd(apply, False)


def authorize_response(self, provided_token: StructInput[ProvidedIdToken],
                       validation_result: StructInput[ValidationResult]) -> None:
    """Apply an authorization result; only ``Accepted`` authorizes (P7 reservation checks)."""
    self._serving("authorize_response")
    token = decode(provided_token, ProvidedIdToken, field_prefix="provided_token")
    result = decode(validation_result, ValidationResult, field_prefix="validation_result")

    def apply(now: int) -> None:
        if result.authorization_status.value != "Accepted":
            return
        core = self._core
        if self._reservation.mismatches(result.reservation_id):
            self._events.simple("ReservationAuthtokenMismatch", core.session_uuid)
            return
        if core._authorize_internal(token, result) and self._reservation.reserved:
            self._cancel_reservation("UsedToStartCharging")
    self._cmd(apply)


def withdraw_authorization(self) -> None:
    """The EVSE is no longer authorized (e.g. connection timeout; §2.7(i))."""
    self._serving("withdraw_authorization")
    def apply(now: int) -> None:
        core = self._core
        if core.authorized and not core.authorized_pnc and self._reservation.reserved:
            self._cancel_reservation()
        core._deauthorize_internal()
    self._cmd(apply)


def reserve(self, reservation_id: int) -> bool:
    """Reserve (§2.6.4): only in Idle without a fatal error; a negative id = reserved without id."""
    self._serving("reserve")
    rid = decode(reservation_id, ReservationId, field_prefix="reservation_id")

    def apply(now: int) -> bool:
        core = self._core
        if core.state == DISABLED or self._errors.shutdown != SHUTDOWN_NONE or core.state != IDLE:
            return False
        publish = self._reservation.reserve(rid)
        if publish is None:
            return False
        if publish:
            self._events.reservation_start(rid)
        return True
    return self._cmd(apply, False)


def cancel_reservation(self) -> None:
    """Cancel the reservation (``ReservationEnd{Cancelled}``); nothing if not reserved."""
    self._serving("cancel_reservation")
    self._cmd(lambda now: self._cancel_reservation())


def pause_charging(self) -> bool:
    """Pause by the EVSE; true iff a transaction is active (also if already paused)."""
    self._serving("pause_charging")
    return self._cmd(lambda now: self._core.pause(), False)


def resume_charging(self) -> bool:
    """Clear the EVSE pause; true iff a transaction is active (HEAD)."""
    self._serving("resume_charging")
    return self._cmd(lambda now: self._core.resume(), False)


def stop_transaction(self, request: StructInput[StopTransactionRequest]) -> bool:
    """Stop the transaction externally (§2.7(e)); true iff one was active. Restart needs a replug."""
    self._serving("stop_transaction")
    req = decode(request, StopTransactionRequest, field_prefix="request")
    return self._cmd(lambda now: self._core.cancel_transaction(req.reason.value, req.id_tag), False)


def force_unlock(self, connector_id: int) -> bool:
    """Cancel with ``UnlockCommand`` and unlock; false if the board has no connector lock."""
    self._serving("force_unlock")
    decode(connector_id, ConnectorId, field_prefix="connector_id")  # validated, then ignored (HEAD)
    if not getattr(self.board, "supports_connector_lock", True):
        return False

    def apply(now: int) -> bool:
        self._core.cancel_transaction("UnlockCommand", None)
        self._iec.force_unlock()
        return True
    return self._cmd(apply, False)


def external_ready_to_start_charging(self) -> bool:
    """Become ready if configured to wait for this (true, also on repeats); else false."""
    self._serving("external_ready_to_start_charging", before_ready=True)
    if not self.config.external_ready_to_start_charging:
        return False

    def apply(now: int) -> bool:
        self._boot.external_ready(now)
        return True
    return self._cmd(apply, False)


def set_plug_and_charge_configuration(self,
                                      plug_and_charge_configuration: StructInput[PlugAndChargeConfiguration]) -> None:
    """Store each present field for the next HLC session (no effect in basic charging)."""
    self._serving("set_plug_and_charge_configuration")
    cfg = decode(plug_and_charge_configuration, PlugAndChargeConfiguration,
                 field_prefix="plug_and_charge_configuration")

    def apply(now: int) -> None:
        for name in cfg.__struct_fields__:
            value = getattr(cfg, name)
            if value is not None:
                self._pnc[name] = value
    self._cmd(apply)


def update_allowed_energy_transfer_modes(
        self, allowed_energy_transfer_modes: Union[Sequence[Union[EnergyTransferMode, str]], bytes],
) -> UpdateAllowedEnergyTransferModesResult:
    """Without HLC: ``NoHlc``; with HLC configured: stored for the ISO stack, ``Accepted``."""
    self._serving("update_allowed_energy_transfer_modes")
    modes = decode(allowed_energy_transfer_modes, EnergyTransferModeList,
                   field_prefix="allowed_energy_transfer_modes")
    hlc = self.config.charge_mode == "DC" or self.config.ac_hlc_enabled

    def apply(now: int) -> UpdateAllowedEnergyTransferModesResult:
        if not hlc:
            return UpdateAllowedEnergyTransferModesResult.NoHlc
        self._allowed_modes = list(modes)
        return UpdateAllowedEnergyTransferModesResult.Accepted
    return self._cmd(apply, UpdateAllowedEnergyTransferModesResult.NoHlc)


# -- extras ----------------------------------------------------------------------------------------
def enforce_limits(self, value: StructInput[EnforcedLimits]) -> None:
    """Energy-manager limits (energy ``enforce_limits``, §3.1 step 2); ignored unless
    ``value.uuid`` is this module's id (``config.module_id``)."""
    self._serving("enforce_limits")
    limits = decode(value, EnforcedLimits, field_prefix="value")

    def apply(now: int) -> None:
        if limits.uuid != self.config.module_id:
            return
        self._vars.publish("enforced_limits", limits)
        lim = self._limits
        root = limits.limits_root_side
        amps = _NAN if root.ac_max_current_A is None else root.ac_max_current_A.value
        watts = _NAN if root.total_power_W is None else root.total_power_W.value
        pc = root.ac_max_phase_count
        caps = self._boot.caps
        if (pc is not None and 1 <= pc.value <= 3 and pc.value != lim.active_phases and caps is not None
                and caps.supports_changing_phases_during_charging):
            if self._core.switch_phases(pc.value == 3, now):
                lim.active_phases = pc.value
                lim.phases_available = pc.value
        current = self.kernels.limits.enforced_current_A(amps, watts, self.config.ac_nominal_voltage,
                                                         lim.active_phases)
        valid_ms = min(max(limits.valid_for, -1) * 1000, _MAX_VALID_FOR_MS)
        if not lim.set_max_current(current, now + valid_ms, now, self._in_session()):
            lim.publish(self._in_session())  # the phase count is republished anyway
    self._cmd(apply)


def set_local_max_current(self, max_current: float) -> SetLocalMaxCurrentResult:
    """A local maximum (A) that clamps the effective current; > 1000 A -> ``Error_OutOfRange``."""
    self._serving("set_local_max_current")
    amps = decode(max_current, NonNegativeCurrent, field_prefix="max_current")
    if amps > 1000.0:
        return SetLocalMaxCurrentResult.Error_OutOfRange

    def apply(now: int) -> SetLocalMaxCurrentResult:
        lim = self._limits
        lim.local_max_A = float(amps)
        lim.iec.set_overcurrent_limit(lim.effective(self._in_session()))
        lim.publish(self._in_session(), force=True)
        return SetLocalMaxCurrentResult.Success
    return self._cmd(apply, SetLocalMaxCurrentResult.Error_Hardware)


def switch_three_phases_while_charging(self, three_phases: bool) -> SwitchThreePhasesWhileChargingResult:
    """Switch between 1 and 3 phases (§3.5): while charging via SwitchPhases, otherwise at once."""
    self._serving("switch_three_phases_while_charging")
    three = decode(three_phases, bool, field_prefix="three_phases")
    caps = self._boot.caps
    if caps is None or not caps.supports_changing_phases_during_charging:
        return SwitchThreePhasesWhileChargingResult.Error_NotSupported

    def apply(now: int) -> SwitchThreePhasesWhileChargingResult:
        if not self._core.switch_phases(three, now):
            return SwitchThreePhasesWhileChargingResult.Error_Hardware
        n = 3 if three else 1
        self._limits.active_phases = n
        self._limits.phases_available = n
        self._limits.publish(self._in_session())
        return SwitchThreePhasesWhileChargingResult.Success
    return self._cmd(apply, SwitchThreePhasesWhileChargingResult.Error_Hardware)
