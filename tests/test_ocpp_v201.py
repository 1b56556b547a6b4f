"""OCPP 2.0.1 core against a CSMS built with the ``ocpp`` package: TransactionEvent sequences (trigger
reasons, charging states, seqNo, stopped reasons), StatusNotification, remote control, reservations,
availability, smart charging and the device model (spec/ocpp.md §4)."""
from __future__ import annotations

import asyncio

import pytest

from evsefast.ocpp.testing import Csms, Rig
from evsefast.ocpp.timefmt import iso

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def rig(**kw):
    kw.setdefault("settings", QUIET)
    return Rig("2.0.1", csms=Csms("2.0.1"), **kw)


def events(r):
    """(eventType, triggerReason, chargingState, stoppedReason) of every TransactionEvent."""
    out = []
    for m in r.csms.of("TransactionEvent"):
        info = m.payload["transaction_info"]
        out.append((m.payload["event_type"], m.payload["trigger_reason"], info.get("charging_state"),
                    info.get("stopped_reason")))
    return out


def test_normal_session_plug_in_first():
    async def main():
        async with rig() as r:
            h = r.h()
            boot = r.csms.of("BootNotification")[0].payload
            assert boot["reason"] == "PowerUp" and boot["charging_station"]["vendor_name"] == "evsefast"
            h.plug_in()
            assert await r.cp.present_token(1, "TAG1") == "Started"
            h.cp("C")
            h.sample(1800.0)
            h.cp("B")
            h.cp("A")
            await r.settle()
            assert events(r) == [
                ("Started", "CablePluggedIn", "EVConnected", None),
                ("Updated", "Authorized", None, None),
                ("Updated", "ChargingStateChanged", "Charging", None),
                ("Updated", "ChargingStateChanged", "SuspendedEV", None),
                ("Ended", "EVCommunicationLost", "Idle", "EVDisconnected"),
            ]
            msgs = r.csms.of("TransactionEvent")
            assert [m.payload["seq_no"] for m in msgs] == [0, 1, 2, 3, 4]
            tid = h.mgr.session_events[1].uuid  # the transaction id is the session uuid
            assert {m.payload["transaction_info"]["transaction_id"] for m in msgs} == {tid}
            assert msgs[0].payload["evse"] == {"id": 1, "connector_id": 1}
            assert msgs[1].payload["id_token"] == {"id_token": "TAG1", "type": "ISO14443"}
            assert all("offline" not in m.payload for m in msgs)
            begin = msgs[0].payload["meter_value"][0]["sampled_value"][0]
            end = msgs[-1].payload["meter_value"][0]["sampled_value"][0]
            assert (begin["context"], begin["value"]) == ("Transaction.Begin", 1000.0)
            assert (end["context"], end["value"], end["unit_of_measure"]) == ("Transaction.End", 1800.0, {"unit": "Wh"})
            assert r.csms.statuses(1) == ["Available", "Occupied", "Available"]
            st = r.csms.of("StatusNotification")[1].payload
            assert st["evse_id"] == 1 and st["connector_id"] == 1
    run(main())


def test_authorization_first_and_ev_connection_timeout():
    async def main():
        async with rig(settings=dict(QUIET, connection_timeout_s=1)) as r:
            assert await r.cp.present_token(1, "TAG1") == "Started"
            await asyncio.sleep(0.3)  # 1 s at 20x, no EV
            await r.settle()
            assert events(r) == [("Started", "Authorized", "Idle", None),
                                 ("Ended", "EVConnectTimeout", "Idle", "Timeout")]
            assert r.csms.statuses(1) == ["Available"]
    run(main())


def test_request_start_with_ev_plugged_returns_transaction_id():
    async def main():
        async with rig() as r:
            h = r.h()
            h.plug_in()
            await r.settle()
            tid = r.csms.of("TransactionEvent")[0].payload["transaction_info"]["transaction_id"]
            res = await r.csms.call("CP1", "RequestStartTransaction", id_token={"id_token": "R1", "type": "Central"},
                                    remote_start_id=42, evse_id=1)
            assert res.status == "Accepted" and res.transaction_id == tid
            h.cp("C")
            await r.settle()
            upd = r.csms.of("TransactionEvent")[1].payload
            assert upd["trigger_reason"] == "RemoteStart"
            assert upd["transaction_info"]["remote_start_id"] == 42
            assert upd["id_token"] == {"id_token": "R1", "type": "Central"}
            assert h.mgr.state == "Charging"
            again = await r.csms.call("CP1", "RequestStartTransaction", id_token={"id_token": "R2", "type": "Central"},
                                      remote_start_id=43, evse_id=1)
            assert again.status == "Rejected"  # already authorized
    run(main())


