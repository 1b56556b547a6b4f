"""Faults: the CSMS down at boot, a connection lost mid-transaction, CALLERRORs and retries, bad
requests from the CSMS.  Nothing may be lost, duplicated or reordered (S16 §3.7), and no bad request
may crash the charge point or change its state (spec/ocpp.md §1.3, §5 item 10)."""
from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.exceptions import OCPPError
from ocpp.v16 import call as call16

from evsefast.ocpp.testing import Csms, Rig

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _record_pushes(rig):
    """Record every transaction message the charge point queues: (action, body) in queue order."""
    proto = rig.cp.proto
    pushed = []
    real = proto.outbox.push

    def push(action, payload, *, persistent):
        item = real(action, payload, persistent=persistent)
        if persistent:
            pushed.append(item)
        return item
    proto.outbox.push = push
    return pushed


def _tx_messages(csms):
    return [m for m in csms.messages if m.action in ("StartTransaction", "MeterValues", "StopTransaction")]


def _same(pushed_item, received, tx_id):
    body = dict(pushed_item.payload["body"])
    if "transaction_id" in body:
        body["transaction_id"] = tx_id
    return pushed_item.action == received.action and body == received.payload


def test_csms_down_at_boot_session_goes_on_then_everything_arrives_in_order():
    async def main():
        settings = {"meter_sample_interval_s": 1, "heartbeat_interval_s": 0, "allow_offline_tx_for_unknown_id": True}
        rig = Rig(settings=settings, start_csms=False)
        async with rig:
            pushed = _record_pushes(rig)
            h = rig.h()
            h.plug_in()
            assert await rig.cp.present_token(1, "UNKNOWN1") == "Started"  # offline: AllowOfflineTxForUnknownId
            h.cp("C")
            assert h.mgr.state == "Charging"
            for e in range(1100, 1400, 50):
                h.sample(e)
                await asyncio.sleep(0.06)  # a MeterValues per 50 ms at 20x
            h.cp("A")
            assert rig.csms.messages == []
            assert len(pushed) >= 4 and rig.cp.proto.outbox.pending_persistent == len(pushed)
            await rig.csms.start()  # the CSMS comes up on the port the charge point tries
            await rig.registered()
            await rig.settle()
            got = _tx_messages(rig.csms)
            assert len(got) == len(pushed)  # none lost, none duplicated
            assert got[0].action == "StartTransaction" and got[-1].action == "StopTransaction"
            assert all(_same(p, g, 1) for p, g in zip(pushed, got))  # in order, transactionId remapped
            stop = got[-1].payload
            assert stop["transaction_id"] == 1 and stop["meter_stop"] == 1350 and stop["reason"] == "EVDisconnected"
            # registration first, then the current status, then the queued transaction messages
            assert rig.csms.actions()[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
            assert rig.csms.statuses(1) == ["Available"]  # only the current status, not the history
            assert rig.cp.store.queued() == []
    run(main())


def test_connection_lost_mid_transaction_and_restored():
    async def main():
        settings = {"meter_sample_interval_s": 1, "heartbeat_interval_s": 0}
        async with Rig(settings=settings) as rig:
            pushed = _record_pushes(rig)
            h = rig.h()
            h.plug_in()
            await rig.cp.present_token(1, "TAG1")
            h.cp("C")
            await rig.csms.wait_for("MeterValues")
            # cut while nothing is in flight: a message the CSMS got but could not confirm would be sent
            # again (at-least-once: OCPP messages carry no id a CSMS could deduplicate by)
            rig.cp.settings.set("meter_sample_interval_s", 0, persist=False)
            await rig.settle()
            await rig.csms.stop()  # the CSMS goes away with the connection
            rig.cp.settings.set("meter_sample_interval_s", 1, persist=False)
            for e in range(1100, 1400, 50):
                h.sample(e)
                await asyncio.sleep(0.06)
            h.cp("B")
            h.advance(6000)
            h.cp("C")
            h.cp("A")
            offline = list(rig.cp.store.queued())
            assert [m.action for m in offline][0] == "MeterValues" and offline[-1].action == "StopTransaction"
            await rig.csms.start()
            await rig.csms.wait_for("StopTransaction", timeout=10)
            await rig.settle()
            got = _tx_messages(rig.csms)
            assert len(got) == len(pushed)
            assert all(_same(p, g, 1) for p, g in zip(pushed, got))
            assert len(rig.csms.of("BootNotification")) == 1  # a reconnect does not register again
            assert rig.csms.statuses(1)[-1] == "Available"
            assert rig.cp.stats.connects == 2
    run(main())


def test_callerror_retried_then_dropped_and_transaction_id_minus_one():
    async def main():
        settings = dict(QUIET, tx_message_attempts=2, tx_message_retry_interval_s=1)
        async with Rig(settings=settings) as rig:
            rig.csms.fail["StartTransaction"] = 2  # both attempts fail
            h = rig.h()
            h.plug_in()
            await rig.cp.present_token(1, "TAG1")
            h.cp("C")
            h.cp("A")
            await rig.csms.wait_for("StopTransaction", timeout=10)
            await rig.settle()
            assert [m.action for m in _tx_messages(rig.csms)] == ["StartTransaction", "StartTransaction",
                                                                  "StopTransaction"]
            assert rig.csms.of("StopTransaction")[0].payload["transaction_id"] == -1  # E16 §3.18
            rig.csms.fail["StopTransaction"] = 1  # one failure, then accepted on the retry
            h.plug_in()
            await rig.cp.present_token(1, "TAG2")
            h.cp("A")
            await rig.csms.wait_for("StopTransaction", 3, timeout=10)
            await rig.settle()
            stops = rig.csms.of("StopTransaction")
            assert stops[1].payload == stops[2].payload and stops[2].payload["transaction_id"] == 1
    run(main())


def test_bad_requests_get_a_callerror_and_change_nothing():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            before = (h.mgr.state, list(rig.csms.actions()), h.mgr.get("enforced_limits"))
            csms = rig.csms
            conn = csms.connections["CP1"]
            with pytest.raises(OCPPError) as unknown:
                await csms.call_unknown("CP1", "FooBar", x=1)
            # the ocpp package answers an unknown action with NotSupported (it swaps the two codes, §1.3)
            assert unknown.value.code in ("NotSupported", "NotImplemented")
            with pytest.raises(OCPPError):  # idTag missing
                await conn.call(call16.RemoteStartTransaction(id_tag=None), suppress=False,
                                skip_schema_validation=True)
            with pytest.raises(OCPPError):  # wrong type
                await conn.call(call16.ChangeAvailability(connector_id="one", type="Inoperative"), suppress=False,
                                skip_schema_validation=True)
            with pytest.raises(OCPPError):  # enum value not allowed
                await conn.call(call16.Reset(type="Sideways"), suppress=False, skip_schema_validation=True)
            with pytest.raises(OCPPError):  # a profile limit that is not a multiple of 0.1
                await conn.call(call16.SetChargingProfile(connector_id=1, cs_charging_profiles={
                    "charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                    "charging_profile_kind": "Relative", "charging_schedule": {
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [{"start_period": 0, "limit": 6.05}]}}),
                    suppress=False, skip_schema_validation=True)
            with pytest.raises(OCPPError):  # a known action without a handler (firmware management)
                await csms.call("CP1", "GetDiagnostics", location="ftp://example/")
            await csms.send_raw("CP1", "this is not json")
            await csms.send_raw("CP1", json.dumps([7, "x", "Reset", {}]))
            # wrong-state requests: spec rejections
            assert (await csms.call("CP1", "RemoteStartTransaction", id_tag="X", connector_id=1)).status == "Rejected"
            assert (await csms.call("CP1", "RemoteStopTransaction", transaction_id=999)).status == "Rejected"
            assert (await csms.call("CP1", "UnlockConnector", connector_id=7)).status == "NotSupported"
            assert (await csms.call("CP1", "ChangeAvailability", connector_id=7, type="Inoperative")).status \
                == "Rejected"
            assert (await csms.call("CP1", "GetCompositeSchedule", connector_id=7, duration=60)).status == "Rejected"
            await rig.settle()
            assert (h.mgr.state, csms.actions(), h.mgr.get("enforced_limits")) == before
            # still alive and answering
            res = await csms.call("CP1", "GetConfiguration", key=["HeartbeatInterval"])
            assert res.configuration_key[0]["value"] == "300"
    run(main())


