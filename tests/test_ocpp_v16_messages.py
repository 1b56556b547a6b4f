"""OCPP 1.6J messages one by one: registration, heartbeat, configuration, meter values, triggers,
resets, smart charging over the wire, faults, the authorization cache and the offline rules."""
from __future__ import annotations

import asyncio

import pytest

from evsefast.ocpp.testing import Csms, Rig
from evsefast.ocpp.timefmt import iso

QUIET = {"meter_sample_interval_s": 0, "heartbeat_interval_s": 0}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_boot_pending_answers_requests_then_accepted():
    async def main():
        csms = Csms("1.6", boot_status=["Pending", "Accepted"], heartbeat_interval=1)
        async with Rig(settings=QUIET, csms=csms, boot_retry_s=0.1) as rig:
            assert rig.csms.actions()[:2] == ["BootNotification", "BootNotification"]
            assert rig.cp.proto.heartbeat_s == 1  # the Accepted interval becomes HeartbeatInterval
            await rig.csms.wait_for("Heartbeat", timeout=5)  # 1 s at 20x
    run(main())


def test_boot_pending_sends_nothing_but_is_answered():
    async def bare():  # the Rig would wait for Accepted: start it by hand
        csms = Csms("1.6", boot_status="Pending", heartbeat_interval=30)
        rig = Rig(settings=QUIET, csms=csms)
        rig.start_csms = False
        await csms.start()
        await rig.__aenter__()
        try:
            await csms.wait_for("BootNotification")
            await csms.wait_connected("CP1")
            res = await csms.call("CP1", "GetConfiguration", key=["HeartbeatInterval"])
            assert res.configuration_key[0]["key"] == "HeartbeatInterval"
            rs = await csms.call("CP1", "RemoteStartTransaction", id_tag="T", connector_id=1)
            assert rs.status == "Rejected"  # not while Pending (S16 §4.2)
            trig = await csms.call("CP1", "TriggerMessage", requested_message="StatusNotification", connector_id=1)
            assert trig.status == "Accepted"
            await csms.wait_for("StatusNotification")
            assert csms.actions() == ["BootNotification", "StatusNotification"]  # only what was triggered
        finally:
            await rig.__aexit__(None, None, None)
    run(bare())


def test_boot_rejected_is_silent_until_interval():
    async def main():
        csms = Csms("1.6", boot_status=["Rejected", "Accepted"], heartbeat_interval=1, response_timeout=0.3)
        rig = Rig(settings=QUIET, csms=csms)
        rig.start_csms = False
        await csms.start()
        await rig.__aenter__()
        try:
            await csms.wait_for("BootNotification")
            await csms.wait_connected("CP1")
            await asyncio.sleep(0.1)  # the Rejected answer reaches the charge point
            with pytest.raises(asyncio.TimeoutError):  # no answer while Rejected
                await csms.call("CP1", "GetConfiguration")
            await csms.wait_for("BootNotification", 2, timeout=5)  # again after the interval (1 s)
            await rig.registered()
            res = await csms.call("CP1", "GetConfiguration", key=["NumberOfConnectors"])
            assert res.configuration_key == [{"key": "NumberOfConnectors", "readonly": True, "value": "1"}]
        finally:
            await rig.__aexit__(None, None, None)
    run(main())


def test_heartbeat_after_interval_of_silence():
    async def main():
        async with Rig(settings={"meter_sample_interval_s": 0, "heartbeat_interval_s": 1},
                       csms=Csms("1.6", heartbeat_interval=2)) as rig:
            await rig.csms.wait_for("Heartbeat", 2, timeout=5)
            assert rig.cp.proto.heartbeat_s == 2
    run(main())


