"""Start-up (spec §2.7(k), §4, §5.1): first meter value, power-loss clean-up, 0 A limit, ready.

Sequence: publish ``waiting_for_external_ready``; wait for the first power-meter sample (at most
``initial_meter_value_timeout_ms``, only if meters are attached); close a transaction that was open
at power loss with ``SessionCancelled{PowerLoss}`` (stored uuid, the start-up meter reading) and send
the final ``stop_transaction("")`` to every billing meter (at every start-up); set the
start-up limit 0 A valid 120 s; then -- at once, or on ``external_ready_to_start_charging`` --
become ready: board enabled, ``supported_energy_transfer_modes``, ``evse_id``, ``Enabled``,
``ready``, and the charger starts in Idle.
"""
from __future__ import annotations

import math
from typing import List, Optional

from ..types.iso15118 import EnergyTransferMode
from .limits import STARTUP_LIMIT_VALID_MS

_AC_MODES = (EnergyTransferMode.AC_single_phase_core, EnergyTransferMode.AC_two_phase,
             EnergyTransferMode.AC_three_phase_core)


def supported_modes(caps, charge_mode: str) -> List[EnergyTransferMode]:
    """P12: never empty.  AC: one mode per phase count in [min, max] of the import capabilities."""
    if charge_mode == "DC":
        return [EnergyTransferMode.DC_extended]
    if caps is None:
        lo, hi = 0, 1  # HEAD's defaults before the board reports
    else:
        lo, hi = caps.min_phase_count_import, caps.max_phase_count_import
    lo = min(max(lo, 1), 3)
    hi = min(max(hi, lo), 3)
    return [_AC_MODES[n - 1] for n in range(lo, hi + 1)]


class Boot:
    """The manager's start-up state; ``step`` advances it (called on every processing pass)."""

    def __init__(self, mgr) -> None:
        self.mgr = mgr
        self.started = False
        self.booted = False
        self.ready = False
        self.meter_seen = False
        self.caps = None
        self._external = False
        self._wait_until = math.inf
        self._modes: Optional[list] = None

    def start(self, now: int) -> None:
        """Begin: publish ``waiting_for_external_ready`` and arm the first-meter-value wait."""
        self.started = True
        mgr = self.mgr
        mgr._vars.publish("waiting_for_external_ready", mgr.config.external_ready_to_start_charging)
        if mgr._metering.meters:
            self._wait_until = now + mgr.config.initial_meter_value_timeout_ms
        else:
            self._wait_until = now

    def deadline(self) -> float:
        """When the first-meter-value wait ends (before boot), else +inf."""
        return self._wait_until if (self.started and not self.booted) else math.inf

    def step(self, now: int) -> None:
        """Boot once the first meter value arrived or the wait timed out."""
        if self.booted or not self.started:
            return
        if not self.meter_seen and now < self._wait_until:
            return
        self.booted = True
        mgr = self.mgr
        self._power_loss_cleanup()
        mgr._limits.set_max_current(0.0, now + STARTUP_LIMIT_VALID_MS, now, False)
        if not mgr.config.external_ready_to_start_charging or self._external:
            self._become_ready(now)

    def external_ready(self, now: int) -> None:
        """``external_ready_to_start_charging``: ready now (or once booted); repeats change nothing."""
        self._external = True
        if self.booted and not self.ready:
            self._become_ready(now)

    def publish_modes(self) -> None:
        """Publish ``supported_energy_transfer_modes`` when ready and changed (P12)."""
        if not self.ready:
            return
        modes = supported_modes(self.caps, self.mgr.config.charge_mode)
        if modes != self._modes:
            self._modes = modes
            self.mgr._vars.publish("supported_energy_transfer_modes", modes)

    def _power_loss_cleanup(self) -> None:
        """Spec §2.7(k): close a transaction left open at power loss, then stop ``""`` on every meter.

        The final ``stop_transaction("")`` is sent at every start-up (also with nothing stored and with no
        store). ``SessionCancelled{PowerLoss}`` reports the latest billing-meter sample received during
        start-up (P10: the meter kept counting while we were off); only when no sample arrived before the
        wait ended does it fall back to the energy persisted with the session.
        """
        mgr = self.mgr
        store = mgr._store
        row = store.load() if store is not None else None
        if row is not None:
            store.clear()
            signed = mgr._metering.stop_transaction(row.uuid)
            if self.meter_seen:
                energy_import, energy_export = mgr._metering.latest_energy()
                if energy_export is None:
                    energy_export = row.energy_Wh_export
            else:
                energy_import, energy_export = row.energy_Wh_import, row.energy_Wh_export
            mgr._events.session_cancelled(row.uuid, "PowerLoss", signed, energy_import=energy_import,
                                          energy_export=energy_export)
        mgr._metering.stop_transaction("")

    def _become_ready(self, now: int) -> None:
        mgr = self.mgr
        self.ready = True
        mgr._enable.set("Unspecified", "Enable", 10000)
        enabled = mgr._enable.enabled()  # an enable_disable before ready may have disabled it
        if not enabled:
            mgr._core.set_disabled(True)
            mgr._core.disabled_published = True
        mgr._bsp_enable(enabled)
        self.publish_modes()
        mgr._vars.publish("evse_id", mgr.config.evse_id)
        mgr._events.simple("Enabled" if enabled else "Disabled", "")
        mgr._vars.publish("ready", True)
        mgr._core.step(now)
