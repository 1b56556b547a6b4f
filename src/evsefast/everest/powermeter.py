"""``EverestPowerMeter``: an EVerest ``powermeter`` module as evsefast's ``PowerMeter`` port.

Its ``powermeter`` var samples and ``public_key_ocmf`` reach the manager's listener; the manager's
``start_transaction`` / ``stop_transaction`` become cmd calls that wait for the result (at most
``timeout_s``; EVerest waits 300 s, a charger should not).  A call that fails or times out answers
``UNEXPECTED_ERROR`` with the reason, which the manager handles as a meter failure (spec §4).  The
manager calls these on its driver thread, never on paho's network thread, so waiting is safe.
With ``forward_errors`` the meter's raised/cleared errors (except ``*/VendorWarning``) reach the
manager too (EvseManager's ``fail_on_powermeter_errors``).
"""
from __future__ import annotations

import logging
from typing import Optional

import msgspec

from ..board.port import PowerMeter
from ..types.board import BoardError, Severity
from ..types.powermeter import (
    Powermeter, TransactionReq, TransactionRequestStatus, TransactionStartResponse, TransactionStopResponse,
)
from .calls import CallError, Caller, decode_retval
from .link import MqttLink
from .ratelog import RateLimitedLog
from .wire import decode_framework_error

__all__ = ["EverestPowerMeter"]

log = logging.getLogger("evsefast.everest.powermeter")

_SAMPLE = msgspec.json.Decoder(Powermeter)
_KEY = msgspec.json.Decoder(str)


class EverestPowerMeter(PowerMeter):
    """The powermeter module ``module_id`` (implementation ``impl_id``); see the module docstring."""

    def __init__(self, link: MqttLink, caller: Caller, wire, prefix: str, module_id: str,
                 impl_id: str = "main", *, timeout_s: float = 10.0, forward_errors: bool = True) -> None:
        super().__init__()
        self.link = link
        self.caller = caller
        self.wire = wire
        self.module_id = module_id
        self.impl_id = impl_id
        self.timeout_s = float(timeout_s)
        self.forward_errors = forward_errors
        self.base = f"{prefix}modules/{module_id}/impl/{impl_id}"
        self._bad = RateLimitedLog(log, f"powermeter {module_id}")
        link.subscribe(wire.var_filter(self.base), self._on_var)
        link.subscribe(wire.error_filter(self.base), self._on_error)

    # -- transactions (the manager's driver thread) ----------------------------------------------
    def start_transaction(self, request: TransactionReq) -> TransactionStartResponse:
        """``start_transaction{value}``; failures -> ``UNEXPECTED_ERROR``."""
        try:
            raw = self.caller.call(self.module_id, self.impl_id, "start_transaction", {"value": request},
                                   timeout_s=self.timeout_s)
            return decode_retval(raw, TransactionStartResponse)
        except CallError as exc:
            log.warning("powermeter %s: start_transaction failed: %s", self.module_id, exc)
            return TransactionStartResponse(status=TransactionRequestStatus.UNEXPECTED_ERROR, error=str(exc))

    def stop_transaction(self, transaction_id: str) -> TransactionStopResponse:
        """``stop_transaction{transaction_id}``; failures -> ``UNEXPECTED_ERROR``."""
        try:
            raw = self.caller.call(self.module_id, self.impl_id, "stop_transaction",
                                   {"transaction_id": transaction_id}, timeout_s=self.timeout_s)
            return decode_retval(raw, TransactionStopResponse)
        except CallError as exc:
            log.warning("powermeter %s: stop_transaction failed: %s", self.module_id, exc)
            return TransactionStopResponse(status=TransactionRequestStatus.UNEXPECTED_ERROR, error=str(exc))

    # -- reports (network thread) ----------------------------------------------------------------
    def _on_var(self, topic: str, payload: bytes) -> None:
        got = self.wire.parse_var(topic, payload, self.base)
        listener = self.listener
        if got is None or listener is None:
            return
        name, raw = got
        try:
            if name == "powermeter":
                listener.on_powermeter(_SAMPLE.decode(raw))
            elif name == "public_key_ocmf":
                on_key = getattr(listener, "on_powermeter_public_key_ocmf", None)
                if on_key is not None:
                    on_key(_KEY.decode(raw))
        except msgspec.DecodeError as exc:
            self._bad.warning("var %s dropped: %s", name, exc)

    def _on_error(self, topic: str, payload: bytes) -> None:
        if not self.forward_errors or self.listener is None:
            return
        data = self.wire.parse_error(payload)
        err = None if data is None else decode_framework_error(data)
        if err is None or err.type.endswith("/VendorWarning"):
            return
        if err.state == "Active":
            sev: Optional[Severity] = next((s for s in Severity if s.value == err.severity), Severity.High)
            self.listener.on_error_raised(BoardError(type=err.type, sub_type=err.sub_type, message=err.message,
                                                     description=err.description, severity=sev,
                                                     vendor_id=err.vendor_id))
        else:
            self.listener.on_error_cleared(err.type, err.sub_type)