def test_faulted_connector_rejects_remote_start_and_reservation():
    async def main():
        async with Rig(settings=QUIET) as rig:
            from evsefast.ocpp.timefmt import iso
            from evsefast.types.board import BoardError, Severity
            h = rig.h()
            h.mgr.on_error_raised(BoardError(type="evse_board_support/DiodeFault", message="d",
                                             severity=Severity.High))
            h.mgr.tick()
            await rig.settle()
            assert rig.csms.statuses(1)[-1] == "Faulted"
            assert (await rig.csms.call("CP1", "RemoteStartTransaction", id_tag="X", connector_id=1)).status \
                == "Rejected"
            res = await rig.csms.call("CP1", "ReserveNow", connector_id=1, expiry_date=iso(rig.cp.proto.now_s() + 60),
                                      id_tag="R", reservation_id=1)
            assert res.status == "Faulted"
            assert (await rig.cp.present_token(1, "X")).startswith("Rejected")
    run(main())


def test_queue_survives_a_restart_and_is_delivered_in_order(tmp_path):
    async def main():
        store = tmp_path / "cp.sqlite"
        settings = {"meter_sample_interval_s": 1, "heartbeat_interval_s": 0, "allow_offline_tx_for_unknown_id": True}
        async with Rig(settings=settings, store=store, start_csms=False) as rig:  # no CSMS at all
            pushed = _record_pushes(rig)
            h = rig.h()
            h.plug_in()
            await rig.cp.present_token(1, "T1")
            h.cp("C")
            for e in range(1100, 1300, 50):
                h.sample(e)
                await asyncio.sleep(0.06)
            h.cp("A")
            expected = [(p.action, p.payload["body"]) for p in pushed]
        assert len(expected) >= 3
        async with Rig(settings=settings, store=store) as rig2:  # a new process, the CSMS is up
            await rig2.settle()
            got = _tx_messages(rig2.csms)
            assert [m.action for m in got] == [a for a, _ in expected]
            for (action, body), m in zip(expected, got):
                want = dict(body)
                if "transaction_id" in want:
                    want["transaction_id"] = 1  # the id from StartTransaction.conf, after the restart
                assert m.payload == want
            assert rig2.cp.store.queued() == []
    run(main())
