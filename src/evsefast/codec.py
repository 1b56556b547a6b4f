"""The shared msgspec codec: reusable encoders, cached per-type decoders, validation at the edge.

Encoding (never raises for our types; unset optional fields are omitted, never ``null``)::

    encode_json(obj) -> bytes          # EVerest/MQTT edge, logs
    encode_msgpack(obj) -> bytes       # internal IPC, recordings
    to_builtins(obj) -> dict | list | ...   # plain Python (for json.dumps, templates, comparisons)

Decoding and validation (the one entry point for cmd arguments)::

    decode(data, T, *, field_prefix="$") -> T
    decode_msgpack(data, T, *, field_prefix="$") -> T

``decode`` accepts

* JSON text: ``bytes``, ``bytearray``, ``memoryview`` or ``str`` (a ``str`` is always parsed as JSON, so
  ``decode('"Local"', StopTransactionReason)``; to validate a plain Python string use ``validate``);
* a Python value: a plain ``dict``/``list``/scalar, or a ``msgspec.Struct`` (nested Structs, enums and tuples
  allowed). It is converted to builtins and validated against ``T`` again, so a Struct built in Python with
  out-of-range values is rejected too. ``validate(obj, T)`` is the same path, for any Python value.

``T`` is any msgspec-compatible type: a Struct from :mod:`evsefast.types`, an enum, ``int``, or an
``Annotated[...]`` alias such as :data:`evsefast.types.EnergyTransferModes`.

On failure it raises :class:`evsefast.errors.CommandRejected` (an ``InvalidInput``/``ValueError``) whose
``.field`` is the path of the offending field, with ``"$"`` replaced by ``field_prefix``
(``decode(d, EnableDisableSource, field_prefix="cmd_source")`` → ``field == "cmd_source.enable_priority"``), and
whose message starts with that path and says what is allowed:

* enums: ``"cmd_source.enable_source: Invalid enum value 'Foo'; allowed values: Unspecified, LocalAPI, ..."``;
* numbers: ``"cmd_source.enable_priority: Expected `int` <= 10000; allowed range: 0 <= value <= 10000"``;
* strings and arrays: the allowed length or pattern;
* unknown fields (only for ``additionalProperties: false`` types): the field's path and the allowed fields;
* missing required fields: the missing field's path;
* NaN and ±infinity anywhere (JSON cannot carry them; a physical number must be finite);
* ``bool`` where an ``int``/``float`` is expected (strict mode: no lax string → number conversions).

A ``null`` for an *optional* field is read as "absent" (lenient; the encoder never writes ``null``).

The original ``msgspec`` exception is chained (``raise ... from exc``).
"""
from __future__ import annotations

import functools
import math
import re
from typing import Any, Dict, List, Type, TypeVar, Union

import msgspec
from msgspec import inspect as _mi

from .errors import CommandRejected

T = TypeVar("T")

__all__ = [
    "decode", "decode_msgpack", "encode_json", "encode_msgpack", "json_decoder", "msgpack_decoder",
    "to_builtins", "validate",
]

_JSON_ENCODER = msgspec.json.Encoder()
_MSGPACK_ENCODER = msgspec.msgpack.Encoder()

encode_json = _JSON_ENCODER.encode
"""``encode_json(obj) -> bytes``: ``obj`` (Struct, enum, list, dict, scalar) as compact JSON.

The shared encoder's bound method itself (no wrapper: this is the hot path of every var publication).
Unset optional fields are omitted. The value is not validated: build it from validated input (``decode``)
or check it with ``validate`` first. Floats must be finite (msgspec writes NaN as ``null``).
"""

encode_msgpack = _MSGPACK_ENCODER.encode
"""``encode_msgpack(obj) -> bytes``: the same Structs as msgpack (internal IPC, recordings, replay)."""


def to_builtins(obj: Any) -> Any:
    """``obj`` as plain dicts/lists/str/int/float/bool (enums as their values, unset optionals omitted)."""
    return msgspec.to_builtins(obj)


