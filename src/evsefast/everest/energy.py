"""The ``energy_grid`` implementation's request (spec evse_manager.md §3.1 step 1;
EM/energy_grid/energyImpl.cpp:113-308, EM/EvseManager.cpp:1685-1708, 2504-2530).

``energy_flow_request(...)`` builds the request from the manager's public state: its core state
(mapped to the energy ``EvseState``), the board's hardware capabilities, the active phase count and
the latest meter sample.  ``EnergyRequester`` decides *when*: every second, and at once with
``priority_request: true`` when the charger enters WaitingForAuthentication or Finished.
"""
from __future__ import annotations

from typing import Optional

from ..types.energy import IntegerWithSource, NumberWithSource
from .energy_types import EnergyFlowRequest, EvseState, LimitsReq, NodeType, ScheduleReqEntry
from .timefmt import hour_floor_rfc3339, rfc3339_ms

__all__ = ["EnergyRequester", "PERIOD_MS", "PRIORITY_STATES", "energy_flow_request", "evse_state"]

PERIOD_MS = 1000.0
#: entering these core states sends a priority request at once (energyImpl.cpp:130-137)
PRIORITY_STATES = frozenset(("WaitingForAuthentication", "Finished"))

_STATE = {
    "Disabled": EvseState.Disabled, "Idle": EvseState.Unplugged, "WaitingForAuthentication": EvseState.WaitForAuth,
    "PrepareCharging": EvseState.PrepareCharging, "T_step_EF": EvseState.PrepareCharging,
    "T_step_X1": EvseState.PrepareCharging, "Replug": EvseState.PrepareCharging, "Charging": EvseState.Charging,
    "SwitchPhases": EvseState.Charging, "ChargingPausedEV": EvseState.PausedEV,
    "ChargingPausedEVSE": EvseState.PausedEVSE, "StoppingCharging": EvseState.Finished,
    "Finished": EvseState.Finished,
}
#: core states in which the EVSE asks for energy even with request_zero_power_in_idle
_NEEDS_ENERGY = frozenset(("Charging", "PrepareCharging", "WaitingForAuthentication", "ChargingPausedEV"))


def evse_state(core_state: str) -> EvseState:
    """The energy ``EvseState`` of a charger core state (energyImpl.cpp:140-180)."""
    return _STATE.get(core_state, EvseState.Disabled)


def _n(value: float, source: str) -> NumberWithSource:
    return NumberWithSource(value=float(value), source=source)


def _i(value: int, source: str) -> IntegerWithSource:
    return IntegerWithSource(value=int(value), source=source)


def _root(caps, direction: str, active_phases: int, source: str, max_current_A: Optional[float] = None) -> LimitsReq:
    d = direction
    return LimitsReq(
        ac_max_current_A=_n(getattr(caps, f"max_current_A_{d}") if max_current_A is None else max_current_A, source),
        ac_min_current_A=_n(getattr(caps, f"min_current_A_{d}"), source),
        ac_max_phase_count=_i(getattr(caps, f"max_phase_count_{d}"), source),
        ac_min_phase_count=_i(getattr(caps, f"min_phase_count_{d}"), source),
        ac_supports_changing_phases_during_charging=bool(caps.supports_changing_phases_during_charging),
        ac_number_of_active_phases=min(max(int(active_phases), 1), 3),
    )


def energy_flow_request(module_id: str, core_state: str, caps, *, active_phases: int, meter=None,
                        request_zero_power_in_idle: bool = False, priority: bool = False,
                        wall_s: float) -> EnergyFlowRequest:
    """The request HEAD publishes for an AC EVSE without bidirectional charging (see module docstring).

    ``caps`` is the board's ``HardwareCapabilities``; ``meter`` the latest ``Powermeter`` (as
    ``energy_usage_root``) or None.
    """
    src_caps = f"{module_id}/evse_board_support_caps"
    now = rfc3339_ms(wall_s)
    needs = core_state in _NEEDS_ENERGY or not request_zero_power_in_idle
    if needs:
        imp_max = caps.max_current_A_import
        if core_state == "ChargingPausedEV" and request_zero_power_in_idle:
            imp_max = caps.min_current_A_import  # just enough to see the car resume
        imp = ScheduleReqEntry(
            timestamp=now, limits_to_root=_root(caps, "import", active_phases, src_caps, imp_max),
            limits_to_leaves=LimitsReq(ac_max_current_A=_n(caps.max_current_A_import,
                                                           f"{module_id} update_max_current_limit")))
        zero = f"{module_id} set_zero_discharge_limit"  # no bidirectional charging: never export
        exp = ScheduleReqEntry(
            timestamp=now, limits_to_root=_root(caps, "export", active_phases, src_caps),
            limits_to_leaves=LimitsReq(ac_max_current_A=_n(0.0, zero), total_power_W=_n(0.0, zero)))
    else:
        hour = hour_floor_rfc3339(wall_s)
        idle = LimitsReq(ac_max_current_A=_n(0.0, "Idle"))
        imp = ScheduleReqEntry(timestamp=hour, limits_to_root=_root(caps, "import", active_phases, ""),
                               limits_to_leaves=idle)
        exp = ScheduleReqEntry(timestamp=hour, limits_to_root=_root(caps, "export", active_phases, ""),
                               limits_to_leaves=idle)
    return EnergyFlowRequest(
        children=[], uuid=module_id, node_type=NodeType.Evse, schedule_import=[imp], schedule_export=[exp],
        schedule_setpoints=[], priority_request=bool(priority), evse_state=evse_state(core_state),
        energy_usage_root=meter)


class EnergyRequester:
    """When to publish.  ``note_state``/``note_event`` after each processing pass, then ``due(now_ms)``
    -> None (nothing), True (a priority request now) or False (the periodic request now).

    A state is only seen when polled, so a pass through Finished inside one processing pass would be
    missed; the session events that mark those entries (``AuthRequired`` on entering
    WaitingForAuthentication, ``SessionCancelled``/``SessionFinished`` around Finished) trigger too.
    """

    PRIORITY_EVENTS = frozenset(("AuthRequired", "SessionCancelled", "SessionFinished"))

    def __init__(self, period_ms: float = PERIOD_MS) -> None:
        self.period_ms = float(period_ms)
        self.next_ms = -1.0
        self.last_state: Optional[str] = None
        self.pending = False

    def note_state(self, core_state: str) -> None:
        """The core state after a processing pass."""
        if core_state != self.last_state:
            self.last_state = core_state
            if core_state in PRIORITY_STATES:
                self.pending = True

    def note_event(self, event: str) -> None:
        """A published session event's name."""
        if event in self.PRIORITY_EVENTS:
            self.pending = True

    def due(self, now_ms: float) -> Optional[bool]:
        """True: a priority request is pending; False: the periodic one is due; None: nothing."""
        if self.pending:
            self.pending = False
            return True
        if now_ms >= self.next_ms:
            self.next_ms = now_ms + self.period_ms
            return False
        return None

    def deadline_ms(self) -> float:
        """When the next request is due (now if a priority request is pending)."""
        return -1.0 if self.pending else self.next_ms
