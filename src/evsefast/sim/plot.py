"""``--plot FILE.png``: offered and drawn current, PWM duty, CP state and energy over the simulated time.

The top panel shows the current the charger *offers* -- decoded from the PWM duty the car sees
(IEC 61851-1 Annex A, ``evsefast.pwm.current_from_duty_pct``) -- beside the current *drawn* on each
phase, with every session event as a labelled line: a car that over-draws stands out against its
lowered limit. ``plot_series(result)`` returns exactly what is drawn (for tests and other plotters).

Plotting is the optional extra ``evsefast[plot]`` (matplotlib); without it ``plot_result`` raises
``PlotUnavailable`` whose message says how to install it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .runner import SessionResult, event_label

CP_LEVELS = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1, "F": 0}
INSTALL_HINT = "plotting needs matplotlib: install it with  pip install 'evsefast[plot]'"
PHASE_COLORS = {"L1": "tab:red", "L2": "tab:green", "L3": "tab:blue"}
PHASE_WIDTHS = {"L1": 3.2, "L2": 2.0, "L3": 0.9}  # equal currents on three phases stay visible
OFFERED_COLOR = "black"


class PlotUnavailable(ImportError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotUnavailable(INSTALL_HINT) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def event_marks(result: SessionResult, merge_s: float = 0.0) -> List[Tuple[float, str]]:
    """Session events as ``(t_s, label)``; events less than ``merge_s`` apart share one label
    (``"Enabled, SessionStarted"``) so that labels never sit on top of each other."""
    marks: List[Tuple[float, str]] = []
    for t_ms, ev in result.events:
        t_s = t_ms / 1000.0
        label = event_label(ev)
        if marks and t_s - marks[-1][0] <= merge_s:
            marks[-1] = (marks[-1][0], f"{marks[-1][1]}, {label}")
        else:
            marks.append((t_s, label))
    return marks


def plot_series(result: SessionResult) -> Dict[str, Any]:
    """The plotted data: ``t_s``; ``offered_A`` (from the duty); ``L1``/``L2``/``L3`` drawn current
    in A; ``duty_pct``; ``cp_state``; ``energy_kWh``; ``events`` as ``(t_s, label)``."""
    from ..pwm import current_from_duty_pct

    span_s = (result.t_s[-1] - result.t_s[0]) if len(result.t_s) > 1 else 1.0
    n = len(result.t_s)

    def phase(values: Any) -> List[float]:
        return list(values) if len(values) == n else [0.0] * n
    return {
        "t_s": list(result.t_s),
        "offered_A": [current_from_duty_pct(min(max(d, 0.0), 100.0)) for d in result.duty_pct],
        "L1": list(result.current_A),
        "L2": phase(result.current_L2_A),
        "L3": phase(result.current_L3_A),
        "duty_pct": list(result.duty_pct),
        "cp_state": list(result.cp_state),
        "energy_kWh": [e / 1000.0 for e in result.energy_Wh],
        "events": event_marks(result, merge_s=span_s / 60.0),
    }


def plot_result(result: SessionResult, path: str, *, dpi: int = 100) -> str:
    """Write a PNG of the run to ``path``; returns the path."""
    plt = _pyplot()
    data = plot_series(result)
    t_min = [t / 60.0 for t in data["t_s"]]
    fig, axes = plt.subplots(4, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1, 1.2]})
    ax_i, ax_d, ax_cp, ax_e = axes
    for name, color in PHASE_COLORS.items():
        if any(data[name]):
            ax_i.plot(t_min, data[name], color=color, lw=PHASE_WIDTHS[name], label=f"drawn {name}")
    ax_i.plot(t_min, data["offered_A"], color=OFFERED_COLOR, lw=1.2, ls="--", drawstyle="steps-post",
              label="offered (PWM duty)")
    ax_i.set_ylabel("current [A]")
    ax_i.legend(loc="lower right", fontsize=7, ncol=4)
    top = max([1.0, *data["offered_A"], *data["L1"], *data["L2"], *data["L3"]])
    ax_i.set_ylim(0, top * 1.6)  # head room for the event labels
    ax_d.plot(t_min, data["duty_pct"], color="tab:purple", lw=1.2, drawstyle="steps-post")
    ax_d.set_ylabel("PWM duty [%]")
    ax_d.set_ylim(-5, 105)
    ax_cp.plot(t_min, [CP_LEVELS.get(s, -1) for s in data["cp_state"]], color="tab:olive", lw=1.2,
               drawstyle="steps-post")
    ax_cp.set_yticks(list(CP_LEVELS.values()))
    ax_cp.set_yticklabels(list(CP_LEVELS.keys()))
    ax_cp.set_ylabel("CP state")
    ax_e.plot(t_min, data["energy_kWh"], color="tab:brown", lw=1.2)
    ax_e.set_ylabel("energy [kWh]")
    ax_e.set_xlabel("simulated time [min]")
    for t_s, label in data["events"]:
        for ax in axes:
            ax.axvline(t_s / 60.0, color="0.75", lw=0.6, zorder=0)
        ax_i.text(t_s / 60.0, top * 1.55, " " + label, rotation=90, va="top", ha="right", fontsize=6.5,
                  color="0.25")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    opt = result.options
    fig.suptitle(f"evsefast simulate: car '{result.profile.name}', limit {opt.limit_A:g} A, "
                 f"{opt.phases} phases, {result.energy_Wh_total:.0f} Wh")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


__all__ = ["INSTALL_HINT", "PlotUnavailable", "event_marks", "plot_result", "plot_series"]
