"""An OCPP 2.0.1 EVSE (one connector): StatusNotification and TransactionEvent from a manager's events.

TxStartPoint and TxStopPoint are ``EVConnected,Authorized`` (read-only): the transaction starts with
the session -- at plug-in or at the authorization, whichever comes first -- and its id is the
manager's session uuid; it ends when the manager's transaction is stopped or at the unplug.

================================  =============================================================
manager event                     TransactionEvent (triggerReason / chargingState)
================================  =============================================================
SessionStarted (plug-in)          Started  CablePluggedIn / EVConnected, evse
SessionStarted (authorization)    Started  Authorized or RemoteStart / Idle, idToken, remoteStartId
AuthRequired after authorization  Updated  CablePluggedIn / EVConnected
authorization after plug-in       Updated  Authorized or RemoteStart, idToken
Charging..., Paused...            Updated  ChargingStateChanged / Charging, SuspendedEV, SuspendedEVSE
every TxUpdatedInterval           Updated  MeterValuePeriodic
SessionCancelled{reason}          Ended    see STOP below / EVConnected or Idle
SessionFinished (still open)      Ended    EVCommunicationLost, EVDisconnected / Idle
ConnectionTimeOut, no plug-in     Ended    EVConnectTimeout, Timeout
================================  =============================================================

seqNo counts from 0 per transaction (persisted); events created while offline carry ``offline``.
connectorStatus: Faulted > Occupied (EV plugged) > Unavailable > Reserved > Available (libocpp's
precedence, with a scheduled Unavailable applied after the session).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..connector import ConnectorBase
from ..sampling import format_value, sampled_values
from ..timefmt import iso

__all__ = ["Connector201", "STOP"]

#: manager stop reason -> (stoppedReason, triggerReason) (EVerest OCPP201 conversions, spec/ocpp.md §2.4)
STOP = {
    "Local": ("Local", "StopAuthorized"),
    "Remote": ("Remote", "RemoteStop"),
    "EVDisconnected": ("EVDisconnected", "EVCommunicationLost"),
    "DeAuthorized": ("DeAuthorized", "Deauthorized"),
    "UnlockCommand": ("Other", "UnlockCommand"),
    "HardReset": ("ImmediateReset", "ResetCommand"),
    "SoftReset": ("Other", "ResetCommand"),
    "Reboot": ("Reboot", "ResetCommand"),
    "PowerLoss": ("PowerLoss", "AbnormalCondition"),
    "EmergencyStop": ("EmergencyStop", "AbnormalCondition"),
    "Other": ("Other", "AbnormalCondition"),
}


class Connector201(ConnectorBase):
    """See the module docstring."""

    def __init__(self, proto, cid: int, mgr) -> None:
        super().__init__(proto, cid, mgr)
        self.tx: Optional[Dict[str, Any]] = proto.store.open_txs().get(cid)
        self.last_status: Optional[str] = None
        self._timeout_end = False

    # -- status ------------------------------------------------------------------------------------
    def status(self) -> str:
        """The 2.0.1 ConnectorStatus now."""
        if self.fault.faulted:
            return "Faulted"
        if self.plugged:
            return "Occupied"
        if self.unavailable or not self.ready:
            return "Unavailable"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def status_payload(self) -> Dict[str, Any]:
        """The StatusNotification of this EVSE's connector now."""
        return {"timestamp": iso(self.proto.now_s()), "connector_status": self.status(), "evse_id": self.cid,
                "connector_id": 1}

    def update_status(self) -> None:
        """Queue a StatusNotification if the status changed."""
        st = self.status()
        if st != self.last_status:
            self.last_status = st
            self.proto.push("StatusNotification", self.status_payload())


    # -- TransactionEvent --------------------------------------------------------------------------
    def _meter(self, setting: str, context: str, energy_override: Optional[float] = None):
        measurands = self.settings.measurands(setting)
        values = sampled_values(self.mgr.get("powermeter"), self.mgr.get("limits"), measurands, context, "2.0.1")
        if energy_override is not None and "Energy.Active.Import.Register" in measurands:
            values = [v for v in values if v["measurand"] != "Energy.Active.Import.Register"]
            values.insert(0, {"value": float(format_value(energy_override)), "context": context,
                              "measurand": "Energy.Active.Import.Register", "location": "Outlet",
                              "unit_of_measure": {"unit": "Wh"}})
        return values

    def send_event(self, event_type: str, trigger: str, *, charging_state: Optional[str] = None,
                   stopped_reason: Optional[str] = None, meter=None, id_token: bool = False,
                   t_s: Optional[float] = None) -> None:
        """Queue one TransactionEvent of the open transaction (persistent, in order)."""
        tx = self.tx
        t = self.proto.now_s() if t_s is None else t_s
        info: Dict[str, Any] = {"transaction_id": tx["id"]}
        if charging_state is not None:
            info["charging_state"] = charging_state
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        body: Dict[str, Any] = {"event_type": event_type, "timestamp": iso(t), "trigger_reason": trigger,
                                "seq_no": tx["seq"], "transaction_info": info}
        tx["seq"] += 1
        if not self.proto.online:
            body["offline"] = True
        if event_type == "Started" or not tx.get("evse_sent"):
            body["evse"] = {"id": self.cid, "connector_id": 1}
            tx["evse_sent"] = True
        if id_token and self.auth is not None:
            body["id_token"] = {"id_token": self.auth.id_tag, "type": self.auth.token_type}
            if self.auth.remote_start_id is not None:
                info["remote_start_id"] = self.auth.remote_start_id
            if self.auth.reservation_id is not None:
                body["reservation_id"] = self.auth.reservation_id
        if meter:
            body["meter_value"] = [{"timestamp": iso(t), "sampled_value": meter}]
        self.proto.store.save_tx(self.cid, None if event_type == "Ended" else tx)
        self.proto.push("TransactionEvent", {"ref": tx["id"], "body": body}, persistent=True)

    def _auth_trigger(self) -> str:
        return "RemoteStart" if self.auth is not None and self.auth.remote else "Authorized"

    def on_session_started(self, by_auth: bool) -> None:
        """A session opened (``by_auth``: by the authorization this connector applied)."""
        self._timeout_end = False
        self.tx = {"id": self.session_uuid[:36], "seq": 0, "start_s": self.proto.now_s(), "last_Wh": self.energy_Wh()}
        self.proto.stats.transactions += 1
        begin = self._meter("started_measurands", "Transaction.Begin")
        if by_auth:
            self.send_event("Started", self._auth_trigger(), charging_state="Idle", meter=begin, id_token=True)
        else:
            self.tx["plug_sent"] = True
            self.send_event("Started", "CablePluggedIn", charging_state="EVConnected", meter=begin)
        self.start_sampler()
        self.proto.smart.apply()

    def on_plugged(self) -> None:
        """The EV is plugged in (AuthRequired)."""
        if self.tx is not None and not self.tx.get("plug_sent"):
            self.tx["plug_sent"] = True
            self.send_event("Updated", "CablePluggedIn", charging_state="EVConnected")

    def on_authorized(self) -> None:
        """An authorization was applied to an open session (the EV was plugged in first)."""
        if self.tx is not None:
            self.send_event("Updated", self._auth_trigger(), id_token=True)

    def on_charging_state(self, state: str) -> None:
        """Charging, SuspendedEV or SuspendedEVSE."""
        if self.tx is not None:
            self.send_event("Updated", "ChargingStateChanged", charging_state=state)

    def on_sample(self) -> None:
        """A periodic meter sample is due."""
        if self.tx is not None:
            self.tx["last_Wh"] = self.energy_Wh()
            meter = self._meter("sampled_data", "Sample.Periodic")
            if meter:
                self.send_event("Updated", "MeterValuePeriodic", meter=meter)

    def aligned_sample(self) -> None:
        """Sample.Clock values: in the transaction's events, else a MeterValues message."""
        meter = self._meter("aligned_data", "Sample.Clock")
        if not meter:
            return
        if self.tx is not None:
            self.send_event("Updated", "MeterValueClock", meter=meter)
        else:
            self.proto.push("MeterValues", {"evse_id": self.cid,
                                            "meter_value": [{"timestamp": iso(self.proto.now_s()),
                                                             "sampled_value": meter}]})

    def end_tx(self, reason: str, energy_Wh_import: float, t_s: float, trigger: Optional[str] = None,
               stopped: Optional[str] = None) -> None:
        """Queue the Ended event and forget the transaction."""
        if self.tx is None:
            return
        self.stop_sampler()
        s, trig = STOP.get(reason, STOP["Other"])
        meter = self._meter("stop_txn_sampled_data", "Transaction.End", energy_override=energy_Wh_import)
        self.send_event("Ended", trigger or trig, stopped_reason=stopped or s,
                        charging_state="EVConnected" if self.plugged else "Idle", meter=meter, t_s=t_s)
        self.tx = None
        self.proto.smart.end_transaction(self.cid)

    def on_cancelled(self, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """The manager's transaction was stopped (SessionCancelled)."""
        self.end_tx(reason, energy_Wh_import, t_s)

    def on_finished(self, energy_Wh_import: float, t_s: float) -> None:
        """The session ended (unplug, or a withdrawn authorization)."""
        if self.tx is not None:
            self.plugged = False
            if self._timeout_end:
                self.end_tx("Other", energy_Wh_import, t_s, trigger="EVConnectTimeout", stopped="Timeout")
            else:
                self.end_tx("EVDisconnected", energy_Wh_import, t_s)
        else:
            self.proto.smart.end_transaction(self.cid)

    def on_connection_timeout(self) -> None:
        """ConnectionTimeOut expired for an authorization without plug-in (before the withdrawal)."""
        self._timeout_end = True

    def on_power_loss(self, uuid: str, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """A transaction open at power loss was closed by the manager at start-up."""
        if self.tx is not None and self.tx["id"] == uuid[:36]:
            self.plugged = False
            self.end_tx(reason, energy_Wh_import, t_s)

    def close_stale_transaction(self) -> None:
        """After start-up: a transaction still open (the manager knew none) ends with PowerLoss."""
        self._stale_checked = True
        if self.tx is not None and not self.session_active:
            self.plugged = False
            self.end_tx("PowerLoss", float(self.tx.get("last_Wh", 0.0)), self.proto.now_s())
        self.update_status()

    def stop_untransacted(self) -> None:
        """RequestStopTransaction for a transaction the manager has not started (EV plugged, not yet
        authorized): end it here; the session goes on until the unplug."""
        if self.tx is not None:
            self.end_tx("Remote", self.energy_Wh(), self.proto.now_s())
            self.stopped_in_session = True
            self.update_status()
