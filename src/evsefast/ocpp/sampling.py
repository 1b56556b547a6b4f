"""Sampled values from the manager's ``powermeter`` and ``limits`` vars (S16 §3.16, §7.43).

The billing meter's ``energy_Wh_import`` becomes Energy.Active.Import.Register (a register:
monotonic, never re-based per transaction, E16 §3.9), ``power_W`` Power.Active.Import,
``current_A`` Current.Import per phase, ``voltage_V`` Voltage per phase, ``frequency_Hz``
Frequency, and the published current limit Current.Offered -- libocpp's mapping
(spec/ocpp.md §2.6).  A measurand the meter does not report is left out, not sent as 0.

1.6 carries ``value`` as a string, 2.0.1 as a number with ``unitOfMeasure``.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Optional

__all__ = ["energy_Wh", "format_value", "sampled_values"]

_PHASES = ("L1", "L2", "L3")
_UNITS = {
    "Energy.Active.Import.Register": "Wh", "Energy.Active.Export.Register": "Wh", "Power.Active.Import": "W",
    "Current.Import": "A", "Current.Offered": "A", "Voltage": "V", "Frequency": "Hz",
}


def format_value(x: float) -> str:
    """A meter value as 1.6 wants it: a decimal string, at most 3 decimals, no exponent."""
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def energy_Wh(powermeter) -> float:
    """The imported energy register of a ``Powermeter`` sample (0 before the first sample)."""
    if powermeter is None:
        return 0.0
    return float(powermeter.energy_Wh_import.total)


def _readings(measurand: str, pm, limits) -> List[tuple]:
    """``[(phase or None, value)]`` for one measurand; empty if not available."""
    if measurand == "Current.Offered":
        return [] if limits is None else [(None, float(limits.max_current))]
    if pm is None:
        return []
    if measurand == "Energy.Active.Import.Register":
        return [(None, float(pm.energy_Wh_import.total))]
    if measurand == "Energy.Active.Export.Register":
        return [] if pm.energy_Wh_export is None else [(None, float(pm.energy_Wh_export.total))]
    if measurand == "Power.Active.Import":
        return [] if pm.power_W is None else [(None, float(pm.power_W.total))]
    source = {"Current.Import": pm.current_A, "Voltage": pm.voltage_V, "Frequency": pm.frequency_Hz}[measurand]
    if source is None:
        return []
    out = []
    for ph in _PHASES:
        v = getattr(source, ph, None)
        if v is not None and math.isfinite(v):
            out.append((None if measurand == "Frequency" else ph, float(v)))
        if measurand == "Frequency":
            break  # one grid frequency
    return out


def sampled_values(pm, limits, measurands: Iterable[str], context: str, version: str) -> List[Dict[str, Any]]:
    """The sampled values (snake_case keys, as the ``ocpp`` call classes take them) of one sample."""
    out: List[Dict[str, Any]] = []
    for m in measurands:
        unit: Optional[str] = _UNITS.get(m)
        for phase, value in _readings(m, pm, limits):
            if version == "1.6":
                sv: Dict[str, Any] = {"value": format_value(value), "context": context, "measurand": m,
                                      "location": "Outlet"}
                if unit is not None and unit != "Hz":  # 1.6 UnitOfMeasure has no Hz
                    sv["unit"] = unit
            else:
                sv = {"value": round(value, 3), "context": context, "measurand": m, "location": "Outlet"}
                if unit is not None:
                    sv["unit_of_measure"] = {"unit": unit}
            if phase is not None:
                sv["phase"] = phase
            out.append(sv)
    return out
