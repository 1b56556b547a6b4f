"""OCPP 1.6J sessions against a CSMS built with the ``ocpp`` package (server side, localhost websocket).

The StatusNotification sequences are the ones of the S16 §4.9 transition table (spec/ocpp.md §2.2);
Start/StopTransaction carry the meter values of the billing meter and the stop reasons of §2.4.
"""
from __future__ import annotations

import asyncio

import pytest

from evsefast.ocpp.testing import Rig

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _started(rig, i=0):
    return rig.csms.of("StartTransaction")[i].payload


def _stopped(rig, i=0):
    return rig.csms.of("StopTransaction")[i].payload


def test_normal_session_plug_in_first():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            assert rig.csms.actions()[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
            first = rig.csms.of("StatusNotification")
            assert [m.payload["connector_id"] for m in first] == [0, 1]  # connector 0 first (E16 §3.22)
            h.plug_in()
            assert await rig.cp.present_token(1, "TAG1") == "Started"
            h.cp("C")
            h.sample(1234.4)
            await rig.settle()
            h.cp("B")
            h.cp("A")
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "SuspendedEV", "Available"]
            assert rig.csms.actions() == [
                "BootNotification", "StatusNotification", "StatusNotification", "StatusNotification",
                "Authorize", "StartTransaction", "StatusNotification", "StatusNotification", "StopTransaction",
                "StatusNotification"]
            start = _started(rig)
            assert start["connector_id"] == 1 and start["id_tag"] == "TAG1" and start["meter_start"] == 1000
            stop = _stopped(rig)
            assert stop["reason"] == "EVDisconnected" and stop["meter_stop"] == 1234
            assert stop["transaction_id"] == 1 and stop["id_tag"] == "TAG1"
            data = stop["transaction_data"]
            assert [d["sampled_value"][0]["context"] for d in data] == ["Transaction.Begin", "Transaction.End"]
            assert [d["sampled_value"][0]["value"] for d in data] == ["1000", "1234.4"]
            for m in rig.csms.of("StatusNotification"):
                assert m.payload["error_code"] == "NoError"
    run(main())


def test_authorization_first_then_plug_in():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            assert await rig.cp.present_token(1, "TAG1") == "Started"
            await rig.settle()
            assert rig.csms.of("StartTransaction") == []  # no EV yet: no transaction (spec §2.3)
            h.plug_in()
            h.cp("C")
            await rig.settle()
            assert len(rig.csms.of("StartTransaction")) == 1
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging"]
    run(main())


def test_remote_start_with_ev_plugged():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            h.plug_in()
            await rig.settle()
            res = await rig.csms.call("CP1", "RemoteStartTransaction", id_tag="REMOTE1", connector_id=1)
            assert res.status == "Accepted"
            await rig.csms.wait_for("StartTransaction")
            h.cp("C")
            await rig.settle()
            assert _started(rig)["id_tag"] == "REMOTE1"
            assert rig.csms.of("Authorize") == []  # AuthorizeRemoteTxRequests false: no Authorize
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging"]
            assert h.mgr.state == "Charging"
    run(main())


def test_remote_start_authorize_remote_tx_requests():
    async def main():
        async with Rig(settings=dict(QUIET, authorize_remote_tx=True)) as rig:
            rig.csms.id_tag_status["BLOCKED"] = "Blocked"
            res = await rig.csms.call("CP1", "RemoteStartTransaction", id_tag="BLOCKED", connector_id=1)
            assert res.status == "Accepted"  # accepted and will attempt; the Authorize decides
            await rig.csms.wait_for("Authorize")
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available"]  # never authorized
            res = await rig.csms.call("CP1", "RemoteStartTransaction", id_tag="OK1", connector_id=1)
            await rig.csms.wait_for("Authorize", 2)
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Preparing"]
    run(main())


def test_remote_stop_then_unplug_finishing():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            tid = 1
            bad = await rig.csms.call("CP1", "RemoteStopTransaction", transaction_id=tid + 41)
            assert bad.status == "Rejected"
            h.sample(1500)
            res = await rig.csms.call("CP1", "RemoteStopTransaction", transaction_id=tid)
            assert res.status == "Accepted"
            await rig.csms.wait_for("StopTransaction")
            await rig.settle()
            stop = _stopped(rig)
            assert stop["reason"] == "Remote" and stop["meter_stop"] == 1500 and stop["transaction_id"] == tid
            h.cp("A")
            await rig.settle()
            # C6 then F1: Finishing while the cable is in (LO#813)
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    run(main())


def test_local_stop_same_tag_and_other_tag_rejected():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            assert (await rig.cp.present_token(1, "OTHER")).startswith("Rejected")
            assert await rig.cp.present_token(1, "TAG1") == "Stopped"
            await rig.csms.wait_for("StopTransaction")
            assert _stopped(rig)["reason"] == "Local"
    run(main())


