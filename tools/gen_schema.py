#!/usr/bin/env python3
"""Generate bindings/everest/ from the seed contract and the msgspec types.

    python tools/gen_schema.py           # (re)write the files
    python tools/gen_schema.py --check   # exit 1 and list the files that differ (CI, tests/test_contract.py)

Outputs (all JSON, sorted keys, 2-space indent, trailing newline):

* ``interfaces/evse_manager.json``: the seed interface ``003`` (one line of flattened YAML) as clean data;
* ``types/evse_manager_seed.json``: the seed types ``000`` (EVerest's RST type docs) as data;
* ``schema/types.json``: JSON Schema (2020-12) ``$defs`` of every msgspec type in ``evsefast.types``;
* ``schema/evse_manager.json``: JSON Schema of every cmd's arguments and result and of every var;
* ``topics.json``: the MQTT topic map (EVerest framework module topics, current and legacy format, and the
  ``everest_api/1/evse_manager_consumer`` topics), see wire_protocols.md §1-§2.

The two parsers (``parse_interface_text``, ``parse_seed_types_text``) are also used by the contract test.
"""
from __future__ import annotations

import argparse
import enum
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bindings" / "everest"
# The shared contract folder when present (developer tree); otherwise the verbatim copies committed in
# bindings/everest/seed/ (a plain checkout, CI). tests/test_contract.py checks the copies are identical.
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
SEEDS = SHARED_SEEDS if SHARED_SEEDS.is_dir() else OUT / "seed"
INTERFACE_SEED = SEEDS / "003_58ced612409218a2.txt"
TYPES_SEED = SEEDS / "000_b34336c8534e1ee7.txt"

# --------------------------------------------------------------------------------------------------
# Seed interface: one line of YAML with its line breaks and indentation removed
# --------------------------------------------------------------------------------------------------

_ENTRY = re.compile(r"(?<!\S)([A-Za-z_][A-Za-z0-9_]*): description:\s")
_KEY = re.compile(r"(?<!\S)(type|\$ref|items|minItems|maxItems):\s")


def _clean_description(text: str) -> str:
    text = text.strip()
    if text.startswith(">-"):
        text = text[2:].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def _parse_body(body: str) -> Tuple[str, Dict[str, Any]]:
    """``DESCRIPTION [type: X] [$ref: R] [items: type: Y $ref: R] [minItems: N]`` → (description, props)."""
    m = _KEY.search(body)
    if m is None:
        return _clean_description(body), {}
    desc = _clean_description(body[: m.start()])
    props: Dict[str, Any] = {}
    target = props
    keys = list(_KEY.finditer(body))
    for i, k in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(body)
        key, value = k.group(1), body[k.end():end].strip()
        if key == "items":
            props["items"] = target = {}
            continue
        if key in ("minItems", "maxItems"):
            props[key] = int(value)
            target = props
            continue
        target[key] = value
    return desc, props


def parse_interface_text(text: str) -> Dict[str, Any]:
    """Parse the seed interface into ``{description, cmds: {name: {description, arguments?, result?}},
    vars: {name: {description, type, $ref?, items?, minItems?}}, errors: [{reference}]}``.

    The seed lost its line structure, so nesting is inferred: in ``cmds``, an entry with a ``type`` is an
    argument of the current cmd (or its ``result``); an entry without one starts a new cmd.
    """
    text = " ".join(text.split())
    head, rest = text.split(" cmds: ", 1)
    cmds_text, rest = rest.split(" vars: ", 1)
    vars_text, _, errors_text = rest.partition(" errors: ")
    out: Dict[str, Any] = {"description": _clean_description(head.split("description:", 1)[1])}

    cmds: Dict[str, Any] = {}
    current = None
    for name, body in _entries(cmds_text):
        desc, props = _parse_body(body.replace(" arguments:", "").rstrip())
        if "type" not in props:
            current = cmds[name] = {"description": desc}
        elif name == "result":
            current["result"] = {"description": desc, **props}
        else:
            current.setdefault("arguments", {})[name] = {"description": desc, **props}
    out["cmds"] = cmds

    variables: Dict[str, Any] = {}
    for name, body in _entries(vars_text):
        desc, props = _parse_body(body)
        variables[name] = {"description": desc, **props}
    out["vars"] = variables
    out["errors"] = [{"reference": r} for r in re.findall(r"- reference: (\S+)", errors_text)]
    return out


def _entries(text: str) -> List[Tuple[str, str]]:
    matches = list(_ENTRY.finditer(text))
    return [(m.group(1), text[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(text)])
            for i, m in enumerate(matches)]


# --------------------------------------------------------------------------------------------------
# Seed types: EVerest's generated RST docs
# --------------------------------------------------------------------------------------------------

