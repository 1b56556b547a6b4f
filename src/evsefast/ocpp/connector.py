"""One connector: a manager's session events turned into the facts both OCPP versions need.

The manager publishes the 17 seed events (spec/evse_manager.md P1); it has no TransactionStarted and
no error-cleared event.  This class rebuilds what the charge point needs from them:

* ``session_active`` / ``plugged`` / ``auth`` -- SessionStarted opens a session (by plug-in, or by the
  authorization this class applied), AuthRequired means the EV is plugged in, SessionFinished ends it;
* ``charging`` -- Charging / SuspendedEV / SuspendedEVSE from ChargingStarted/Resumed/PausedEV/PausedEVSE;
* ``fault`` -- read from ``active_errors`` after every event and every second (errors clear silently);
* availability -- the CSMS's wish (persisted) and the manager's Enabled/Disabled; a change asked for
  during a session is *scheduled* and applied when the session ends, never by abandoning it;
* the reservation -- the charge point's own record (tag, parent, expiry) on top of ``reserve``;
* the ConnectionTimeOut timer -- authorization without plug-in is withdrawn, a plug-in without
  authorization is reported as timed out.

Protocol subclasses (:mod:`.v16.connector`, :mod:`.v201.connector`) implement the ``on_*`` hooks
and the status they report.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, Optional

from .faults import NO_ERROR, error_info
from .sampling import energy_Wh

__all__ = ["AuthInfo", "ConnectorBase", "Reservation"]

log = logging.getLogger("evsefast.ocpp")


@dataclass
class AuthInfo:
    """An accepted authorization applied to the manager."""

    id_tag: str
    parent: Optional[str] = None
    remote_start_id: Optional[int] = None  # 2.0.1 RequestStartTransaction
    reservation_id: Optional[int] = None
    token_type: str = "ISO14443"
    remote: bool = False


@dataclass
class Reservation:
    """A reservation made by the CSMS."""

    id: int
    expiry_s: float
    id_tag: str
    parent_id_tag: Optional[str] = None
    handle: Any = None


class ConnectorBase:
    """Session tracking for connector ``cid`` (1-based) over ``mgr``; see the module docstring."""

    def __init__(self, proto, cid: int, mgr) -> None:
        self.proto = proto
        self.cid = cid
        self.mgr = mgr
        self.session_uuid = ""
        self.session_active = False
        self.plugged = False
        self.auth: Optional[AuthInfo] = None
        self.pending_auth: Optional[AuthInfo] = None
        self.stopped_in_session = False  # the transaction ended, the cable is still in
        self.timed_out = False
        self.charging: Optional[str] = None
        self.disabled = False
        self.reservation: Optional[Reservation] = None
        self.fault = NO_ERROR
        self.operative = bool(proto.store.get(f"avail.{cid}", True))
        self._timeout_handle = None
        self._sampler: Optional[asyncio.Task] = None
        self._stale_checked = False
        mgr.subscribe("session_event", self._event_any_thread)
        mgr.subscribe("ready", lambda value: self._in_loop(self._ready_changed, value))
        # raise and clear of the manager's own errors (Inoperative among them): react at once; the
        # board's errors that do not make it inoperative are read every second (refresh_fault)
        mgr.subscribe_errors(lambda _err: self._in_loop(self.refresh_fault))

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def settings(self):
        """The charge point's settings."""
        return self.proto.settings

    def _in_loop(self, fn, *args) -> None:
        """Run ``fn(*args)`` now if on the event loop's thread, else hand it to the loop."""
        loop = self.proto.loop
        if loop is not None and threading.current_thread() is not self.proto.loop_thread:
            loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def _event_any_thread(self, ev) -> None:
        self._in_loop(self._event, ev)

    @property
    def ready(self) -> bool:
        """The manager takes cmds (its start-up is over)."""
        return bool(self.mgr.get("ready"))

    def _ready_changed(self, value) -> None:
        if value:  # the start-up limit is 0 A until someone calls enforce_limits
            self.proto.smart.apply()
            self.update_status()

    def _event(self, ev) -> None:
        try:
            self.on_event(ev)
        except Exception:  # noqa: BLE001 - never let a bug here stop the manager's delivery
            log.exception("connector %d: handling %s failed", self.cid, ev.event.value)

    def energy_Wh(self) -> float:
        """The billing meter's import register now."""
        return energy_Wh(self.mgr.get("powermeter"))

    @property
    def desired_operative(self) -> bool:
        """What the CSMS asked for this connector (and for the whole charge point)."""
        return self.operative and self.proto.cp_operative

    @property
    def unavailable(self) -> bool:
        """Disabled now, or about to be (a scheduled change is applied at the session's end)."""
        return self.disabled or not self.desired_operative

    # -- events ------------------------------------------------------------------------------------
    def on_event(self, ev) -> None:
        """Update the facts from one session event and tell the protocol."""
        name = ev.event.value
        if name == "Enabled":
            self.disabled = False
        elif name == "Disabled":
            self.disabled = True
        elif name == "SessionStarted":
            self._session_started(ev)
        elif name == "AuthRequired":
            self.plugged = True
            self.on_plugged()
            if self.auth is not None:
                self._cancel_timeout()
        elif name in ("ChargingStarted", "ChargingResumed"):
            self._charging("Charging")
        elif name == "ChargingPausedEV":
            self._charging("SuspendedEV")
        elif name == "ChargingPausedEVSE":
            self._charging("SuspendedEVSE")
        elif name == "SessionCancelled":
            sc = ev.session_cancelled
            reason = sc.reason.value if sc.reason is not None else "Other"
            if not self.session_active or ev.uuid != self.session_uuid:
                self.on_power_loss(ev.uuid, reason, sc.energy_Wh_import, float(sc.timestamp))
            else:
                self.on_cancelled(reason, sc.energy_Wh_import, float(sc.timestamp))
                self.stopped_in_session = True
                self.charging = None
        elif name == "SessionFinished":
            self._session_finished(ev)
        elif name == "ReservationEnd":
            self._reservation_ended()
        self.refresh_fault(update=False)
        self.update_status()
        if name in ("Enabled", "Disabled") and not self._stale_checked:
            # the first Enabled/Disabled ends the manager's start-up, after any PowerLoss event
            self.close_stale_transaction()

    def _session_started(self, ev) -> None:
        self.session_active = True
        self.session_uuid = ev.uuid
        self.stopped_in_session = False
        self.timed_out = False
        self.charging = None
        by_auth = self.pending_auth is not None
        self.auth, self.pending_auth = self.pending_auth, None
        self.plugged = not by_auth
        self.update_status()  # the status change (Preparing / Occupied) goes first
        self.on_session_started(by_auth)
        self._arm_timeout()

    def _charging(self, state: str) -> None:
        if self.stopped_in_session:
            return
        self.charging = state
        self.on_charging_state(state)

    def _session_finished(self, ev) -> None:
        sf = ev.session_finished
        self._cancel_timeout()
        self.on_finished(sf.energy_Wh_import, float(sf.timestamp))
        self.session_active = False
        self.plugged = False
        self.auth = None
        self.pending_auth = None
        self.stopped_in_session = False
        self.timed_out = False
        self.charging = None
        self.session_uuid = ""
        self.apply_availability()
        self.proto.after_session()

    # -- authorization -----------------------------------------------------------------------------
    def can_authorize(self) -> bool:
        """False once this session's transaction was stopped (a new one needs a replug), or while a
        session is already authorized, faulted or unavailable."""
        return self.ready and not (self.stopped_in_session or self.auth is not None or self.fault.faulted
                                   or self.unavailable)

    def apply_authorization(self, info: AuthInfo) -> None:
        """Hand an accepted authorization to the manager (``authorize_response``)."""
        self.pending_auth = info
        validation: dict = {"authorization_status": "Accepted", "tariff_messages": []}
        if info.reservation_id is not None:
            validation["reservation_id"] = info.reservation_id
        token = {"id_token": {"value": info.id_tag[:36], "type": _token_type(info.token_type)},
                 "authorization_type": "OCPP" if info.remote else "RFID"}
        self.mgr.authorize_response(token, validation)
        if self.pending_auth is info and self.session_active:
            # the session was already open (plug-in first): no SessionStarted consumes it
            self.auth, self.pending_auth = info, None
            self._cancel_timeout()
            self.on_authorized()
            self.update_status()

    def reservation_match(self, id_tag: str, parent: Optional[str]) -> Optional[bool]:
        """None if not reserved; True if ``id_tag`` (or its parent) may use the reservation."""
        r = self.reservation
        if r is None:
            return None
        return id_tag == r.id_tag or (r.parent_id_tag is not None and parent == r.parent_id_tag)

    # -- ConnectionTimeOut -------------------------------------------------------------------------
    def _arm_timeout(self) -> None:
        self._cancel_timeout()
        t = self.settings.connection_timeout_s
        loop = self.proto.loop
        if t > 0 and loop is not None and not (self.plugged and self.auth is not None):
            self._timeout_handle = loop.call_later(t / self.proto.time_factor, self._timeout_expired)

    def _cancel_timeout(self) -> None:
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
            self._timeout_handle = None

    def _timeout_expired(self) -> None:
        self._timeout_handle = None
        if not self.session_active:
            return
        if self.auth is not None and not self.plugged:
            self.on_connection_timeout()
            self.mgr.withdraw_authorization()  # SessionFinished follows
        elif self.plugged and self.auth is None:
            self.timed_out = True
            self.update_status()

    # -- availability ------------------------------------------------------------------------------
    def change_availability(self, operative: bool) -> str:
        """The connector's wish; ``Scheduled`` while a session runs, else applied at once."""
        self.operative = operative
        self.proto.store.put(f"avail.{self.cid}", operative)
        return self.apply_availability()

    def apply_availability(self) -> str:
        """Bring the manager to the wanted state unless a session runs; returns the response status."""
        want = self.desired_operative
        if want == (not self.disabled):
            self.update_status()
            return "Accepted"
        if self.session_active:
            self.update_status()
            return "Scheduled"
        self.mgr.enable_disable(0, {"enable_source": "CSMS", "enable_state": "Enable" if want else "Disable",
                                    "enable_priority": 5000})
        self.update_status()
        return "Accepted"

    # -- reservations ------------------------------------------------------------------------------
    def reserve(self, r: Reservation) -> str:
        """ReserveNow for this connector: Accepted, Faulted, Occupied, Unavailable or Rejected."""
        if self.fault.faulted:
            return "Faulted"
        if self.unavailable or not self.ready:
            return "Unavailable"
        if self.session_active or (self.reservation is not None and self.reservation.id != r.id):
            return "Occupied"
        if not self.mgr.reserve(r.id):
            return "Rejected"
        if self.reservation is not None and self.reservation.handle is not None:
            self.reservation.handle.cancel()
        self.reservation = r
        loop = self.proto.loop
        if loop is not None:
            delay = max(0.0, r.expiry_s - self.proto.now_s()) / self.proto.time_factor
            r.handle = loop.call_later(delay, self._reservation_expired, r)
        self.update_status()
        return "Accepted"

    def _reservation_expired(self, r: Reservation) -> None:
        if self.reservation is r:
            self.mgr.cancel_reservation()  # ReservationEnd follows

    def cancel_reservation(self) -> None:
        """CancelReservation for this connector's reservation."""
        self.mgr.cancel_reservation()

    def _reservation_ended(self) -> None:
        r = self.reservation
        if r is not None and r.handle is not None:
            r.handle.cancel()
        self.reservation = None

    # -- faults ------------------------------------------------------------------------------------
    def refresh_fault(self, update: bool = True) -> None:
        """Re-read the manager's active errors (they clear without an event)."""
        info = error_info(self.mgr.active_errors)
        if info != self.fault:
            self.fault = info
            if update:
                self.update_status()

    # -- periodic sampling -------------------------------------------------------------------------
    def start_sampler(self) -> None:
        """Call ``on_sample`` every MeterValueSampleInterval while the transaction runs."""
        self.stop_sampler()
        if self.proto.loop is not None:
            self._sampler = self.proto.loop.create_task(self._sample_loop())

    def stop_sampler(self) -> None:
        """Stop periodic sampling."""
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None

    async def _sample_loop(self) -> None:
        while True:
            interval = self.settings.meter_sample_interval_s
            await asyncio.sleep((interval if interval > 0 else 1) / self.proto.time_factor)
            if interval > 0:
                try:
                    self.on_sample()
                except Exception:  # noqa: BLE001
                    log.exception("connector %d: sampling failed", self.cid)

    # -- hooks for the protocol --------------------------------------------------------------------
    def on_session_started(self, by_auth: bool) -> None:
        """A session opened (``by_auth``: by the authorization this connector applied)."""

    def on_plugged(self) -> None:
        """The EV is plugged in (AuthRequired)."""

    def on_authorized(self) -> None:
        """An authorization was applied to an open session (the EV was plugged in first)."""

    def on_charging_state(self, state: str) -> None:
        """Charging, SuspendedEV or SuspendedEVSE."""

    def on_cancelled(self, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """The manager's transaction was stopped (SessionCancelled)."""

    def on_finished(self, energy_Wh_import: float, t_s: float) -> None:
        """The session ended (unplug, or a withdrawn authorization)."""

    def on_power_loss(self, uuid: str, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """A transaction open at power loss was closed by the manager at start-up."""

    def on_connection_timeout(self) -> None:
        """ConnectionTimeOut expired for an authorization without plug-in (before the withdrawal)."""

    def on_sample(self) -> None:
        """A periodic meter sample is due."""

    def close_stale_transaction(self) -> None:
        """After start-up: end a transaction the manager no longer knows (with PowerLoss)."""
        self._stale_checked = True

    def update_status(self) -> None:
        """Report the connector's status if it changed."""


def _token_type(t: str) -> str:
    # EVerest IdTokenType names (types/authorization.yaml); OCPP 2.0.1 names map 1:1 except ISO14443 etc.
    return t if t in ("Central", "eMAID", "MacAddress", "ISO14443", "ISO15693", "KeyCode", "Local",
                      "NoAuthorization") else "Local"