def test_request_start_before_plug_in_and_request_stop():
    async def main():
        async with rig() as r:
            h = r.h()
            res = await r.csms.call("CP1", "RequestStartTransaction", id_token={"id_token": "R1", "type": "Central"},
                                    remote_start_id=7)
            assert res.status == "Accepted" and res.transaction_id is None
            await r.settle()
            h.plug_in()
            h.cp("C")
            h.sample(1500)
            await r.settle()
            tid = r.csms.of("TransactionEvent")[0].payload["transaction_info"]["transaction_id"]
            assert (await r.csms.call("CP1", "RequestStopTransaction", transaction_id="nope")).status == "Rejected"
            assert (await r.csms.call("CP1", "RequestStopTransaction", transaction_id=tid)).status == "Accepted"
            await r.settle()
            h.cp("A")
            await r.settle()
            assert events(r) == [
                ("Started", "RemoteStart", "Idle", None),
                ("Updated", "CablePluggedIn", "EVConnected", None),
                ("Updated", "ChargingStateChanged", "Charging", None),
                ("Ended", "RemoteStop", "EVConnected", "Remote"),
            ]
            assert r.csms.of("TransactionEvent")[0].payload["transaction_info"]["remote_start_id"] == 7
            assert r.csms.statuses(1) == ["Available", "Occupied", "Available"]
    run(main())


def test_evse_pause_by_zero_amp_profile_and_composite():
    async def main():
        async with rig() as r:
            h = r.h()
            await r.charge()
            tid = r.csms.of("TransactionEvent")[0].payload["transaction_info"]["transaction_id"]
            profile = {"id": 11, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                       "charging_profile_kind": "Relative", "transaction_id": tid, "charging_schedule": [{
                           "id": 1, "charging_rate_unit": "A",
                           "charging_schedule_period": [{"start_period": 0, "limit": 0.0}]}]}
            res = await r.csms.call("CP1", "SetChargingProfile", evse_id=1, charging_profile=profile)
            assert res.status == "Accepted"
            await r.settle()
            assert h.mgr.state == "ChargingPausedEVSE"
            comp = await r.csms.call("CP1", "GetCompositeSchedule", duration=300, evse_id=1, charging_rate_unit="A")
            assert comp.status == "Accepted"
            assert [(p["start_period"], p["limit"]) for p in comp.schedule["charging_schedule_period"]] == [(0, 0.0)]
            crit = {"charging_profile_purpose": "TxProfile"}
            assert (await r.csms.call("CP1", "ClearChargingProfile", charging_profile_criteria=crit)).status \
                == "Accepted"
            await r.settle()
            assert h.mgr.state == "Charging"
            assert [e[2] for e in events(r)][-2:] == ["SuspendedEVSE", "Charging"]
            wrong = dict(profile, id=12, transaction_id="other")
            assert (await r.csms.call("CP1", "SetChargingProfile", evse_id=1, charging_profile=wrong)).status \
                == "Rejected"
    run(main())


def test_reservation_and_cancel():
    async def main():
        async with rig() as r:
            h = r.h()
            exp = iso(r.cp.proto.now_s() + 3600)
            res = await r.csms.call("CP1", "ReserveNow", id=5, expiry_date_time=exp,
                                    id_token={"id_token": "RES1", "type": "ISO14443"}, evse_id=1)
            assert res.status == "Accepted"
            await r.settle()
            assert (await r.cp.present_token(1, "OTHER")).startswith("Rejected")
            assert await r.cp.present_token(1, "RES1") == "Started"
            h.plug_in()
            await r.settle()
            started = r.csms.of("TransactionEvent")[0].payload
            assert started["reservation_id"] == 5
            assert r.csms.statuses(1) == ["Available", "Reserved", "Available", "Occupied"]
            assert (await r.csms.call("CP1", "CancelReservation", reservation_id=5)).status == "Rejected"
    run(main())


