"""The contract: the seed interface (003) and the seed types (000), parsed from their own text.

* every cmd is a method of ``evsefast.manager.EvseManager`` with exactly the interface's argument names and a
  return annotation matching the result type (``None`` for cmds without a result);
* every var is listed in ``EvseManager.VARS`` (name → type);
* every seed type, field and enum value exists in the msgspec types (seed types win);
* ``evsefast.types.CMDS``/``VARS`` agree with the interface, and ``bindings/everest/`` is up to date.

The seed interface defines 13 cmds and 15 vars (the house plan says "17 vars"; the seed text has 15).
"""
from __future__ import annotations

import enum
import importlib.util
import inspect
import json
import json
import typing
from pathlib import Path

import msgspec
import pytest
from msgspec import inspect as mi

import evsefast.types as t

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("gen_schema", ROOT / "tools" / "gen_schema.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_tool()
INTERFACE = gen.parse_interface_text(gen.INTERFACE_SEED.read_text())
SEED_TYPES = gen.parse_seed_types_text(gen.TYPES_SEED.read_text())
CMD_NAMES = list(INTERFACE["cmds"])
VAR_NAMES = list(INTERFACE["vars"])


def _expected(entry):
    """The Python type of an interface entry (argument, result or var)."""
    return t.resolve_ref(entry.get("$ref"), entry["type"], items=entry.get("items"), min_items=entry.get("minItems"))


# --------------------------------------------------------------------------------------------------
# The seed text itself
# --------------------------------------------------------------------------------------------------


def test_seed_copies_match_the_shared_contract():
    if not gen.SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds not present: using the committed copies")
    for name in (gen.INTERFACE_SEED.name, gen.TYPES_SEED.name):
        assert (gen.OUT / "seed" / name).read_bytes() == (gen.SHARED_SEEDS / name).read_bytes()


def test_seed_interface_parses_completely():
    assert CMD_NAMES == [
        "get_evse", "enable_disable", "authorize_response", "withdraw_authorization", "reserve",
        "cancel_reservation", "pause_charging", "resume_charging", "stop_transaction", "force_unlock",
        "external_ready_to_start_charging", "set_plug_and_charge_configuration",
        "update_allowed_energy_transfer_modes"]
    assert len(VAR_NAMES) == 15
    text = gen.INTERFACE_SEED.read_text()
    # every "name: description:" in the text is a cmd, an argument, a result or a var
    n_entries = text.count(": description:")
    n_parsed = len(CMD_NAMES) + len(VAR_NAMES) + sum(
        len(c.get("arguments", {})) + ("result" in c) for c in INTERFACE["cmds"].values())
    assert n_parsed == n_entries
    for name, var in INTERFACE["vars"].items():
        assert "type" in var, name
    assert INTERFACE["errors"] == [{"reference": "/errors/evse_manager"}]


def test_python_interface_matches_the_seed():
    assert list(t.CMDS) == CMD_NAMES
    for name, cmd in INTERFACE["cmds"].items():
        spec = t.CMDS[name]
        args = cmd.get("arguments", {})
        assert list(spec.arguments) == list(args), name
        for arg, entry in args.items():
            assert spec.arguments[arg] == _expected(entry), (name, arg)
        assert spec.result == (_expected(cmd["result"]) if "result" in cmd else None), name
    assert list(t.VARS) == VAR_NAMES
    for name, entry in INTERFACE["vars"].items():
        assert t.VARS[name] == _expected(entry), name
    assert t.VARS["session_event"] is t.SessionEvents  # seed naming conflict, spec §6.1


# --------------------------------------------------------------------------------------------------
# EvseManager implements every cmd and var (fails until the manager lands)
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manager_cls():
    from evsefast.manager import EvseManager

    return EvseManager


@pytest.mark.parametrize("cmd", CMD_NAMES)
def test_cmd_is_a_method_with_the_interface_signature(manager_cls, cmd):
    spec = INTERFACE["cmds"][cmd]
    method = getattr(manager_cls, cmd, None)
    assert callable(method), f"EvseManager.{cmd} is missing"
    params = list(inspect.signature(method).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    assert [p.name for p in params] == list(spec.get("arguments", {})), f"EvseManager.{cmd} argument names"
    hints = typing.get_type_hints(method)
    assert "return" in hints, f"EvseManager.{cmd} has no return annotation"
    expected = _expected(spec["result"]) if "result" in spec else type(None)
    assert hints["return"] == expected, f"EvseManager.{cmd} returns {hints['return']!r}, interface: {expected!r}"


def _mentions(tp, target) -> bool:
    if tp == target or tp is target:
        return True
    return any(_mentions(a, target) for a in typing.get_args(tp))


@pytest.mark.parametrize("var", VAR_NAMES)
def test_var_is_published_by_the_manager(manager_cls, var):
    declared = getattr(manager_cls, "VARS", None)
    assert declared is not None, "EvseManager.VARS (var name -> type) is missing"
    assert var in declared, f"var {var} is not in EvseManager.VARS"
    if isinstance(declared, dict):
        expected = _expected(INTERFACE["vars"][var])
        got = declared[var]
        if INTERFACE["vars"][var]["type"] == "array":
            assert _mentions(got, t.EnergyTransferMode), (var, got)
        else:
            assert got == expected, f"EvseManager.VARS[{var!r}] is {got!r}, interface: {expected!r}"


# --------------------------------------------------------------------------------------------------
# Every seed type, field and enum value exists in the msgspec types
# --------------------------------------------------------------------------------------------------

_JSON_TYPES = {"number": mi.FloatType, "integer": mi.IntType, "string": mi.StrType, "boolean": mi.BoolType}


@pytest.mark.arm
@pytest.mark.parametrize("name", list(SEED_TYPES))
def test_seed_type_exists(name):
    seed = SEED_TYPES[name]
    assert name in t.__all__, f"evsefast.types.{name} is missing"
    tp = getattr(t, name)
    if "enum" in seed:
        assert issubclass(tp, enum.Enum) and issubclass(tp, str)
        assert [m.value for m in tp] == seed["enum"], f"{name} enum values"
        return
    assert seed["type"] == "object" and issubclass(tp, msgspec.Struct)
    info = mi.type_info(tp)
    fields = {f.encode_name: f for f in info.fields}
    assert set(fields) == set(seed["properties"]), f"{name} fields"
    assert {f for f, fi in fields.items() if fi.required} == set(seed.get("required", ())), f"{name} required"
    for fname, prop in seed["properties"].items():
        ftype = fields[fname].type
        if isinstance(ftype, mi.UnionType):  # Optional[X]
            others = [x for x in ftype.types if not isinstance(x, mi.NoneType)]
            assert len(others) == 1
            ftype = others[0]
        if "$ref" in prop:
            target = getattr(t, prop["$ref"].rsplit("/", 1)[1])
            assert getattr(ftype, "cls", None) is target, f"{name}.{fname} is not {target.__name__}"
        else:
            assert isinstance(ftype, _JSON_TYPES[prop["type"]]), f"{name}.{fname}: {ftype} vs {prop['type']}"


def test_seed_session_events_payloads():
    assert set(SEED_TYPES) >= {"SessionEvents", "SessionStarted", "SessionFinished", "SessionCancelled",
                               "ReservationStart", "ReservationEnd", "SessionEvent", "SessionCancellationReason",
                               "Error", "ReservationEndReason", "ReservationResult", "SetLocalMaxCurrentResult",
                               "SwitchThreePhasesWhileChargingResult"}
    assert len(SEED_TYPES) == 13


# --------------------------------------------------------------------------------------------------
# bindings/everest is generated from the seed and the types: wire changes must be committed
# --------------------------------------------------------------------------------------------------


def test_bindings_are_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p in gen.stale_files()]
    assert not stale, f"run `python tools/gen_schema.py` and commit: {stale}"


def test_bindings_check_ignores_how_msgspec_renders_docstrings():
    """msgspec 0.23 / Python 3.13 strip docstring indentation that older versions keep: same structure."""
    doc = json.loads((gen.OUT / "schema" / "types.json").read_text())

    def indent(node):
        if isinstance(node, dict):
            return {k: (v.replace("\n", "\n    ") if k == "description" and isinstance(v, str) else indent(v))
                    for k, v in node.items()}
        return [indent(v) for v in node] if isinstance(node, list) else node

    reindented = indent(doc)
    assert reindented != doc  # the rendering really differs
    assert gen._canonical(reindented) == gen._canonical(doc)
    changed = dict(doc, title="something else")
    assert gen._canonical(changed) != gen._canonical(doc)  # a real change still counts
