"""``evsefast simulate``: default run, --json, --seed, --plot, bad arguments, safety exit code."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from evsefast.cli import EXIT_OK, EXIT_SAFETY, EXIT_USAGE, main, simulate
from evsefast.codec import decode
from evsefast.sim.summary import StatusLine


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = simulate(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_default_run_exits_0_with_summary():
    from evsefast import _impl

    if not _impl.USING_EXTENSIONS:
        pytest.skip("compiled kernels not loaded: the 30-minute default run is tested compiled")
    code, out, err = run([])
    assert code == EXIT_OK, err
    assert "car 'default', limit 16 A, 3 phases" in out
    assert "energy:" in out and "Wh" in out
    assert "current: max 16.0 A, mean 16.0 A" in out
    events = ["SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV", "ChargingResumed",
              "SessionFinished"]
    summary = out[out.index("session events:"):]
    positions = [summary.index(e) for e in events]
    assert positions == sorted(positions)
    assert "time in CP state:" in out and "time in charger state:" in out
    assert "safety invariants: all held" in out
    # not a terminal: plain progress lines, no carriage returns
    assert "\r" not in out and "[03:00 / 30:00" in out


def test_json_lines_decode_with_the_msgspec_types():
    from evsefast.manager import EvseManager

    code, out, err = run(["--json", "--duration", "90", "--quiet"])
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines
    seen = []
    last_t = 0.0
    for line in lines:
        obj = json.loads(line)
        assert set(obj) == {"t_s", "name", "data"}
        assert obj["t_s"] >= last_t  # the simulated time, in order
        last_t = obj["t_s"]
        T = EvseManager.VARS[obj["name"]]
        decode(json.dumps(obj["data"]), T)  # raises CommandRejected on a mismatch
        if obj["name"] == "session_event":
            seen.append((obj["data"]["event"], obj["t_s"]))
    names = [name for name, _ in seen]
    assert names[:4] == ["Enabled", "SessionStarted", "AuthRequired", "ChargingStarted"]
    # the default car asks for power ~4 s after plug-in; the RFID is read 1 s after AuthRequired
    t_started = dict(seen)["ChargingStarted"]
    assert 2.0 < t_started < 10.0
    assert 60.0 < last_t <= 90.0
    seen = names
    assert seen[-1] == "SessionFinished"
    assert "energy:" in err  # the summary goes to stderr with --json


def test_same_seed_same_output():
    a = run(["--json", "--duration", "60", "--seed", "11", "--quiet"])[1]
    b = run(["--json", "--duration", "60", "--seed", "11", "--quiet"])[1]
    c = run(["--json", "--duration", "60", "--seed", "12", "--quiet"])[1]
    assert a == b
    assert a != c


def test_plot_writes_a_png(tmp_path):
    plt_image = pytest.importorskip("matplotlib.image", reason="matplotlib is not installed: "
                                    "pip install 'evsefast[plot]' to run the --plot test")
    path = tmp_path / "session.png"
    code, out, err = run(["--duration", "120", "--plot", str(path), "--quiet"])
    assert code == EXIT_OK, err
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    img = plt_image.imread(str(path))
    assert img.shape[0] == 800 and img.shape[1] == 1000
    # content: not blank, and the red current trace is there
    assert img[..., :3].std() > 0.05
    red = (img[..., 0] > 0.7) & (img[..., 1] < 0.3) & (img[..., 2] < 0.3)
    assert red.sum() > 200
    assert f"plot: {path}" in out


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    code, out, err = run(["--plot", "x.png"])
    assert code == EXIT_USAGE
    assert "--plot" in err and "pip install 'evsefast[plot]'" in err


@pytest.mark.parametrize("argv,needle", [
    (["--limit", "100"], "--limit"),
    (["--limit", "abc"], "--limit"),
    (["--phases", "2"], "--phases"),
    (["--duration", "0"], "--duration"),
    (["--duration", "soon"], "--duration"),
    (["--speed", "-1"], "--speed"),
    (["--car", "nosuchcar"], "--car"),
    (["--car", "sleep 1;fly"], "--car"),
    (["--board", "can"], "--board"),
    (["--port", "/dev/ttyUSB0"], "--port"),
    (["--plot", "x.jpg"], "--plot"),
    (["--fault", "gremlins@10"], "--fault"),
    (["--car", "sleepy", "--duration", "30"], "--duration"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_arguments_exit_2_naming_the_argument(argv, needle):
    code, out, err = run(argv)
    assert code == EXIT_USAGE
    assert needle in err
    assert out == ""


def test_bad_argument_messages_say_what_is_allowed():
    assert "from 6 to 80 A" in run(["--limit", "100"])[2]
    assert "must be 1 or 3" in run(["--phases", "2"])[2]
    assert "profiles: default" in run(["--car", "nosuchcar"])[2]
    assert "unknown; allowed:" in run(["--car", "sleep 1;fly"])[2]


def test_safety_violation_exits_1_saying_which_and_when():
    code, out, err = run(["--duration", "120", "--fault", "stuck_relay@20", "--quiet"])
    assert code == EXIT_SAFETY
    assert "safety invariant 'contactor' broken at t=" in err
    assert "SAFETY:" in out


def test_car_profile_and_faults_from_the_command_line():
    code, out, err = run(["--car", "late-follower", "--duration", "120", "--quiet"])
    assert code == EXIT_OK, err
    assert "Error{OverCurrent}" in out
    code, out, err = run(["--duration", "60", "--fault", "rcd@30", "--quiet", "--phases", "1"])
    assert code == EXIT_OK and "Error{RCD}" in out and "1 phase," in out


def test_socket_connector_publishes_pp_and_charges():
    code, out, err = run(["--socket", "--duration", "60", "--json", "--quiet"])
    assert code == EXIT_OK, err
    lines = [json.loads(x) for x in out.splitlines()]
    caps = [x["data"] for x in lines if x["name"] == "hw_capabilities"]
    assert caps[0]["connector_type"] == "IEC62196Type2Socket"
    assert "ChargingStarted" in err


def test_status_line_on_a_terminal_rewrites_one_line():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    from evsefast.sim.runner import run_session, SimOptions

    stream = Tty()
    status = StatusLine(stream, duration_s=60, min_interval_s=0.0)
    run_session(SimOptions(duration_s=60), on_progress=status.progress,
                on_event=lambda t, label, ev: status.event(t, label))
    status.close()
    text = stream.getvalue()
    assert "\r[" in text and "ChargingStarted" in text
    assert text.count("\n") < 20  # events only, the progress stays on one line


def test_main_dispatches_subcommands(capsys):
    assert main(["--help"]) == 0
    assert "simulate" in capsys.readouterr().out
    assert main(["nope"]) == EXIT_USAGE
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == EXIT_USAGE
    assert main(["virtual-board", "--help"]) == 0
    assert "virtual Yeti MCU" in capsys.readouterr().out
    assert main(["simulate", "--phases", "7"]) == EXIT_USAGE


def test_console_entry_point_runs():
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "evsefast.cli", "simulate", "--duration", "60", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "SessionFinished" in proc.stdout


def test_yeti_board_with_an_in_process_virtual_mcu_in_lockstep():
    """The default session through the Yeti driver and a real pty, in lockstep: the same session
    and the same energy as the in-process simulator (5088 Wh, README), in seconds."""
    code, out, err = run(["--board", "yeti", "--quiet"])
    assert code == EXIT_OK, err
    summary = out[out.index("session events:"):]
    events = ["SessionStarted", "AuthRequired", "ChargingStarted", "ChargingPausedEV", "ChargingResumed",
              "SessionFinished"]
    positions = [summary.index(e) for e in events]
    assert positions == sorted(positions)
    energy = int(out.split("energy: ")[1].split(" Wh")[0])
    assert abs(energy - 5088) <= 5  # the meter's noise differs a little from the in-process run
    assert "safety invariants: all held" in out


@pytest.mark.slow
def test_yeti_board_in_real_time_times_10():
    code, out, err = run(["--board", "yeti", "--speed", "10", "--duration", "90", "--quiet"])
    assert code == EXIT_OK, err
    assert "ChargingStarted" in out and "SessionFinished" in out
    assert "safety invariants: all held" in out


def test_speed_runs_paced_and_succeeds():
    code, out, err = run(["--speed", "5000", "--duration", "60", "--quiet"])
    assert code == EXIT_OK, err
    assert "simulated 00:" in out


def test_yeti_board_safety_checks_see_the_virtual_mcu():
    code, out, err = run(["--board", "yeti", "--duration", "90", "--fault", "stuck_relay@10", "--quiet"])
    assert code == EXIT_SAFETY
    assert "safety invariant 'contactor' broken" in err
