"""The ``evsefast`` command.

``evsefast simulate`` runs a simulated charger and car end to end through the Cython core (see
``evsefast simulate --help``); ``evsefast virtual-board`` runs a virtual Yeti MCU on a pty
(``evsefast.board.yeti.virtual_cli``).

Exit codes: 0 success, 2 bad arguments (the message names the argument and what is allowed),
1 a safety invariant was broken (the message says which and when).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import IO, List, Optional

EXIT_OK = 0
EXIT_SAFETY = 1
EXIT_USAGE = 2

SIMULATE_EPILOG = """\
car profiles: default, sleepy, late-follower, diode-fault, ventilation, one-phase;
or an EVerest car script, e.g. --car 'sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 600;unplug'

exit codes: 0 success, 1 a safety invariant was broken, 2 bad arguments
"""


class UsageError(Exception):
    """Bad command-line arguments (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit(2) itself; keep control
        raise UsageError(f"{self.prog}: {message}")


def _positive(name: str, lo: float, hi: float, unit: str = ""):
    def conv(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in [{lo:g}, {hi:g}]{unit}, got {text!r}")
        if not (lo <= v <= hi):
            raise argparse.ArgumentTypeError(f"must be in [{lo:g}, {hi:g}]{unit}, got {text}")
        return v
    return conv


def _duration(text: str) -> float:
    """Seconds, or with a unit: 90s, 30m, 1.5h."""
    t = text.strip().lower()
    mult = 1.0
    for suffix, m in (("ms", 0.001), ("s", 1.0), ("min", 60.0), ("m", 60.0), ("h", 3600.0)):
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)], m
            break
    try:
        v = float(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be seconds or a time such as 90s, 30m, 1.5h; got {text!r}")
    if not (1.0 <= v <= 7 * 86400.0):
        raise argparse.ArgumentTypeError(f"must be between 1 s and 7 days, got {text!r}")
    return v


def _fault(text: str):
    kind, _, at = text.partition("@")
    try:
        t = float(at) if at else 0.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be KIND[@SECONDS], got {text!r}")
    from .sim.hardware import FAULT_ERRORS

    if kind not in FAULT_ERRORS and "/" not in kind:
        raise argparse.ArgumentTypeError(
            f"the kind must be one of {', '.join(sorted(FAULT_ERRORS))} or an error type 'iface/Name', got {kind!r}")
    return (t, kind)


def build_simulate_parser(prog: str = "evsefast simulate") -> argparse.ArgumentParser:
    """The ``simulate`` argument parser."""
    p = _Parser(prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SIMULATE_EPILOG,
                description="A simulated charger and car, end to end through the Cython core: the default is "
                            "plug in, RFID authorised, 16 A on 3 phases for 30 simulated minutes, the car "
                            "pauses and resumes, unplug.")
    p.add_argument("--car", metavar="SCRIPT|PROFILE", default=None,
                   help="car profile name or EVerest car command script (default: 'default')")
    p.add_argument("--limit", metavar="A", type=_positive("--limit", 6.0, 80.0, " A"), default=16.0,
                   help="the energy manager's current limit in A (6-80, default 16)")
    p.add_argument("--phases", metavar="N", type=int, default=3,
                   help="phases the car draws on: 1 or 3 (default 3)")
    p.add_argument("--duration", metavar="TIME", type=_duration, default=1800.0,
                   help="simulated session length: seconds or 90s / 30m / 1.5h (default 30m)")
    p.add_argument("--speed", metavar="FACTOR", type=_positive("--speed", 1e-3, 1e6), default=None,
                   help="real-time factor (simulated s per wall s); default: as fast as possible")
    p.add_argument("--json", action="store_true",
                   help="print every session_event / var publication as one EVerest-shaped JSON object per line")
    p.add_argument("--plot", metavar="FILE.png", default=None,
                   help="write current, duty, CP state and energy over time (needs evsefast[plot])")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output; default 0)")
    p.add_argument("--board", choices=("sim", "yeti"), default="sim",
                   help="sim: in-process simulated board; yeti: the Yeti serial driver (default sim)")
    p.add_argument("--port", metavar="PATH", default=None,
                   help="serial port of a Yeti board (--board yeti); without it a virtual Yeti MCU runs on a pty")
    p.add_argument("--fault", metavar="KIND[@SECONDS]", type=_fault, action="append", default=[],
                   help="inject a hardware fault (rcd, over_current, contactor_fault, diode_fault, stuck_relay, "
                        "lost, or an error type such as evse_board_support/MREC6UnderVoltage)")
    p.add_argument("--socket", action="store_true",
                   help="a socket connector with a proximity pilot (the car's cable: 32 A); default: fixed cable")
    p.add_argument("--quiet", action="store_true", help="no status line, only the summary")
    return p


