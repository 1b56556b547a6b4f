"""The OCPP 2.0.1 charging station (core): registration, statuses, TransactionEvents, authorization.

CSMS requests are answered in :mod:`.handlers`; the device model is in :mod:`.devmodel`.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

import ocpp.v201
from ocpp.v201 import call as call201

from ..auth import AuthResult, decide
from ..connector import AuthInfo
from ..outbox import OutItem
from ..protocol import ProtocolBase
from ..wire import make_wire
from .connector import Connector201
from .devmodel import DeviceModel
from .handlers import ROUTES, Handlers201

__all__ = ["Protocol201"]

Wire201 = make_wire("Wire201", ocpp.v201.ChargePoint, call201, ROUTES)


class Protocol201(Handlers201, ProtocolBase):
    """OCPP 2.0.1 over :class:`ProtocolBase`."""

    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    wire_class = Wire201
    connector_class = Connector201

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.devmodel = DeviceModel(self)
        self.reset_on_idle = False

    def boot_message(self):
        """``(action, payload)`` of the BootNotification."""
        info = self.info
        station: Dict[str, Any] = {"model": info.get("model", "evsefast")[:20],
                                   "vendor_name": info.get("vendor", "evsefast")[:50]}
        if info.get("serial"):
            station["serial_number"] = info["serial"][:25]
        if info.get("firmware"):
            station["firmware_version"] = info["firmware"][:50]
        return "BootNotification", {"charging_station": station, "reason": self.boot_reason}

    def send_all_statuses(self) -> None:
        """Queue the current status of the charge point and every connector."""
        for c in reversed(self.connectors):
            c.refresh_fault(update=False)
            c.last_status = c.status()
            self.push("StatusNotification", c.status_payload(), front=True)

    def on_loop_started(self) -> None:
        """The event loop is known (timers can be armed)."""
        for c in self.connectors:
            if c.mgr.get("ready"):
                c.close_stale_transaction()
            c.apply_availability()
            c.update_status()

    def clock_aligned_sample(self) -> None:
        """A clock-aligned meter sample is due (ClockAlignedDataInterval)."""
        for c in self.connectors:
            c.aligned_sample()

    def after_session(self) -> None:
        """A session ended: a Reset OnIdle waits for all of them."""
        if self.reset_on_idle and not any(c.session_active for c in self.connectors):
            self.reset_on_idle = False
            self.begin_reset("HardReset", "RemoteReset")

    # -- the outbox --------------------------------------------------------------------------------
    def resolve(self, item: OutItem) -> Dict[str, Any]:
        """The payload to send for a queued message."""
        p = item.payload
        return p["body"] if "body" in p and "ref" in p else p

    def on_tx_result(self, item: OutItem, result: Any) -> None:
        """The CSMS confirmed a transaction message."""
        info = getattr(result, "id_token_info", None)
        body = item.payload["body"]
        tok = body.get("id_token")
        if not info or tok is None:
            return
        self.cache.update(tok["id_token"], info)
        if info.get("status", "Accepted") != "Accepted":
            for c in self.connectors:
                if c.tx is not None and c.tx["id"] == item.payload["ref"]:
                    c.mgr.pause_charging()
                    if self.settings.stop_tx_on_invalid_id:
                        c.mgr.stop_transaction({"reason": "DeAuthorized"})

    # -- authorization -----------------------------------------------------------------------------
    async def _ask_csms(self, id_tag: str, token_type: str = "ISO14443") -> Optional[dict]:
        res = await self.request("Authorize", {"id_token": {"id_token": id_tag, "type": token_type}})
        return None if res is None else (res.id_token_info or {})

    async def authorize_tag(self, id_tag: str, token_type: str = "ISO14443") -> AuthResult:
        """Accept or reject an id token (Authorize, cache, offline rules)."""
        return await decide(id_tag, self.cache, self.settings, self.online,
                            lambda tag: self._ask_csms(tag, token_type))

    async def present_token(self, connector_id: int, id_tag: str, token_type: str = "ISO14443") -> str:
        """An id token presented at EVSE ``connector_id``: authorizes, or stops the running transaction
        (same token, or same group).  Returns ``"Started"``, ``"Stopped"`` or ``"Rejected: ..."``."""
        c = self.connector(connector_id)
        if c is None:
            return "Rejected: unknown EVSE"
        if c.auth is not None and c.tx is not None:
            if id_tag != c.auth.id_tag:
                res = await self.authorize_tag(id_tag, token_type)
                if not (res.accepted and res.parent is not None and res.parent == c.auth.parent):
                    return "Rejected: not the token that started the transaction"
            c.mgr.stop_transaction({"reason": "Local", "id_tag": {
                "id_token": {"value": id_tag[:36], "type": "ISO14443"}, "authorization_type": "RFID"}})
            return "Stopped"
        if not c.can_authorize():
            return "Rejected: EVSE not ready for a new transaction"
        res = await self.authorize_tag(id_tag, token_type)
        if not res.accepted:
            return f"Rejected: {res.status}"
        match = c.reservation_match(id_tag, res.parent)
        if match is False:
            return "Rejected: reserved for another token"
        if not c.can_authorize():
            return "Rejected: EVSE not ready for a new transaction"
        c.apply_authorization(AuthInfo(id_tag, res.parent, reservation_id=c.reservation.id if match else None,
                                       token_type=token_type))
        return "Started"

    def start_remote(self, c, tag: str, token_type: str, remote_start_id: int):
        """Apply a RequestStartTransaction (after its CALLRESULT); AuthorizeRemoteStart decides whether
        the token is authorized first."""
        async def authorize_first() -> None:
            res = await self.authorize_tag(tag, token_type)
            if res.accepted and c.can_authorize() and c.reservation_match(tag, res.parent) is not False:
                self._apply_remote(c, tag, token_type, remote_start_id, res.parent)
        if self.settings.authorize_remote_tx:
            return asyncio.ensure_future(authorize_first())
        if c.can_authorize():
            self._apply_remote(c, tag, token_type, remote_start_id, None)
        return None

    def _apply_remote(self, c, tag, token_type, remote_start_id, parent) -> None:
        rid = c.reservation.id if c.reservation is not None else None
        c.apply_authorization(AuthInfo(tag, parent, remote_start_id=remote_start_id, reservation_id=rid,
                                       token_type=token_type, remote=True))
