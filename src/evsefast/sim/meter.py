"""The simulated billing meter: line voltage drop, per-phase power, energy through the meter kernel.

Physics after EVerest's YetiSimulator (wire_protocols.md §4.1): the voltage of each phase is
``230 V x (1 + noise) - 0.5 ohm x I``, the power of a phase is ``V x I`` (counted only while
current flows), and the energy is integrated by the meter kernel (``kernels.meter.EnergyIntegrator``,
trapezoid rule, compensated).  The current is piecewise constant between physics steps, so each
constant stretch is fed as two samples (its start and its end at the same power); a step in the
current is a pair of samples with the same time stamp, which integrates nothing.

Published totals are rounded to whole Wh like YetiSimulator's when ``round_Wh`` is true.
"""
from __future__ import annotations

import datetime
import random
from typing import Optional, Tuple

from .. import _impl
from ..types.powermeter import Current, Energy, Frequency, Power, Powermeter, Temperature, Voltage

NOMINAL_V = 230.0
IMPEDANCE_OHM = 0.5
NEUTRAL_A_CHARGING = 0.2


def rfc3339(wall_s: float) -> str:
    """An RFC 3339 UTC time stamp with milliseconds, e.g. ``2026-01-01T00:00:00.000Z``."""
    dt = datetime.datetime.fromtimestamp(wall_s, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class SimMeter:
    """Per-phase currents in, voltages / power / energy out.  Time is handed in (``t_ms``).

    ``set_currents(t_ms, I1, I2, I3)`` changes the currents at ``t_ms`` (after integrating up to it);
    ``advance(t_ms)`` integrates up to ``t_ms``; ``sample(wall_s)`` builds a ``Powermeter``;
    ``reset(t_ms)`` starts the counters again (YetiSimulator does this on the A->B edge).
    """

    def __init__(self, *, kernels=None, noise: float = 0.0, rng: Optional[random.Random] = None,
                 round_Wh: bool = True, meter_id: str = "SIM_POWERMETER") -> None:
        k = kernels or _impl.ACTIVE
        self._integ = k.meter.EnergyIntegrator(1e12)
        self.noise = float(noise)
        self._rng = rng or random.Random(0)
        self.round_Wh = round_Wh
        self.meter_id = meter_id
        self.currents_A: Tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.neutral_A = 0.0
        self._vnoise = (1.0, 1.0, 1.0)
        self.voltages_V: Tuple[float, float, float] = (NOMINAL_V, NOMINAL_V, NOMINAL_V)
        self.power_W: Tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._t_ms = 0.0
        self._phase_Wh = [0.0, 0.0, 0.0]  # per-phase import, integrated here (constant stretches)
        self._integ.feed_power(0.0, 0.0)

    # -- physics ---------------------------------------------------------------------------------
    def _recompute(self) -> None:
        v = []
        p = []
        for i, cur in enumerate(self.currents_A):
            volt = NOMINAL_V * self._vnoise[i] - IMPEDANCE_OHM * abs(cur)
            v.append(volt)
            p.append(volt * cur)
        self.voltages_V = (v[0], v[1], v[2])
        self.power_W = (p[0], p[1], p[2])

    @property
    def total_power_W(self) -> float:
        """The present total power in W (import positive)."""
        p = self.power_W
        return p[0] + p[1] + p[2]

    def advance(self, t_ms: float) -> None:
        """Integrate the present (constant) power from the last time up to ``t_ms``."""
        dt = t_ms - self._t_ms
        if dt <= 0.0:
            return
        p = self.power_W
        total = p[0] + p[1] + p[2]
        if total != 0.0:
            self._integ.feed_power(self._t_ms, total)
            self._integ.feed_power(t_ms, total)
            f = dt / 3.6e6
            for i in range(3):
                if p[i] > 0.0:
                    self._phase_Wh[i] += p[i] * f
        else:
            self._integ.feed_power(t_ms, 0.0)
        self._t_ms = t_ms

    def set_currents(self, t_ms: float, I1: float, I2: float, I3: float, neutral_A: float = 0.0) -> None:
        """Integrate up to ``t_ms``, then switch to the new per-phase currents (A, import positive)."""
        self.advance(t_ms)
        if (I1, I2, I3) == self.currents_A and neutral_A == self.neutral_A:
            return
        self.currents_A = (float(I1), float(I2), float(I3))
        self.neutral_A = float(neutral_A)
        self._recompute()

    def renoise(self) -> None:
        """Draw a new voltage noise factor per phase (called once per published sample)."""
        if self.noise > 0.0:
            r = self._rng
            n = self.noise
            self._vnoise = (1.0 + r.uniform(-n, n), 1.0 + r.uniform(-n, n), 1.0 + r.uniform(-n, n))
            self._recompute()

    def reset(self, t_ms: float) -> None:
        """Zero the counters (the integrator chain restarts at ``t_ms``)."""
        self.advance(t_ms)
        self._integ.reset()
        self._integ.feed_power(t_ms, 0.0)
        self._phase_Wh = [0.0, 0.0, 0.0]

    # -- readings --------------------------------------------------------------------------------
    @property
    def import_Wh(self) -> float:
        """Imported energy since the last reset (unrounded)."""
        return self._integ.import_Wh

    @property
    def export_Wh(self) -> float:
        """Exported energy since the last reset (unrounded)."""
        return self._integ.export_Wh

    def sample(self, wall_s: float) -> Powermeter:
        """The present reading as an EVerest ``Powermeter`` (totals rounded if ``round_Wh``)."""
        rnd = round if self.round_Wh else (lambda x: x)
        p = self.power_W
        v = self.voltages_V
        c = self.currents_A
        ph = self._phase_Wh
        total_p = p[0] + p[1] + p[2]
        return Powermeter(
            timestamp=rfc3339(wall_s),
            meter_id=self.meter_id,
            energy_Wh_import=Energy(total=float(rnd(self.import_Wh)), L1=float(rnd(ph[0])),
                                    L2=float(rnd(ph[1])), L3=float(rnd(ph[2]))),
            energy_Wh_export=Energy(total=float(rnd(self.export_Wh))),
            power_W=Power(total=total_p, L1=p[0], L2=p[1], L3=p[2]),
            voltage_V=Voltage(L1=v[0], L2=v[1], L3=v[2]),
            current_A=Current(L1=c[0], L2=c[1], L3=c[2], N=self.neutral_A),
            frequency_Hz=Frequency(L1=50.0, L2=50.0, L3=50.0),
            temperatures=[Temperature(temperature=25.0 + 0.003 * abs(total_p), location="meter")],
        )


__all__ = ["IMPEDANCE_OHM", "NOMINAL_V", "SimMeter", "rfc3339"]