_TYPE_HEAD = re.compile(r"^\| \*\*(\w+)\*\*:\*(\w+)\*\s*$")
_PROP = re.compile(r"^\|   \*\*(\w+)\*\*:\*(\w+)\*(?: \(:ref:`[\w-]*?-(\w+) <[^>]*>`\))?\s*$")


def parse_seed_types_text(text: str) -> Dict[str, Any]:
    """Parse the seed types into ``{Name: {type: string, description, enum: [...]}`` or
    ``{type: object, description, required: [...], properties: {field: {type, $ref?, description}}}}``."""
    types: Dict[str, Any] = {}
    current: Dict[str, Any] = {}
    prop: Dict[str, Any] = {}
    for line in text.splitlines():
        head = _TYPE_HEAD.match(line)
        if head:
            current = types[head.group(1)] = {"type": head.group(2)}
            prop = {}
            continue
        if not current or not line.startswith("|"):
            continue
        pm = _PROP.match(line)
        if pm:
            prop = {"type": pm.group(2)}
            if pm.group(3):
                prop["$ref"] = f"/evse_manager#/{pm.group(3)}"
            current.setdefault("properties", {})[pm.group(1)] = prop
            continue
        body = line[1:]
        stripped = body.strip()
        if body.startswith("  ") and not body.startswith("   ") and stripped:
            if stripped.startswith("enum: "):
                current["enum"] = [v.strip() for v in stripped[6:].split(",")]
            elif stripped.startswith("required: "):
                current["required"] = [v.strip() for v in stripped[10:].split(",")]
            elif stripped == "properties:":
                current.setdefault("properties", {})
            elif "description" not in current:
                current["description"] = stripped
        elif body.startswith("    ") and prop and "description" not in prop and not stripped.startswith("**"):
            prop["description"] = stripped
    return types


# --------------------------------------------------------------------------------------------------
# JSON Schema from the msgspec types
# --------------------------------------------------------------------------------------------------


def _all_types() -> List[Any]:
    import msgspec
    import evsefast.types as t

    found = []
    for name in sorted(t.__all__):
        obj = getattr(t, name)
        if isinstance(obj, type) and (issubclass(obj, msgspec.Struct) or issubclass(obj, enum.Enum)) \
                and obj.__name__ == name and obj not in found:
            found.append(obj)
    return found


def types_schema() -> Dict[str, Any]:
    import msgspec

    _, components = msgspec.json.schema_components(_all_types(), ref_template="#/$defs/{name}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "evsefast/bindings/everest/schema/types.json",
        "title": "evsefast msgspec types (EVerest names; seed evse_manager types win)",
        "$defs": components,
    }


def interface_schema() -> Dict[str, Any]:
    import msgspec
    from evsefast.types import CMDS, VARS

    order: List[Any] = []
    for spec in CMDS.values():
        order.extend(spec.arguments.values())
        order.append(spec.result if spec.result is not None else type(None))
    order.extend(VARS.values())
    schemas, components = msgspec.json.schema_components(order, ref_template="#/$defs/{name}")
    it = iter(schemas)
    cmds: Dict[str, Any] = {}
    for name, spec in CMDS.items():
        args = {arg: next(it) for arg in spec.arguments}
        result = next(it)
        cmds[name] = {
            "arguments": {"type": "object", "properties": args, "required": list(args),
                          "additionalProperties": False},
            "result": result,
        }
    variables = {name: next(it) for name in VARS}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "evsefast/bindings/everest/schema/evse_manager.json",
        "title": "evse_manager interface (seed 003): cmd arguments/results and vars",
        "cmds": cmds,
        "vars": variables,
        "$defs": components,
    }


# --------------------------------------------------------------------------------------------------
# MQTT topic map (wire_protocols.md §1.3, §1.4, §2.3)
# --------------------------------------------------------------------------------------------------