def test_get_and_change_configuration():
    async def main():
        async with Rig(settings=QUIET) as rig:
            call = rig.csms.call
            everything = await call("CP1", "GetConfiguration")
            keys = {e["key"]: e for e in everything.configuration_key}
            assert "AuthorizationKey" not in keys  # write-only (SW §7.2)
            assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "1"}
            assert keys["SupportedFeatureProfiles"]["value"] == "Core,SmartCharging,Reservation,RemoteTrigger"
            assert keys["MeterValueSampleInterval"]["readonly"] is False
            some = await call("CP1", "GetConfiguration", key=["HeartbeatInterval", "NoSuchKey"])
            assert some.unknown_key == ["NoSuchKey"]
            assert (await call("CP1", "ChangeConfiguration", key="NoSuchKey", value="1")).status == "NotSupported"
            assert (await call("CP1", "ChangeConfiguration", key="NumberOfConnectors", value="2")).status == "Rejected"
            assert (await call("CP1", "ChangeConfiguration", key="ChargeProfileMaxStackLevel", value="3")).status \
                == "Rejected"
            bad = await call("CP1", "ChangeConfiguration", key="MeterValuesSampledData", value="Temperature")
            assert bad.status == "Rejected"  # unsupported measurand (S16 §3.16.4): no change
            assert rig.cp.settings.sampled_data.startswith("Energy.Active.Import.Register")
            assert (await call("CP1", "ChangeConfiguration", key="MeterValueSampleInterval", value="-1")).status \
                == "Rejected"
            ok = await call("CP1", "ChangeConfiguration", key="MeterValueSampleInterval", value="15")
            assert ok.status == "Accepted"
            assert rig.cp.settings.meter_sample_interval_s == 15
            assert rig.cp.store.get("cfg.meter_sample_interval_s") == 15  # persisted
            hb = await call("CP1", "ChangeConfiguration", key="HeartbeatInterval", value="120")
            assert hb.status == "Accepted" and rig.cp.proto.heartbeat_s == 120
            down = await call("CP1", "ChangeConfiguration", key="SecurityProfile", value="2")
            assert down.status == "Rejected"  # no key, no wss
    run(main())


def test_data_transfer_rejected_politely_and_clear_cache():
    async def main():
        async with Rig(settings=QUIET) as rig:
            res = await rig.csms.call("CP1", "DataTransfer", vendor_id="com.example", message_id="x", data="{}")
            assert res.status == "UnknownVendorId"
            rig.cp.proto.cache.update("A", {"status": "Accepted"})
            assert (await rig.csms.call("CP1", "ClearCache")).status == "Accepted"
            assert rig.cp.proto.cache.lookup("A") is None
    run(main())


def test_meter_values_at_sample_interval_and_stop_txn_sampled_data():
    async def main():
        settings = {"meter_sample_interval_s": 1, "heartbeat_interval_s": 0,
                    "stop_txn_sampled_data": "Energy.Active.Import.Register,Current.Import"}
        async with Rig(settings=settings) as rig:
            h = rig.h()
            h.plug_in()
            await rig.cp.present_token(1, "TAG1")
            h.cp("C")
            from evsefast.types.powermeter import Current, Power
            h.sample(1500, current_A=Current(L1=15.9, L2=16.0, L3=16.1), power_W=Power(total=11040.0))
            mv = await rig.csms.wait_for("MeterValues", timeout=5)
            p = mv[0].payload
            assert p["connector_id"] == 1 and p["transaction_id"] == 1
            values = {(v["measurand"], v.get("phase")): v for v in p["meter_value"][0]["sampled_value"]}
            assert values[("Energy.Active.Import.Register", None)]["value"] == "1500"
            assert values[("Energy.Active.Import.Register", None)]["unit"] == "Wh"
            assert values[("Power.Active.Import", None)]["value"] == "11040"
            assert [values[("Current.Import", ph)]["value"] for ph in ("L1", "L2", "L3")] == ["15.9", "16", "16.1"]
            assert all(v["context"] == "Sample.Periodic" for v in values.values())
            h.cp("A")
            stop = (await rig.csms.wait_for("StopTransaction"))[0].payload
            contexts = [d["sampled_value"][0]["context"] for d in stop["transaction_data"]]
            assert contexts[0] == "Transaction.Begin" and contexts[-1] == "Transaction.End"
            assert "Sample.Periodic" in contexts
            measurands = {v["measurand"] for d in stop["transaction_data"] for v in d["sampled_value"]}
            assert measurands == {"Energy.Active.Import.Register", "Current.Import"}
    run(main())


