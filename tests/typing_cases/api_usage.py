"""What type checkers see of evsefast's public API (checked by ``tests/test_typing.py`` with ``mypy --strict``).

Every line marked ``# error`` must be reported by mypy; every other line must pass. No comment
silences mypy anywhere: the misuse is there to be caught. The file is never executed.
"""
from __future__ import annotations

from typing import Callable, List, Optional

from evsefast import EvseManager
from evsefast.manager.aio import EventStream, VarEvent
from evsefast.runner import Runner
from evsefast.testing import FakeBoard, FakePowerMeter, ManualClock
from evsefast.types import (
    Evse, EnforcedLimits, Limits, Powermeter, SessionEvents, SetLocalMaxCurrentResult,
    SwitchThreePhasesWhileChargingResult, UpdateAllowedEnergyTransferModesResult,
)
from evsefast.types.iso15118 import EnergyTransferMode

mgr = EvseManager({"connector_id": 1}, board=FakeBoard(), powermeters=[FakePowerMeter()], clock=ManualClock())

# -- every cmd: the interface's argument names (as keywords) and result types -------------------------
evse: Evse = mgr.get_evse()
enabled: bool = mgr.enable_disable(connector_id=0, cmd_source={"enable_source": "LocalAPI",
                                                               "enable_state": "Enable", "enable_priority": 5})
mgr.authorize_response(provided_token={"id_token": {"value": "X", "type": "ISO14443"}, "authorization_type": "RFID"},
                       validation_result=b'{"authorization_status": "Accepted"}')
mgr.withdraw_authorization()
reserved: bool = mgr.reserve(reservation_id=7)
mgr.cancel_reservation()
paused: bool = mgr.pause_charging()
resumed: bool = mgr.resume_charging()
stopped: bool = mgr.stop_transaction(request={"reason": "Local"})
unlocked: bool = mgr.force_unlock(connector_id=1)
external: bool = mgr.external_ready_to_start_charging()
mgr.set_plug_and_charge_configuration(plug_and_charge_configuration={"pnc_enabled": True})
modes: UpdateAllowedEnergyTransferModesResult = mgr.update_allowed_energy_transfer_modes(
    allowed_energy_transfer_modes=[EnergyTransferMode.AC_three_phase_core])
mgr.enforce_limits(value={"uuid": "evse_manager", "valid_for": 60, "limits_root_side": {}, "schedule": []})
local: SetLocalMaxCurrentResult = mgr.set_local_max_current(max_current=16.0)
switched: SwitchThreePhasesWhileChargingResult = mgr.switch_three_phases_while_charging(three_phases=False)

# -- vars: each with its own type ---------------------------------------------------------------------
limits: Optional[Limits] = mgr.get("limits")
meter: Optional[Powermeter] = mgr.get("powermeter")
ready: Optional[bool] = mgr.get("ready")
encoded: Optional[bytes] = mgr.get("limits", encoding="json")
enforced: Optional[EnforcedLimits] = mgr.get("enforced_limits")


def on_event(ev: SessionEvents) -> None:
    print(ev.event.value)


unsubscribe: Callable[[], None] = mgr.subscribe("session_event", on_event)
mgr.subscribe("powermeter", lambda m: print(m.energy_Wh_import.total))
mgr.subscribe("limits", lambda data: print(data.decode()), encoding="json")
for var in mgr.VARS:
    mgr.subscribe(var, print, encoding="msgpack")


# -- asyncio -----------------------------------------------------------------------------------------------
async def consume() -> None:
    await mgr.wait_ready(timeout_s=5.0)
    stream: EventStream[SessionEvents] = mgr.events(maxsize=100)
    async for ev in stream:
        print(ev.event.value, stream.dropped)
    pairs: EventStream[VarEvent] = mgr.events("powermeter", "limits", overflow="raise")
    async for pair in pairs:
        print(pair.name, pair.value)
    async with Runner(mgr):
        pass


# -- misuse: each line below must be reported ------------------------------------------------------------
mgr.pause_charging(123)  # error
x: int = mgr.get_evse()  # error
mgr.reserve(reservation="7")  # error
mgr.reserve("7")  # error
mgr.enable_disable(connector_id=1)  # error
mgr.authorize_response(token={}, validation_result={})  # error
flag: bool = mgr.set_local_max_current(16.0)  # error
mgr.set_local_max_current(max_current="16 A")  # error
mgr.switch_three_phases_while_charging(three_phases=3)  # error
mgr.update_allowed_energy_transfer_modes(allowed_energy_transfer_modes=42)  # error
mgr.stop_transaction()  # error
mgr.force_unlock()  # error
no_evse: List[Evse] = mgr.get_evse()  # error
wrong_var: Optional[Limits] = mgr.get("powermeter")  # error
not_a_var = mgr.get("current_limit")  # error
mgr.subscribe("no_such_var", on_event)  # error
mgr.subscribe("powermeter", on_event)  # error
mgr.subscribe("session_event", lambda ev: ev.no_such_field)  # error
wrong_bytes: Optional[Limits] = mgr.get("limits", encoding="json")  # error
mgr.get("limits", encoding="yaml")  # error
wrong_stream: EventStream[VarEvent] = mgr.events()  # error
mgr.events("no_such_var")  # error
mgr.events(maxsize="big")  # error
mgr.events(overflow="block")  # error


async def misuse() -> None:
    await mgr.wait_ready(timeout_s="soon")  # error
    async for ev in mgr.events():
        print(ev.no_such_field)  # error
