"""``--plot FILE.png``: current, PWM duty, CP state and energy over the simulated time.

Plotting is the optional extra ``evsefast[plot]`` (matplotlib); without it ``plot_result`` raises
``PlotUnavailable`` whose message says how to install it.
"""
from __future__ import annotations

from .runner import SessionResult

CP_LEVELS = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1, "F": 0}
INSTALL_HINT = "plotting needs matplotlib: install it with  pip install 'evsefast[plot]'"


class PlotUnavailable(ImportError):
    """matplotlib is not installed."""


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotUnavailable(INSTALL_HINT) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_result(result: SessionResult, path: str, *, dpi: int = 100) -> str:
    """Write a PNG of the run to ``path``; returns the path."""
    plt = _pyplot()
    t_min = [t / 60.0 for t in result.t_s]
    fig, axes = plt.subplots(4, 1, figsize=(10, 8), sharex=True)
    ax_i, ax_d, ax_cp, ax_e = axes
    ax_i.plot(t_min, list(result.current_A), color="tab:red", lw=1.2)
    ax_i.set_ylabel("current L1 [A]")
    ax_d.plot(t_min, list(result.duty_pct), color="tab:blue", lw=1.2, drawstyle="steps-post")
    ax_d.set_ylabel("PWM duty [%]")
    ax_d.set_ylim(-5, 105)
    ax_cp.plot(t_min, [CP_LEVELS.get(s, -1) for s in result.cp_state], color="tab:green", lw=1.2,
               drawstyle="steps-post")
    ax_cp.set_yticks(list(CP_LEVELS.values()))
    ax_cp.set_yticklabels(list(CP_LEVELS.keys()))
    ax_cp.set_ylabel("CP state")
    ax_e.plot(t_min, [e / 1000.0 for e in result.energy_Wh], color="tab:purple", lw=1.2)
    ax_e.set_ylabel("energy [kWh]")
    ax_e.set_xlabel("simulated time [min]")
    for t_ms, ev in result.events:
        for ax in axes:
            ax.axvline(t_ms / 60000.0, color="0.8", lw=0.6, zorder=0)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    opt = result.options
    fig.suptitle(f"evsefast simulate: car '{result.profile.name}', limit {opt.limit_A:g} A, "
                 f"{opt.phases} phases, {result.energy_Wh_total:.0f} Wh")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


__all__ = ["INSTALL_HINT", "PlotUnavailable", "plot_result"]
