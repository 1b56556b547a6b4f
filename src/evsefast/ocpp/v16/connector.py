"""An OCPP 1.6 connector: statuses, Start/StopTransaction, MeterValues from one manager's events.

Status (S16 §4.9 table, E16 §3.19-3.21, §3.55): Faulted while the manager is inoperative; during a
transaction Preparing until the EV first draws, then Charging / SuspendedEV / SuspendedEVSE
(SuspendedEVSE also while the composite limit is below 6 A); a session without a transaction is
Preparing, or Finishing once its transaction was stopped with the cable in (C6/D6/E6) or the
ConnectionTimeOut passed (B6); otherwise Unavailable, Reserved or Available.  A change scheduled
during a transaction turns Finishing/Charging directly into Unavailable at the unplug (C8-F8).

The transaction starts when an accepted authorization meets a plugged-in EV (the manager publishes
no TransactionStarted, spec/ocpp.md §2.3): StartTransaction with meterStart = the billing meter's
register (integer Wh).  It stops with the manager's SessionCancelled (reason mapped one to one,
§2.4) or, at an unplug, with SessionFinished (reason EVDisconnected); meterStop comes from that
event.  A transaction found open at start-up is stopped with PowerLoss and the energy the manager
persisted (SessionCancelled{PowerLoss}), or -- if the manager had no record -- the last value this
connector persisted.  Ids: the transaction is known locally by a negative id until the CSMS
assigns one in StartTransaction.conf (the outbox substitutes it).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..connector import ConnectorBase
from ..sampling import format_value, sampled_values
from ..timefmt import iso

__all__ = ["Connector16"]

STOP_REASONS = frozenset(("EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot",
                          "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"))
MIN_OFFERED_A = 6.0  # below this the EVSE offers no energy (IEC 61851 minimum)


class Connector16(ConnectorBase):
    """See the module docstring."""

    def __init__(self, proto, cid: int, mgr) -> None:
        super().__init__(proto, cid, mgr)
        self.tx: Optional[Dict[str, Any]] = proto.store.open_txs().get(cid)
        self.stop_id_tag: Optional[str] = None
        self.last_status: Optional[tuple] = None


    # -- status ------------------------------------------------------------------------------------
    def status(self) -> str:
        """The 1.6 ChargePointStatus now."""
        if self.fault.faulted:
            return "Faulted"
        if self.tx is not None:
            if self.charging is not None:
                return self.charging
            offered = self.proto.smart.sent.get(self.cid)
            return "SuspendedEVSE" if offered is not None and offered < MIN_OFFERED_A else "Preparing"
        if self.session_active:
            return "Finishing" if (self.stopped_in_session or self.timed_out) else "Preparing"
        if self.unavailable or not self.ready:
            return "Unavailable"
        if self.reservation is not None:
            return "Reserved"
        return "Available"

    def status_payload(self) -> Dict[str, Any]:
        """The StatusNotification of this connector now."""
        f = self.fault
        p: Dict[str, Any] = {"connector_id": self.cid, "error_code": f.error_code, "status": self.status(),
                             "timestamp": iso(self.proto.now_s())}
        if f.info:
            p["info"] = f.info
        if f.vendor_id:
            p["vendor_id"] = f.vendor_id
            p["vendor_error_code"] = f.vendor_error_code
        return p

    def update_status(self) -> None:
        """Queue a StatusNotification if status or error changed (every change, E16 §3.19)."""
        key = (self.status(), self.fault)
        if key != self.last_status:
            self.last_status = key
            self.proto.push("StatusNotification", self.status_payload())

    # -- transaction -------------------------------------------------------------------------------
    def on_plugged(self) -> None:
        """The EV is plugged in (AuthRequired)."""
        if self.auth is not None and self.tx is None:
            self.tx_begin()

    def on_authorized(self) -> None:
        """An authorization was applied to an open session (the EV was plugged in first)."""
        if self.plugged and self.tx is None:
            self.tx_begin()

    def tx_begin(self) -> None:
        """Open the transaction: persist it, queue StartTransaction, start sampling."""
        proto = self.proto
        auth = self.auth
        now = proto.now_s()
        local_id = -proto.store.next_counter("local_tx")
        meter_start = int(round(self.energy_Wh()))
        self.tx = {"local_id": local_id, "id_tag": auth.id_tag, "parent": auth.parent, "meter_start": meter_start,
                   "start_s": now, "uuid": self.session_uuid, "reservation_id": auth.reservation_id,
                   "last_Wh": self.energy_Wh(), "data": []}
        self.stop_id_tag = None
        self._add_stop_data("Transaction.Begin", now)
        proto.store.save_tx(self.cid, self.tx)
        body: Dict[str, Any] = {"connector_id": self.cid, "id_tag": auth.id_tag, "meter_start": meter_start,
                                "timestamp": iso(now)}
        if auth.reservation_id is not None:
            body["reservation_id"] = auth.reservation_id
        proto.push("StartTransaction", {"ref": local_id, "body": body}, persistent=True)
        proto.stats.transactions += 1
        self.start_sampler()
        proto.smart.apply()

    def tx_end(self, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """Close the transaction: queue StopTransaction with meterStop from the manager's event."""
        tx = self.tx
        if tx is None:
            return
        proto = self.proto
        self.stop_sampler()
        tx["last_Wh"] = energy_Wh_import
        self._add_stop_data("Transaction.End", t_s, energy_override=energy_Wh_import)
        body: Dict[str, Any] = {"transaction_id": tx["local_id"], "meter_stop": int(round(energy_Wh_import)),
                                "timestamp": iso(t_s), "reason": reason if reason in STOP_REASONS else "Other"}
        id_tag = self.stop_id_tag or tx["id_tag"]
        if id_tag:
            body["id_tag"] = id_tag
        if tx["data"]:
            body["transaction_data"] = tx["data"]
        proto.push("StopTransaction", {"ref": tx["local_id"], "body": body}, persistent=True)
        self.tx = None
        self.stop_id_tag = None
        proto.store.save_tx(self.cid, None)
        proto.smart.end_transaction(self.cid)

    def on_cancelled(self, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """The manager's transaction was stopped (SessionCancelled)."""
        self.tx_end(reason, energy_Wh_import, t_s)

    def on_finished(self, energy_Wh_import: float, t_s: float) -> None:
        """The session ended (unplug, or a withdrawn authorization)."""
        if self.tx is not None:
            self.tx_end("EVDisconnected", energy_Wh_import, t_s)
        else:
            self.proto.smart.end_transaction(self.cid)  # a RemoteStart's TxProfile never used

    def on_power_loss(self, uuid: str, reason: str, energy_Wh_import: float, t_s: float) -> None:
        """A transaction open at power loss was closed by the manager at start-up."""
        if self.tx is not None and self.tx.get("uuid") == uuid:
            self.tx_end(reason, energy_Wh_import, t_s)

    def close_stale_transaction(self) -> None:
        """After start-up: a transaction still open (the manager knew none) ends with PowerLoss and
        the last energy this connector persisted."""
        self._stale_checked = True
        if self.tx is not None and not self.session_active:
            tx = self.tx
            self.tx_end("PowerLoss", float(tx.get("last_Wh", tx["meter_start"])), self.proto.now_s())
        self.update_status()

    # -- meter values ------------------------------------------------------------------------------
    def _add_stop_data(self, context: str, t_s: float, energy_override: Optional[float] = None) -> None:
        measurands = self.settings.measurands("stop_txn_sampled_data")
        if not measurands:
            return
        values = sampled_values(self.mgr.get("powermeter"), self.mgr.get("limits"), measurands, context, "1.6")
        if energy_override is not None:
            values = [v for v in values if v["measurand"] != "Energy.Active.Import.Register"]
            if "Energy.Active.Import.Register" in measurands:
                values.insert(0, {"value": format_value(energy_override), "context": context,
                                  "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"})
        if values:
            self.tx["data"].append({"timestamp": iso(t_s), "sampled_value": values})

    def meter_values(self, measurands, context: str) -> Optional[Dict[str, Any]]:
        """A MeterValues payload of this connector now (None if the meter reports none of them)."""
        values = sampled_values(self.mgr.get("powermeter"), self.mgr.get("limits"), measurands, context, "1.6")
        if not values:
            return None
        body: Dict[str, Any] = {"connector_id": self.cid,
                                "meter_value": [{"timestamp": iso(self.proto.now_s()), "sampled_value": values}]}
        if self.tx is not None:
            body["transaction_id"] = self.tx["local_id"]
        return body

    def on_sample(self) -> None:
        """MeterValues (Sample.Periodic), and the StopTxnSampledData for StopTransaction."""
        if self.tx is None:
            return
        body = self.meter_values(self.settings.measurands("sampled_data"), "Sample.Periodic")
        if body is not None:
            self.proto.push("MeterValues", {"ref": self.tx["local_id"], "body": body}, persistent=True)
        self.tx["last_Wh"] = self.energy_Wh()
        self._add_stop_data("Sample.Periodic", self.proto.now_s())
        self.proto.store.save_tx(self.cid, self.tx)

    def aligned_sample(self) -> None:
        """Sample.Clock values (MeterValuesAlignedData); queued with the transaction if one runs."""
        body = self.meter_values(self.settings.measurands("aligned_data"), "Sample.Clock")
        if body is None:
            return
        if self.tx is not None:
            self.proto.push("MeterValues", {"ref": self.tx["local_id"], "body": body}, persistent=True)
        else:
            self.proto.push("MeterValues", {"ref": None, "body": body})