def test_unlock_connector():
    async def main():
        async with rig() as r:
            h = r.h()
            bad = await r.csms.call("CP1", "UnlockConnector", evse_id=2, connector_id=1)
            assert bad.status == "UnknownConnector"
            await r.charge()
            busy = await r.csms.call("CP1", "UnlockConnector", evse_id=1, connector_id=1)
            assert busy.status == "OngoingAuthorizedTransaction"  # F05.FR.02
            assert h.mgr.state == "Charging"
            await r.cp.present_token(1, "TAG1")  # stop locally, cable still in
            await r.settle()
            ok = await r.csms.call("CP1", "UnlockConnector", evse_id=1, connector_id=1)
            assert ok.status == "Unlocked" and ("unlock",) in h.board.commands
            assert events(r)[-1] == ("Ended", "StopAuthorized", "EVConnected", "Local")
    run(main())


def test_change_availability_during_transaction_is_scheduled():
    async def main():
        async with rig() as r:
            h = r.h()
            await r.charge()
            res = await r.csms.call("CP1", "ChangeAvailability", operational_status="Inoperative",
                                    evse={"id": 1})
            assert res.status == "Scheduled"
            await r.settle()
            assert h.mgr.state == "Charging"
            h.cp("A")
            await r.settle()
            assert r.csms.statuses(1) == ["Available", "Occupied", "Unavailable"]
            assert (await r.csms.call("CP1", "ChangeAvailability", operational_status="Operative")).status \
                == "Accepted"
            await r.settle()
            assert r.csms.statuses(1)[-1] == "Available"
    run(main())


def test_reset_immediate_and_on_idle():
    async def main():
        async with rig() as r:
            h = r.h()
            await r.charge()
            res = await r.csms.call("CP1", "Reset", type="OnIdle")
            assert res.status == "Scheduled"
            assert (await r.csms.call("CP1", "Reset", type="Immediate", evse_id=1)).status == "Rejected"
            h.cp("A")  # the session ends: the scheduled reset runs
            await r.csms.wait_for("BootNotification", 2)
            assert r.csms.of("BootNotification")[1].payload["reason"] == "RemoteReset"
            await r.registered()
            h.plug_in()
            await r.cp.present_token(1, "TAG2")
            h.cp("C")
            await r.settle()
            assert (await r.csms.call("CP1", "Reset", type="Immediate")).status == "Accepted"
            await r.csms.wait_for("BootNotification", 3)
            assert events(r)[-1] == ("Ended", "ResetCommand", "EVConnected", "ImmediateReset")
    run(main())


def test_get_and_set_variables():
    async def main():
        async with rig() as r:
            def item(c, v, **extra):
                d = {"component": {"name": c}, "variable": {"name": v}}
                d.update(extra)
                return d
            res = await r.csms.call("CP1", "GetVariables", get_variable_data=[
                item("OCPPCommCtrlr", "HeartbeatInterval"), item("TxCtrlr", "TxStartPoint"),
                item("SecurityCtrlr", "BasicAuthPassword"), item("Nope", "X"), item("TxCtrlr", "Nope"),
                item("OCPPCommCtrlr", "HeartbeatInterval", attribute_type="Target"),
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}},
                {"component": {"name": "EVSE", "evse": {"id": 7}}, "variable": {"name": "AvailabilityState"}},
                item("OCPPCommCtrlr", "MessageAttempts", variable={"name": "MessageAttempts",
                                                                   "instance": "TransactionEvent"}),
            ])
            got = [(x["attribute_status"], x.get("attribute_value")) for x in res.get_variable_result]
            assert got == [("Accepted", "300"), ("Accepted", "EVConnected,Authorized"), ("Rejected", None),
                           ("UnknownComponent", None), ("UnknownVariable", None), ("NotSupportedAttributeType", None),
                           ("Accepted", "Available"), ("UnknownComponent", None), ("Accepted", "3")]
            res = await r.csms.call("CP1", "SetVariables", set_variable_data=[
                dict(item("SampledDataCtrlr", "TxUpdatedInterval"), attribute_value="30"),
                dict(item("SampledDataCtrlr", "TxUpdatedMeasurands"), attribute_value="Temperature"),
                dict(item("TxCtrlr", "TxStartPoint"), attribute_value="PowerPathClosed"),
                dict(item("OCPPCommCtrlr", "HeartbeatInterval"), attribute_value="60"),
                dict(item("Nope", "X"), attribute_value="1"),
            ])
            assert [x["attribute_status"] for x in res.set_variable_result] == [
                "Accepted", "Rejected", "Rejected", "Accepted", "UnknownComponent"]
            assert r.cp.settings.meter_sample_interval_s == 30 and r.cp.proto.heartbeat_s == 60
    run(main())