def test_trigger_message():
    async def main():
        async with Rig(settings=QUIET) as rig:
            call = rig.csms.call
            n = len(rig.csms.of("StatusNotification"))
            assert (await call("CP1", "TriggerMessage", requested_message="StatusNotification")).status == "Accepted"
            await rig.csms.wait_for("StatusNotification", n + 2)  # connector 0 and 1
            assert (await call("CP1", "TriggerMessage", requested_message="Heartbeat")).status == "Accepted"
            await rig.csms.wait_for("Heartbeat")
            assert (await call("CP1", "TriggerMessage", requested_message="MeterValues",
                               connector_id=1)).status == "Accepted"
            mv = (await rig.csms.wait_for("MeterValues"))[0].payload
            assert mv["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
            assert "transaction_id" not in mv
            assert (await call("CP1", "TriggerMessage", requested_message="BootNotification")).status == "Rejected"
            assert (await call("CP1", "TriggerMessage",
                               requested_message="FirmwareStatusNotification")).status == "NotImplemented"
            assert (await call("CP1", "TriggerMessage", requested_message="Heartbeat",
                               connector_id=9)).status == "Rejected"
    run(main())


@pytest.mark.parametrize("kind,reason", [("Soft", "SoftReset"), ("Hard", "HardReset")])
def test_reset_stops_transaction_then_registers_again(kind, reason):
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            await rig.charge()
            assert (await rig.csms.call("CP1", "Reset", type=kind)).status == "Accepted"
            await rig.csms.wait_for("BootNotification", 2)
            stops = rig.csms.of("StopTransaction")
            assert len(stops) == 1 and stops[0].payload["reason"] == reason
            actions = rig.csms.actions()
            assert actions.index("StopTransaction") < len(actions) - 1 - actions[::-1].index("BootNotification")
            await rig.settle()
            assert rig.csms.statuses(1)[-1] == "Finishing"  # the EV is still plugged (TC_015)
    run(main())


def test_get_composite_schedule_over_the_wire():
    async def main():
        async with Rig(settings=QUIET) as rig:
            now = int(rig.cp.proto.now_s())
            tx_default = {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                          "charging_profile_kind": "Absolute", "charging_schedule": {
                              "start_schedule": iso(now - 10), "charging_rate_unit": "W",
                              "charging_schedule_period": [{"start_period": 0, "limit": 11000},
                                                           {"start_period": 610, "limit": 6000}]}}
            res = await rig.csms.call("CP1", "SetChargingProfile", connector_id=0, cs_charging_profiles=tx_default)
            assert res.status == "Accepted"
            cpmax = {"charging_profile_id": 2, "stack_level": 0, "charging_profile_purpose": "ChargePointMaxProfile",
                     "charging_profile_kind": "Absolute", "charging_schedule": {
                         "start_schedule": iso(now - 10), "charging_rate_unit": "A",
                         "charging_schedule_period": [{"start_period": 0, "limit": 12.5}]}}
            assert (await rig.csms.call("CP1", "SetChargingProfile", connector_id=0,
                                        cs_charging_profiles=cpmax)).status == "Accepted"
            res = await rig.csms.call("CP1", "GetCompositeSchedule", connector_id=1, duration=1200,
                                      charging_rate_unit="A")
            assert res.status == "Accepted" and res.connector_id == 1
            periods = res.charging_schedule["charging_schedule_period"]
            # 11000 W / (230 V x 3) = 15.94 A > 12.5 A max; 6000 W -> 8.69 A -> 8.6 (floored to 0.1)
            assert [(p["start_period"], float(p["limit"])) for p in periods] == [(0, 12.5), (600, 8.6)]
            w = await rig.csms.call("CP1", "GetCompositeSchedule", connector_id=1, duration=1200,
                                    charging_rate_unit="W")
            assert [float(p["limit"]) for p in w.charging_schedule["charging_schedule_period"]] == [8625.0, 6000.0]
            assert rig.h().mgr.get("enforced_limits").limits_root_side.ac_max_current_A.value == 12.5
            bad = await rig.csms.call("CP1", "GetCompositeSchedule", connector_id=5, duration=60)
            assert bad.status == "Rejected"
            tx = dict(tx_default, charging_profile_id=3, charging_profile_purpose="TxProfile")
            res = await rig.csms.call("CP1", "SetChargingProfile", connector_id=1, cs_charging_profiles=tx)
            assert res.status == "Rejected"  # no transaction (OCTT TC_058_1)
            assert (await rig.csms.call("CP1", "ClearChargingProfile", id=99)).status == "Unknown"
            assert (await rig.csms.call("CP1", "ClearChargingProfile",
                                        charging_profile_purpose="ChargePointMaxProfile")).status == "Accepted"
            assert rig.cp.store.profiles()[0]["id"] == 1  # profiles persist (E16 §3.37)
    run(main())


def test_fault_reported_with_mapped_error_code_and_cleared():
    async def main():
        async with Rig(settings=QUIET) as rig:
            h = rig.h()
            from evsefast.types.board import BoardError, Severity
            h.mgr.on_error_raised(BoardError(type="evse_board_support/MREC2GroundFailure", message="RCD",
                                             severity=Severity.High))
            h.mgr.tick()
            await rig.settle()
            st = rig.csms.of("StatusNotification")[-1].payload
            assert st["status"] == "Faulted" and st["error_code"] == "GroundFailure"
            assert st["vendor_id"] == "https://chargex.inl.gov" and st["vendor_error_code"] == "CX002"
            h.mgr.on_error_cleared("evse_board_support/MREC2GroundFailure", "")
            h.mgr.tick()
            await asyncio.sleep(1.2)  # errors clear without an event: the 1 s supervision sees it
            await rig.settle()
            assert rig.csms.statuses(1) == ["Available", "Faulted", "Available"]
            assert rig.csms.of("StatusNotification")[-1].payload["error_code"] == "NoError"
    run(main())


def test_offline_authorization_rules():
    async def main():
        from evsefast.ocpp.auth import AuthCache, decide
        from evsefast.ocpp.settings import Settings
        from evsefast.ocpp.store import OcppStore

        store = OcppStore()
        now = [1000.0]
        settings = Settings(store)
        cache = AuthCache(store, lambda: now[0], lambda: True)

        async def never(tag):
            raise AssertionError("offline: no Authorize")

        cache.update("GOOD", {"status": "Accepted", "expiry_date": iso(2000.0)})
        cache.update("BLOCKED", {"status": "Blocked"})
        assert (await decide("GOOD", cache, settings, False, never)).accepted
        assert (await decide("BLOCKED", cache, settings, False, never)).status == "Blocked"
        assert not (await decide("UNKNOWN", cache, settings, False, never)).accepted
        settings.set("allow_offline_tx_for_unknown_id", True)
        assert (await decide("UNKNOWN", cache, settings, False, never)).accepted
        assert (await decide("BLOCKED", cache, settings, False, never)).status == "Blocked"
        now[0] = 3000.0  # expired: rejected even with AllowOfflineTxForUnknownId
        assert (await decide("GOOD", cache, settings, False, never)).status == "Expired"
        settings.set("local_authorize_offline", False)
        now[0] = 1000.0
        assert not (await decide("GOOD", cache, settings, False, never)).accepted
        store.close()
    run(main())


def test_clock_aligned_meter_values():
    async def main():
        async with Rig(settings=dict(QUIET, clock_aligned_interval_s=60)) as rig:
            h = rig.h()
            await rig.charge()
            await asyncio.sleep(0.05)
            h.advance(61_000)  # past the next full minute (the rig's clock starts at midnight)
            mv = (await rig.csms.wait_for("MeterValues", timeout=5))[0].payload
            assert mv["transaction_id"] == 1
            assert mv["meter_value"][0]["sampled_value"][0]["context"] == "Sample.Clock"
    run(main())
