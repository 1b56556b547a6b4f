"""What ``evsefast simulate`` shows: a status line that fits the terminal, JSON lines with the
simulated time, and a plot of offered against drawn current with labelled session events."""
from __future__ import annotations

import io
import json
import re

import pytest

from evsefast.cli_simulate import simulate
from evsefast.sim.runner import SimOptions, run_session
from evsefast.sim.summary import StatusLine


class Tty(io.StringIO):
    def isatty(self):
        return True


def live_segments(text: str):
    """What a terminal shows of each rewrite of the live line (between carriage returns)."""
    text = text.replace("\x1b[K", "")
    return [seg.split("\n")[0] for seg in text.split("\r") if seg.split("\n")[0].startswith(("[", "0", "1"))]


@pytest.mark.parametrize("columns", [40, 60, 80, 200])
def test_the_status_line_fits_the_terminal_width(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))  # shutil.get_terminal_size reads it first
    stream = Tty()
    status = StatusLine(stream, duration_s=120, min_interval_s=0.0)
    run_session(SimOptions(duration_s=120), on_progress=status.progress,
                on_event=lambda t, label, ev: status.event(t, label))
    status.close()
    segments = live_segments(stream.getvalue())
    assert len(segments) > 50
    assert max(len(s) for s in segments) <= columns - 1
    if columns >= 80:
        assert any("Charging" in s and "kWh" in s for s in segments)  # the full form where it fits
    else:
        assert any("Charging" in s for s in segments) or columns < 30


def test_json_lines_carry_the_simulated_time():
    out, err = io.StringIO(), io.StringIO()
    assert simulate(["--json", "--duration", "60", "--quiet"], stdout=out, stderr=err) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    meters = [x for x in lines if x["name"] == "powermeter"]
    # the simulated meter publishes once per simulated second: t_s steps by 1 s
    steps = {round(b["t_s"] - a["t_s"], 3) for a, b in zip(meters, meters[1:])}
    assert steps == {1.0}
    # and the meter's own timestamp (simulated wall time) moves with t_s
    first, last = meters[0], meters[-1]
    ts = [int(re.search(r":(\d\d)\.\d+Z$", m["data"]["timestamp"]).group(1)) for m in (first, last)]
    assert (ts[1] - ts[0]) % 60 == round(last["t_s"] - first["t_s"]) % 60


def test_plot_series_offers_the_current_the_duty_encodes_and_labels_events():
    from evsefast.pwm import current_from_duty_pct
    from evsefast.sim.plot import plot_series

    result = run_session(SimOptions(car="late-follower", duration_s=120))
    data = plot_series(result)
    assert len(data["offered_A"]) == len(data["t_s"]) == len(data["L1"]) == len(data["L2"]) == len(data["L3"])
    for duty, offered in zip(data["duty_pct"], data["offered_A"]):
        assert offered == current_from_duty_pct(duty)
    assert max(data["offered_A"]) == pytest.approx(16.0, abs=0.1)  # 26.67 % duty = 16 A
    # the late follower keeps drawing 16 A on every phase after the offer dropped: visible
    over = [i for i, (o, l1) in enumerate(zip(data["offered_A"], data["L1"])) if 0 < o < l1 - 1.0]
    assert over
    assert all(data["L2"][i] > data["offered_A"][i] and data["L3"][i] > data["offered_A"][i] for i in over)
    labels = " | ".join(label for _, label in data["events"])
    assert "Error{OverCurrent}" in labels and "ChargingStarted" in labels
    # events at the same moment share one label instead of overprinting each other
    times = [t for t, _ in data["events"]]
    assert times == sorted(set(times))
