"""The manager's own ``evse_manager/*`` errors as events (``subscribe_errors``): raise and clear, in order."""
from __future__ import annotations

import json

from evsefast.testing import FakePowerMeter, ManagerHarness
from evsefast.types import BoardError, Current, ModuleError, TransactionRequestStatus


def _listen(h, encoding=None):
    seen = []
    h.mgr.subscribe_errors(seen.append, encoding)
    return seen


def _brief(events):
    return [(e.type, e.state.value) for e in events]


def test_powermeter_start_failure_raises_then_idle_clears_with_the_same_uuids(kernels):
    h = ManagerHarness(kernels=kernels, meter=FakePowerMeter(start_status=TransactionRequestStatus.UNEXPECTED_ERROR))
    seen = _listen(h)
    h.plug_in()
    h.authorize()
    assert _brief(seen) == [("evse_manager/PowermeterTransactionStartFailed", "Active"),
                            ("evse_manager/Inoperative", "Active")]
    cause, inop = seen
    assert isinstance(cause, ModuleError) and cause.severity.value == "Medium"
    assert inop.message == "evse_manager/PowermeterTransactionStartFailed"
    assert cause.origin.module_id == "evse_manager" and cause.origin.implementation_id == "evse"
    assert cause.origin.mapping.evse == 1
    assert cause.timestamp.endswith("Z") and len(cause.timestamp) == len("2026-01-01T00:00:00.000Z")
    h.cp("A")  # Idle clears the module's own errors (EM/Charger.cpp:2170-2181)
    assert _brief(seen[2:]) == [("evse_manager/PowermeterTransactionStartFailed", "ClearedByModule"),
                                ("evse_manager/Inoperative", "ClearedByModule")]
    assert seen[2].uuid == cause.uuid and seen[3].uuid == inop.uuid
    assert cause.uuid != inop.uuid


def test_raise_and_clear_within_one_tick_are_both_delivered(kernels):
    h = ManagerHarness(kernels=kernels)
    seen = _listen(h)
    err = BoardError(type="evse_board_support/DiodeFault", message="diode")
    h.board.listener.on_error_raised(err)
    h.board.listener.on_error_cleared("evse_board_support/DiodeFault", "")
    assert seen == []  # queued, not yet processed
    h.mgr.tick()
    assert _brief(seen) == [("evse_manager/Inoperative", "Active"), ("evse_manager/Inoperative", "ClearedByModule")]
    assert seen[0].description == "DiodeFault" and seen[0].message == "evse_board_support/DiodeFault"
    assert not h.mgr.active_errors


def test_board_errors_themselves_are_not_own_errors(kernels):
    h = ManagerHarness(kernels=kernels)
    seen = _listen(h)
    h.board.listener.on_error_raised(BoardError(type="evse_board_support/MREC3HighTemperature"))  # ignored type
    h.mgr.tick()
    assert seen == []


def test_soft_over_current_and_json_encoding(kernels):
    h = ManagerHarness(kernels=kernels)
    raw = _listen(h, "json")
    h.start_charging()  # 16 A: the soft over-current limit is (16 + 0.5) x 1.1 = 18.15 A for 7 s
    h.sample(current_A=Current(L1=18.2, L2=18.2, L3=18.2))
    h.advance(7_000)
    docs = [json.loads(b) for b in raw]
    assert [(d["type"], d["state"]) for d in docs] == [("evse_manager/MREC4OverCurrentFailure", "Active"),
                                                       ("evse_manager/Inoperative", "Active")]
    assert set(docs[0]) >= {"type", "sub_type", "message", "description", "severity", "state", "timestamp", "uuid",
                            "vendor_id", "origin"}
    assert docs[0]["severity"] == "High" and docs[0]["origin"] == {
        "module_id": "evse_manager", "implementation_id": "evse", "mapping": {"evse": 1}}


def test_unsubscribe(kernels):
    h = ManagerHarness(kernels=kernels)
    seen = []
    stop = h.mgr.subscribe_errors(seen.append)
    stop()
    h.board.listener.on_error_raised(BoardError(type="evse_board_support/DiodeFault"))
    h.mgr.tick()
    assert seen == []
