"""Examples are code: every program in ``examples/`` runs here and must charge (energy > 0, the
session ends with SessionFinished), and the README's "Using it" block is ``examples/quickstart.py``
verbatim and runs as well."""
from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"
EVENT_LINE = re.compile(r"^\s*[\d.]+ s\s+(\w+)$")

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ is not beside the tests (installed test tree)"),
]


def run(args, timeout=60):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def charged_Wh(out: str) -> float:
    m = re.search(r"^charged ([\d.]+) Wh$", out, re.M)
    assert m, out
    return float(m.group(1))


def events(out: str):
    return [m.group(1) for m in map(EVENT_LINE.match, out.splitlines()) if m]


def readme_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, f"no python block under '## {heading}'"
    return m.group(1)


def test_quickstart_charges():
    out = run([str(EXAMPLES / "quickstart.py")])
    names = events(out)
    assert names[:3] == ["Enabled", "SessionStarted", "AuthRequired"]
    assert "ChargingStarted" in names and names[-1] == "SessionFinished"
    # one minute at 11 kW, from a meter that started at 0 Wh
    assert charged_Wh(out) == pytest.approx(60 * 11_000 / 3600, abs=0.5)


def test_readme_using_it_is_the_quickstart_verbatim_and_charges():
    if not README.is_file():
        pytest.skip("README.md is not beside the tests")
    block = readme_block("Using it")
    assert block == (EXAMPLES / "quickstart.py").read_text(encoding="utf-8")
    out = run(["-c", block])
    assert events(out)[-1] == "SessionFinished"
    assert charged_Wh(out) > 0


def test_asyncio_runner_consumes_events_while_a_runner_ticks():
    out = run([str(EXAMPLES / "asyncio_runner.py")])
    names = events(out)
    assert names[:3] == ["Enabled", "SessionStarted", "AuthRequired"]
    assert "ChargingStarted" in names and names[-1] == "SessionFinished"
    # about a second of charging at 11 kW, on the real clock
    assert 0.5 < charged_Wh(out) < 10.0


@pytest.mark.usefixtures("no_serial_leaks")
def test_yeti_serial_against_the_virtual_board_on_a_pty():
    from evsefast.sim.virtual_yeti import VirtualYetiMcu, make_hardware

    car = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 30;unplug"
    hardware = make_hardware(car, seed=1, duration_s=60.0)
    with VirtualYetiMcu(hardware, seed=1, speed=20.0) as mcu:
        out = run([str(EXAMPLES / "yeti_serial.py"), mcu.port_path, "--speed", "20", "--timeout", "60"], timeout=90)
    names = events(out)
    assert names[0] == "Enabled" and "ChargingStarted" in names and names[-1] == "SessionFinished"
    # 30 s at 16 A on three phases (~11 kW) through the virtual board's meter
    assert 60.0 < charged_Wh(out) < 120.0


def test_json_bus_publishes_every_var_in_everest_format():
    from evsefast.codec import decode
    from evsefast.manager import EvseManager

    out = run([str(EXAMPLES / "json_bus.py")])
    seen = {}
    session_events = []
    for line in out.splitlines():
        topic, payload = line.split(" ", 1)
        prefix, name = topic.rsplit("/", 1)
        assert prefix == "everest/modules/connector_1/impl/evse/var"
        message = json.loads(payload)
        assert message["msg_type"] == "Var"
        value = decode(json.dumps(message["data"]["data"]), EvseManager.VARS[name])  # the var's own type
        seen[name] = value
        if name == "session_event":
            session_events.append(value.event.value)
    assert {"session_event", "limits", "powermeter", "ready", "hw_capabilities"} <= set(seen)
    assert session_events[-1] == "SessionFinished" and "ChargingStarted" in session_events
    # 30 s at 11 kW on the fake meter
    assert seen["powermeter"].energy_Wh_import.total == pytest.approx(30 * 11_000 / 3600)
