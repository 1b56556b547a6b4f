"""``evsefast serve`` as a process against a real mosquitto: defaults, a session driven over MQTT, one
log line per session event, SIGTERM -> safe state + final vars + exit 0; and the README's example
(its commands are run as written, on a free port)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evsefast.everest.broker import free_port
from evsefast.everest.peer import EverestPeer
from evsefast.everest.settings import MqttSettings
from evsefast.testing import token, validation

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _serve(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EV_", "MQTT_SERVER_"))}
    env.update(env_extra)
    return subprocess.Popen([sys.executable, "-m", "evsefast.cli", "serve", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_with_defaults_runs_a_session_and_stops_safely_on_sigterm(mosquitto):
    proc = _serve([], {"MQTT_SERVER_ADDRESS": mosquitto.host, "MQTT_SERVER_PORT": str(mosquitto.port)})
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port)
    peer = EverestPeer(settings, "auth").start()
    try:
        vars_ = peer.watch_vars("connector_1", "evse")
        vars_.wait_for(lambda v: v == ("ready", True), timeout_s=15)
        peer.publish("everest_external/nodered/1/carsim/cmd/execute_charging_session",
                     b"iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 3600", qos=0)
        vars_.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "AuthRequired")
        peer.call("connector_1", "evse", "authorize_response",
                  {"provided_token": token(), "validation_result": validation()})
        vars_.wait_for(lambda v: v[0] == "session_event" and v[1]["event"] == "ChargingStarted")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        # the final vars: the transaction closed (reason Reboot), the connector disabled, ready false last
        vars_.wait_for(lambda v: v == ("ready", False))
        events = [v[1] for v in vars_.seen if v[0] == "session_event"]
        names = [e["event"] for e in events]
        assert names[-2:] == ["SessionCancelled", "Disabled"]
        assert events[-2]["session_cancelled"]["reason"] == "Reboot"
        assert vars_.seen[-1] == ("ready", False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        peer.stop()
    from evsefast.types.evse_manager import SessionEvent
    names = {e.value for e in SessionEvent}
    logged = [w for w in re.findall(r"evsefast\.serve: connector_1: (\w+)", err) if w in names]
    assert logged[:6] == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted", "SessionCancelled",
                          "Disabled"], err
    assert "connector_1: SessionCancelled{Reboot} session " in err
    assert "connector_1: disabled (CP F, power off)" in err and "evsefast serve: stopped" in err


def test_bad_configuration_exits_2_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nlimit_A = "lots"\n')
    res = subprocess.run([sys.executable, "-m", "evsefast.cli", "serve", str(bad)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "config.site.limit_A" in res.stderr
    res = subprocess.run([sys.executable, "-m", "evsefast.cli", "serve", "--check"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "connector_1=sim" in res.stdout


def _block(marker_or_lang: str) -> str:
    if marker_or_lang.startswith("<!--"):
        start = README.index(marker_or_lang)
        body = README[README.index("```bash\n", start) + 8:]
    else:
        body = README[README.index(f"```{marker_or_lang}\n", README.index("evsefast serve [CONFIG]")) + 8:]
    return body[:body.index("```")]


def test_the_readme_config_example_is_valid(tmp_path):
    conf = tmp_path / "site.toml"
    conf.write_text(_block("toml"))
    res = subprocess.run([sys.executable, "-m", "evsefast.cli", "serve", "--check", str(conf)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "2 connector(s) (connector_1=everest, connector_2=yeti)" in res.stdout


@pytest.mark.slow
def test_the_readme_serve_example_runs(tmp_path):
    """The README's commands, as written, with 1883 replaced by a free port (for the broker the script
    starts, the clients and -- through MQTT_SERVER_PORT -- evsefast serve)."""
    for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if shutil.which(tool) is None and not os.access(f"/usr/sbin/{tool}", os.X_OK):
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{tool} is not installed (.ci/run installs mosquitto and mosquitto-clients)")
            pytest.skip(f"{tool} is not installed (apt-get install mosquitto mosquitto-clients)")
    port = free_port()
    script = _block("<!-- serve-example -->").replace("1883", str(port))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EV_", "MQTT_SERVER_"))}
    env.update(MQTT_SERVER_PORT=str(port), MQTT_SERVER_ADDRESS="127.0.0.1",
               PATH=os.pathsep.join((os.path.dirname(sys.executable), env.get("PATH", ""), "/usr/sbin")))
    proc = subprocess.Popen(["bash", "-c", "set -e\n" + script + "\nwait"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    finally:  # whatever happened, no broker or server of the script outlives the test
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.communicate()
    assert proc.returncode == 0, err
    lines = [ln for ln in out.splitlines() if ln.startswith("everest_api/")]
    events = [json.loads(ln.split(" ", 1)[1])["event"] for ln in lines]
    assert events == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted", "SessionFinished"], out
    assert "evsefast serve: stopped" in err
