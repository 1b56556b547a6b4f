"""The two framework wire formats: topics and payloads (wire_protocols.md §1.3 current, §1.4 legacy).

``wire_format("current")`` / ``wire_format("legacy")`` return an object with the same methods, so the
module, the caller and the BSP client never test the format themselves.  ``base`` is always the
implementation prefix ``{prefix}modules/{module_id}/impl/{impl_id}``.

Callee side: ``cmd_filter(base)`` to subscribe, ``parse_call(topic, payload, base)`` -> ``Call`` or
``BadCall`` (``MessageParsingError`` with whatever id/origin could be salvaged), ``result(...)`` ->
``(topic, payload)``.  Caller side: ``call(...)``, ``response_filter(base, me)``, ``parse_result(payload)``.
Vars: ``var(base, name, value_json)``, ``var_filter(base)``, ``parse_var(topic, payload, base)``.
Errors: ``error(base, FrameworkError)``, ``error_filter(base)``, ``parse_error(payload)``.
"""
from __future__ import annotations

import re
from typing import Dict, NamedTuple, Optional, Tuple, Union

import msgspec
from msgspec import Raw

from .envelopes import (
    CallData, CallOut, CmdError, Envelope, EnvelopeOut, FrameworkError, LegacyMessage, LegacyOut, LegacyVarOut,
    ReceivedResult, ResultData, ResultErrorData, ResultOut, VarOut,
)

__all__ = ["BadCall", "Call", "CurrentFormat", "HANDLER_EXCEPTION", "LegacyFormat", "MESSAGE_PARSING_ERROR",
           "NOT_READY", "SCHEMA_VALIDATION_ERROR", "SHUTDOWN", "wire_format"]

MESSAGE_PARSING_ERROR = "MessageParsingError"
SCHEMA_VALIDATION_ERROR = "SchemaValidationError"
HANDLER_EXCEPTION = "HandlerException"
NOT_READY = "NotReady"
SHUTDOWN = "Shutdown"

_ENC = msgspec.json.Encoder()
_ENVELOPE = msgspec.json.Decoder(Envelope)
_LEGACY = msgspec.json.Decoder(LegacyMessage)
_CALL = msgspec.json.Decoder(CallData)
_RESULT = msgspec.json.Decoder(ReceivedResult)
_ERROR = msgspec.json.Decoder(FrameworkError)
_BOOL = msgspec.json.Decoder(bool)

#: how much of a payload the salvage scan looks at (a flood of huge garbage costs no more than this)
_SALVAGE_BYTES = 65536
_SALVAGE = {key: re.compile(rb'"' + key.encode() + rb'"\s*:\s*"([^"\\]{1,200})"') for key in ("id", "origin", "name")}


class Call(NamedTuple):
    """A well-formed cmd call (args still undecoded JSON, validated by the cmd)."""

    cmd: str
    id: str
    origin: str
    args: Dict[str, Raw]


class BadCall(NamedTuple):
    """A call that could not be parsed; answerable only if ``id`` and ``origin`` were salvaged."""

    cmd: str
    id: str
    origin: str
    message: str


def _salvage(payload: bytes, key: str) -> str:
    m = _SALVAGE[key].search(payload[:_SALVAGE_BYTES])
    return m.group(1).decode("utf-8", "replace") if m else ""


def _bad(cmd: str, payload: bytes, message: str) -> BadCall:
    return BadCall(cmd or _salvage(payload, "name"), _salvage(payload, "id"), _salvage(payload, "origin"), message)


def _error_data(cmd_id: str, callee: str, error_type: str, message: str) -> ResultErrorData:
    return ResultErrorData(id=cmd_id, origin=callee, error=CmdError(type=error_type, msg=message))


def _parse_call_data(cmd: str, raw: bytes, payload: bytes) -> Union[Call, BadCall]:
    try:
        data = _CALL.decode(raw)
    except msgspec.DecodeError as exc:
        return _bad(cmd, payload, f"{cmd}: malformed cmd data: {exc}")
    return Call(cmd, data.id, data.origin, data.args)


