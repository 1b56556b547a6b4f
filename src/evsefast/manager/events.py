"""Seed session events (spec §2.6.2 profile mapping, P1/P10/P11).

The charger calls :meth:`SessionEvents.publish` with a seed event name; this module builds the
seed ``SessionEvents`` payload (timestamp = integer Unix seconds, energy from the billing meter),
publishes it on ``session_event`` and then ``selected_protocol`` (profile: after every event).
"""
from __future__ import annotations

from typing import Callable, Optional

from ..types.evse_manager import (
    Error,
    ReservationEnd,
    ReservationEndReason,
    ReservationStart,
    SessionCancellationReason,
    SessionCancelled,
    SessionEvent,
    SessionEvents,
    SessionFinished,
    SessionStarted,
)
from ..types.evse_manager import EVInfo

_SEED_REASONS = frozenset(m.value for m in SessionCancellationReason)
_EVENT = {m.value: m for m in SessionEvent}  # a dict lookup, not an enum call per event
PROTOCOL_BASIC = "IEC61851-1"
PROTOCOL_UNKNOWN = "Unknown"
_EMPTY_EV_INFO = EVInfo()


def cancellation_reason(stop_reason: str) -> SessionCancellationReason:
    """P5: a StopTransactionReason that is one of the 11 seed values, else ``Other``."""
    return SessionCancellationReason(stop_reason if stop_reason in _SEED_REASONS else "Other")


class SessionEventPublisher:
    """Builds and publishes seed ``SessionEvents``."""

    def __init__(self, publish: Callable, wall_s: Callable[[], float], metering) -> None:
        self._publish = publish
        self._wall_s = wall_s
        self._metering = metering
        self.protocol = PROTOCOL_UNKNOWN

    def _ts(self) -> int:
        return int(self._wall_s())

    def simple(self, event: str, uuid: str) -> SessionEvents:
        """An event without payload (Enabled, AuthRequired, ChargingStarted, ...)."""
        ev = SessionEvents(uuid=uuid, event=_EVENT[event])
        publish = self._publish
        publish("session_event", ev)
        publish("selected_protocol", self.protocol)
        return ev

    def session_started(self, uuid: str, reservation_id: Optional[int]) -> SessionEvents:
        """``SessionStarted`` with the meter reading and the reservation id (if reserved with id >= 0)."""
        m = self._metering
        payload = SessionStarted(timestamp=self._ts(), energy_Wh_import=m.energy_import(),
                                 energy_Wh_export=m.energy_export(), reservation_id=reservation_id)
        self.protocol = PROTOCOL_BASIC
        ev = self._emit(SessionEvents(uuid=uuid, event=SessionEvent.SessionStarted, session_started=payload))
        self._publish("ev_info", _EMPTY_EV_INFO)
        return ev

    def session_finished(self, uuid: str, signed: Optional[str]) -> SessionEvents:
        """``SessionFinished`` (always on unplug, or withdraw of an authorized, unstarted session)."""
        m = self._metering
        payload = SessionFinished(timestamp=self._ts(), energy_Wh_import=m.energy_import(),
                                  energy_Wh_export=m.energy_export(), signed_meter_value=signed)
        self.protocol = PROTOCOL_UNKNOWN
        ev = self._emit(SessionEvents(uuid=uuid, event=SessionEvent.SessionFinished, session_finished=payload))
        self._publish("ev_info", _EMPTY_EV_INFO)
        return ev

    def session_cancelled(self, uuid: str, stop_reason: str, signed: Optional[str],
                          energy_import: Optional[float] = None, energy_export: Optional[float] = None,
                          timestamp: Optional[int] = None) -> SessionEvents:
        """``SessionCancelled`` (P5); the power-loss clean-up passes the persisted energy."""
        m = self._metering
        if energy_import is None:
            energy_import = m.energy_import()
            energy_export = m.energy_export()
        payload = SessionCancelled(timestamp=self._ts() if timestamp is None else timestamp,
                                   energy_Wh_import=energy_import, energy_Wh_export=energy_export,
                                   signed_meter_value=signed, reason=cancellation_reason(stop_reason))
        self.protocol = PROTOCOL_UNKNOWN
        return self._emit(SessionEvents(uuid=uuid, event=SessionEvent.SessionCancelled, session_cancelled=payload))

    def error(self, event: str, uuid: str, error: str) -> SessionEvents:
        """``Error`` or ``PermanentFault`` with the seed ``error`` value (P6)."""
        return self._emit(SessionEvents(uuid=uuid, event=SessionEvent(event), error=Error(error)))

    def reservation_start(self, reservation_id: int) -> SessionEvents:
        """``ReservationStart{reservation_id, id_tag: ""}`` (uuid "", P11)."""
        return self._emit(SessionEvents(uuid="", event=SessionEvent.ReservationStart,
                                        reservation_start=ReservationStart(reservation_id=reservation_id, id_tag="")))

    def reservation_end(self, reservation_id: int, reason: str) -> SessionEvents:
        """``ReservationEnd{reason, reservation_id}`` (uuid "", P11)."""
        return self._emit(SessionEvents(uuid="", event=SessionEvent.ReservationEnd,
                                        reservation_end=ReservationEnd(reason=ReservationEndReason(reason),
                                                                       reservation_id=reservation_id)))

    def _emit(self, ev: SessionEvents) -> SessionEvents:
        self._publish("session_event", ev)
        self._publish("selected_protocol", self.protocol)
        return ev