def test_ev_pause_suspended_ev_and_resume():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            h.plug_in()
            await rig.cp.present_token(1, "TAG1")
            h.cp("C")
            h.cp("B")
            await rig.settle()
            h.advance(6000)  # the PWM comes back after 5 s
            h.cp("C")
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "SuspendedEV", "Charging"]
    run(main())


def test_evse_pause_by_zero_amp_profile():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            assert h.mgr.get("enforced_limits").limits_root_side.ac_max_current_A.value == 32.0  # hw max
            profile = {"charging_profile_id": 5, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                       "charging_profile_kind": "Relative", "charging_schedule": {
                           "charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": 0}]}}
            res = await rig.csms.call("CP1", "SetChargingProfile", connector_id=1, cs_charging_profiles=profile)
            assert res.status == "Accepted"
            await rig.settle()
            assert h.mgr.get("enforced_limits").limits_root_side.ac_max_current_A.value == 0.0
            assert h.mgr.state == "ChargingPausedEVSE"
            res = await rig.csms.call("CP1", "ClearChargingProfile", id=5)
            assert res.status == "Accepted"
            await rig.settle()
            assert h.mgr.state == "Charging"
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "SuspendedEVSE", "Charging"]
    run(main())


def test_reservation_tag_check_and_start_carries_reservation_id():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            now = rig.cp.proto.now_s()
            from evsefast.ocpp.timefmt import iso
            res = await rig.csms.call("CP1", "ReserveNow", connector_id=1, expiry_date=iso(now + 3600),
                                      id_tag="RES1", reservation_id=7)
            assert res.status == "Accepted"
            await rig.settle()
            assert (await rig.cp.present_token(1, "SOMEONE")) == "Rejected: reserved for another id tag"
            other = await rig.csms.call("CP1", "ReserveNow", connector_id=1, expiry_date=iso(now + 3600),
                                        id_tag="X", reservation_id=8)
            assert other.status == "Occupied"
            assert await rig.cp.present_token(1, "RES1") == "Started"
            h.plug_in()
            h.cp("C")
            await rig.settle()
            assert _started(rig)["reservation_id"] == 7
            assert rig.csms.statuses(1) == ["Available", "Reserved", "Preparing", "Charging"]
            names = [e.event.value for e in h.mgr.session_events]
            assert "ReservationEnd" in names
    run(main())


def test_reservation_expiry_and_cancel():
    async def main():
        async with Rig(settings=QUIET) as rig:
            from evsefast.ocpp.timefmt import iso
            now = rig.cp.proto.now_s()
            res = await rig.csms.call("CP1", "ReserveNow", connector_id=1, expiry_date=iso(now + 2),
                                      id_tag="RES1", reservation_id=1)
            assert res.status == "Accepted"
            await asyncio.sleep(0.3)  # 2 s at the rig's 20x speed
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Reserved", "Available"]
            await rig.csms.call("CP1", "ReserveNow", connector_id=1, expiry_date=iso(now + 3600), id_tag="R",
                                reservation_id=2)
            assert (await rig.csms.call("CP1", "CancelReservation", reservation_id=99)).status == "Rejected"
            assert (await rig.csms.call("CP1", "CancelReservation", reservation_id=2)).status == "Accepted"
            await rig.settle()
            assert rig.csms.statuses(1)[-2:] == ["Reserved", "Available"]
            zero = await rig.csms.call("CP1", "ReserveNow", connector_id=0, expiry_date=iso(now + 60), id_tag="R",
                                       reservation_id=3)
            assert zero.status == "Rejected"  # ReserveConnectorZeroSupported false
    run(main())


def test_unlock_connector_during_transaction():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            res = await rig.csms.call("CP1", "UnlockConnector", connector_id=1)
            assert res.status == "Unlocked"
            await rig.csms.wait_for("StopTransaction")
            assert _stopped(rig)["reason"] == "UnlockCommand"
            assert ("unlock",) in h.board.commands
            assert (await rig.csms.call("CP1", "UnlockConnector", connector_id=2)).status == "NotSupported"
            h.cp("A")
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    run(main())