def topics(interface: Dict[str, Any]) -> Dict[str, Any]:
    base = "{prefix}modules/{module_id}/impl/{impl_id}"
    api = "{external_prefix}everest_api/1/evse_manager_consumer/{api_module_id}"
    consumer_cmds = ["get_evse", "enable_disable", "pause_charging", "resume_charging", "stop_transaction",
                     "force_unlock"]
    consumer_vars = ["session_event", "hlc_session_failed", "ev_info", "powermeter", "powermeter_public_key_ocmf",
                     "evse_id", "hw_capabilities", "enforced_limits", "selected_protocol",
                     "supported_energy_transfer_modes"]
    return {
        "description": "MQTT topics of evse_manager. Placeholders: {prefix} = internal prefix ('everest/'), "
                       "{module_id} = EVerest module instance id (e.g. 'connector_1'), {impl_id} = implementation "
                       "id ('evse'), {caller_id} = calling module id, {external_prefix} = external prefix (''), "
                       "{api_module_id} = evse_manager_consumer_API instance id.",
        "framework": {
            "description": "EVerest framework >= v0.25 (EVerest >= 2025.12): one topic per cmd and var, payloads "
                           "wrapped as {\"msg_type\": ..., \"data\": ...}; QoS 2, not retained.",
            "cmds": {
                name: {
                    "call": {"topic": f"{base}/cmd/{name}",
                             "payload": {"msg_type": "Cmd", "data": {"id": "<uuid>", "args": {
                                 a: f"<{a}>" for a in spec.get("arguments", {})}, "origin": "<caller_id>"}}},
                    "result": {"topic": f"{base}/cmd/{name}/response/{{caller_id}}",
                               "payload": {"msg_type": "CmdResult", "data": {"type": "result", "data": {
                                   "id": "<uuid>", "retval": "<result>" if "result" in spec else None,
                                   "origin": "<module_id>"}}}},
                }
                for name, spec in interface["cmds"].items()
            },
            "vars": {name: {"topic": f"{base}/var/{name}",
                            "payload": {"msg_type": "Var", "data": {"data": f"<{name}>"}}}
                     for name in interface["vars"]},
            "errors": {"topic": f"{base}/error/evse_manager/{{error_type}}",
                       "payload": {"raise": {"msg_type": "RaiseError", "data": "<Error>"},
                                   "clear": {"msg_type": "ClearError", "data": "<Error state=ClearedByModule>"}}},
            "module_ready": {"topic": "{prefix}modules/{module_id}/ready",
                             "payload": {"msg_type": "ModuleReady", "data": True}},
            "global_ready": {"topic": "{prefix}ready", "payload": {"msg_type": "GlobalReady", "data": True}},
        },
        "framework_legacy": {
            "description": "EVerest framework <= v0.24 (EVerest <= 2025.10): one shared topic for all cmds and "
                           "results, one for all vars; no msg_type.",
            "cmd": {"topic": f"{base}/cmd",
                    "call": {"name": "<cmd>", "type": "call", "data": {"id": "<uuid>", "args": {},
                                                                       "origin": "<caller_id>"}},
                    "result": {"name": "<cmd>", "type": "result", "data": {"id": "<uuid>", "retval": "<result>",
                                                                           "origin": "<module_id>"}}},
            "var": {"topic": f"{base}/var", "payload": {"name": "<var>", "data": "<value>"}},
            "error": {"topic": f"{base}/error", "payload": "<Error>"},
            "module_ready": {"topic": "{prefix}modules/{module_id}/ready", "payload": True},
        },
        "energy_grid": {
            "description": "The energy interface of implementation {impl_id} = 'energy_grid' (current format; the "
                           "legacy format puts cmds and vars on the shared cmd/var topics as above). "
                           "energy_flow_request is published every second and at once (priority_request true) "
                           "on entering WaitingForAuthentication or Finished.",
            "cmds": {"enforce_limits": {
                "call": {"topic": f"{base}/cmd/enforce_limits",
                         "payload": {"msg_type": "Cmd", "data": {"id": "<uuid>", "args": {"value": "<EnforcedLimits>"},
                                                                 "origin": "<caller_id>"}}},
                "result": {"topic": f"{base}/cmd/enforce_limits/response/{{caller_id}}",
                           "payload": {"msg_type": "CmdResult", "data": {"type": "result", "data": {
                               "id": "<uuid>", "retval": None, "origin": "<module_id>"}}}}}},
            "vars": {"energy_flow_request": {"topic": f"{base}/var/energy_flow_request",
                                             "payload": {"msg_type": "Var",
                                                         "data": {"data": "<EnergyFlowRequest>"}}}},
        },
        "everest_api": {
            "description": "everest_api/1/evse_manager_consumer (EVerest >= 2025.10): bare JSON, QoS 0, not "
                           "retained. m2e = client to EVerest (request with {\"headers\":{\"replyTo\":<topic>},"
                           "\"payload\":<args>}, bare reply on replyTo); e2m = EVerest to client.",
            "cmds": {name: {"request": f"{api}/m2e/{name}", "reply": "<headers.replyTo>"} for name in consumer_cmds},
            "vars": {name: f"{api}/e2m/{name}" for name in consumer_vars},
            "heartbeat": f"{api}/e2m/heartbeat",
            "communication_check": f"{api}/m2e/communication_check",
            "not_forwarded": sorted(set(interface["vars"]) - set(consumer_vars)),
            "not_exposed": sorted(set(interface["cmds"]) - set(consumer_cmds)),
            "session_info": f"{api}/e2m/session_info",
        },
        "evsefast_site": {
            "description": "evsefast serve's site limit (an evsefast extension, bare JSON, QoS 0): set_limit takes "
                           "amps per phase, null or {\"limit_A\": ...}, optionally wrapped as {\"headers\":"
                           "{\"replyTo\":<topic>},\"payload\":...} (reply true/false); state is published on "
                           "every change.",
            "set_limit": "{external_prefix}evsefast/1/site/{site_id}/m2e/set_limit",
            "state": "{external_prefix}evsefast/1/site/{site_id}/e2m/state",
        },
    }


