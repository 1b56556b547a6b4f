"""``evsefast chargepoint``: the README's commands against the example CSMS, 2.0.1, the fleet summary,
and the argument errors."""
from __future__ import annotations

import asyncio
import io
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evsefast.cli import main as evsefast_main
from evsefast.ocpp.cli import chargepoint
from evsefast.ocpp.testing import Csms

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- ocpp-example -->", 1)[1]
    code = re.search(r"```bash\n(.*?)```", block, re.S).group(1)
    return [line.strip() for line in code.strip().splitlines()]


def _argv(line: str, port: int):
    words = line.rstrip("&").replace("9000", str(port)).split()
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    assert words[0] == "evsefast"
    return [sys.executable, "-m", "evsefast.cli", *words[1:]]


@pytest.mark.slow  # 21 simulated stations end to end: minutes with the plain-Python kernels (CI's pure round)
def test_readme_commands_against_the_example_csms(tmp_path):
    lines = _readme_commands()
    assert lines[0].startswith("python examples/ocpp_csms.py") and lines[0].endswith("&")
    port = _free_port()
    log = tmp_path / "csms.log"
    with open(log, "w") as sink:  # a file, not a pipe: a full pipe would stall the CSMS
        csms = subprocess.Popen(_argv(lines[0], port), cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(200):
            if "listening" in log.read_text():
                break
            time.sleep(0.05)
        outs = [subprocess.run(_argv(line, port), cwd=ROOT, capture_output=True, text=True, timeout=60)
                for line in lines[1:]]
    finally:
        csms.terminate()
        csms.wait(timeout=10)
    printed = log.read_text()
    for res in outs:
        assert res.returncode == 0, res.stderr
        assert "errors: none" in res.stdout
    assert "registered: 1/1" in outs[0].stdout and "registered: 20/20" in outs[1].stdout
    single = [line.split(" ", 3)[2] for line in printed.splitlines() if line.startswith("CP001 -> ")]
    assert single[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
    for action in ("Authorize", "StartTransaction", "MeterValues", "StopTransaction"):
        assert action in single
    assert single.index("StartTransaction") < single.index("StopTransaction")
    ids = {line.split(" ", 1)[0] for line in printed.splitlines() if line.startswith("CP-")}
    assert ids == {f"CP-{i:03d}" for i in range(1, 21)}


@pytest.mark.slow  # 20 simulated minutes of CP waveform: too slow for the plain-Python kernels' round
def test_chargepoint_2_0_1_session_against_a_csms():
    async def main():
        async with Csms("2.0.1") as csms:
            out = io.StringIO()
            await asyncio.get_running_loop().run_in_executor(None, lambda: chargepoint(
                ["--csms", csms.url("CS1"), "--ocpp", "2.0.1", "--speed", "600", "--duration", "20m",
                 "--config", "MeterValueSampleInterval=120", "--json"], stdout=out))
            return csms, out.getvalue()
    csms, text = asyncio.run(main())
    import json
    summary = json.loads(text)
    assert summary["registered"] == 1 and summary["errors"] == {}
    kinds = [(m.payload["event_type"], m.payload["trigger_reason"]) for m in csms.of("TransactionEvent")]
    assert kinds[:2] == [("Started", "CablePluggedIn"), ("Updated", "Authorized")]
    assert ("Ended", "EVCommunicationLost") in kinds
    assert "MeterValuePeriodic" in {k[1] for k in kinds}


def test_registered_as_a_subcommand():
    out = subprocess.run([sys.executable, "-m", "evsefast.cli", "--help"], capture_output=True, text=True)
    assert "chargepoint" in out.stdout
    assert evsefast_main(["chargepoint", "--help"]) == 0


@pytest.mark.parametrize("argv,where", [
    (["--csms", "http://x/CP1"], "--csms"),
    (["--csms", "ws://x/"], "--csms"),
    (["--csms", "ws://x/CP1", "--count", "0"], "--count"),
    (["--csms", "ws://x/CP1", "--ocpp", "1.5"], "--ocpp"),
    (["--csms", "ws://x/CP1", "--config", "NoSuchKey=1"], "--config"),
    (["--csms", "ws://x/CP1", "--config", "MeterValueSampleInterval=-5"], "--config"),
    (["--csms", "ws://x/CP1", "--config", "MeterValuesSampledData=Temperature"], "--config"),
    (["--csms", "ws://x/CP1", "--board", "yeti"], "--board yeti"),
    (["--csms", "ws://x/CP1", "--port", "/dev/null"], "--port"),
    (["--csms", "ws://x/CP1", "--connectors", "9"], "--connectors"),
    (["--csms", "ws://x/CP1", "--id-tag", "X" * 21], "--id-tag"),
    (["--csms", "ws://x/CP1", "--security-profile", "2", "--password", "0123456789abcdef"], "wss"),
])
def test_bad_arguments_exit_2_naming_the_argument(argv, where):
    err = io.StringIO()
    assert chargepoint(argv, stdout=io.StringIO(), stderr=err) == 2
    assert where in err.getvalue()


def test_chargepoint_on_a_yeti_board(tmp_path, no_serial_leaks):
    """--board yeti: the Yeti serial driver on a pty, a virtual Yeti MCU with a car behind it."""
    from evsefast.sim.virtual_yeti import VirtualYetiMcu

    mcu = VirtualYetiMcu(car="sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 600;unplug",
                         seed=1).start()

    async def main():
        async with Csms("1.6") as csms:
            out = io.StringIO()
            code = await asyncio.get_running_loop().run_in_executor(None, lambda: chargepoint(
                ["--csms", csms.url("YETI1"), "--board", "yeti", "--port", mcu.port_path, "--duration", "5",
                 "--state", str(tmp_path), "--config", "MeterValueSampleInterval=1"], stdout=out))
            return csms, code, out.getvalue()
    try:
        csms, code, text = asyncio.run(main())
    finally:
        mcu.stop()
    assert code == 0
    assert '"identity": "YETI1"' in text
    assert csms.of("StartTransaction")[0].payload["id_tag"] == "EVSEFAST0001"
    assert csms.statuses(1)[:3] == ["Available", "Preparing", "Charging"]
    assert csms.of("MeterValues")
    assert (tmp_path / "ocpp.sqlite").exists() and (tmp_path / "manager-1.sqlite").exists()
