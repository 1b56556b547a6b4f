"""OCPP 1.6J requests from the CSMS (S16 §5), answered by :class:`Handlers16` (mixed into Protocol16).

Each ``on_*`` method decides the answer from the current state and must not change anything a
rejection would leave untouched; the matching ``after_*`` method, run by the ``ocpp`` package once
the answer is on the wire, performs the effect (S16 §5.17: answer first, then act).  Malformed
payloads never get here: the ``ocpp`` package answers them with a CALLERROR (spec/ocpp.md §1.3).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

from ocpp.v16 import call_result as r

from ..connector import Reservation
from ..settings import SETTINGS, SettingError
from ..smart.profile import ProfileError, parse_profile_16
from ..timefmt import iso, parse_iso
from .keys import KEYS, STATIC, key_value

__all__ = ["Handlers16", "ROUTES"]

#: action -> (handler, after-handler)
ROUTES = {
    "RemoteStartTransaction": ("on_remote_start", "after_remote_start"),
    "RemoteStopTransaction": ("on_remote_stop", "after_remote_stop"),
    "UnlockConnector": ("on_unlock", None),
    "Reset": ("on_reset", "after_reset"),
    "ChangeAvailability": ("on_change_availability", None),
    "GetConfiguration": ("on_get_configuration", None),
    "ChangeConfiguration": ("on_change_configuration", "after_change_configuration"),
    "ClearCache": ("on_clear_cache", None),
    "DataTransfer": ("on_data_transfer", None),
    "SetChargingProfile": ("on_set_charging_profile", None),
    "ClearChargingProfile": ("on_clear_charging_profile", None),
    "GetCompositeSchedule": ("on_get_composite_schedule", None),
    "ReserveNow": ("on_reserve_now", None),
    "CancelReservation": ("on_cancel_reservation", None),
    "TriggerMessage": ("on_trigger_message", "after_trigger_message"),
}

_PURPOSE = {"ChargePointMaxProfile": "Max", "TxDefaultProfile": "TxDefault", "TxProfile": "Tx"}
_UNIT = {"A": "A", "W": "W"}


class Handlers16:
    """The CSMS-initiated operations of an OCPP 1.6J charge point."""


    # -- remote start / stop (S16 §5.11, §5.12) ------------------------------------------------------
    def on_remote_start(self, id_tag: str, connector_id: Optional[int] = None, charging_profile=None, **_):
        """Answer RemoteStartTransaction."""
        reject = r.RemoteStartTransaction(status="Rejected")
        if self.registration != "Accepted":
            return reject
        if connector_id is None:
            c = next((c for c in self.connectors if c.can_authorize() and c.tx is None
                      and c.reservation_match(id_tag, None) is not False), None)
        else:
            c = self.connector(connector_id)
        if c is None or c.tx is not None or not c.can_authorize():
            return reject
        if c.reservation is not None and c.reservation.id_tag != id_tag and c.reservation.parent_id_tag is None:
            return reject
        profile = None
        if charging_profile is not None:
            try:
                profile = parse_profile_16(c.cid, charging_profile)
                self._check_profile(profile)
            except ProfileError:
                return reject
            if profile.purpose != "Tx" or profile.transaction_id is not None:
                return reject  # S16 §5.11: TxProfile, no transactionId
        self._stash("RemoteStartTransaction", (c, id_tag, profile))
        return r.RemoteStartTransaction(status="Accepted")

    def after_remote_start(self, **_):
        """Act on an accepted RemoteStartTransaction (its answer is on the wire)."""
        pending = self._take("RemoteStartTransaction")
        if pending is None:
            return
        c, id_tag, profile = pending
        if profile is not None:
            self.smart.install(profile)
        self.start_remote(c, id_tag)

    def on_remote_stop(self, transaction_id: int, **_):
        """Answer RemoteStopTransaction."""
        for c in self.connectors:
            if c.tx is not None and self.csms_tx_id(c) == transaction_id:
                self._stash("RemoteStopTransaction", c)
                return r.RemoteStopTransaction(status="Accepted")
        return r.RemoteStopTransaction(status="Rejected")

    def after_remote_stop(self, **_):
        """Act on an accepted RemoteStopTransaction (its answer is on the wire)."""
        c = self._take("RemoteStopTransaction")
        if c is not None:
            c.mgr.stop_transaction({"reason": "Remote"})

    # -- unlock, reset, availability (S16 §5.18, §5.14, §5.2) ----------------------------------------
    def on_unlock(self, connector_id: int, **_):
        """Answer UnlockConnector."""
        c = self.connector(connector_id)
        if c is None or not c.ready:
            return r.UnlockConnector(status="NotSupported")
        # the manager stops a transaction first (UnlockCommand), then unlocks
        return r.UnlockConnector(status="Unlocked" if c.mgr.force_unlock(1) else "NotSupported")

    def on_reset(self, type: str, **_):  # noqa: A002 - the payload's field name
        """Answer Reset."""
        self._stash("Reset", type)
        return r.Reset(status="Accepted")

    def after_reset(self, **_):
        """Act on an accepted Reset (its answer is on the wire)."""
        kind = self._take("Reset")
        if kind is not None:
            self.begin_reset("HardReset" if kind == "Hard" else "SoftReset", kind)

    def on_change_availability(self, connector_id: int, type: str, **_):  # noqa: A002
        """Answer ChangeAvailability."""
        operative = type == "Operative"
        if connector_id == 0:
            self.cp_operative = operative
            self.store.put("avail.0", operative)
            results = [c.change_availability(operative) for c in self.connectors]  # all of them
            self.push("StatusNotification", self.cp_status_payload())
            return r.ChangeAvailability(status="Scheduled" if "Scheduled" in results else "Accepted")
        c = self.connector(connector_id)
        if c is None:
            return r.ChangeAvailability(status="Rejected")
        return r.ChangeAvailability(status=c.change_availability(operative))

    # -- configuration (S16 §5.3, §5.8) -------------------------------------------------------------
    def _config_entries(self):
        out = []
        for key, name in KEYS.items():
            if SETTINGS[name].readable:
                out.append({"key": key, "readonly": not SETTINGS[name].writable,
                            "value": key_value(getattr(self.settings, name))})
        for key, value in STATIC.items():
            out.append({"key": key, "readonly": True, "value": value})
        out.append({"key": "NumberOfConnectors", "readonly": True, "value": str(len(self.connectors))})
        return out

    def on_get_configuration(self, key=None, **_):
        """Answer GetConfiguration."""
        entries = self._config_entries()
        if not key:
            return r.GetConfiguration(configuration_key=entries)
        by_key = {e["key"]: e for e in entries}
        known = [by_key[k] for k in key if k in by_key]
        unknown = [k for k in key if k not in by_key]
        return r.GetConfiguration(configuration_key=known or None, unknown_key=unknown or None)

    def on_change_configuration(self, key: str, value: str, **_):
        """Answer ChangeConfiguration."""
        name = KEYS.get(key)
        if name is None:
            status = "Rejected" if key in STATIC or key == "NumberOfConnectors" else "NotSupported"
            return r.ChangeConfiguration(status=status)
        spec = SETTINGS[name]
        if not spec.writable:
            return r.ChangeConfiguration(status="Rejected")
        try:
            new = self.settings.check(name, value)
        except SettingError:
            return r.ChangeConfiguration(status="Rejected")
        if name == "security_profile" and not self._security_ok(new):
            return r.ChangeConfiguration(status="Rejected")
        self.settings.set(name, new)
        if name == "heartbeat_interval_s":
            self.heartbeat_s = new
        if spec.reboot:
            self._stash("ChangeConfiguration", name)
        return r.ChangeConfiguration(status="Accepted")

    def after_change_configuration(self, **_):
        """Act on an accepted ChangeConfiguration (its answer is on the wire)."""
        name = self._take("ChangeConfiguration")
        if name is not None and self.link is not None:
            self.apply_security()
            return self.link.drop()  # reconnect with the new credentials / profile (SW A05)
        return None

    def on_clear_cache(self, **_):
        """Answer ClearCache."""
        if not self.settings.authorization_cache_enabled:
            return r.ClearCache(status="Rejected")
        self.cache.clear()
        return r.ClearCache(status="Accepted")

    def on_data_transfer(self, vendor_id: str, **_):
        """Answer DataTransfer."""
        return r.DataTransfer(status="UnknownVendorId")

    # -- smart charging (S16 §5.5, §5.7, §5.16) -----------------------------------------------------
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: Dict[str, Any], **_):
        """Answer SetChargingProfile."""
        reject = r.SetChargingProfile(status="Rejected")
        try:
            profile = parse_profile_16(connector_id, cs_charging_profiles)
            self._check_profile(profile)
        except ProfileError:
            return reject
        if profile.purpose == "Tx":
            c = self.connector(connector_id)
            if c is None or c.tx is None:
                return reject  # OCTT TC_058_1: TxProfile without a transaction
            tid = self.csms_tx_id(c)
            if profile.transaction_id is not None and profile.transaction_id != tid:
                return reject
        self.smart.install(profile)
        return r.SetChargingProfile(status="Accepted")

    def on_clear_charging_profile(self, id: Optional[int] = None, connector_id: Optional[int] = None,  # noqa: A002
                                  charging_profile_purpose: Optional[str] = None, stack_level: Optional[int] = None,
                                  **_):
        """Answer ClearChargingProfile."""
        purpose = None if charging_profile_purpose is None else _PURPOSE.get(charging_profile_purpose, "?")
        n = self.smart.clear(id, connector_id, purpose, stack_level)
        return r.ClearChargingProfile(status="Accepted" if n else "Unknown")

    def on_get_composite_schedule(self, connector_id: int, duration: int, charging_rate_unit: Optional[str] = None,
                                  **_):
        """Answer GetCompositeSchedule."""
        unit = _UNIT.get(charging_rate_unit or "A")
        if connector_id < 0 or connector_id > len(self.connectors) or unit is None:
            return r.GetCompositeSchedule(status="Rejected")
        now = float(int(self.now_s()))
        periods = self.smart.composite(connector_id, now, int(duration), unit)
        sched = []
        for p in periods:
            entry = {"start_period": int(p.start_s), "limit": float(p.limit)}
            if p.phases is not None:
                entry["number_phases"] = int(p.phases)
            sched.append(entry)
        return r.GetCompositeSchedule(status="Accepted", connector_id=connector_id, schedule_start=iso(now),
                                      charging_schedule={"duration": int(duration), "charging_rate_unit": unit,
                                                         "charging_schedule_period": sched})

    # -- reservations (S16 §5.13, §5.4) -------------------------------------------------------------
    def on_reserve_now(self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int,
                       parent_id_tag: Optional[str] = None, **_):
        """Answer ReserveNow."""
        if connector_id == 0 and not self.settings.reserve_connector_zero_supported:
            return r.ReserveNow(status="Rejected")
        c = self.connector(connector_id)
        if c is None:
            return r.ReserveNow(status="Rejected")
        try:
            expiry = parse_iso(expiry_date)
        except ValueError:
            return r.ReserveNow(status="Rejected")
        for other in self.connectors:  # the same reservation id elsewhere is replaced
            if other is not c and other.reservation is not None and other.reservation.id == reservation_id:
                other.cancel_reservation()
        status = c.reserve(Reservation(reservation_id, expiry, id_tag, parent_id_tag))
        return r.ReserveNow(status=status)

    def on_cancel_reservation(self, reservation_id: int, **_):
        """Answer CancelReservation."""
        for c in self.connectors:
            if c.reservation is not None and c.reservation.id == reservation_id:
                c.cancel_reservation()
                return r.CancelReservation(status="Accepted")
        return r.CancelReservation(status="Rejected")

    # -- trigger (S16 §5.17) ------------------------------------------------------------------------
    def on_trigger_message(self, requested_message: str, connector_id: Optional[int] = None, **_):
        """Answer TriggerMessage."""
        if requested_message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            return r.TriggerMessage(status="NotImplemented")
        if connector_id is not None and self.connector(connector_id) is None and connector_id != 0:
            return r.TriggerMessage(status="Rejected")
        if requested_message == "BootNotification" and self.registration == "Accepted":
            return r.TriggerMessage(status="Rejected")  # E16 §3.35
        if requested_message not in ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues"):
            return r.TriggerMessage(status="NotImplemented")
        self._stash("TriggerMessage", (requested_message, connector_id))
        return r.TriggerMessage(status="Accepted")

    def after_trigger_message(self, **_):
        """Act on an accepted TriggerMessage (its answer is on the wire)."""
        pending = self._take("TriggerMessage")
        if pending is None:
            return None
        what, cid = pending
        msgs = []
        if what == "BootNotification":
            return self._triggered_boot()
        if what == "Heartbeat":
            msgs.append(("Heartbeat", {}))
        elif what == "StatusNotification":
            if cid in (None, 0):
                msgs.append(("StatusNotification", self.cp_status_payload()))
            for c in self.connectors:
                if cid in (None, c.cid):
                    msgs.append(("StatusNotification", c.status_payload()))
        elif what == "MeterValues":
            for c in self.connectors:
                if cid in (None, 0, c.cid):
                    body = c.meter_values(self.settings.measurands("sampled_data"), "Trigger")
                    if body is not None:
                        msgs.append(("MeterValues", body))
        if self.online:
            for action, payload in msgs:
                self.push(action, payload)
            return None
        return self._send_triggered(msgs)  # Pending: only triggered messages may be sent

    async def _send_triggered(self, msgs) -> None:
        for action, payload in msgs:
            try:
                await self.send_now(action, payload)
            except Exception:  # noqa: BLE001
                return

    async def _triggered_boot(self) -> None:
        try:
            res = await self.send_now(*self.boot_message())
        except Exception:  # noqa: BLE001
            return
        if getattr(res.status, "value", res.status) == "Accepted" and self.registration != "Accepted":
            self.registration = "Accepted"
            self.booted = True
            if res.interval:
                self.heartbeat_s = int(res.interval)
            await asyncio.sleep(0)