def manifest() -> Dict[str, Any]:
    """An EVerest module manifest for evsefast, its config generated from ``ManagerConfig``.

    Provides ``evse`` (evse_manager) and ``energy_grid`` (energy), as EVerest's EvseManager does; requires
    an optional board (evse_board_support: evsefast can use a local board instead), optional power
    meters, connector lock and store (spec §7). ``evsefast.everest.EverestModule`` serves exactly these. The config entries are the
    Struct's own fields, types and defaults, so the manifest cannot drift from the code.
    """
    import msgspec

    from evsefast.config import ManagerConfig

    config_schema = msgspec.json.schema(ManagerConfig)
    props = config_schema["$defs"]["ManagerConfig"]["properties"]
    defaults = msgspec.structs.asdict(ManagerConfig())
    config = {}
    for name, prop in props.items():
        entry = {k: v for k, v in prop.items() if k != "title"}
        entry["default"] = defaults[name]
        config[name] = entry
    return {
        "description": "evsefast: the evse_manager charging kernel of one connector (Python, Cython core)",
        "config": config,
        "provides": {"evse": {"interface": "evse_manager", "description": "the seed evse_manager interface"},
                     "energy_grid": {"interface": "energy",
                                     "description": "enforce_limits from the EnergyManager; energy_flow_request"}},
        "requires": {
            # optional: evsefast may drive a local board (simulated, Yeti serial) instead of a BSP module
            "bsp": {"interface": "evse_board_support", "min_connections": 0, "max_connections": 1},
            "powermeter_grid_side": {"interface": "powermeter", "min_connections": 0, "max_connections": 1},
            "powermeter_car_side": {"interface": "powermeter", "min_connections": 0, "max_connections": 1},
            "connector_lock": {"interface": "connector_lock", "min_connections": 0, "max_connections": 1},
            "store": {"interface": "kvs", "min_connections": 0, "max_connections": 1},
        },
        # the consumer API tree and the simulated car's topics live under the external prefix
        "enable_external_mqtt": True,
        "metadata": {"license": "https://opensource.org/licenses/Apache-2.0", "authors": ["evsefast developers"]},
    }


# --------------------------------------------------------------------------------------------------


def _canonical(node: Any) -> Any:
    """The same document whatever msgspec/Python rendered it.

    ``anyOf`` members are sorted (msgspec 0.20 puts ``null`` first), and every ``description`` is
    ``inspect.cleandoc``-ed: docstring indentation is kept by older msgspec on Python < 3.13 and stripped by
    msgspec 0.23 / Python 3.13, so the raw text differs between supported versions.
    """
    if isinstance(node, dict):
        out = {k: (inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _canonical(v))
               for k, v in node.items()}
        if isinstance(out.get("anyOf"), list):
            out["anyOf"] = sorted(out["anyOf"], key=lambda m: json.dumps(m, sort_keys=True))
        return out
    if isinstance(node, list):
        return [_canonical(v) for v in node]
    return node


def render_docs() -> Dict[Path, Any]:
    """Every generated file → its canonical document (see ``_canonical``)."""
    interface = parse_interface_text(INTERFACE_SEED.read_text())
    seed_types = parse_seed_types_text(TYPES_SEED.read_text())
    docs = {
        OUT / "interfaces" / "evse_manager.json": interface,
        OUT / "types" / "evse_manager_seed.json": seed_types,
        OUT / "schema" / "types.json": types_schema(),
        OUT / "schema" / "evse_manager.json": interface_schema(),
        OUT / "topics.json": topics(interface),
        OUT / "manifest.json": manifest(),
    }
    return {path: _canonical(doc) for path, doc in docs.items()}


def render() -> Dict[Path, str]:
    """Every generated file → its text (canonical, so any supported msgspec gives the same bytes)."""
    return {path: json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            for path, doc in render_docs().items()}


def stale_files() -> List[Path]:
    """Generated files whose committed content differs in *structure* from what the code generates now.

    Compared as parsed JSON after ``_canonical``: whitespace, key order and docstring indentation never count.
    """
    stale = []
    for path, doc in render_docs().items():
        try:
            committed = _canonical(json.loads(path.read_text()))
        except (OSError, ValueError):
            stale.append(path)
            continue
        if committed != doc:
            stale.append(path)
    return stale


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
    else:
        stale = []
        for path, text in render().items():
            if not path.exists() or path.read_text() != text:
                stale.append(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    for path in stale:
        print(("differs: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
