"""The live status line and the end-of-run summary of ``evsefast simulate``.

``StatusLine(stream)`` shows, on a terminal, one line rewritten in place (simulated time,
progress, CP state, charger state, current, energy) that always fits the terminal's width
(``shutil.get_terminal_size``, re-read at every update: a shorter form, then cut); when the stream
is not a terminal it prints plain lines instead: one per session event and a progress line every
10 % of the run. ``format_summary(result)`` is the text printed at the end; ``trust_problem(result)``
says why a run's numbers cannot be trusted (None if they can).
"""
from __future__ import annotations

import shutil
import sys
from typing import IO, Optional

from .runner import SessionResult, SessionRunner


def fmt_time(seconds: float) -> str:
    """``1:02:03`` / ``02:03`` from seconds."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class StatusLine:
    """Progress output on ``stream`` (a terminal: one live line; otherwise plain lines)."""

    def __init__(self, stream: Optional[IO[str]] = None, duration_s: float = 0.0,
                 tty: Optional[bool] = None, min_interval_s: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.duration_s = float(duration_s)
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._width = 0
        self._next_plain_pct = 10
        self._last_wall = 0.0
        self._min_interval = min_interval_s

    def _status(self, runner: SessionRunner, width: int = 0) -> str:
        """The status text; with ``width`` > 0 at most ``width`` characters (shorter forms first)."""
        hw = runner.hardware
        t_s = runner.t_ms / 1000.0
        pct = 100.0 * t_s / self.duration_s if self.duration_s else 0.0
        i = hw.currents_A
        phases = sum(1 for x in i if x > 0.0)
        kwh = hw.meter.import_Wh / 1000.0
        state = runner.manager.state
        text = (f"[{fmt_time(t_s)} / {fmt_time(self.duration_s)} {pct:3.0f}%] CP {hw.cp_state or '?'}  "
                f"{state:<24} {i[0]:5.1f} A x{phases}  {kwh:7.3f} kWh")
        if width <= 0 or len(text) <= width:
            return text
        text = f"{fmt_time(t_s)} {pct:3.0f}% {hw.cp_state or '?'} {state} {i[0]:.1f}A x{phases} {kwh:.3f}kWh"
        return text[:width]

    def progress(self, runner: SessionRunner) -> None:
        """Called about every simulated second."""
        if self.tty:
            import time

            now = time.monotonic()
            if now - self._last_wall < self._min_interval:
                return
            self._last_wall = now
            # one column less than the terminal: a line that fills it exactly wraps on some terminals
            self._write_live(self._status(runner, max(1, shutil.get_terminal_size((80, 24)).columns - 1)))
        elif self.duration_s:
            pct = 100.0 * runner.t_ms / 1000.0 / self.duration_s
            if pct >= self._next_plain_pct:
                self._next_plain_pct = (int(pct) // 10 + 1) * 10
                self.stream.write(self._status(runner) + "\n")
                self.stream.flush()

    def event(self, t_ms: float, label: str) -> None:
        """A session event: a line of its own (above the live line on a terminal)."""
        line = f"  {fmt_time(t_ms / 1000.0)}  {label}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line + "\n")
            self._width = 0
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _write_live(self, text: str) -> None:
        # "\r" + text, then clear to the end of the line: padding with spaces could wrap after a resize
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """End the live line."""
        if self.tty and self._width:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._width = 0


def format_summary(result: SessionResult) -> str:
    """The summary: energy, session events in order, currents, time per state, speed."""
    opt = result.options
    lines = []
    lines.append(f"evsefast simulate: car '{result.profile.name}', limit {opt.limit_A:g} A, "
                 f"{opt.phases} phase{'s' if opt.phases != 1 else ''}, seed {opt.seed}")
    speed = f"{result.sim_time_s / max(result.wall_time_s, 1e-9):.0f}x real time"
    if result.sample_rate_Hz:
        lines.append(f"  simulated {fmt_time(result.sim_time_s)} in {result.wall_time_s:.2f} s wall ({speed}, "
                     f"{result.pwm_periods:,} PWM periods sampled at {result.sample_rate_Hz / 1000:g} kS/s through "
                     f"the {result.kernels_name} pilot kernel)")
    else:  # a board on a port samples the pilot itself
        lines.append(f"  ran {fmt_time(result.sim_time_s)} in {result.wall_time_s:.2f} s wall ({speed}; the board "
                     "sampled the pilot)")
    lines.append(f"  energy: {result.energy_Wh_total:.0f} Wh")
    lines.append(f"  current: max {result.max_current_A:.1f} A, mean {result.mean_current_A:.1f} A while charging")
    lines.append("  session events:")
    for t_ms, ev in result.events:
        from .runner import event_label

        lines.append(f"    {fmt_time(t_ms / 1000.0):>8}  {event_label(ev)}")
    if not result.events:
        lines.append("    (none)")
    lines.append("  time in CP state: " + ", ".join(
        f"{k} {fmt_time(v)}" for k, v in sorted(result.time_in_cp_state_s.items()) if v >= 0.5 and k != "?"))
    lines.append("  time in charger state: " + ", ".join(
        f"{k} {fmt_time(v)}" for k, v in sorted(result.time_in_charger_state_s.items(), key=lambda kv: -kv[1])
        if v >= 0.5))
    problem = trust_problem(result)
    if problem is not None:
        lines.append(f"  NOT TRUSTED: {problem}")
    if result.violation is not None:
        lines.append(f"  SAFETY: {result.violation}")
    elif not result.safety_checked:
        lines.append("  safety invariants: not checked (the board's commands are not observable over a serial link)")
    else:
        lines.append("  safety invariants: all held")
    return "\n".join(lines)


#: Charging this long with no energy measured means the run's numbers are wrong
NOTHING_CHARGED_AFTER_S = 30.0
NOTHING_CHARGED_WH = 1.0


def trust_problem(result: SessionResult) -> Optional[str]:
    """Why the run's numbers cannot be trusted, or None: what the run itself found (the board fell
    behind the simulated clock, never answered), or nothing charged although the charger was in
    Charging for ``NOTHING_CHARGED_AFTER_S`` or longer."""
    if result.untrusted:
        return result.untrusted
    charging_s = result.time_in_charger_state_s.get("Charging", 0.0)
    if charging_s >= NOTHING_CHARGED_AFTER_S and result.energy_Wh_total < NOTHING_CHARGED_WH:
        return (f"nothing was charged ({result.energy_Wh_total:.1f} Wh) although the charger was in Charging "
                f"for {fmt_time(charging_s)}: no current reached the meter (did the board report power_meter "
                f"messages, and did its contactor close?)")
    return None


__all__ = ["NOTHING_CHARGED_AFTER_S", "StatusLine", "fmt_time", "format_summary", "trust_problem"]
