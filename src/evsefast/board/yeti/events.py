"""Board messages -> evsefast types, with the checks that keep bad values out of the manager.

Each converter raises ``ValueError`` for a value that decoded but makes no sense (an
unknown enum number, a NaN current, min above max); the driver drops and counts it.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Optional

from ...types.board import Ampacity, BoardConnectorType, HardwareCapabilities, ProximityPilot
from ...types.powermeter import Current, Energy, Frequency, Power, Powermeter, Temperature, Voltage

COMMUNICATION_FAULT = "evse_board_support/CommunicationFault"
PP_FAULT_ERROR = "evse_board_support/MREC23ProximityFault"
#: (type, sub_type) raised on an unexpected MCU reset; VendorWarning does not stop charging.
SPURIOUS_RESET_ERROR = ("evse_board_support/VendorWarning", "SpuriousReset")

CP_LETTERS = "ABCDEF"  # CpState enum number -> letter
CP_NUMBERS = {letter: i for i, letter in enumerate(CP_LETTERS)}

#: PpState enum number -> (ProximityPilot, is_fault)
PP_AMPACITY = (
    (ProximityPilot(ampacity=Ampacity.None_), False),
    (ProximityPilot(ampacity=Ampacity.A_13), False),
    (ProximityPilot(ampacity=Ampacity.A_20), False),
    (ProximityPilot(ampacity=Ampacity.A_32), False),
    (ProximityPilot(ampacity=Ampacity.A_63_3ph_70_1ph), False),
    (ProximityPilot(ampacity=Ampacity.None_), True),
)
#: Ampacity value -> PpState enum number (for the virtual MCU)
PP_NUMBERS = {"None": 0, "A_13": 1, "A_20": 2, "A_32": 3, "A_63_3ph_70_1ph": 4, "FAULT": 5}


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} is {value}")
    return value


def capabilities_from_keep_alive(ka, connector_type: BoardConnectorType, min_override_A: float = -1.0,
                                 max_override_A: float = -1.0) -> HardwareCapabilities:
    """HardwareCapabilities from a KeepAliveLo; overrides ≥ 0 win (the Yeti ``caps_*`` config)."""
    max_a = max_override_A if max_override_A >= 0 else _finite("hwcap_max_current", ka.hwcap_max_current)
    min_a = min_override_A if min_override_A >= 0 else _finite("hwcap_min_current", ka.hwcap_min_current)
    if not 0.0 <= min_a <= max_a:
        raise ValueError(f"hwcap currents min {min_a} / max {max_a} A are not 0 <= min <= max")
    max_ph = min(max(int(ka.hwcap_max_phase_count), 1), 3)
    min_ph = min(max(int(ka.hwcap_min_phase_count), 1), max_ph)
    return HardwareCapabilities(
        max_current_A_import=max_a, min_current_A_import=min_a,
        max_phase_count_import=max_ph, min_phase_count_import=min_ph,
        max_current_A_export=0.0, min_current_A_export=0.0,
        max_phase_count_export=1, min_phase_count_export=1,
        supports_changing_phases_during_charging=bool(ka.supports_changing_phases_during_charging),
        supports_cp_state_E=False, connector_type=connector_type,
    )


def rfc3339(wall_s: float) -> str:
    """``2026-01-01T00:00:00.000Z`` from Unix seconds."""
    return datetime.fromtimestamp(wall_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def powermeter_from_message(m, wall_s: float, meter_id: Optional[str] = None) -> Powermeter:
    """A Powermeter sample from the board's PowerMeter message, stamped with host time."""
    f = {name: _finite(name, getattr(m, name)) for name in (
        "vrmsL1", "vrmsL2", "vrmsL3", "irmsL1", "irmsL2", "irmsL3", "irmsN", "wattHrL1", "wattHrL2",
        "wattHrL3", "totalWattHr", "tempL1", "tempL2", "tempL3", "tempN", "wattL1", "wattL2", "wattL3",
        "freqL1", "freqL2", "freqL3")}
    return Powermeter(
        timestamp=rfc3339(wall_s),
        meter_id=meter_id,
        phase_seq_error=bool(m.phaseSeqError),
        energy_Wh_import=Energy(total=f["totalWattHr"], L1=f["wattHrL1"], L2=f["wattHrL2"], L3=f["wattHrL3"]),
        power_W=Power(total=f["wattL1"] + f["wattL2"] + f["wattL3"], L1=f["wattL1"], L2=f["wattL2"],
                      L3=f["wattL3"]),
        voltage_V=Voltage(L1=f["vrmsL1"], L2=f["vrmsL2"], L3=f["vrmsL3"]),
        current_A=Current(L1=f["irmsL1"], L2=f["irmsL2"], L3=f["irmsL3"], N=f["irmsN"]),
        frequency_Hz=Frequency(L1=f["freqL1"], L2=f["freqL2"], L3=f["freqL3"]),
        temperatures=[Temperature(temperature=f["temp" + p], location=p) for p in ("L1", "L2", "L3", "N")],
    )


def powermeter_fields(sample: Powermeter) -> dict:
    """The PowerMeter message fields for a Powermeter sample (the virtual MCU's direction)."""
    out = {}
    e = sample.energy_Wh_import
    out["totalWattHr"] = e.total
    for ph in ("L1", "L2", "L3"):
        if getattr(e, ph) is not None:
            out["wattHr" + ph] = getattr(e, ph)
        for struct, prefix in ((sample.voltage_V, "vrms"), (sample.current_A, "irms"), (sample.power_W, "watt"),
                               (sample.frequency_Hz, "freq")):
            if struct is not None and getattr(struct, ph, None) is not None:
                out[prefix + ph] = getattr(struct, ph)
    if sample.current_A is not None and sample.current_A.N is not None:
        out["irmsN"] = sample.current_A.N
    if sample.power_W is not None and "wattL1" not in out:
        out["wattL1"] = sample.power_W.total
    if sample.phase_seq_error:
        out["phaseSeqError"] = True
    return out


__all__ = [
    "COMMUNICATION_FAULT", "CP_LETTERS", "CP_NUMBERS", "PP_AMPACITY", "PP_FAULT_ERROR", "PP_NUMBERS",
    "SPURIOUS_RESET_ERROR", "capabilities_from_keep_alive", "powermeter_fields", "powermeter_from_message",
    "rfc3339",
]