class CurrentFormat:
    """Framework >= v0.25: one topic per cmd/var, ``{"msg_type", "data"}`` envelopes."""

    name = "current"

    # -- callee --------------------------------------------------------------------------------
    @staticmethod
    def cmd_filter(base: str) -> str:
        """Subscription for every cmd of one implementation."""
        return f"{base}/cmd/+"

    @staticmethod
    def parse_call(topic: str, payload: bytes, base: str) -> Union[Call, BadCall]:
        """A call received on ``{base}/cmd/<cmd>``."""
        cmd = topic[len(base) + 5:]
        try:
            env = _ENVELOPE.decode(payload)
        except msgspec.DecodeError as exc:
            return _bad(cmd, payload, f"{cmd}: malformed JSON: {exc}")
        if env.msg_type != "Cmd":
            return _bad(cmd, payload, f"{cmd}: msg_type must be 'Cmd', got {env.msg_type!r}")
        return _parse_call_data(cmd, env.data, payload)

    @staticmethod
    def result(base: str, cmd: str, cmd_id: str, caller: str, callee: str, retval_json: bytes) -> Tuple[str, bytes]:
        """``(topic, payload)`` of a successful result."""
        data = ResultData(id=cmd_id, retval=Raw(retval_json), origin=callee)
        return f"{base}/cmd/{cmd}/response/{caller}", _ENC.encode(EnvelopeOut("CmdResult", ResultOut(data)))

    @staticmethod
    def error_result(base: str, cmd: str, cmd_id: str, caller: str, callee: str, error_type: str,
                     message: str) -> Tuple[str, bytes]:
        """``(topic, payload)`` of an error result (``__everest__error_type`` / ``__everest__error_msg``)."""
        data = _error_data(cmd_id, callee, error_type, message)
        return f"{base}/cmd/{cmd}/response/{caller}", _ENC.encode(EnvelopeOut("CmdResult", ResultOut(data)))

    # -- caller --------------------------------------------------------------------------------
    @staticmethod
    def call(base: str, cmd: str, cmd_id: str, args_json: bytes, me: str) -> Tuple[str, bytes]:
        """``(topic, payload)`` of a call from module ``me``."""
        return f"{base}/cmd/{cmd}", _ENC.encode(EnvelopeOut("Cmd", CallOut(cmd_id, Raw(args_json), me)))

    @staticmethod
    def response_filter(base: str, me: str) -> str:
        """Subscription for the results of every cmd ``me`` calls on ``base``."""
        return f"{base}/cmd/+/response/{me}"

    @staticmethod
    def parse_result(payload: bytes) -> Optional[ReceivedResult]:
        """A received result, or None if the payload is not one."""
        try:
            env = _ENVELOPE.decode(payload)
            if env.msg_type != "CmdResult":
                return None
            outer = msgspec.json.decode(env.data, type=Dict[str, Raw])
            return _RESULT.decode(outer.get("data", b"null"))
        except msgspec.DecodeError:
            return None

    # -- vars ----------------------------------------------------------------------------------
    @staticmethod
    def var(base: str, name: str, value_json: bytes) -> Tuple[str, bytes]:
        """``(topic, payload)`` of a var publication."""
        return f"{base}/var/{name}", _ENC.encode(EnvelopeOut("Var", VarOut(Raw(value_json))))

    @staticmethod
    def var_filter(base: str) -> str:
        """Subscription for every var of an implementation."""
        return f"{base}/var/+"

    @staticmethod
    def parse_var(topic: str, payload: bytes, base: str) -> Optional[Tuple[str, bytes]]:
        """``(var name, value JSON)`` or None."""
        try:
            env = _ENVELOPE.decode(payload)
            if env.msg_type != "Var":
                return None
            inner = msgspec.json.decode(env.data, type=Dict[str, Raw])
        except msgspec.DecodeError:
            return None
        if "data" not in inner:
            return None
        return topic[len(base) + 5:], bytes(inner["data"])

    # -- errors --------------------------------------------------------------------------------
    @staticmethod
    def error(base: str, err: FrameworkError) -> Tuple[str, bytes]:
        """``(topic, payload)`` raising or clearing ``err`` (by its ``state``)."""
        kind = "RaiseError" if err.state == "Active" else "ClearError"
        return f"{base}/error/{err.type}", _ENC.encode(EnvelopeOut(kind, err))

    @staticmethod
    def error_filter(base: str) -> str:
        """Subscription for every error of an implementation."""
        return f"{base}/error/#"

    @staticmethod
    def parse_error(payload: bytes) -> Optional[bytes]:
        """The Error object's JSON from a RaiseError/ClearError, or None."""
        try:
            env = _ENVELOPE.decode(payload)
        except msgspec.DecodeError:
            return None
        return bytes(env.data) if env.msg_type in ("RaiseError", "ClearError") else None

    # -- lifecycle -----------------------------------------------------------------------------
    @staticmethod
    def module_ready(prefix: str, module_id: str) -> Tuple[str, bytes]:
        """``(topic, payload)`` of ModuleReady."""
        return f"{prefix}modules/{module_id}/ready", _ENC.encode(EnvelopeOut("ModuleReady", True))

    @staticmethod
    def is_global_ready(payload: bytes) -> bool:
        """True for the manager's GlobalReady."""
        try:
            env = _ENVELOPE.decode(payload)
            return env.msg_type == "GlobalReady" and _BOOL.decode(env.data)
        except msgspec.DecodeError:
            return False

    @staticmethod
    def metadata(prefix: str, module_id: str, module_name: str, provides: Dict[str, str]) -> Tuple[str, bytes]:
        """``(topic, payload)`` of the module's metadata (everest.cpp:240-262)."""
        data = {"module": module_name, "provides": {impl: {"interface": i} for impl, i in provides.items()}}
        return f"{prefix}modules/{module_id}/metadata", _ENC.encode(EnvelopeOut("GetConfigResponse", data))


