"""Every EVerest error type evsefast raises or maps is defined by EVerest (everest-core ``errors/*.yaml``).

``bindings/everest/errors.json`` holds the names each ``errors/<interface>.yaml`` defines at the spec's HEAD
commit; a name EVerest does not define (e.g. ``connector_lock/ConnectorLockFailed``) fails here.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evsefast.board.yeti import events as yeti_events
from evsefast.board.yeti.profiles import ERROR_FLAG_TYPES, LATCHED_UNTIL_UNPLUG
from evsefast.manager import errors as manager_errors
from evsefast.sim import hardware as sim_hardware
from evsefast.types.board import BOARD_ERROR_TYPES

ROOT = Path(__file__).resolve().parents[1]
DEFINED = json.loads((ROOT / "bindings" / "everest" / "errors.json").read_text())["errors"]
_TYPE = re.compile(r"""["']((?:ac_rcd|connector_lock|evse_board_support|evse_manager|powermeter|system|generic|"""
                   r"""isolation_monitor|over_voltage_monitor|power_supply_DC)/[A-Za-z0-9_]+)["']""")


def defined(error_type: str) -> bool:
    iface, _, name = error_type.partition("/")
    return name in DEFINED.get(iface, ())


def test_the_everest_list_is_the_real_one():
    assert "MREC1ConnectorLockFailure" in DEFINED["connector_lock"]
    assert "ConnectorLockFailed" not in DEFINED["connector_lock"]
    assert DEFINED["evse_manager"] == ["Internal", "MREC4OverCurrentFailure", "MREC5OverVoltage",
                                       "MREC9AuthorizationTimeout", "PowermeterTransactionStartFailed",
                                       "Inoperative", "MREC22ResistanceFault", "MREC11CableCheckFault",
                                       "VoltagePlausibilityFault"]


@pytest.mark.parametrize("flag", sorted(ERROR_FLAG_TYPES))
def test_yeti_error_flags_raise_everest_names(flag):
    assert defined(ERROR_FLAG_TYPES[flag]), ERROR_FLAG_TYPES[flag]


def test_yeti_flag_names_match_upstream_yeti_driver():
    assert ERROR_FLAG_TYPES["connector_lock_failed"] == "connector_lock/MREC1ConnectorLockFailure"
    assert ERROR_FLAG_TYPES["rcd_triggered"] == "evse_board_support/MREC2GroundFailure"
    assert LATCHED_UNTIL_UNPLUG <= set(ERROR_FLAG_TYPES.values())


def test_named_error_constants_are_everest_names():
    names = [yeti_events.COMMUNICATION_FAULT, yeti_events.PP_FAULT_ERROR, yeti_events.SPURIOUS_RESET_ERROR[0],
             manager_errors.INOPERATIVE, manager_errors.MREC4, manager_errors.INTERNAL, manager_errors.MREC9,
             manager_errors.PM_START_FAILED, *manager_errors.CLEARED_ON_UNPLUG,
             *(v for v in sim_hardware.FAULT_ERRORS.values() if v), sim_hardware.RCD_CAR_ERROR,
             *(f"evse_board_support/{n}" for n in BOARD_ERROR_TYPES)]
    assert [n for n in names if not defined(n)] == []


def test_every_error_type_literal_in_the_sources_is_an_everest_name():
    found = {}
    for path in sorted((ROOT / "src" / "evsefast").rglob("*.py")):
        for m in _TYPE.finditer(path.read_text()):
            found.setdefault(m.group(1), str(path.relative_to(ROOT)))
    assert len(found) >= 20  # the scan really sees the sources
    assert {t: where for t, where in found.items() if not defined(t)} == {}
