"""Installed charging profiles and the ``enforce_limits`` they give each manager.

The charge point is the managers' energy manager: without a call to ``enforce_limits`` a manager
stays at its 0 A start-up limit, and a limit whose ``valid_for`` runs out drops to 0 A
(spec/evse_manager.md §3, spec/ocpp.md §3.3).  So :class:`SmartCharging` always sends amperes
(W converted with 230 V x numberPhases, 3 when absent; floored to 0.1 A), sends the hardware maximum
when no profile constrains a connector (S16 §3.13.6), and re-sends at every period boundary, after
every profile change and transaction start or stop, and every ``refresh_s`` with ``valid_for`` =
4 x ``refresh_s``.

Profile storage rules (S16 §3.13.2, §5.16, E16 §3.25-3.26): a new profile replaces one with the same
id, or one with the same stack level and purpose on the same connector; TxProfiles are removed when
their transaction ends; ClearChargingProfile with an id ignores the other criteria, otherwise all
given criteria must match.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Dict, List, Optional, Sequence

from .composite import composite_schedule, convert_limit, floor_tenth, limit_at, station_schedule
from .profile import ChargingProfile

__all__ = ["SmartCharging"]

log = logging.getLogger("evsefast.ocpp.smart")

VOLTAGE_V = 230.0  # OCPP's W <-> A conversion voltage (libocpp SupplyVoltage default)


class SmartCharging:
    """Profiles of one charge point and the limits they impose on its ``managers`` (connector i+1 =
    ``managers[i]``).  ``now_s`` gives wall time; ``tx_start_s(connector)`` the start of the running
    transaction (None if none)."""

    def __init__(self, store, managers: Sequence, now_s: Callable[[], float],
                 tx_start_s: Callable[[int], Optional[float]], *, refresh_s: float = 30.0,
                 phase_switching: Callable[[], bool] = lambda: False, time_factor: float = 1.0) -> None:
        self.store = store
        self.managers = list(managers)
        self.now_s = now_s
        self.tx_start_s = tx_start_s
        self.refresh_s = float(refresh_s)
        self.phase_switching = phase_switching
        self.time_factor = float(time_factor)
        self.profiles: Dict[int, ChargingProfile] = {}
        for body in store.profiles():
            try:
                p = ChargingProfile.from_json(body)
            except (TypeError, KeyError, ValueError):
                continue
            self.profiles[p.id] = p
        self.sent: Dict[int, float] = {}  # connector -> the amperes last sent (for tests and the summary)
        self._wake = asyncio.Event() if _has_loop() else None

    # -- profiles ----------------------------------------------------------------------------------
    def install(self, profile: ChargingProfile) -> None:
        """Store ``profile`` with the replacement rules, then re-apply the limits."""
        for other in list(self.profiles.values()):
            if other.id == profile.id or (other.stack_level == profile.stack_level
                                          and other.purpose == profile.purpose
                                          and other.connector_id == profile.connector_id):
                self._remove(other.id)
        self.profiles[profile.id] = profile
        self.store.put_profile(profile.id, profile.to_json())
        self.apply()

    def _remove(self, profile_id: int) -> None:
        self.profiles.pop(profile_id, None)
        self.store.delete_profile(profile_id)

    def clear(self, profile_id: Optional[int] = None, connector_id: Optional[int] = None,
              purpose: Optional[str] = None, stack_level: Optional[int] = None) -> int:
        """Remove matching profiles (E16 §3.25-3.26); returns how many were removed."""
        if profile_id is not None:
            victims = [profile_id] if profile_id in self.profiles else []
        else:
            victims = [p.id for p in self.profiles.values()
                       if (connector_id is None or p.connector_id == connector_id)
                       and (purpose is None or p.purpose == purpose)
                       and (stack_level is None or p.stack_level == stack_level)]
        for pid in victims:
            self._remove(pid)
        if victims:
            self.apply()
        return len(victims)

    def end_transaction(self, connector_id: int) -> None:
        """The connector's transaction ended: its TxProfiles go (S16 §3.13.2), limits are re-applied."""
        for p in list(self.profiles.values()):
            if p.purpose == "Tx" and p.connector_id == connector_id:
                self._remove(p.id)
        self.apply()

    # -- composite schedules -----------------------------------------------------------------------
    def hw_max_A(self, connector_id: int) -> float:
        """The connector's hardware maximum (the limit when no profile constrains it)."""
        caps = self.managers[connector_id - 1].get("hw_capabilities")
        return float(caps.max_current_A_import) if caps is not None else 32.0

    def composite(self, connector_id: int, start_s: float, duration_s: float, unit: str = "A") -> List:
        """The composite schedule for GetCompositeSchedule: limits in ``unit``, floored to 0.1, the
        hardware maximum where unconstrained; connector 0 is the whole charge point."""
        n = len(self.managers)
        if connector_id == 0:
            default = sum(self.hw_max_A(c) for c in range(1, n + 1)) / n
            default = convert_limit(default, "A", unit, None, VOLTAGE_V)
            tx = {c: self.tx_start_s(c) for c in range(1, n + 1)}
            sched = station_schedule(self.profiles.values(), n, start_s, duration_s, unit=unit,
                                     default_limit=default, tx_starts=tx, voltage_V=VOLTAGE_V)
        else:
            default = convert_limit(self.hw_max_A(connector_id), "A", unit, None, VOLTAGE_V)
            sched = composite_schedule(self.profiles.values(), connector_id, start_s, duration_s, unit=unit,
                                       tx_start_s=self.tx_start_s(connector_id), tx_active=True,
                                       voltage_V=VOLTAGE_V)
        out = []
        for p in sched:
            limit = floor_tenth(default if p.limit is None else p.limit)
            if out and out[-1].limit == limit and out[-1].phases == p.phases:
                continue
            out.append(p._replace(limit=limit))
        return out

    # -- applying limits ---------------------------------------------------------------------------
    def apply(self) -> Optional[float]:
        """Send every manager its current limit; returns the wall time of the next period boundary."""
        now = self.now_s()
        next_change = None
        for i, mgr in enumerate(self.managers):
            cid = i + 1
            if not mgr.get("ready"):
                continue  # enforce_limits is a cmd: not before the start-up is over (applied on "ready")
            tx_start = self.tx_start_s(cid)
            limit, phases, nxt = limit_at(self.profiles.values(), cid, now, unit="A", tx_start_s=tx_start,
                                          tx_active=tx_start is not None, voltage_V=VOLTAGE_V)
            hw = self.hw_max_A(cid)
            amps = hw if limit is None else min(floor_tenth(limit), hw)
            root = {"ac_max_current_A": {"value": amps, "source": "ocpp"}}
            if phases is not None and self.phase_switching():
                root["ac_max_phase_count"] = {"value": int(phases), "source": "ocpp"}
            try:
                mgr.enforce_limits({"uuid": mgr.config.module_id, "valid_for": int(self.refresh_s * 4) + 1,
                                    "limits_root_side": root, "schedule": []})
                self.sent[cid] = amps
            except Exception:  # noqa: BLE001 - a bad manager must not stop the others
                log.exception("enforce_limits on connector %d failed", cid)
            if nxt is not None and (next_change is None or nxt < next_change):
                next_change = nxt
        if self._wake is not None:
            self._wake.set()
        return next_change

    async def run(self) -> None:
        """Apply now, then at every period boundary and every ``refresh_s`` (cancel to stop)."""
        if self._wake is None:
            self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            nxt = self.apply()
            self._wake.clear()
            wait = self.refresh_s / self.time_factor  # valid_for counts on the managers' (simulated) clock
            if nxt is not None:
                wait = min(wait, max(0.0, (nxt - self.now_s()) / self.time_factor) + 0.001)
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except asyncio.TimeoutError:
                pass


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False
