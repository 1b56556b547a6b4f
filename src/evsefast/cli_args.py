"""Argument parsing shared by the ``evsefast`` subcommands: ranges, times, faults, paths.

Every converter raises ``argparse.ArgumentTypeError`` (argparse prefixes the argument's name) or
:class:`UsageError` with a message that says what is allowed, and every limit it states is the
limit it checks.
"""
from __future__ import annotations

import argparse
import math
import os
from typing import Callable, NamedTuple, Optional, Sequence

#: the longest simulated session (the duration limit of every command)
MAX_DURATION_S = 7 * 86400.0
MIN_DURATION_S = 1.0
_UNITS = (("ms", 0.001), ("min", 60.0), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0))
TIME_SYNTAX = "seconds, or a number with a unit: 90s, 30m, 1.5h, 7d"


class UsageError(Exception):
    """Bad command-line arguments (exit 2). The message names the argument and what is allowed."""


class ArgParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse would print and exit(2)
        raise UsageError(message)


def number(lo: float, hi: float, unit: str = "", *, integer: bool = False) -> Callable[[str], float]:
    """A converter for a finite number in ``[lo, hi]``."""
    what = "an integer" if integer else "a number"
    allowed = f"{what} from {lo:g} to {hi:g}{unit}"

    def conv(text: str) -> float:
        try:
            v = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text}")
        return v
    return conv


def parse_time_s(text: str) -> float:
    """Seconds from ``text``: a number of seconds or a number with a unit (ms, s, m/min, h, d).
    Raises ``ValueError`` for anything else, including NaN and infinity."""
    t = text.strip().lower()
    mult = 1.0
    for suffix, m in _UNITS:
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)].strip(), m
            break
    v = float(t) * mult  # ValueError on junk
    if not math.isfinite(v):
        raise ValueError(f"not a finite time: {text!r}")
    return v


def duration(text: str) -> float:
    """``--duration``: 1 s to 7 days."""
    allowed = f"a time from 1 s to 7 d ({MAX_DURATION_S:g} s): {TIME_SYNTAX}"
    try:
        v = parse_time_s(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r}") from None
    if not (MIN_DURATION_S <= v <= MAX_DURATION_S):
        raise argparse.ArgumentTypeError(f"must be {allowed}; got {text!r} = {v:g} s")
    return v


# -- faults ------------------------------------------------------------------------------------------
FAULT_SYNTAX = "KIND[:ARG][@TIME]"
#: faults of the serial link itself (only where there is a virtual Yeti MCU to inject them)
LINK_FAULTS = {
    "garbage": "line noise",
    "crc": "the next frame with a bad CRC",
    "truncate": "the next frame cut in half",
    "silence": "the MCU sends nothing (ARG seconds, or until 'resume')",
    "resume": "end a silence",
    "reset": "a spurious MCU reset",
}


class Fault(NamedTuple):
    """One ``--fault``: at ``t_s`` simulated seconds, ``kind`` with ``arg`` (None, "on", "off" or seconds)."""

    t_s: float
    kind: str
    arg: Optional[str]

    @property
    def active(self) -> bool:
        """False for ``KIND:off`` (the fault is removed)."""
        return self.arg != "off"


def hardware_fault_kinds() -> Sequence[str]:
    """The simulator's hardware faults (``SimHardware.inject_fault``)."""
    from .sim.hardware import FAULT_ERRORS

    return sorted(FAULT_ERRORS)


def fault_help(link: bool) -> str:
    """The ``--fault`` help text (``link``: the link faults are allowed too)."""
    kinds = ", ".join(hardware_fault_kinds())
    text = (f"inject a fault: {FAULT_SYNTAX}, TIME in simulated time from the start (0 to --duration; "
            f"{TIME_SYNTAX}; default 0). Hardware: {kinds}, or an error type such as "
            f"evse_board_support/MREC6UnderVoltage; ARG 'off' removes it again")
    if link:
        text += (". Serial link (virtual Yeti MCU only): " + ", ".join(LINK_FAULTS)
                 + "; silence:SECONDS stops after that long")
    return text + ". Repeatable."


def parse_fault(text: str, *, duration_s: float, link: bool) -> Fault:
    """``KIND[:ARG][@TIME]`` with ``0 <= TIME <= duration_s``; raises :class:`UsageError` naming ``--fault``."""
    def bad(why: str) -> UsageError:
        return UsageError(f"argument --fault: {why}; got {text!r}")

    spec, at, when = text.partition("@")
    kind, colon, arg = spec.strip().partition(":")
    kind = kind.strip()
    t_s = 0.0
    if at:
        try:
            t_s = parse_time_s(when)
        except ValueError:
            raise bad(f"TIME in {FAULT_SYNTAX} must be a finite time ({TIME_SYNTAX})") from None
        if not (0.0 <= t_s <= duration_s):
            raise bad(f"TIME must be from 0 to the duration ({duration_s:g} s)")
    hardware = hardware_fault_kinds()
    if kind in LINK_FAULTS:
        if not link:
            raise bad(f"{kind!r} is a serial-link fault: only with --board yeti and the in-process virtual "
                      "Yeti MCU (or evsefast virtual-board)")
        if kind == "silence" and colon:
            try:
                seconds = parse_time_s(arg)
            except ValueError:
                seconds = -1.0
            if not seconds > 0:
                raise bad("silence:ARG must be a time > 0 (how long the MCU stays silent)")
            return Fault(t_s, kind, repr(seconds))
        if colon:
            raise bad(f"{kind!r} takes no ARG")
        return Fault(t_s, kind, None)
    if kind not in hardware and not ("/" in kind and all(kind.split("/", 1))):
        allowed = ", ".join([*hardware, *(LINK_FAULTS if link else ())])
        raise bad(f"must be {FAULT_SYNTAX} with KIND one of {allowed} or an error type 'iface/Name'")
    if colon and arg not in ("on", "off"):
        raise bad("ARG of a hardware fault must be 'on' or 'off'")
    return Fault(t_s, kind, arg or None)


# -- paths -------------------------------------------------------------------------------------------
def check_output_file(option: str, path: str) -> None:
    """Before a run: ``path`` can be written (its directory exists and is writable; an existing
    ``path`` is a writable file). Raises :class:`UsageError` naming ``option`` and the path."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"argument {option}: {path} is a directory, not a file")
    if not os.path.isdir(directory):
        raise UsageError(f"argument {option}: cannot write {path}: directory {directory} does not exist")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"argument {option}: cannot write {path}: permission denied")
    elif not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"argument {option}: cannot write {path}: directory {directory} is not writable")


def check_serial_port(option: str, path: str) -> None:
    """Before a run: a device path exists (pyserial URLs such as ``socket://`` pass through)."""
    if "://" in path:
        return
    if not os.path.exists(path):
        raise UsageError(f"argument {option}: {path} does not exist (a serial device such as /dev/ttyACM0, "
                         "or the pty path evsefast virtual-board prints)")


__all__ = [
    "ArgParser", "FAULT_SYNTAX", "Fault", "LINK_FAULTS", "MAX_DURATION_S", "TIME_SYNTAX", "UsageError",
    "check_output_file", "check_serial_port", "duration", "fault_help", "hardware_fault_kinds", "number",
    "parse_fault", "parse_time_s",
]
