"""The provided implementations' cmds: ``evse`` (evse_manager, 13 cmds) and ``energy_grid`` (energy).

``execute(manager, impl, call)`` checks the argument names against the interface (missing or extra
argument -> ``SchemaValidationError``), hands each argument's raw JSON to the manager's method, which
validates it at the edge (``CommandRejected`` naming the field and the allowed range ->
``SchemaValidationError``; the charger's state is unchanged), and encodes the result.  A cmd before the
manager is ready answers ``NotReady``, after it closed ``Shutdown`` (the framework's error types); any
other exception becomes ``HandlerException``; nothing escapes.  Returns ``(retval_json, None)`` or
``(None, (error_type, message))``.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Tuple

from ..codec import encode_json
from ..errors import CommandRejected, ManagerClosed, NotReady
from ..types.interface import CMDS
from .wire import HANDLER_EXCEPTION, MESSAGE_PARSING_ERROR, NOT_READY, SCHEMA_VALIDATION_ERROR, SHUTDOWN, Call

__all__ = ["ENERGY_CMDS", "EVSE", "ENERGY", "execute", "interface_cmds"]

log = logging.getLogger("evsefast.everest")

EVSE = "evse_manager"
ENERGY = "energy"

#: the energy interface's cmds: name -> argument names (interfaces/energy.yaml)
ENERGY_CMDS: Dict[str, Tuple[str, ...]] = {"enforce_limits": ("value",)}

Outcome = Tuple[Optional[bytes], Optional[Tuple[str, str]]]


def interface_cmds(interface: str) -> Dict[str, Tuple[str, ...]]:
    """cmd name -> argument names, in the interface's order."""
    if interface == EVSE:
        return {name: tuple(spec.arguments) for name, spec in CMDS.items()}
    if interface == ENERGY:
        return dict(ENERGY_CMDS)
    raise ValueError(f"interface must be {EVSE!r} or {ENERGY!r}, got {interface!r}")


_TABLES = {EVSE: interface_cmds(EVSE), ENERGY: interface_cmds(ENERGY)}


def check_args(interface: str, call: Call) -> Optional[Tuple[str, str]]:
    """``(error_type, message)`` if the cmd is unknown or its argument names are wrong, else None."""
    table = _TABLES[interface]
    names = table.get(call.cmd)
    if names is None:
        return (MESSAGE_PARSING_ERROR,
                f"unknown cmd {call.cmd!r} of interface {interface}; cmds: {', '.join(table)}")
    missing = [n for n in names if n not in call.args]
    if missing:
        return (SCHEMA_VALIDATION_ERROR, f"{call.cmd}: missing argument {missing[0]!r}; arguments: "
                f"{', '.join(names) if names else 'none'}")
    extra = [n for n in call.args if n not in names]
    if extra:
        return (SCHEMA_VALIDATION_ERROR, f"{call.cmd}: unknown argument {extra[0]!r}; arguments: "
                f"{', '.join(names) if names else 'none'}")
    return None


def execute(manager: Any, interface: str, call: Call) -> Outcome:
    """Run ``call`` on ``manager``; see the module docstring."""
    bad = check_args(interface, call)
    if bad is not None:
        return None, bad
    method = getattr(manager, call.cmd)
    kwargs = {name: bytes(raw) for name, raw in call.args.items()}
    try:
        result = method(**kwargs)
    except CommandRejected as exc:
        return None, (SCHEMA_VALIDATION_ERROR, f"{call.cmd}: {exc}")
    except NotReady as exc:  # the framework's own error type for a module that is not ready yet
        return None, (NOT_READY, str(exc))
    except ManagerClosed as exc:
        return None, (SHUTDOWN, str(exc))
    except Exception as exc:  # noqa: BLE001 - the caller gets HandlerException, the charger keeps running
        log.exception("cmd %s raised", call.cmd)
        return None, (HANDLER_EXCEPTION, f"{call.cmd}: {type(exc).__name__}: {exc}")
    return encode_json(result), None
