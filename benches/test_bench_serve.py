"""100 simulated connectors in one ``evsefast serve`` process, in real time, all charging (issue 11):
the process's CPU over a 10 s window in percent of one core (budget <= 10 %, budgets/serve.toml) and
its memory per connector (resident set of the 100-connector process minus a 1-connector one, / 99).

Each connector: a simulated board and car (charging at 16 A on 3 phases, free service), the EVerest
module (vars at QoS 2, energy_flow_request every second), the consumer API (forwards, session_info,
heartbeat), the site balancer -- everything ``evsefast serve`` does, on a real mosquitto.
``extra_info``: cpu_pct (of one core), rss_mb, mem_per_connector_kb, charging, startup_s.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from evsefast.everest.broker import Mosquitto, find_mosquitto
from evsefast.everest.peer import EverestPeer
from evsefast.everest.settings import MqttSettings

CAR = "iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 36000"
WINDOW_S = 10.0
TICK = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def broker():
    if find_mosquitto() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("mosquitto is not installed (.ci/run installs it)")
        pytest.skip("mosquitto is not installed")
    with Mosquitto() as b:
        yield b


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _serve(tmp_path, broker, n: int):
    """Start ``evsefast serve`` with n charging connectors; returns (process, settings, startup_s)."""
    tag = uuid.uuid4().hex[:8]
    mqtt = {"host": broker.host, "port": broker.port, "everest_prefix": f"everest_{tag}",
            "external_prefix": f"ext_{tag}/"}
    cfg = {"mqtt": mqtt, "log_level": "WARNING",
           "connectors": [{"module_id": f"cp{i}", "manager": {"disable_authentication": True},
                           "sim": {"car": CAR, "seed": i}} for i in range(n)]}
    path = tmp_path / f"serve{n}.json"
    path.write_text(json.dumps(cfg))
    settings = MqttSettings(**mqtt)
    peer = EverestPeer(settings, "probe").start()
    started = peer.watch(f"{settings.prefix}modules/+/impl/evse/var/session_event",
                         lambda t, p: t.split("/")[2] if b'"ChargingStarted"' in p else None)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EV_", "MQTT_SERVER_"))}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "evsefast.cli", "serve", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        seen = set()
        while len(seen) < n:
            seen.add(started.get(timeout_s=60))
    except Exception:
        proc.kill()
        raise AssertionError(f"only {len(seen)} of {n} connectors started charging: {proc.communicate()[1][-2000:]}")
    finally:
        peer.stop()
    return proc, time.monotonic() - t0


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def test_serve_100_connectors(benchmark, broker, tmp_path):
    one, _ = _serve(tmp_path, broker, 1)
    try:
        time.sleep(2.0)
        rss_one = _rss_kb(one.pid)
    finally:
        _stop(one)
    proc, startup_s = _serve(tmp_path, broker, 100)
    result = {}
    try:
        time.sleep(3.0)  # settle: every session past its start-up transients

        def window() -> None:
            c0, w0 = _cpu_s(proc.pid), time.monotonic()
            time.sleep(WINDOW_S)
            result["cpu_pct"] = (_cpu_s(proc.pid) - c0) / (time.monotonic() - w0) * 100.0
        benchmark.pedantic(window, rounds=1, iterations=1)
        rss = _rss_kb(proc.pid)
        assert proc.poll() is None, "evsefast serve died"
    finally:
        _stop(proc)
    assert proc.returncode == 0
    benchmark.extra_info["cpu_pct"] = round(result["cpu_pct"], 2)
    benchmark.extra_info["rss_mb"] = round(rss / 1024.0, 1)
    benchmark.extra_info["mem_per_connector_kb"] = round((rss - rss_one) / 99.0, 1)
    benchmark.extra_info["charging"] = 100
    benchmark.extra_info["startup_s"] = round(startup_s, 2)
