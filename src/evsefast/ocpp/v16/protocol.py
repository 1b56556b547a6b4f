"""The OCPP 1.6J charge point: registration, statuses, transactions, authorization, CSMS requests.

The CSMS requests are answered in :mod:`.handlers` (a mixin of this class); this module has what the
charge point sends on its own and the bookkeeping behind it.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

import ocpp.v16
from ocpp.v16 import call as call16

from ..auth import AuthResult, decide
from ..connector import AuthInfo
from ..outbox import OutItem
from ..protocol import ProtocolBase
from ..timefmt import iso
from ..wire import make_wire
from .connector import Connector16
from .handlers import ROUTES, Handlers16

__all__ = ["Protocol16"]

log = logging.getLogger("evsefast.ocpp")

Wire16 = make_wire("Wire16", ocpp.v16.ChargePoint, call16, ROUTES)


class Protocol16(Handlers16, ProtocolBase):
    """OCPP 1.6J over :class:`ProtocolBase`."""

    version = "1.6"
    subprotocol = "ocpp1.6"
    wire_class = Wire16
    connector_class = Connector16

    # -- registration and statuses -----------------------------------------------------------------
    def boot_message(self):
        """``(action, payload)`` of the BootNotification."""
        info = self.info
        body = {"charge_point_vendor": info.get("vendor", "evsefast")[:20],
                "charge_point_model": info.get("model", "evsefast")[:20]}
        if info.get("serial"):
            body["charge_point_serial_number"] = info["serial"][:25]
        if info.get("firmware"):
            body["firmware_version"] = info["firmware"][:50]
        return "BootNotification", body

    def cp_status_payload(self) -> Dict[str, Any]:
        """StatusNotification of connector 0 (the charge point): Available or Unavailable."""
        return {"connector_id": 0, "error_code": "NoError",
                "status": "Available" if self.cp_operative else "Unavailable", "timestamp": iso(self.now_s())}

    def send_all_statuses(self) -> None:
        """Queue the current status of the charge point and every connector."""
        msgs = [self.cp_status_payload()]
        for c in self.connectors:
            c.refresh_fault(update=False)
            c.last_status = (c.status(), c.fault)
            msgs.append(c.status_payload())
        for m in reversed(msgs):  # to the front, connector 0 first, ahead of queued transaction messages
            self.push("StatusNotification", m, front=True)

    def on_loop_started(self) -> None:
        """The event loop is known (timers can be armed)."""
        for c in self.connectors:
            if c.mgr.get("ready"):  # started before us: its power-loss event is gone
                c.close_stale_transaction()
            c.apply_availability()
            c.update_status()

    def clock_aligned_sample(self) -> None:
        """A clock-aligned meter sample is due (ClockAlignedDataInterval)."""
        for c in self.connectors:
            c.aligned_sample()

    # -- the outbox --------------------------------------------------------------------------------
    def resolve(self, item: OutItem) -> Dict[str, Any]:
        """The payload to send for a queued message."""
        p = item.payload
        if "body" not in p or "ref" not in p:
            return p
        body = p["body"]
        tid = body.get("transaction_id")
        if isinstance(tid, int) and tid < 0:
            mapped = self.store.csms_tx(tid)
            body = dict(body, transaction_id=-1 if mapped is None else mapped)
        return body

    def on_tx_result(self, item: OutItem, result: Any) -> None:
        """The CSMS confirmed a transaction message."""
        if item.action == "StartTransaction":
            local = item.payload["ref"]
            self.store.map_tx(local, int(result.transaction_id))
            info = result.id_tag_info or {}
            id_tag = item.payload["body"]["id_tag"]
            self.cache.update(id_tag, info)
            if info.get("status", "Accepted") != "Accepted":
                self._invalid_id(local)
        elif item.action == "StopTransaction":
            info = getattr(result, "id_tag_info", None)
            if info and item.payload["body"].get("id_tag"):
                self.cache.update(item.payload["body"]["id_tag"], info)
        if not self.outbox.pending_persistent:
            self.store.forget_tx_map(c.tx["local_id"] for c in self.connectors if c.tx is not None)

    def on_tx_dropped(self, item: OutItem) -> None:
        """A transaction message was given up after its attempts."""
        if item.action == "StartTransaction":
            self.store.map_tx(item.payload["ref"], -1)  # E16 §3.18: the rest goes with transactionId -1

    def _invalid_id(self, local_id: int) -> None:
        """StartTransaction.conf rejected the id tag (S16 §3.5.4, E16 §3.17)."""
        for c in self.connectors:
            if c.tx is not None and c.tx["local_id"] == local_id:
                c.mgr.pause_charging()
                if self.settings.stop_tx_on_invalid_id:
                    c.mgr.stop_transaction({"reason": "DeAuthorized"})

    def csms_tx_id(self, c) -> Optional[int]:
        """The CSMS's id of connector ``c``'s open transaction (None while unconfirmed)."""
        return None if c.tx is None else self.store.csms_tx(c.tx["local_id"])

    # -- authorization -----------------------------------------------------------------------------
    async def _ask_csms(self, id_tag: str) -> Optional[dict]:
        res = await self.request("Authorize", {"id_tag": id_tag})
        return None if res is None else (res.id_tag_info or {})

    async def authorize_tag(self, id_tag: str) -> AuthResult:
        """Accept or reject an id tag (Authorize, cache, offline rules)."""
        return await decide(id_tag, self.cache, self.settings, self.online, self._ask_csms)

    async def present_token(self, connector_id: int, id_tag: str) -> str:
        """An id tag presented at connector ``connector_id`` (an RFID reader): starts a transaction,
        or stops the running one (same tag, or a tag with the same parent, S16 §3.10).  Returns what
        happened: ``"Started"``, ``"Stopped"`` or ``"Rejected: <why>"``."""
        c = self.connector(connector_id)
        if c is None:
            return "Rejected: unknown connector"
        if c.tx is not None:
            if id_tag != c.tx["id_tag"]:
                res = await self.authorize_tag(id_tag)
                if not (res.accepted and res.parent is not None and res.parent == c.tx.get("parent")):
                    return "Rejected: not the tag that started the transaction"
            if c.tx is None:
                return "Rejected: the transaction ended meanwhile"
            c.stop_id_tag = id_tag
            c.mgr.stop_transaction({"reason": "Local", "id_tag": {
                "id_token": {"value": id_tag[:36], "type": "ISO14443"}, "authorization_type": "RFID"}})
            return "Stopped"
        if not c.can_authorize():
            return "Rejected: connector not ready for a new transaction"
        res = await self.authorize_tag(id_tag)
        if not res.accepted:
            return f"Rejected: {res.status}"
        match = c.reservation_match(id_tag, res.parent)
        if match is False:
            return "Rejected: reserved for another id tag"
        if not c.can_authorize():
            return "Rejected: connector not ready for a new transaction"
        c.apply_authorization(AuthInfo(id_tag, res.parent, reservation_id=c.reservation.id if match else None))
        return "Started"

    async def _remote_authorize(self, c, id_tag: str) -> None:
        res = await self.authorize_tag(id_tag)
        if res.accepted and c.can_authorize() and c.reservation_match(id_tag, res.parent) is not False:
            rid = c.reservation.id if c.reservation is not None else None
            c.apply_authorization(AuthInfo(id_tag, res.parent, reservation_id=rid, remote=True))

    def start_remote(self, c, id_tag: str) -> None:
        """Apply a RemoteStartTransaction (after its CALLRESULT)."""
        if self.settings.authorize_remote_tx:
            asyncio.get_running_loop().create_task(self._remote_authorize(c, id_tag))
        elif c.can_authorize():
            rid = c.reservation.id if c.reservation is not None else None
            c.apply_authorization(AuthInfo(id_tag, None, reservation_id=rid, remote=True))
