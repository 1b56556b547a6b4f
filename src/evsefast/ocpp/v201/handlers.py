"""OCPP 2.0.1 requests from the CSMS, answered by :class:`Handlers201` (mixed into Protocol201).

As in 1.6: ``on_*`` decides the answer without side effects beyond what the answer promises, ``after_*``
acts once the answer is on the wire.  Status values follow the 2.0.1 schemas (RequestStartStopStatus,
UnlockStatus, ResetStatus, ChangeAvailabilityStatus, ReserveNowStatus, ...).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ocpp.v201 import call_result as r

from ..connector import Reservation
from ..smart.profile import ProfileError, parse_profile_201
from ..timefmt import iso, parse_iso

__all__ = ["Handlers201", "ROUTES"]

ROUTES = {
    "RequestStartTransaction": ("on_request_start", "after_request_start"),
    "RequestStopTransaction": ("on_request_stop", "after_request_stop"),
    "UnlockConnector": ("on_unlock", None),
    "Reset": ("on_reset", "after_reset"),
    "ChangeAvailability": ("on_change_availability", None),
    "ReserveNow": ("on_reserve_now", None),
    "CancelReservation": ("on_cancel_reservation", None),
    "SetChargingProfile": ("on_set_charging_profile", None),
    "ClearChargingProfile": ("on_clear_charging_profile", None),
    "GetCompositeSchedule": ("on_get_composite_schedule", None),
    "GetVariables": ("on_get_variables", None),
    "SetVariables": ("on_set_variables", None),
    "TriggerMessage": ("on_trigger_message", "after_trigger_message"),
    "ClearCache": ("on_clear_cache", None),
    "DataTransfer": ("on_data_transfer", None),
}

_PURPOSE = {"ChargingStationMaxProfile": "Max", "ChargingStationExternalConstraints": "External",
            "TxDefaultProfile": "TxDefault", "TxProfile": "Tx"}


class Handlers201:
    """The CSMS-initiated operations of an OCPP 2.0.1 charging station."""

    # -- remote control (F01-F03) ---------------------------------------------------------------------
    def on_request_start(self, id_token: Dict[str, Any], remote_start_id: int, evse_id: Optional[int] = None,
                         charging_profile=None, **_):
        """Answer RequestStartTransaction."""
        reject = r.RequestStartTransaction(status="Rejected")
        if self.registration != "Accepted":
            return reject
        if evse_id is None:
            c = next((c for c in self.connectors if c.can_authorize()), None)
        else:
            c = self.connector(evse_id)
        if c is None or not c.can_authorize():
            return reject
        tag = id_token["id_token"]
        if c.reservation is not None and c.reservation.id_tag != tag and c.reservation.parent_id_tag is None:
            return reject
        profile = None
        if charging_profile is not None:
            try:
                profile = parse_profile_201(c.cid, charging_profile)
                self._check_profile(profile)
            except ProfileError:
                return reject
            if profile.purpose != "Tx":
                return reject
        self._stash("RequestStartTransaction", (c, tag, id_token.get("type", "Central"), remote_start_id, profile))
        tid = c.tx["id"] if c.tx is not None else None
        return r.RequestStartTransaction(status="Accepted", transaction_id=tid)

    def after_request_start(self, **_):
        """Act on an accepted RequestStartTransaction (its answer is on the wire)."""
        pending = self._take("RequestStartTransaction")
        if pending is None:
            return None
        c, tag, token_type, remote_start_id, profile = pending
        if profile is not None:
            self.smart.install(profile)
        return self.start_remote(c, tag, token_type, remote_start_id)

    def on_request_stop(self, transaction_id: str, **_):
        """Answer RequestStopTransaction."""
        for c in self.connectors:
            if c.tx is not None and c.tx["id"] == transaction_id:
                self._stash("RequestStopTransaction", c)
                return r.RequestStopTransaction(status="Accepted")
        return r.RequestStopTransaction(status="Rejected")

    def after_request_stop(self, **_):
        """Act on an accepted RequestStopTransaction (its answer is on the wire)."""
        c = self._take("RequestStopTransaction")
        if c is not None and not c.mgr.stop_transaction({"reason": "Remote"}):
            c.stop_untransacted()

    def on_unlock(self, evse_id: int, connector_id: int, **_):
        """Answer UnlockConnector."""
        c = self.connector(evse_id)
        if c is None or connector_id != 1:
            return r.UnlockConnector(status="UnknownConnector")
        if c.tx is not None and c.auth is not None:
            return r.UnlockConnector(status="OngoingAuthorizedTransaction")  # F05.FR.02
        if not c.ready:
            return r.UnlockConnector(status="UnlockFailed")
        return r.UnlockConnector(status="Unlocked" if c.mgr.force_unlock(1) else "UnlockFailed")

    # -- reset and availability (B11-B12, G03-G04) ----------------------------------------------------
    def on_reset(self, type: str, evse_id: Optional[int] = None, **_):  # noqa: A002
        """Answer Reset."""
        if evse_id is not None:
            return r.Reset(status="Rejected")  # resetting one EVSE alone is not supported
        if type == "OnIdle" and any(c.session_active for c in self.connectors):
            self.reset_on_idle = True
            return r.Reset(status="Scheduled")
        self._stash("Reset", type)
        return r.Reset(status="Accepted")

    def after_reset(self, **_):
        """Act on an accepted Reset (its answer is on the wire)."""
        if self._take("Reset") is not None:
            self.begin_reset("HardReset", "RemoteReset")

    def on_change_availability(self, operational_status: str, evse: Optional[Dict[str, Any]] = None, **_):
        """Answer ChangeAvailability."""
        operative = operational_status == "Operative"
        if evse is None or evse.get("id", 0) == 0:
            self.cp_operative = operative
            self.store.put("avail.0", operative)
            results = [c.change_availability(operative) for c in self.connectors]  # all of them
            return r.ChangeAvailability(status="Scheduled" if "Scheduled" in results else "Accepted")
        c = self.connector(evse["id"])
        if c is None or evse.get("connector_id") not in (None, 1):
            return r.ChangeAvailability(status="Rejected")
        return r.ChangeAvailability(status=c.change_availability(operative))

    # -- reservations (H01-H02) -----------------------------------------------------------------------
    def on_reserve_now(self, id: int, expiry_date_time: str, id_token: Dict[str, Any],  # noqa: A002
                       evse_id: Optional[int] = None, group_id_token: Optional[Dict[str, Any]] = None, **_):
        """Answer ReserveNow."""
        try:
            expiry = parse_iso(expiry_date_time)
        except ValueError:
            return r.ReserveNow(status="Rejected")
        if evse_id is None:
            c = next((c for c in self.connectors if not c.session_active and c.reservation is None
                      and not c.unavailable and not c.fault.faulted), None) or self.connectors[0]
        else:
            c = self.connector(evse_id)
            if c is None:
                return r.ReserveNow(status="Rejected")
        for other in self.connectors:
            if other is not c and other.reservation is not None and other.reservation.id == id:
                other.cancel_reservation()
        parent = None if group_id_token is None else group_id_token.get("id_token")
        return r.ReserveNow(status=c.reserve(Reservation(id, expiry, id_token["id_token"], parent)))

    def on_cancel_reservation(self, reservation_id: int, **_):
        """Answer CancelReservation."""
        for c in self.connectors:
            if c.reservation is not None and c.reservation.id == reservation_id:
                c.cancel_reservation()
                return r.CancelReservation(status="Accepted")
        return r.CancelReservation(status="Rejected")

    # -- smart charging (K01, K10, K08) ---------------------------------------------------------------
    def on_set_charging_profile(self, evse_id: int, charging_profile: Dict[str, Any], **_):
        """Answer SetChargingProfile."""
        reject = r.SetChargingProfile(status="Rejected")
        try:
            profile = parse_profile_201(evse_id, charging_profile)
            self._check_profile(profile)
        except ProfileError:
            return reject
        if profile.purpose == "Tx":
            c = self.connector(evse_id)
            if c is None or c.tx is None or profile.transaction_id not in (None, c.tx["id"]):
                return reject
        self.smart.install(profile)
        return r.SetChargingProfile(status="Accepted")

    def on_clear_charging_profile(self, charging_profile_id: Optional[int] = None,
                                  charging_profile_criteria: Optional[Dict[str, Any]] = None, **_):
        """Answer ClearChargingProfile."""
        crit = charging_profile_criteria or {}
        purpose = crit.get("charging_profile_purpose")
        n = self.smart.clear(charging_profile_id, crit.get("evse_id"),
                             None if purpose is None else _PURPOSE.get(purpose, "?"), crit.get("stack_level"))
        return r.ClearChargingProfile(status="Accepted" if n else "Unknown")

    def on_get_composite_schedule(self, duration: int, evse_id: int, charging_rate_unit: Optional[str] = None, **_):
        """Answer GetCompositeSchedule."""
        unit = charging_rate_unit or "A"
        if evse_id < 0 or evse_id > len(self.connectors) or unit not in ("A", "W"):
            return r.GetCompositeSchedule(status="Rejected")
        now = float(int(self.now_s()))
        periods = [{"start_period": int(p.start_s), "limit": float(p.limit),
                    **({"number_phases": int(p.phases)} if p.phases is not None else {})}
                   for p in self.smart.composite(evse_id, now, int(duration), unit)]
        return r.GetCompositeSchedule(status="Accepted", schedule={
            "evse_id": evse_id, "duration": int(duration), "schedule_start": iso(now), "charging_rate_unit": unit,
            "charging_schedule_period": periods})

    # -- device model (B06, B05) ----------------------------------------------------------------------
    def on_get_variables(self, get_variable_data, **_):
        """Answer GetVariables."""
        return r.GetVariables(get_variable_result=[self.devmodel.get(item) for item in get_variable_data])

    def on_set_variables(self, set_variable_data, **_):
        """Answer SetVariables."""
        results = []
        for item in set_variable_data:
            res, name = self.devmodel.set(item)
            if name == "heartbeat_interval_s":
                self.heartbeat_s = self.settings.heartbeat_interval_s
            results.append(res)
        return r.SetVariables(set_variable_result=results)

    def on_clear_cache(self, **_):
        """Answer ClearCache."""
        if not self.settings.authorization_cache_enabled:
            return r.ClearCache(status="Rejected")
        self.cache.clear()
        return r.ClearCache(status="Accepted")

    def on_data_transfer(self, vendor_id: str, **_):
        """Answer DataTransfer."""
        return r.DataTransfer(status="UnknownVendorId")

    # -- trigger (F06) --------------------------------------------------------------------------------
    def on_trigger_message(self, requested_message: str, evse: Optional[Dict[str, Any]] = None, **_):
        """Answer TriggerMessage."""
        evse_id = None if evse is None else evse.get("id")
        if evse_id is not None and self.connector(evse_id) is None:
            return r.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self.registration == "Accepted":
            return r.TriggerMessage(status="Rejected")
        if requested_message not in ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues",
                                     "TransactionEvent"):
            return r.TriggerMessage(status="NotImplemented")
        self._stash("TriggerMessage", (requested_message, evse_id))
        return r.TriggerMessage(status="Accepted")

    def after_trigger_message(self, **_):
        """Act on an accepted TriggerMessage (its answer is on the wire)."""
        pending = self._take("TriggerMessage")
        if pending is None:
            return None
        what, evse_id = pending
        if what == "BootNotification":
            return self._triggered_boot()
        for c in self.connectors:
            if evse_id not in (None, c.cid):
                continue
            if what == "StatusNotification":
                self.push("StatusNotification", c.status_payload())
            elif what == "MeterValues":
                meter = c._meter("sampled_data", "Trigger")
                if meter:
                    self.push("MeterValues", {"evse_id": c.cid, "meter_value": [
                        {"timestamp": iso(self.now_s()), "sampled_value": meter}]})
            elif what == "TransactionEvent" and c.tx is not None:
                c.send_event("Updated", "Trigger", meter=c._meter("sampled_data", "Trigger"))
        if what == "Heartbeat":
            self.push("Heartbeat", {})
        return None

    async def _triggered_boot(self) -> None:
        try:
            res = await self.send_now(*self.boot_message())
        except Exception:  # noqa: BLE001
            return
        if getattr(res.status, "value", res.status) == "Accepted":
            self.registration = "Accepted"
            self.booted = True