def _validate(args: argparse.Namespace) -> None:
    if args.phases not in (1, 3):
        raise UsageError(f"evsefast simulate: argument --phases: must be 1 or 3, got {args.phases}")
    if args.port is not None and args.board != "yeti":
        raise UsageError("evsefast simulate: argument --port: only with --board yeti")
    if args.plot is not None and not args.plot.lower().endswith(".png"):
        raise UsageError(f"evsefast simulate: argument --plot: must be a .png file name, got {args.plot!r}")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            from .sim.plot import INSTALL_HINT

            raise UsageError(f"evsefast simulate: argument --plot: {INSTALL_HINT}") from None
    from .errors import InvalidInput
    from .sim.car import SimCar
    from .sim.profiles import PROFILES, looks_like_script, resolve

    try:
        profile = resolve(args.car)
        if profile.name == "script":
            SimCar(args.car)  # parse now: a bad script is a usage error
    except InvalidInput as exc:
        hint = "" if ("profiles:" in str(exc) or (args.car and " " in args.car)) else \
            f" (or a profile: {', '.join(PROFILES)})"
        raise UsageError(f"evsefast simulate: argument --car: {exc}{hint}") from None
    if args.duration < profile.min_duration_s:
        raise UsageError(f"evsefast simulate: argument --duration: the '{profile.name}' car needs at least "
                         f"{profile.min_duration_s:g} s, got {args.duration:g} s")


def _json_line(out: IO[str]):
    from .codec import to_builtins

    def on_var(t_ms: float, name: str, value) -> None:
        out.write(json.dumps({"name": name, "data": to_builtins(value)}, separators=(",", ":")) + "\n")
    return on_var


def simulate(argv: Optional[List[str]] = None, *, stdout: Optional[IO[str]] = None,
             stderr: Optional[IO[str]] = None) -> int:
    """``evsefast simulate``; returns the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        args = build_simulate_parser().parse_args(argv)
        _validate(args)
    except UsageError as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    from .sim.runner import SimOptions
    from .sim.summary import StatusLine, format_summary

    opts = SimOptions(car=args.car, limit_A=args.limit, phases=args.phases, duration_s=args.duration,
                      speed=args.speed, seed=args.seed, faults=tuple(args.fault), record_vars=False,
                      hardware_options={"connector": "socket"} if args.socket else {})
    # with --json the JSON lines own stdout; the status line and summary go to stderr
    status_stream = err if args.json else out
    status = None if args.quiet else StatusLine(status_stream, duration_s=args.duration)
    callbacks = {}
    if status is not None:
        callbacks["on_progress"] = status.progress
        callbacks["on_event"] = lambda t, label, ev: status.event(t, label)
    if args.json:
        callbacks["on_var"] = _json_line(out)
    try:
        if args.board == "yeti":
            from .sim.yeti_session import run_yeti_session

            result = run_yeti_session(opts, port=args.port, **callbacks)
        else:
            from .sim.runner import run_session

            result = run_session(opts, **callbacks)
    except KeyboardInterrupt:
        if status is not None:
            status.close()
        err.write("evsefast simulate: interrupted\n")
        return 130
    finally:
        if status is not None:
            status.close()
    status_stream.write(format_summary(result) + "\n")
    if args.plot:
        from .sim.plot import plot_result

        plot_result(result, args.plot)
        status_stream.write(f"  plot: {args.plot}\n")
    status_stream.flush()
    if result.violation is not None:
        err.write(f"evsefast simulate: {result.violation}\n")
        return EXIT_SAFETY
    return EXIT_OK


def virtual_board(argv: Optional[List[str]] = None) -> int:
    """``evsefast virtual-board``: the Yeti developer's virtual MCU command."""
    from .board.yeti.virtual_cli import main as vmain

    return vmain(argv)


def chargepoint(argv: Optional[List[str]] = None) -> int:
    """``evsefast chargepoint``: OCPP charge points against a CSMS (``evsefast.ocpp.cli``)."""
    from .ocpp.cli import chargepoint as run

    return run(argv)


COMMANDS = {
    "simulate": (simulate, "a simulated charger and car, end to end"),
    "virtual-board": (virtual_board, "a virtual Yeti MCU on a pseudo-terminal"),
    "chargepoint": (chargepoint, "OCPP 1.6J / 2.0.1 charge points against a CSMS"),
}


def main(argv: Optional[List[str]] = None) -> int:
    """``evsefast <command> [options]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        lines = ["usage: evsefast <command> [options]", "", "commands:"]
        lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
        lines += ["", "evsefast <command> --help shows a command's options."]
        stream = sys.stdout if argv else sys.stderr
        stream.write("\n".join(lines) + "\n")
        return EXIT_OK if argv else EXIT_USAGE
    if argv[0] in ("-V", "--version"):
        from . import __version__

        sys.stdout.write(f"evsefast {__version__}\n")
        return EXIT_OK
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        sys.stderr.write(f"evsefast: unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}\n")
        return EXIT_USAGE
    try:
        return int(cmd[0](argv[1:]) or 0)
    except SystemExit as exc:  # --help inside a subcommand
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
