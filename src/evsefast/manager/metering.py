"""Metering at session boundaries (spec §4): latest sample, energy for events, meter transactions,
and the soft over-current detector feed (§3.6, the detector itself is ``kernels.limits``).
"""
from __future__ import annotations

import logging
import math
from typing import List, Optional, Sequence

from ..types.powermeter import (
    IdentificationStatus,
    OCMFIdentificationType,
    Powermeter,
    TransactionReq,
    TransactionRequestStatus,
)

log = logging.getLogger("evsefast.manager")

_NAN = math.nan

#: IdTokenType -> OCMF identification type (EM/utils.hpp:40-61)
_ID_TYPE = {
    "Central": OCMFIdentificationType.CENTRAL,
    "eMAID": OCMFIdentificationType.EMAID,
    "ISO14443": OCMFIdentificationType.ISO14443,
    "ISO15693": OCMFIdentificationType.ISO15693,
    "KeyCode": OCMFIdentificationType.KEY_CODE,
    "Local": OCMFIdentificationType.LOCAL,
    "NoAuthorization": OCMFIdentificationType.NONE,
    "MacAddress": OCMFIdentificationType.UNDEFINED,
}


def _val(x) -> str:
    return getattr(x, "value", x)


class Metering:
    """The billing meters (all power meters handed to the manager), the latest sample and energy."""

    def __init__(self, meters: Sequence, limits_kernel, *, tolerance_pct: float, noise_A: float,
                 timeout_ms: int, fail_on_errors: bool) -> None:
        self.meters: List = list(meters)
        self.latest: Optional[Powermeter] = None
        self.fail_on_errors = fail_on_errors
        self._import_Wh = 0.0
        self._export_Wh: Optional[float] = None
        self._floor_Wh = 0.0  # high-water mark within a session: energy never decreases
        self.soc = limits_kernel.SoftOverCurrent(tolerance_pct, noise_A, int(timeout_ms))

    # -- samples -------------------------------------------------------------------------------
    def on_sample(self, sample: Powermeter) -> None:
        """Cache a billing-meter sample."""
        self.latest = sample
        self._import_Wh = float(sample.energy_Wh_import.total)
        exp = sample.energy_Wh_export
        self._export_Wh = None if exp is None else float(exp.total)

    def new_session(self) -> None:
        """Start the within-session monotonic energy from the current reading."""
        self._floor_Wh = 0.0

    def energy_import(self) -> float:
        """P10: ``energy_Wh_import.total`` of the latest sample (0 if none), never below an earlier
        value reported in the same session (a meter glitch must not make energy go backwards)."""
        v = self._import_Wh
        if v < self._floor_Wh:
            v = self._floor_Wh
        self._floor_Wh = v
        return v

    def latest_energy(self):
        """(import, export) totals of the latest sample as it is, export None if absent (no floor)."""
        return self._import_Wh, self._export_Wh

    def energy_export(self) -> Optional[float]:
        """``energy_Wh_export.total`` of the latest sample, or None if it has none."""
        return self._export_Wh

    def phase_currents(self):
        """(L1, L2, L3) in A of the latest sample; NaN where absent."""
        s = self.latest
        c = None if s is None else s.current_A
        if c is None:
            return _NAN, _NAN, _NAN
        return (_NAN if c.L1 is None else c.L1, _NAN if c.L2 is None else c.L2, _NAN if c.L3 is None else c.L3)

    # -- soft over-current -----------------------------------------------------------------------
    def feed_over_current(self, now: int, signalled_A: float) -> bool:
        """Feed the latest currents to the detector; True if it tripped."""
        l1, l2, l3 = self.phase_currents()
        return self.soc.feed(now, signalled_A, l1, l2, l3)

    def over_current_due(self, now: int) -> bool:
        """True once an over-current condition has lasted the timeout (checked on every tick)."""
        soc = self.soc
        if soc.active and not soc.tripped and now - soc.since_ms >= soc.timeout_ms:
            soc.tripped = True
        return soc.tripped

    # -- transactions ------------------------------------------------------------------------------
    def start_transaction(self, evse_id: str, uuid: str, token, validation) -> bool:
        """Ask each meter to start; False if one answered UNEXPECTED_ERROR and that is fatal."""
        if not self.meters:
            return True
        id_type = OCMFIdentificationType.UNDEFINED
        data = None
        if token is not None:
            id_type = _ID_TYPE.get(_val(token.id_token.type), OCMFIdentificationType.UNDEFINED)
            data = token.id_token.value
        tariff = None
        if validation is not None and validation.tariff_messages:
            tariff = validation.tariff_messages[0].content[:250]
        req = TransactionReq(evse_id=evse_id, transaction_id=uuid,
                             identification_status=IdentificationStatus.ASSIGNED, identification_flags=[],
                             identification_type=id_type, identification_data=data, tariff_text=tariff)
        ok = True
        for meter in self.meters:
            try:
                res = meter.start_transaction(req)
                failed = res.status == TransactionRequestStatus.UNEXPECTED_ERROR
            except Exception:
                log.exception("power meter start_transaction raised")
                failed = True
            if failed and self.fail_on_errors:
                ok = False
        return ok

    def stop_transaction(self, uuid: str) -> Optional[str]:
        """Ask each meter to stop; the first OK answer's ``signed_meter_data`` (or None)."""
        signed = None
        for meter in self.meters:
            try:
                res = meter.stop_transaction(uuid)
            except Exception:
                log.exception("power meter stop_transaction raised")
                break
            if res.status == TransactionRequestStatus.OK:
                if signed is None and res.signed_meter_value is not None:
                    signed = res.signed_meter_value.signed_meter_data
            elif res.status == TransactionRequestStatus.UNEXPECTED_ERROR:
                break  # HEAD: the first error aborts the loop (ignored)
        return signed