class LegacyFormat(CurrentFormat):
    """Framework <= v0.24: one ``cmd`` topic for calls and results, one ``var`` topic, no msg_type."""

    name = "legacy"

    @staticmethod
    def cmd_filter(base: str) -> str:
        """The shared ``cmd`` topic (calls and results)."""
        return f"{base}/cmd"

    @staticmethod
    def parse_call(topic: str, payload: bytes, base: str) -> Union[Call, BadCall, None]:
        """A call, a BadCall, or None for a result (results share the topic and are not ours to answer)."""
        try:
            msg = _LEGACY.decode(payload)
        except msgspec.DecodeError as exc:
            return _bad("", payload, f"malformed JSON: {exc}")
        if msg.type == "result":
            return None
        if msg.type != "call":
            return _bad(msg.name, payload, f"{msg.name}: type must be 'call', got {msg.type!r}")
        if not msg.name:
            return _bad("", payload, "the call has no cmd name")
        return _parse_call_data(msg.name, msg.data, payload)

    @staticmethod
    def result(base: str, cmd: str, cmd_id: str, caller: str, callee: str, retval_json: bytes) -> Tuple[str, bytes]:
        """A successful result on the shared ``cmd`` topic, with the cmd's ``name``."""
        data = ResultData(id=cmd_id, retval=Raw(retval_json), origin=callee)
        return f"{base}/cmd", _ENC.encode(LegacyOut(cmd, "result", data))

    @staticmethod
    def error_result(base: str, cmd: str, cmd_id: str, caller: str, callee: str, error_type: str,
                     message: str) -> Tuple[str, bytes]:
        """An error result on the shared ``cmd`` topic."""
        return f"{base}/cmd", _ENC.encode(LegacyOut(cmd, "result", _error_data(cmd_id, callee, error_type, message)))

    @staticmethod
    def call(base: str, cmd: str, cmd_id: str, args_json: bytes, me: str) -> Tuple[str, bytes]:
        """A call on the shared ``cmd`` topic."""
        return f"{base}/cmd", _ENC.encode(LegacyOut(cmd, "call", CallOut(cmd_id, Raw(args_json), me)))

    @staticmethod
    def response_filter(base: str, me: str) -> str:
        """Results come back on the shared ``cmd`` topic."""
        return f"{base}/cmd"

    @staticmethod
    def parse_result(payload: bytes) -> Optional[ReceivedResult]:
        """A ``type: result`` message, or None."""
        try:
            msg = _LEGACY.decode(payload)
            if msg.type != "result":
                return None
            return _RESULT.decode(msg.data)
        except msgspec.DecodeError:
            return None

    @staticmethod
    def var(base: str, name: str, value_json: bytes) -> Tuple[str, bytes]:
        """``{"name": <var>, "data": <value>}`` on the shared ``var`` topic."""
        return f"{base}/var", _ENC.encode(LegacyVarOut(name, Raw(value_json)))

    @staticmethod
    def var_filter(base: str) -> str:
        """The shared ``var`` topic."""
        return f"{base}/var"

    @staticmethod
    def parse_var(topic: str, payload: bytes, base: str) -> Optional[Tuple[str, bytes]]:
        """``(name, value JSON)`` or None."""
        try:
            msg = _LEGACY.decode(payload)
        except msgspec.DecodeError:
            return None
        return (msg.name, bytes(msg.data)) if msg.name else None

    @staticmethod
    def error(base: str, err: FrameworkError) -> Tuple[str, bytes]:
        """The bare Error object on the shared ``error`` topic."""
        return f"{base}/error", _ENC.encode(err)

    @staticmethod
    def error_filter(base: str) -> str:
        """The shared ``error`` topic."""
        return f"{base}/error"

    @staticmethod
    def parse_error(payload: bytes) -> Optional[bytes]:
        """The bare Error object."""
        return payload

    @staticmethod
    def module_ready(prefix: str, module_id: str) -> Tuple[str, bytes]:
        """A bare ``true``."""
        return f"{prefix}modules/{module_id}/ready", b"true"

    @staticmethod
    def is_global_ready(payload: bytes) -> bool:
        """A bare ``true``."""
        try:
            return _BOOL.decode(payload)
        except msgspec.DecodeError:
            return False

    @staticmethod
    def metadata(prefix: str, module_id: str, module_name: str, provides: Dict[str, str]) -> Tuple[str, bytes]:
        """The metadata without an envelope."""
        data = {"module": module_name, "provides": {impl: {"interface": i} for impl, i in provides.items()}}
        return f"{prefix}modules/{module_id}/metadata", _ENC.encode(data)


_FORMATS = {"current": CurrentFormat, "legacy": LegacyFormat}


def wire_format(name: str):
    """The format object for ``"current"`` or ``"legacy"``."""
    try:
        return _FORMATS[name]()
    except KeyError:
        raise ValueError(f"format must be 'current' or 'legacy', got {name!r}") from None


def decode_framework_error(data: bytes) -> Optional[FrameworkError]:
    """An Error object, or None if it is not one."""
    try:
        return _ERROR.decode(data)
    except msgspec.DecodeError:
        return None