def test_trigger_and_data_transfer():
    async def main():
        async with rig() as r:
            n = len(r.csms.of("StatusNotification"))
            res = await r.csms.call("CP1", "TriggerMessage", requested_message="StatusNotification",
                                    evse={"id": 1, "connector_id": 1})
            assert res.status == "Accepted"
            await r.csms.wait_for("StatusNotification", n + 1)
            assert (await r.csms.call("CP1", "TriggerMessage", requested_message="MeterValues")).status == "Accepted"
            mv = (await r.csms.wait_for("MeterValues"))[0].payload
            assert mv["evse_id"] == 1 and mv["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
            assert (await r.csms.call("CP1", "TriggerMessage",
                                      requested_message="LogStatusNotification")).status == "NotImplemented"
            assert (await r.csms.call("CP1", "DataTransfer", vendor_id="x")).status == "UnknownVendorId"
    run(main())


@pytest.mark.parametrize("status", ["Invalid", "Blocked"])
def test_rejected_token_in_transaction_event_response(status):
    async def main():
        async with rig(settings=dict(QUIET, local_pre_authorize=True)) as r:
            h = r.h()
            r.cp.proto.cache.update("T", {"status": "Accepted"})
            r.csms.id_tag_status["T"] = status
            h.plug_in()
            await r.cp.present_token(1, "T")
            h.cp("C")
            await r.csms.wait_for(lambda: any(e[0] == "Ended" for e in events(r)))
            assert events(r)[-1][1:] == ("Deauthorized", "EVConnected", "DeAuthorized")
    run(main())


def test_csms_down_at_boot_events_marked_offline_then_delivered_in_order():
    async def main():
        settings = dict(QUIET, allow_offline_tx_for_unknown_id=True, meter_sample_interval_s=1)
        async with Rig("2.0.1", csms=Csms("2.0.1", heartbeat_interval=1), settings=settings,
                       start_csms=False) as r:
            h = r.h()
            h.plug_in()
            assert await r.cp.present_token(1, "ANY") == "Started"
            h.cp("C")
            await asyncio.sleep(0.15)
            h.cp("A")
            queued = [m.payload["body"]["seq_no"] for m in r.cp.store.queued()]
            assert queued == list(range(len(queued))) and len(queued) >= 5
            await r.csms.start()
            await r.registered()
            await r.csms.wait_for("Heartbeat", timeout=5)  # the Accepted interval (1 s at 20x)
            got = r.csms.of("TransactionEvent")
            assert [m.payload["seq_no"] for m in got] == queued  # in order, none lost or duplicated
            assert all(m.payload["offline"] is True for m in got)
            assert got[0].payload["event_type"] == "Started" and got[-1].payload["event_type"] == "Ended"
    run(main())


def test_bad_requests_get_a_callerror_and_change_nothing():
    from ocpp.exceptions import OCPPError
    from ocpp.v201 import call as call201

    async def main():
        async with rig() as r:
            await r.charge()
            before = (r.h().mgr.state, r.csms.actions())
            conn = r.csms.connections["CP1"]
            with pytest.raises(OCPPError):
                await r.csms.call_unknown("CP1", "FooBar", x=1)
            with pytest.raises(OCPPError):  # idToken missing
                await conn.call(call201.RequestStartTransaction(id_token=None, remote_start_id=1), suppress=False,
                                skip_schema_validation=True)
            with pytest.raises(OCPPError):  # enum value not allowed
                await conn.call(call201.Reset(type="Sideways"), suppress=False, skip_schema_validation=True)
            await r.csms.send_raw("CP1", "[2, 'not json")
            assert (await r.csms.call("CP1", "RequestStopTransaction", transaction_id="x")).status == "Rejected"
            await r.settle()
            assert (r.h().mgr.state, r.csms.actions()) == before
            assert (await r.csms.call("CP1", "ClearCache")).status == "Accepted"  # still answering
    run(main())