def test_availability_change_during_transaction_is_scheduled(tmp_path):
    async def main():
        store = tmp_path / "cp.sqlite"
        async with Rig(settings=QUIET, store=store) as rig:
            h = rig.h()
            await rig.charge()
            res = await rig.csms.call("CP1", "ChangeAvailability", connector_id=1, type="Inoperative")
            assert res.status == "Scheduled"
            await rig.settle()
            assert h.mgr.state == "Charging"  # the session goes on (never abandoned)
            h.cp("A")
            await rig.settle()
            # directly to Unavailable at the unplug, never via Available (C8, LO#809)
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Charging", "Unavailable"]
            assert h.mgr.state == "Disabled"
            again = await rig.csms.call("CP1", "ChangeAvailability", connector_id=1, type="Inoperative")
            assert again.status == "Accepted"
            assert (await rig.csms.call("CP1", "ChangeAvailability", connector_id=3, type="Operative")).status \
                == "Rejected"
        # persisted across a restart (S16 §4.9 note): boots Unavailable
        async with Rig(settings=QUIET, store=store) as rig2:
            assert rig2.csms.statuses(1) == ["Unavailable"]
            assert rig2.h().mgr.state == "Disabled"
            res = await rig2.csms.call("CP1", "ChangeAvailability", connector_id=1, type="Operative")
            assert res.status == "Accepted"
            await rig2.settle()
            assert rig2.csms.statuses(1) == ["Unavailable", "Available"]
    run(main())


def test_charge_point_wide_availability():
    async def main():
        async with Rig(settings=QUIET, connectors=2) as rig:
            res = await rig.csms.call("CP1", "ChangeAvailability", connector_id=0, type="Inoperative")
            assert res.status == "Accepted"
            await rig.settle()
            assert rig.csms.statuses(0) == ["Available", "Unavailable"]
            assert rig.csms.statuses(1) == ["Available", "Unavailable"]
            assert rig.csms.statuses(2) == ["Available", "Unavailable"]
            assert (await rig.cp.present_token(1, "T")).startswith("Rejected")
    run(main())


@pytest.mark.parametrize("status", ["Invalid", "Blocked"])
def test_start_transaction_rejected_id_tag_stops_with_deauthorized(status):
    async def main():
        async with Rig(settings=dict(QUIET, local_pre_authorize=True)) as rig:
            h = rig.h()
            rig.cp.proto.cache.update("CACHED", {"status": "Accepted"})  # accepted locally ...
            rig.csms.id_tag_status["CACHED"] = status  # ... but the CSMS says otherwise
            h.plug_in()
            assert await rig.cp.present_token(1, "CACHED") == "Started"
            assert rig.csms.of("Authorize") == []  # LocalPreAuthorize with a cached Accepted tag
            await rig.csms.wait_for("StopTransaction")
            assert _stopped(rig)["reason"] == "DeAuthorized"
            assert rig.cp.proto.cache.lookup("CACHED").status == status
    run(main())


def test_limits_follow_the_schedule_periods_as_they_begin_and_end():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()

            async def clock():  # the managers' time runs 20x (the rig's factor): 100 ms per 5 ms
                while True:
                    h.advance(100)
                    await asyncio.sleep(0.005)
            ticker = asyncio.ensure_future(clock())
            try:
                from evsefast.ocpp.timefmt import iso
                now = rig.cp.proto.now_s()
                profile = {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                           "charging_profile_kind": "Absolute", "charging_schedule": {
                               "start_schedule": iso(now), "charging_rate_unit": "W", "duration": 30,
                               "charging_schedule_period": [{"start_period": 0, "limit": 11040},
                                                            {"start_period": 10, "limit": 2300, "number_phases": 1},
                                                            {"start_period": 20, "limit": 0}]}}
                res = await rig.csms.call("CP1", "SetChargingProfile", connector_id=0, cs_charging_profiles=profile)
                assert res.status == "Accepted"
                seen = []

                def amps():
                    return h.mgr.get("enforced_limits").limits_root_side.ac_max_current_A.value
                while rig.cp.proto.now_s() < now + 35:
                    if not seen or seen[-1] != amps():
                        seen.append(amps())
                    await asyncio.sleep(0.005)
                # 11040 W / (230 V x 3) = 16 A; 2300 W on 1 phase = 10 A; 0 W; after 30 s no profile: 32 A
                assert seen == [16.0, 10.0, 0.0, 32.0]
                assert "SuspendedEVSE" in rig.csms.statuses(1)
            finally:
                ticker.cancel()
    run(main())


def test_connection_timeout_plugged_finishing_and_authorized_available():
    async def main():
        async with Rig(settings=dict(QUIET, connection_timeout_s=1)) as rig:
            h = rig.h()
            h.plug_in()  # no authorization within ConnectionTimeOut: Finishing (B6, E16 §3.20)
            await asyncio.sleep(0.2)  # 1 s at 20x
            await rig.settle()
            h.cp("A")
            await rig.settle()
            assert await rig.cp.present_token(1, "TAG1") == "Started"  # authorization, no EV: B1 after the timeout
            await asyncio.sleep(0.2)
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Preparing", "Finishing", "Available", "Preparing",
                                            "Available"]
            assert rig.csms.of("StartTransaction") == []
    run(main())
