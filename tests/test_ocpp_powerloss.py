"""Power loss: ``evsefast chargepoint`` SIGKILLed mid-transaction and started again.

The manager persists the open transaction (SQLite, spec/evse_manager.md §2.7(k)); after the restart
it publishes SessionCancelled{PowerLoss} with the billing meter's reading at start-up, and the charge
point sends exactly one StopTransaction(PowerLoss) with meterStop = that reading (integer Wh) for the
transaction id the CSMS assigned (spec/ocpp.md §2.5, MO#174/#227).  The simulated station's meter
keeps its register across the restart, as a real meter does.  2.0.1: TransactionEvent Ended,
stoppedReason PowerLoss.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys

import pytest

from evsefast.ocpp.testing import Csms

pytestmark = pytest.mark.slow


def _cmd(url: str, state: str, version: str):
    return [sys.executable, "-m", "evsefast.cli", "chargepoint", "--csms", url, "--ocpp", version, "--state", state,
            "--speed", "20", "--seed", "1", "--config", "MeterValueSampleInterval=5", "--config",
            "HeartbeatInterval=0"]


def _persisted_energy(state: str) -> float:
    """What the manager persisted for the open transaction (its fallback)."""
    db = sqlite3.connect(os.path.join(state, "CP1", "manager-1.sqlite"))
    try:
        (energy,) = db.execute("SELECT energy_Wh_import FROM session WHERE id = 1").fetchone()
    finally:
        db.close()
    return energy


def _meter_register(state: str) -> float:
    """The simulated meter's register when the process died (what the meter reads at start-up)."""
    with open(os.path.join(state, "CP1", "meter-1.txt")) as f:
        return float(f.read())


async def _scenario(tmp_path, version: str):
    state = str(tmp_path / "state")
    async with Csms(version) as csms:
        url = csms.url("CP1")
        proc = await asyncio.create_subprocess_exec(*_cmd(url, state, version), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            if version == "1.6":
                await csms.wait_for("StartTransaction", timeout=30)
                await csms.wait_for("MeterValues", 2, timeout=30)
            else:
                await csms.wait_for(lambda: sum(1 for m in csms.of("TransactionEvent")
                                                if m.payload["trigger_reason"] == "MeterValuePeriodic") >= 2,
                                    timeout=30)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        persisted = _persisted_energy(state)
        energy = round(_meter_register(state))  # the meter publishes whole Wh
        assert energy >= persisted
        seen_before = len(csms.messages)
        proc = await asyncio.create_subprocess_exec(*_cmd(url, state, version), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            if version == "1.6":
                await csms.wait_for("StopTransaction", timeout=30)
            else:
                await csms.wait_for(lambda: any(m.payload["event_type"] == "Ended" for m in csms.of("TransactionEvent")),
                                    timeout=30)
            await asyncio.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert b"evsefast chargepoint: 1 charge point(s)" in out
        return csms, energy, seen_before


def test_sigkill_mid_transaction_then_stop_transaction_power_loss_1_6(tmp_path):
    async def main():
        csms, energy, seen_before = await _scenario(tmp_path, "1.6")
        stops = csms.of("StopTransaction")
        assert len(stops) == 1
        stop = stops[0].payload
        assert stop["reason"] == "PowerLoss"
        assert stop["transaction_id"] == 1  # the id the CSMS gave in StartTransaction.conf
        assert stop["meter_stop"] == energy
        start = csms.of("StartTransaction")[0].payload
        assert stop["meter_stop"] >= start["meter_start"]
        before = [float(v["value"]) for m in csms.messages[:seen_before] if m.action == "MeterValues"
                  for mv in m.payload["meter_value"] for v in mv["sampled_value"]
                  if v["measurand"] == "Energy.Active.Import.Register"]
        assert before and max(before) <= stop["meter_stop"] + 1
        after = [m.action for m in csms.messages[seen_before:]]
        # registration, current statuses, then the power-loss stop before anything new
        assert after.index("StopTransaction") < (after.index("StartTransaction") if "StartTransaction" in after
                                                 else len(after))
    asyncio.run(asyncio.wait_for(main(), 120))


def test_sigkill_mid_transaction_then_transaction_event_ended_power_loss_2_0_1(tmp_path):
    async def main():
        csms, energy, _ = await _scenario(tmp_path, "2.0.1")
        ended = [m.payload for m in csms.of("TransactionEvent") if m.payload["event_type"] == "Ended"]
        assert len(ended) == 1
        e = ended[0]
        assert e["transaction_info"]["stopped_reason"] == "PowerLoss"
        assert e["trigger_reason"] == "AbnormalCondition"
        first = csms.of("TransactionEvent")[0].payload
        assert e["transaction_info"]["transaction_id"] == first["transaction_info"]["transaction_id"]
        tid = first["transaction_info"]["transaction_id"]
        # a message in flight at the kill may come twice (identical: at-least-once); otherwise seqNo
        # runs 0, 1, 2, ... across the restart without gaps or reuse
        unique = []
        for m in csms.of("TransactionEvent"):
            if m.payload["transaction_info"]["transaction_id"] == tid and m.payload not in unique:
                unique.append(m.payload)
        assert [p["seq_no"] for p in unique] == list(range(len(unique)))
        end_value = e["meter_value"][0]["sampled_value"][0]
        assert end_value["context"] == "Transaction.End" and end_value["value"] == energy
    asyncio.run(asyncio.wait_for(main(), 120))