@functools.lru_cache(maxsize=None)
def _json_decoder_cached(tp: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(tp)


@functools.lru_cache(maxsize=None)
def _msgpack_decoder_cached(tp: Any) -> msgspec.msgpack.Decoder:
    return msgspec.msgpack.Decoder(tp)


def json_decoder(tp: Any) -> msgspec.json.Decoder:
    """The shared, cached ``msgspec.json.Decoder`` for ``tp`` (raw msgspec errors; prefer ``decode``)."""
    try:
        return _json_decoder_cached(tp)
    except TypeError:  # unhashable type expression
        return msgspec.json.Decoder(tp)


def msgpack_decoder(tp: Any) -> msgspec.msgpack.Decoder:
    """The shared, cached ``msgspec.msgpack.Decoder`` for ``tp`` (raw msgspec errors; prefer ``decode_msgpack``)."""
    try:
        return _msgpack_decoder_cached(tp)
    except TypeError:
        return msgspec.msgpack.Decoder(tp)


_TEXT = (bytes, bytearray, memoryview, str)


def decode(data: Union[bytes, bytearray, memoryview, str, Dict[str, Any], msgspec.Struct, Any], tp: Type[T], *,
           field_prefix: str = "$") -> T:
    """Decode JSON text, or validate a Python value, as ``tp``; raise ``CommandRejected`` on bad input.

    See the module docstring for the accepted inputs and the error messages.
    """
    if isinstance(data, _TEXT):
        try:
            return json_decoder(tp).decode(data)
        except msgspec.ValidationError as exc:
            raise _rejected(exc, tp, field_prefix) from exc
        except msgspec.DecodeError as exc:
            if isinstance(data, str):
                # a Python str that is not JSON text is a plain value of the wrong type (reserve("x")):
                # report the type error, not "malformed JSON"
                return validate(data, tp, field_prefix=field_prefix)
            raise CommandRejected(f"{field_prefix}: malformed JSON: {exc}", field=field_prefix) from exc
    return validate(data, tp, field_prefix=field_prefix)


def decode_msgpack(data: Union[bytes, bytearray, memoryview], tp: Type[T], *, field_prefix: str = "$") -> T:
    """Decode msgpack bytes as ``tp``; raise ``CommandRejected`` on bad input (also for NaN/inf)."""
    try:
        value = msgpack_decoder(tp).decode(data)
    except msgspec.ValidationError as exc:
        raise _rejected(exc, tp, field_prefix) from exc
    except msgspec.DecodeError as exc:
        raise CommandRejected(f"{field_prefix}: malformed msgpack: {exc}", field=field_prefix) from exc
    _check_finite(value, field_prefix)
    return value


def validate(obj: Any, tp: Type[T], *, field_prefix: str = "$") -> T:
    """Validate a Python value (dict, list, scalar, Struct, enum) as ``tp`` and return it as ``tp``.

    A Struct is validated too (msgspec does not check constraints when a Struct is constructed):
    it is converted to builtins and back. Raises ``CommandRejected`` like ``decode``.
    """
    try:
        plain = msgspec.to_builtins(obj)
    except TypeError as exc:
        raise CommandRejected(f"{field_prefix}: unsupported value {obj!r}: {exc}", field=field_prefix) from exc
    _check_finite(plain, field_prefix)
    try:
        return msgspec.convert(plain, tp, strict=True)
    except msgspec.ValidationError as exc:
        raise _rejected(exc, tp, field_prefix) from exc


# --------------------------------------------------------------------------------------------------
# NaN / infinity
# --------------------------------------------------------------------------------------------------


def _check_finite(value: Any, path: str) -> None:
    """Reject NaN and ±inf anywhere in a builtins tree or a decoded Struct tree, naming the path."""
    if type(value) is float:
        if not math.isfinite(value):
            raise CommandRejected(f"{path}: Expected a finite number, got {value!r}", field=path)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _check_finite(getattr(value, name), f"{path}.{name}")


# --------------------------------------------------------------------------------------------------
# Error messages: the path, and what is allowed there
# --------------------------------------------------------------------------------------------------

_AT = re.compile(r"^(?P<msg>.*?)(?: - at (?:`key` in )?`(?P<path>\$[^`]*)`)?$", re.S)
_FIELD_IN_MSG = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]*)`")
_SEG = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _rejected(exc: msgspec.ValidationError, tp: Any, prefix: str) -> CommandRejected:
    text = str(exc)
    m = _AT.match(text)
    msg, path = (m.group("msg"), m.group("path") or "$") if m else (text, "$")
    field = path
    extra = ""
    info = _resolve(tp, path)
    named = _FIELD_IN_MSG.search(msg)
    if named is not None:
        field = f"{path}.{named.group('name')}"
        struct = _unwrap(info)
        if "unknown" in named.group(0) and isinstance(struct, _mi.StructType):
            extra = "; allowed fields: " + ", ".join(f.encode_name for f in struct.fields)
    else:
        extra = _allowed(info)
    field = prefix + field[1:]
    return CommandRejected(f"{field}: {msg}{extra}", field=field)


@functools.lru_cache(maxsize=256)
def _type_info(tp: Any) -> Any:
    return _mi.type_info(tp)


def _unwrap(info: Any) -> Any:
    """Strip ``Optional``: a union of one type and None is that type."""
    if isinstance(info, _mi.UnionType):
        rest = [t for t in info.types if not isinstance(t, _mi.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return info


def _resolve(tp: Any, path: str) -> Any:
    """The ``msgspec.inspect`` type at a msgspec error path (``$.a.b[0].c``), or None."""
    try:
        info = _type_info(tp)
    except Exception:  # noqa: BLE001 - best effort, only for messages
        return None
    for name, index in _SEG.findall(path[1:]):
        info = _unwrap(info)
        if name:
            if not isinstance(info, _mi.StructType):
                return None
            info = next((f.type for f in info.fields if f.encode_name == name), None)
            if info is None:
                return None
        elif isinstance(info, (_mi.ListType, _mi.SetType, _mi.FrozenSetType, _mi.VarTupleType)):
            info = info.item_type
        elif isinstance(info, _mi.DictType):
            info = info.value_type
        elif isinstance(info, _mi.TupleType) and index.isdigit() and int(index) < len(info.item_types):
            info = info.item_types[int(index)]
        else:
            return None
    return info


def _num(x: Any) -> str:
    return repr(x) if not isinstance(x, float) or not x.is_integer() else str(int(x))


def _bounds(name: str, lo: str, hi: str) -> str:
    if lo and hi:
        return f"{lo} <= {name} <= {hi}"
    return f"{name} >= {lo}" if lo else f"{name} <= {hi}"


def _allowed(info: Any) -> str:
    info = _unwrap(info)
    if isinstance(info, _mi.EnumType):
        return "; allowed values: " + ", ".join(str(m.value) for m in info.cls)
    if isinstance(info, (_mi.IntType, _mi.FloatType)):
        parts = []
        if info.ge is not None or info.le is not None:
            parts.append(_bounds("value", "" if info.ge is None else _num(info.ge),
                                 "" if info.le is None else _num(info.le)))
        if info.gt is not None:
            parts.append(f"value > {_num(info.gt)}")
        if info.lt is not None:
            parts.append(f"value < {_num(info.lt)}")
        return "; allowed range: " + ", ".join(parts) if parts else ""
    if isinstance(info, (_mi.StrType, _mi.ListType, _mi.SetType, _mi.FrozenSetType, _mi.VarTupleType)):
        parts = []
        if info.min_length is not None or info.max_length is not None:
            parts.append("allowed length: " + _bounds(
                "length", "" if info.min_length is None else str(info.min_length),
                "" if info.max_length is None else str(info.max_length)))
        pattern = getattr(info, "pattern", None)
        if pattern is not None:
            parts.append(f"allowed pattern: {pattern}")
        return "; " + "; ".join(parts) if parts else ""
    if isinstance(info, _mi.UnionType):
        return "; allowed types: " + ", ".join(_type_name(t) for t in info.types)
    return ""


def _type_name(info: Any) -> str:
    if isinstance(info, _mi.NoneType):
        return "null"
    cls = getattr(info, "cls", None)
    return cls.__name__ if cls is not None else type(info).__name__.replace("Type", "").lower()

