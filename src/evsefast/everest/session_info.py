"""``e2m/session_info`` of the consumer API, computed from the manager's vars (wire_protocols.md §2.3;
EVerest ``modules/API/evse_manager_consumer_API/session_info.cpp``).

EVerest computes it from HEAD's session events; evsefast publishes the seed events (profile P1), so
the state mapping is HEAD's with the seed names in place of the folded HEAD events:

=====================================  ===========================================================
seed event                             session_info
=====================================  ===========================================================
Enabled / Disabled                     Unplugged / Disabled
SessionStarted                         new session: Preparing, start time and energy from its payload
AuthRequired                           AuthRequired
ChargingStarted, ChargingResumed       Charging
ChargingPausedEV / ChargingPausedEVSE  ChargingPausedEV / ChargingPausedEVSE
SessionCancelled                       Finished (FinishedEVSE for reason Local), energy frozen (the
                                       transaction ended: HEAD's TransactionFinished)
SessionFinished                        Unplugged, session end time
others                                 state unchanged (still published)
=====================================  ===========================================================

``charged_energy_wh`` = latest import reading - the session's start reading (while the session's
transaction runs), ``discharged_energy_wh`` likewise for export when both readings exist,
``latest_total_w`` = the latest meter's ``power_W.total``.  The ``transaction_*`` fields are left out:
the seed events carry no transaction start.
"""
from __future__ import annotations

import enum
from typing import Any, Optional

import msgspec

from .timefmt import rfc3339_ms

__all__ = ["EvseStateEnum", "SessionInfo", "SessionInfoTracker"]


class EvseStateEnum(str, enum.Enum):
    """The consumer API's session state."""

    Unknown = "Unknown"
    Unplugged = "Unplugged"
    Disabled = "Disabled"
    Preparing = "Preparing"
    Reserved = "Reserved"
    AuthRequired = "AuthRequired"
    ChargingPausedEV = "ChargingPausedEV"
    ChargingPausedEVSE = "ChargingPausedEVSE"
    Charging = "Charging"
    AuthTimeout = "AuthTimeout"
    Finished = "Finished"
    FinishedEVSE = "FinishedEVSE"
    FinishedEV = "FinishedEV"


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The published object (AsyncAPI ``SessionInfo``)."""

    state: EvseStateEnum
    charged_energy_wh: int
    discharged_energy_wh: int
    latest_total_w: int
    session_duration_s: int
    timestamp: str
    selected_protocol: Optional[str] = None
    session_start_time: Optional[str] = None
    session_end_time: Optional[str] = None


_SIMPLE = {
    "Enabled": EvseStateEnum.Unplugged, "Disabled": EvseStateEnum.Disabled,
    "AuthRequired": EvseStateEnum.AuthRequired, "ChargingStarted": EvseStateEnum.Charging,
    "ChargingResumed": EvseStateEnum.Charging, "ChargingPausedEV": EvseStateEnum.ChargingPausedEV,
    "ChargingPausedEVSE": EvseStateEnum.ChargingPausedEVSE,
}
_NOT_RUNNING = frozenset((EvseStateEnum.Unplugged, EvseStateEnum.Disabled, EvseStateEnum.Unknown))


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


class SessionInfoTracker:
    """Feed it the manager's ``session_event``, ``powermeter`` and ``selected_protocol``; each ``on_*``
    returns True when ``session_info`` should be published (``info(now_s)`` gives it)."""

    def __init__(self) -> None:
        self.state = EvseStateEnum.Unknown
        self.start_s: Optional[float] = None
        self.end_s: Optional[float] = None
        self.start_import: Optional[float] = None
        self.start_export: Optional[float] = None
        self.latest_import: Optional[float] = None
        self.latest_export: Optional[float] = None
        self.latest_total_w = 0.0
        self.counting = False
        self.charged_wh = 0.0
        self.discharged_wh = 0.0
        self.selected_protocol: Optional[str] = None

    @property
    def running(self) -> bool:
        """A session is running (HEAD's ``is_session_running``)."""
        return self.state not in _NOT_RUNNING

    def on_event(self, ev) -> bool:
        """A ``SessionEvents``; always publish."""
        name = _value(ev.event)
        simple = _SIMPLE.get(name)
        if simple is not None:
            self.state = simple
        elif name == "SessionStarted":
            p = ev.session_started
            self.start_s, self.end_s = float(p.timestamp), None
            self.start_import, self.start_export = p.energy_Wh_import, p.energy_Wh_export
            self.latest_import, self.latest_export = p.energy_Wh_import, p.energy_Wh_export
            self.charged_wh = self.discharged_wh = 0.0
            self.latest_total_w = 0.0
            self.selected_protocol = None
            self.counting = True
            self.state = EvseStateEnum.Preparing
        elif name == "SessionCancelled":
            p = ev.session_cancelled
            self._energy(p.energy_Wh_import, p.energy_Wh_export)
            self.counting = False
            self.state = EvseStateEnum.FinishedEVSE if _value(p.reason) == "Local" else EvseStateEnum.Finished
        elif name == "SessionFinished":
            p = ev.session_finished
            self._energy(p.energy_Wh_import, p.energy_Wh_export)
            self.counting = False
            self.end_s = float(p.timestamp)
            self.state = EvseStateEnum.Unplugged
        return True

    def on_powermeter(self, pm) -> bool:
        """A ``Powermeter`` sample; publish while a session runs."""
        exp = pm.energy_Wh_export.total if pm.energy_Wh_export is not None else None
        self._energy(pm.energy_Wh_import.total, exp)
        if pm.power_W is not None:
            self.latest_total_w = pm.power_W.total
        return self.running

    def on_selected_protocol(self, protocol: str) -> bool:
        """The ``selected_protocol`` var; publish while a session runs."""
        self.selected_protocol = protocol
        return self.running

    def _energy(self, imp: Optional[float], exp: Optional[float]) -> None:
        if not self.counting:
            return
        if imp is not None:
            self.latest_import = imp
            if self.start_import is not None:
                self.charged_wh = max(0.0, imp - self.start_import)
        if exp is not None:
            self.latest_export = exp
            if self.start_export is not None:
                self.discharged_wh = max(0.0, exp - self.start_export)

    def info(self, now_s: float) -> SessionInfo:
        """The object to publish now."""
        duration = 0
        if self.start_s is not None:
            end = self.end_s if self.end_s is not None else now_s
            duration = max(0, int(end - self.start_s))
        return SessionInfo(
            state=self.state, charged_energy_wh=int(round(self.charged_wh)),
            discharged_energy_wh=int(round(self.discharged_wh)), latest_total_w=int(round(self.latest_total_w)),
            session_duration_s=duration, timestamp=rfc3339_ms(now_s),
            selected_protocol=self.selected_protocol,
            session_start_time=None if self.start_s is None else rfc3339_ms(self.start_s),
            session_end_time=None if self.end_s is None else rfc3339_ms(self.end_s))
